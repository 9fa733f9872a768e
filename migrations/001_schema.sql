-- rabbitpay schema. Money is bigint won; statuses are CHECKed so bad states cannot be stored.

CREATE TABLE customer (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    password_hash text CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE address (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    zip_code    text NOT NULL CHECK (zip_code <> ''),
    line1       text NOT NULL CHECK (line1 <> ''),
    line2       text NOT NULL DEFAULT '',
    is_default  boolean NOT NULL DEFAULT false
);
CREATE INDEX address_customer ON address (customer_id);
CREATE UNIQUE INDEX address_one_default ON address (customer_id) WHERE is_default;

CREATE TABLE product (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku            text NOT NULL UNIQUE CHECK (char_length(sku) BETWEEN 1 AND 64),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    price          bigint NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
    stock_quantity bigint NOT NULL CHECK (stock_quantity >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart (
    cart_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL UNIQUE REFERENCES customer (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart_item (
    cart_item_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cart_id      bigint NOT NULL REFERENCES cart (cart_id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES product (id),
    quantity     bigint NOT NULL CHECK (quantity > 0),
    added_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cart_id, product_id)
);

CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_uuid   uuid NOT NULL UNIQUE,
    customer_id  bigint NOT NULL REFERENCES customer (id),
    status       text NOT NULL CHECK (status IN ('created', 'paid', 'shipped', 'cancelled')),
    total_amount bigint NOT NULL CHECK (total_amount >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id);

CREATE TABLE order_product (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES product (id),
    quantity    bigint NOT NULL CHECK (quantity > 0),
    order_price bigint NOT NULL CHECK (order_price >= 0),
    UNIQUE (order_id, product_id)
);

CREATE TABLE payment (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_uuid     uuid NOT NULL UNIQUE,
    order_id       bigint REFERENCES orders (id),
    method         text NOT NULL CHECK (method IN ('NAVER', 'KAKAO')),
    status         text NOT NULL CHECK (status IN ('PROGRESS', 'SUCCESS', 'FAILED', 'CANCELLED')),
    amount         bigint NOT NULL CHECK (amount >= 0),
    provider_tx_id text,
    failure_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    paid_at        timestamptz,
    cancelled_at   timestamptz
);
-- No index on order_id: settling a payment then stays a HOT update (look-ups go by order_uuid).

-- One delivery per order item (order_product_delivery).
CREATE TABLE delivery (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_product_id bigint NOT NULL UNIQUE REFERENCES order_product (id) ON DELETE CASCADE,
    status           text NOT NULL CHECK (status IN ('READY', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED')),
    carrier          text,
    tracking_number  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE delivery_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('READY', 'SHIPPED', 'IN_TRANSIT', 'DELIVERED')),
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: written in the same transaction as the change it reports.
-- Like the saga log it records facts about rows and takes no foreign-key locks
-- on the hot customer and order rows.
CREATE TABLE notification (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    customer_id bigint,
    order_id    bigint,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX notification_pending ON notification (id) WHERE sent_at IS NULL;

-- The durable saga log: everything compensation and recovery need.
CREATE TABLE saga (
    order_uuid     uuid PRIMARY KEY,
    customer_id    bigint NOT NULL,
    method         text NOT NULL CHECK (method IN ('NAVER', 'KAKAO')),
    items          jsonb NOT NULL,   -- [{product_id, sku, quantity, price}]
    total_amount   bigint NOT NULL CHECK (total_amount >= 0),
    from_cart      boolean NOT NULL DEFAULT false,
    payment_id     bigint,
    order_id       bigint,
    state          text NOT NULL CHECK (state IN ('running', 'compensating', 'completed', 'compensated', 'failed', 'cancelling', 'cancelled')),
    step           text NOT NULL,
    stock_reduced  boolean NOT NULL DEFAULT false,
    stock_restored boolean NOT NULL DEFAULT false,
    error          text,
    history        jsonb NOT NULL DEFAULT '[]',  -- [{at, kind, name, outcome, detail}]
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saga_unfinished ON saga (created_at) WHERE state IN ('running', 'compensating', 'cancelling');

CREATE TABLE idempotency_key (
    key          text PRIMARY KEY,
    request_hash text NOT NULL,
    order_uuid   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The offline payment sandbox's own ledger: it stands in for the provider's records.
CREATE TABLE sandbox_payment (
    order_uuid   uuid PRIMARY KEY,
    method       text NOT NULL,
    tx_id        text NOT NULL UNIQUE,
    amount       bigint NOT NULL,
    status       text NOT NULL CHECK (status IN ('SUCCESS', 'FAILED', 'CANCELLED')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz
);

-- reduce_stock takes every item or none, locking rows in product-id order so
-- concurrent orders cannot deadlock; it raises insufficient stock as SQLSTATE P0001.
CREATE FUNCTION reduce_stock(ids bigint[], qtys bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    have bigint;
    s text;
BEGIN
    FOR r IN SELECT t.id, t.q FROM unnest(ids, qtys) AS t(id, q) ORDER BY t.id LOOP
        UPDATE product SET stock_quantity = stock_quantity - r.q, updated_at = now()
         WHERE id = r.id AND stock_quantity >= r.q;
        IF NOT FOUND THEN
            SELECT sku, stock_quantity INTO s, have FROM product WHERE id = r.id;
            RAISE EXCEPTION USING ERRCODE = 'P0001',
                MESSAGE = format('insufficient stock for %s: %s left, %s wanted', coalesce(s, 'product ' || r.id), coalesce(have, 0), r.q);
        END IF;
    END LOOP;
END
$$;

-- restore_stock gives a saga's items back exactly once: it flips the saga's
-- stock_restored flag under a row lock and returns how many items it restored
-- (0 when there was nothing to restore, so running it twice changes nothing).
CREATE FUNCTION restore_stock(saga_uuid uuid, events jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    its jsonb;
    r record;
    n integer := 0;
BEGIN
    UPDATE saga SET stock_restored = true, history = history || events, updated_at = now()
     WHERE order_uuid = saga_uuid AND stock_reduced AND NOT stock_restored
     RETURNING items INTO its;
    IF NOT FOUND THEN
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
