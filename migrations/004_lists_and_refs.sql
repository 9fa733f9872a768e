-- Lists that scale: trigram indexes make `--search` on product SKUs and names
-- and on customer names fast on a large catalogue (pg_trgm is a trusted
-- extension: a database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX product_search ON product USING gin ((sku || ' ' || name) gin_trgm_ops);
CREATE INDEX customer_search ON customer USING gin (name gin_trgm_ops);
CREATE INDEX orders_created ON orders (created_at);

-- product_ref resolves what an operator typed for a product: "#12" is id 12
-- (ref_sku NULL), "sku:12" the SKU "12" (ref_id NULL), a bare value the SKU or,
-- when it is a number no SKU equals, the id. A bare number that is both one
-- product's id and another's SKU is refused (RPA01), never guessed.
CREATE FUNCTION product_ref(ref_sku text, ref_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    by_sku bigint;
    by_id bigint;
BEGIN
    SELECT id INTO by_sku FROM product WHERE sku = ref_sku;
    SELECT id INTO by_id FROM product WHERE id = ref_id;
    IF by_sku IS NOT NULL AND by_id IS NOT NULL AND by_sku <> by_id THEN
        RAISE EXCEPTION USING ERRCODE = 'RPA01',
            MESSAGE = format('"%s" is both product id %s and the SKU of product %s: write #%s for the id or sku:%s for the SKU',
                             ref_sku, by_id, by_sku, ref_id, ref_sku);
    END IF;
    RETURN coalesce(by_sku, by_id);
END
$$;

-- A retired product is hidden from lists, refused in carts and new orders,
-- and kept for the orders that hold it. reduce_stock refuses it too, so no
-- order placed after the retirement can take it.
ALTER TABLE product ADD COLUMN retired_at timestamptz;

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
