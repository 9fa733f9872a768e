-- Placeholder in branch r2-load only: tern refuses a gap before 011 (and an
-- empty migration). The lead deletes it when another branch's 008 is merged.
SELECT 1;
