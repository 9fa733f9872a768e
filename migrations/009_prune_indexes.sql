-- `db prune` removes operational records older than a cut, 5,000 rows per
-- transaction. These indexes let each batch find the oldest prunable rows
-- without scanning the table; rows pruned leave them, so a prune costs what
-- it removes, not what the tables hold.

-- Sent and dead notifications, by when they left the outbox.
CREATE INDEX notification_done ON notification ((coalesce(sent_at, dead_at)))
    WHERE sent_at IS NOT NULL OR dead_at IS NOT NULL;

-- Idempotency keys, by age.
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);

-- Provider-call detail, by when the call was made.
CREATE INDEX payment_call_at ON payment_call (at);

-- Finished sagas whose step history has not been cleared, by when they
-- finished (their last update). The history then leaves the index.
CREATE INDEX saga_history_done ON saga (updated_at)
    WHERE state IN ('completed', 'compensated', 'failed', 'cancelled') AND history <> '[]'::jsonb;
