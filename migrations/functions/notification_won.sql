-- notification_won formats an amount of won for a message: ₩12,000.
CREATE OR REPLACE FUNCTION notification_won(amount bigint) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT '₩' || to_char(amount, 'FM999,999,999,999,999,990') $$;
