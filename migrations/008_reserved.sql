-- Placeholder for migration 008, which another branch (growth) adds: tern
-- needs numbers without gaps, so this branch, whose migration is 009, holds
-- the number. At the merge, drop this file in favour of the real 008.
SELECT 1;
