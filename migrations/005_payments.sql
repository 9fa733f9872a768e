-- Live payments, customer approval and partial refunds.

-- What the provider handed out before the buyer approved: its id for the
-- payment (Kakao's tid, Naver's reserveId) is committed before the approval
-- URL is shown, so a crash while the buyer decides loses nothing; the
-- buyer's approval token is committed before it is used to charge, so
-- recovery can finish a charge an owner started.
ALTER TABLE payment
    ADD COLUMN provider_ref    text,
    ADD COLUMN approval_url    text,
    ADD COLUMN approval_token  text,
    ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0);

-- Every call made to a provider for a payment, with its outcome.
CREATE TABLE payment_call (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_uuid  uuid NOT NULL,
    call        text NOT NULL,
    outcome     text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    duration_ms integer NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX payment_call_order ON payment_call (order_uuid, id);
CREATE INDEX payment_created ON payment (created_at);

-- Partial refunds of a paid order: one row per `order refund`, driven like a
-- cancel through the order's saga (fenced, idempotent by key, recoverable).
CREATE TABLE order_refund (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    order_uuid  uuid NOT NULL,
    key         text NOT NULL UNIQUE,
    items       jsonb NOT NULL,   -- [{product_id, sku, quantity, price}]
    amount      bigint NOT NULL CHECK (amount > 0),
    reason      text NOT NULL DEFAULT '',
    state       text NOT NULL CHECK (state IN ('refunding', 'refunded', 'failed')),
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX order_refund_order ON order_refund (order_id);
ALTER TABLE order_product ADD COLUMN refunded_quantity bigint NOT NULL DEFAULT 0
    CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity);

-- A refund in flight keeps its order's saga owned by a lease in state
-- completed; `saga recover` finishes refunds found still refunding.
CREATE INDEX order_refund_unfinished ON order_refund (created_at) WHERE state = 'refunding';

-- The sandbox ledger learns partial refunds, once per refund key.
ALTER TABLE sandbox_payment ADD COLUMN refunded bigint NOT NULL DEFAULT 0;
CREATE TABLE sandbox_refund (
    key        text PRIMARY KEY,
    order_uuid uuid NOT NULL,
    amount     bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- restore_stock (as in 003) no longer gives back what partial refunds have
-- already returned: a cancelled order restores only its unrefunded quantities.
CREATE OR REPLACE FUNCTION restore_stock(saga_uuid uuid, events jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    its jsonb;
    oid bigint;
    r record;
    n integer := 0;
BEGIN
    UPDATE saga SET stock_restored = true, history = history || events, updated_at = now()
     WHERE order_uuid = saga_uuid AND stock_reduced AND NOT stock_restored AND state IN ('compensating', 'cancelling')
     RETURNING items, order_id INTO its, oid;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM saga WHERE order_uuid = saga_uuid AND NOT stock_restored AND stock_reduced
                   AND state NOT IN ('compensating', 'cancelling')) THEN
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
