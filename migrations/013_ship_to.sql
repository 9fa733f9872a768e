-- An order keeps its destination: a copy of an address book entry (ship_to)
-- or pickup at the counter. The saga carries it from placement to the
-- order's creation, so a recovered placement keeps it too. Orders placed
-- before this have neither: they cannot get a delivery started until one is
-- set (order ship-to).
ALTER TABLE orders ADD COLUMN ship_to jsonb, ADD COLUMN pickup boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT orders_one_destination CHECK (NOT (pickup AND ship_to IS NOT NULL));
ALTER TABLE saga ADD COLUMN ship_to jsonb, ADD COLUMN pickup boolean NOT NULL DEFAULT false;
