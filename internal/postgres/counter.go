package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// OrderLabel is what the checkout's orders tab shows beside an order: its
// customer's name and its payment method.
type OrderLabel struct {
	CustomerName string
	Method       shop.PaymentMethod
}

// OrderLabels reads the labels of the given orders in one round trip
// (by primary and unique keys).
func (s *Store) OrderLabels(ctx context.Context, ids []int64) (map[int64]OrderLabel, error) {
	rows, err := s.Pool.Query(ctx, `SELECT o.id, c.name, coalesce(p.method::text, '') FROM orders o
		JOIN customer c ON c.id = o.customer_id LEFT JOIN payment p ON p.order_uuid = o.order_uuid
		WHERE o.id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]OrderLabel{}
	var id int64
	var l OrderLabel
	_, err = pgx.ForEachRow(rows, []any{&id, &l.CustomerName, &l.Method}, func() error {
		out[id] = l
		return nil
	})
	return out, err
}
