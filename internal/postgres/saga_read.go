package postgres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const sagaCols = `order_uuid::text, customer_id, method, items, total_amount, from_cart, payment_id, order_id, state, step,
	stock_reduced, stock_restored, coalesce(error, ''), owner_token, lease_until, history, created_at, updated_at,
	coalesce((SELECT provider_ref FROM payment p WHERE p.order_uuid = saga.order_uuid), ''),
	coalesce((SELECT approval_token FROM payment p WHERE p.order_uuid = saga.order_uuid), ''), ship_to, pickup`

func scanSaga(row pgx.Row) (shop.SagaRecord, error) {
	var r shop.SagaRecord
	var items, history []byte
	err := row.Scan(&r.OrderUUID, &r.CustomerID, &r.Method, &items, &r.TotalAmount, &r.FromCart, &r.PaymentID, &r.OrderID,
		&r.State, &r.Step, &r.StockReduced, &r.StockRestored, &r.Error, &r.OwnerToken, &r.LeaseUntil, &history, &r.CreatedAt, &r.UpdatedAt,
		&r.ProviderRef, &r.ApprovalToken, &r.ShipTo, &r.Pickup)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(items, &r.Items); err != nil {
		return r, err
	}
	return r, json.Unmarshal(history, &r.History)
}

// GetSaga reads one saga by order UUID.
func (s *Store) GetSaga(ctx context.Context, uuid string) (shop.SagaRecord, error) {
	r, err := scanSaga(s.Pool.QueryRow(ctx, `SELECT `+sagaCols+` FROM saga WHERE order_uuid = $1::uuid`, uuid))
	if IsNoRows(err) {
		return r, shop.NotFound("no saga has order UUID %q", uuid)
	}
	return r, err
}

// ListSagas lists sagas in the given states (all when none), newest first.
// The states are written into the statement as literals, not passed as a
// parameter: only then can the planner prove that `saga recover`'s list
// matches the partial index saga_unfinished (a parameter's cast is not
// folded at plan time, and the whole log would be read).
func (s *Store) ListSagas(ctx context.Context, states []shop.SagaState, o shop.ListOptions) (shop.Page[shop.SagaRecord], error) {
	where, err := stateList(states)
	if err != nil {
		return shop.Page[shop.SagaRecord]{}, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+sagaCols+` FROM saga `+where+` ORDER BY created_at DESC LIMIT $1`, limit(o))
	if err != nil {
		return shop.Page[shop.SagaRecord]{}, err
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (shop.SagaRecord, error) { return scanSaga(r) })
	return page(rs, o), err
}

// stateList is the WHERE clause `state IN ('a', 'b')` for states (none: no
// clause); every state must be one of shop.SagaStates.
func stateList(states []shop.SagaState) (string, error) {
	if len(states) == 0 {
		return "", nil
	}
	for _, st := range states {
		if _, err := shop.ParseSagaState(string(st)); err != nil {
			return "", err
		}
	}
	return "WHERE state IN (" + lit(states...) + ")", nil
}

// lit writes statuses as the SQL literals 'a', 'b'. A statement that must
// name statuses literally, so that the planner can match a partial index,
// takes them from shop's constants this way: shop decides them, and the
// words are known ones, never input.
func lit[S ~string](vs ...S) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "'" + string(v) + "'"
	}
	return strings.Join(out, ", ")
}

// names passes statuses as text[]: SQL casts them to its enum's array.
func names[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// IdempotentOrder returns the order UUID and request hash a key was used for.
func (s *Store) IdempotentOrder(ctx context.Context, key string) (uuid, hash string, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT order_uuid::text, request_hash FROM idempotency_key WHERE key = $1`, key).Scan(&uuid, &hash)
	return uuid, hash, err
}
