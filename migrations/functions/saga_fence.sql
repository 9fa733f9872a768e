-- saga_fence renews the lease of a saga owned through token, locking its row
-- for the rest of the transaction. It raises RPF01 when another process took
-- the saga over (the token moved on) and RPF02 when there is no such saga.
CREATE OR REPLACE FUNCTION saga_fence(saga_uuid uuid, token bigint, lease interval) RETURNS void
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
