-- restore_stock gives a saga's items back exactly once: it flips the saga's
-- stock_restored flag under a row lock and returns how many items it restored
-- (0 when there was nothing to restore, so running it twice changes nothing).
-- It gives stock back only for a saga in one of the states undoing names
-- (shop.UndoingSagaStates: being compensated or cancelled), never for a
-- running or completed one, whatever a caller believes, and not what
-- partial refunds have already returned: a cancelled order restores only its
-- unrefunded quantities.
CREATE OR REPLACE FUNCTION restore_stock(saga_uuid uuid, events jsonb, undoing text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    its jsonb;
    oid bigint;
    r record;
    n integer := 0;
BEGIN
    UPDATE saga SET stock_restored = true, history = history || events, updated_at = now()
     WHERE order_uuid = saga_uuid AND stock_reduced AND NOT stock_restored AND state = ANY(undoing::saga_state[])
     RETURNING items, order_id INTO its, oid;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM saga WHERE order_uuid = saga_uuid AND NOT stock_restored AND stock_reduced
                   AND NOT state = ANY(undoing::saga_state[])) THEN
            RAISE EXCEPTION 'saga % is not being compensated or cancelled: its stock stays taken', saga_uuid;
        END IF;
        RETURN 0;
    END IF;
    FOR r IN SELECT (e->>'product_id')::bigint AS id, sum((e->>'quantity')::bigint) AS q
               FROM jsonb_array_elements(its) e GROUP BY 1 ORDER BY 1 LOOP
        UPDATE product SET stock_quantity = stock_quantity + r.q
               - coalesce((SELECT refunded_quantity FROM order_product WHERE order_id = oid AND product_id = r.id), 0),
               updated_at = now() WHERE id = r.id;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- restore_stock(uuid, jsonb) is functions generation 1's signature, kept so
-- that a rabbitpay of that generation still running on this database (an
-- older binary keeps working on a newer schema) can still give stock back,
-- with the undoing states generation 1 had written in (the same as
-- shop.UndoingSagaStates). Drop it in dropped.sql once no generation-1
-- binary can run here.
CREATE OR REPLACE FUNCTION restore_stock(saga_uuid uuid, events jsonb) RETURNS integer
LANGUAGE sql AS $$
    SELECT restore_stock(saga_uuid, events, ARRAY['compensating', 'cancelling']) -- frozen: generation 1
$$;
