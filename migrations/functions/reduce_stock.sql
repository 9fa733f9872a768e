-- reduce_stock takes every item or none, locking rows in product-id order so
-- concurrent orders cannot deadlock; it raises insufficient stock, or a
-- retired product (which no order placed after its retirement may take), as
-- SQLSTATE P0001.
CREATE OR REPLACE FUNCTION reduce_stock(ids bigint[], qtys bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    have bigint;
    s text;
    retired timestamptz;
BEGIN
    FOR r IN SELECT t.id, t.q FROM unnest(ids, qtys) AS t(id, q) ORDER BY t.id LOOP
        UPDATE product SET stock_quantity = stock_quantity - r.q, updated_at = now()
         WHERE id = r.id AND stock_quantity >= r.q AND retired_at IS NULL;
        IF NOT FOUND THEN
            SELECT sku, stock_quantity, retired_at INTO s, have, retired FROM product WHERE id = r.id;
            IF retired IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = format('product %s is retired: it cannot be ordered', s);
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'P0001',
                MESSAGE = format('insufficient stock for %s: %s left, %s wanted', coalesce(s, 'product ' || r.id), coalesce(have, 0), r.q);
        END IF;
    END LOOP;
END
$$;
