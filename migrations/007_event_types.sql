-- Notification kinds are event types, declared with their payloads and
-- messages in Go (internal/shop/event.go): order_placed is now order.placed,
-- delivery_in_transit delivery.in_transit, and so on.
UPDATE notification SET kind = regexp_replace(kind, '_', '.')
WHERE kind IN ('order_placed', 'payment_succeeded', 'payment_failed', 'payment_refunded', 'order_cancelled', 'order_shipped',
    'delivery_ready', 'delivery_shipped', 'delivery_in_transit', 'delivery_delivered');

-- payment.succeeded says its amount as every payment event does (version 1
-- of its payload); it said total_amount.
UPDATE notification SET payload = payload - 'total_amount' || jsonb_build_object('amount', payload->'total_amount')
WHERE kind = 'payment.succeeded' AND NOT payload ? 'amount';

-- The message text is made in Go when a notification is read.
DROP FUNCTION IF EXISTS notification_message(text, jsonb);
DROP FUNCTION IF EXISTS notification_won(bigint);
