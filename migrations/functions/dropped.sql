-- Functions rabbitpay no longer has, or whose signature changed (list the
-- old signature): dropped, if they exist, before the other files are applied.
-- Each line is a no-op once it has run, so the file only grows.

-- product_ref (migration 004): references are read by shop.ProductRef; the
-- store only finds the candidates.
DROP FUNCTION IF EXISTS product_ref(text, bigint);

-- notification_message and notification_won (migration 006): the message
-- text is made in Go (shop.Event.Message); migration 007 dropped them.
DROP FUNCTION IF EXISTS notification_message(text, jsonb);
DROP FUNCTION IF EXISTS notification_won(bigint);
