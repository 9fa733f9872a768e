// Package shopgen fills a rabbitpay database with a large generated shop,
// for the benchmarks that measure how costs grow with its size.
package shopgen

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Generate fills the catalogue and the order history. Orders span the last
// two years, oldest first; all but the newest 5,000 notifications are sent;
// every saga is finished (saga recover has nothing to do).
func Generate(ctx context.Context, c *pgx.Conn, products, orders int) error {
	for _, q := range []string{
		`INSERT INTO customer (name) SELECT '손님 ' || i FROM generate_series(1, 1000) i`,
		`INSERT INTO product (sku, name, price, stock_quantity)
			SELECT 'SKU-' || lpad(i::text, 8, '0'), '상품 ' || i || ' 토끼' || (i % 9973), 1000 + (i::bigint * 7919) % 500000, 100 + i % 1000
			FROM generate_series(1, $P) i`,
		`UPDATE product SET name = '묘향산 등산 지팡이' WHERE id = $P / 2`,
		`INSERT INTO orders (order_uuid, customer_id, status, total_amount, created_at, updated_at)
			SELECT gen_random_uuid(), 1 + i % 1000, 'paid', 0, t, t
			FROM generate_series(1, $O) i, LATERAL (SELECT now() - ($O - i) * (interval '730 days' / $O) AS t) ts`,
		`INSERT INTO order_product (order_id, product_id, quantity, order_price)
			SELECT o.id, p.id, 1, p.price FROM orders o JOIN product p ON p.id = 1 + (o.id * 31) % $P`,
		`UPDATE orders o SET total_amount = op.order_price FROM order_product op WHERE op.order_id = o.id`,
		`INSERT INTO payment (order_uuid, order_id, method, status, amount, provider_tx_id, created_at, paid_at)
			SELECT order_uuid, id, 'KAKAO', 'SUCCESS', total_amount, 'T' || id, created_at, created_at FROM orders`,
		`INSERT INTO saga (order_uuid, customer_id, method, items, total_amount, payment_id, order_id, state, step, stock_reduced, history, created_at, updated_at)
			SELECT o.order_uuid, o.customer_id, 'KAKAO',
				jsonb_build_array(jsonb_build_object('product_id', op.product_id, 'sku', p.sku, 'quantity', 1, 'price', op.order_price)),
				o.total_amount, pay.id, o.id, 'completed', 'notify', true,
				(SELECT jsonb_agg(jsonb_build_object('at', o.created_at, 'kind', 'step', 'name', s, 'outcome', 'ok', 'detail', s || ' done'))
				 FROM unnest(ARRAY['reduce_stock', 'payment', 'create_order', 'notify']) s),
				o.created_at, o.created_at
			FROM orders o JOIN order_product op ON op.order_id = o.id JOIN product p ON p.id = op.product_id
			JOIN payment pay ON pay.order_uuid = o.order_uuid`,
		`INSERT INTO notification (kind, customer_id, order_id, payload, created_at, sent_at, attempts)
			SELECT k, o.customer_id, o.id, jsonb_build_object('version', 1, 'order_id', o.id, 'order_uuid', o.order_uuid,
				'total_amount', o.total_amount, 'amount', o.total_amount, 'method', 'KAKAO'), o.created_at, o.created_at, 1
			FROM orders o, unnest(ARRAY['order.placed', 'payment.succeeded']) k ORDER BY o.id, k`,
		`UPDATE notification SET sent_at = NULL, attempts = 0 WHERE id > (SELECT max(id) - 5000 FROM notification)`,
	} {
		q = strings.NewReplacer("$P", strconv.Itoa(products), "$O", strconv.Itoa(orders)).Replace(q)
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(q)[0]+" "+strings.Fields(q)[2], err)
		}
	}
	_, err := c.Exec(ctx, `VACUUM ANALYZE`, pgx.QueryExecModeSimpleProtocol)
	return err
}
