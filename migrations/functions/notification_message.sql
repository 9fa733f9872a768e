-- notification_message is the short Korean-and-English sentence of a
-- notification, from its kind and payload: one place for every writer, and
-- nothing to compute on the write path (a BEFORE INSERT trigger storing it
-- in the payload cut single-row outbox inserts by 25-70% at 8 clients).
CREATE OR REPLACE FUNCTION notification_message(kind text, p jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT CASE kind
    WHEN 'order_placed' THEN format('주문 #%s이(가) 접수되었습니다 (%s). / Order #%s was placed (%s).',
        p->>'order_id', notification_won((p->>'total_amount')::bigint), p->>'order_id', notification_won((p->>'total_amount')::bigint))
    WHEN 'payment_succeeded' THEN format('%s 결제가 완료되었습니다 (%s). / Payment of %s succeeded (%s).',
        notification_won(coalesce(p->>'amount', p->>'total_amount')::bigint), p->>'method', notification_won(coalesce(p->>'amount', p->>'total_amount')::bigint), p->>'method')
    WHEN 'payment_failed' THEN format('결제에 실패했습니다: %s / Payment failed: %s',
        coalesce(p->>'reason', '-'), coalesce(p->>'reason', '-'))
    WHEN 'payment_refunded' THEN format('%s 환불되었습니다. / %s was refunded.',
        notification_won(coalesce(p->>'amount', p->>'total_amount')::bigint), notification_won(coalesce(p->>'amount', p->>'total_amount')::bigint))
    WHEN 'order_cancelled' THEN format('주문 #%s이(가) 취소되었습니다. / Order #%s was cancelled.', p->>'order_id', p->>'order_id')
    WHEN 'order_shipped' THEN format('주문 #%s의 모든 상품이 발송되었습니다. / Every item of order #%s has shipped.', p->>'order_id', p->>'order_id')
    WHEN 'delivery_ready' THEN format('%s 상품의 배송을 준비 중입니다. / %s is being prepared for shipping.', p->>'product', p->>'product')
    WHEN 'delivery_shipped' THEN format('%s 상품이 발송되었습니다%s. / %s has shipped%s.', p->>'product',
        coalesce(' (' || (p->>'carrier') || ' ' || coalesce(p->>'tracking_number', '') || ')', ''), p->>'product',
        coalesce(' (' || (p->>'carrier') || ' ' || coalesce(p->>'tracking_number', '') || ')', ''))
    WHEN 'delivery_in_transit' THEN format('%s 상품이 배송 중입니다. / %s is in transit.', p->>'product', p->>'product')
    WHEN 'delivery_delivered' THEN format('%s 상품이 배송 완료되었습니다. / %s was delivered.', p->>'product', p->>'product')
    ELSE kind
END
$$;
