-- Cost that stays flat as the shop grows: every operator list reads a page
-- through an index, whatever the table's size. internal/postgres/plans_test.go
-- checks that each list's statement still uses its index.

-- product list --sort price: a keyset-ordered walk instead of a sort of the catalogue.
CREATE INDEX product_price ON product (price, id);

-- saga list, newest first (saga_unfinished serves recover).
CREATE INDEX saga_created ON saga (created_at);

-- order list / pay list --since/--until: a window is read newest first by
-- (created_at, id), so an old week costs what a recent one does.
CREATE INDEX orders_created_id ON orders (created_at, id);
DROP INDEX orders_created;
CREATE INDEX payment_created_id ON payment (created_at, id);
DROP INDEX payment_created;

-- notify list --customer.
CREATE INDEX notification_customer ON notification (customer_id, id);

-- The outbox and the saga log change a row several times each: vacuum them
-- after 1% of their rows changed (not PostgreSQL's 20%), so notify send's
-- claim and the saga's updates do not walk dead index entries, and keep
-- their statistics fresh so the saga's updates stay planned on its key.
ALTER TABLE notification SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE saga SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);

-- rabbitpay's statements are short OLTP ones: JIT compiling them costs far
-- more than it saves (hundreds of ms when an estimate runs high). Only the
-- database's owner (or a superuser) may change its settings; on a managed
-- server where rabbitpay's role is not the owner, the role's own default is
-- set instead (a role may always change its own defaults).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    EXECUTE format('ALTER ROLE %I SET jit = off', current_user);
END
$$;
