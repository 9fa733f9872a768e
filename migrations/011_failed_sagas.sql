-- Sagas that failed before changing anything (the stock was gone when
-- reduce_stock ran), by age: `db prune` removes them, and this index lets
-- it find them without scanning every saga.
CREATE INDEX saga_failed ON saga (updated_at) WHERE state = 'failed';
