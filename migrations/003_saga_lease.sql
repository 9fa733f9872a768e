-- Saga ownership moves from a session advisory lock (which dies with its
-- connection while the process lives on) to the saga's own row: an owner
-- token (a fencing token) and a lease that the owner renews while it waits.
-- `saga recover` takes over only an expired lease and bumps the token; every
-- write of a saga first calls saga_fence, so a process whose saga was taken
-- over can change nothing more.

ALTER TABLE saga
    ADD COLUMN owner_token bigint NOT NULL DEFAULT 1,
    ADD COLUMN lease_until timestamptz;

-- Finished sagas hold no lease; unfinished ones left by the old code are
-- recoverable at once, as they were before.
UPDATE saga SET lease_until = NULL;

-- saga_fence renews the lease of a saga owned through token, locking its row
-- for the rest of the transaction. It raises RPF01 when another process took
-- the saga over (the token moved on) and RPF02 when there is no such saga.
CREATE FUNCTION saga_fence(saga_uuid uuid, token bigint, lease interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    have bigint;
BEGIN
    UPDATE saga SET lease_until = CASE WHEN lease IS NULL THEN NULL ELSE now() + lease END
     WHERE order_uuid = saga_uuid AND owner_token = token;
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT owner_token INTO have FROM saga WHERE order_uuid = saga_uuid;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RPF02', MESSAGE = format('saga %s does not exist', saga_uuid);
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'RPF01',
        MESSAGE = format('saga %s was taken over by another process (owner token %s, ours %s)', saga_uuid, have, token);
END
$$;

-- restore_stock gives stock back only for a saga being compensated or
-- cancelled: never for a running or completed one, whatever a caller believes.
CREATE OR REPLACE FUNCTION restore_stock(saga_uuid uuid, events jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    its jsonb;
    r record;
    n integer := 0;
BEGIN
    UPDATE saga SET stock_restored = true, history = history || events, updated_at = now()
     WHERE order_uuid = saga_uuid AND stock_reduced AND NOT stock_restored AND state IN ('compensating', 'cancelling')
     RETURNING items INTO its;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM saga WHERE order_uuid = saga_uuid AND NOT stock_restored AND stock_reduced
                   AND state NOT IN ('compensating', 'cancelling')) THEN
            RAISE EXCEPTION 'saga % is not being compensated or cancelled: its stock stays taken', saga_uuid;
        END IF;
        RETURN 0;
    END IF;
    FOR r IN SELECT (e->>'product_id')::bigint AS id, sum((e->>'quantity')::bigint) AS q
               FROM jsonb_array_elements(its) e GROUP BY 1 ORDER BY 1 LOOP
        UPDATE product SET stock_quantity = stock_quantity + r.q, updated_at = now() WHERE id = r.id;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
