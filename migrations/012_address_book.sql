-- Customers' optional phone and email (stored normalized: 010-1234-5678),
-- and the address book: every address gets a recipient, a phone and a
-- delivery memo (배송 메모); one per customer may be the default.
ALTER TABLE customer ADD COLUMN phone text, ADD COLUMN email text;
ALTER TABLE address ADD COLUMN recipient text NOT NULL DEFAULT '',
    ADD COLUMN phone text NOT NULL DEFAULT '',
    ADD COLUMN memo text NOT NULL DEFAULT '';
