-- An order keeps its destination: a copy of an address book entry (ship_to)
-- or pickup at the counter. The saga carries it from placement to the
-- order's creation, so a recovered placement keeps it too.
ALTER TABLE orders ADD COLUMN ship_to jsonb, ADD COLUMN pickup boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT orders_one_destination CHECK (NOT (pickup AND ship_to IS NOT NULL));
ALTER TABLE saga ADD COLUMN ship_to jsonb, ADD COLUMN pickup boolean NOT NULL DEFAULT false;

-- Orders placed before this went to their customer's (one, default)
-- address: they get that copy, as postgres.shipToCopy makes it, so their
-- deliveries can still start. A cancelled one keeps none; an order whose
-- customer has no address goes nowhere until 'order ship-to' sets it.
UPDATE orders o SET ship_to = jsonb_strip_nulls(jsonb_build_object('address_id', a.id,
        'recipient', coalesce(NULLIF(a.recipient, ''), c.name), 'phone', coalesce(NULLIF(a.phone, ''), c.phone, ''),
        'zip_code', a.zip_code, 'line1', a.line1, 'line2', NULLIF(a.line2, ''), 'memo', NULLIF(a.memo, '')))
    FROM address a JOIN customer c ON c.id = a.customer_id
    WHERE a.customer_id = o.customer_id AND a.is_default AND o.status <> 'cancelled';
