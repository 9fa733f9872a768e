package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// Tests of who owns a running saga (a lease and a fencing token, not a
// connection) and of honest outcomes. A slow provider is made by locking the
// sandbox's ledger against inserts (reads still work), as a provider that
// takes its time to answer a charge.

// open returns another App ("another process") on the shop's database.
func (s *testShop) open(change func(*config.Config)) *App {
	s.t.Helper()
	cfg := testConfig(s.url)
	if change != nil {
		change(cfg)
	}
	a, err := Open(ctx, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(a.Close)
	return a
}

func lease(d time.Duration) func(*config.Config) { return func(c *config.Config) { c.Saga.Lease = d } }

// conn opens a connection of the test's own, outside every App's pool and
// straight to the server (not through the test pooler, if any).
func (s *testShop) conn() *pgx.Conn {
	s.t.Helper()
	c, err := pgx.Connect(ctx, testdb.Direct(s.t, s.url))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// hold runs sql in a transaction left open until the returned func is called.
func (s *testShop) hold(sql string) (release func()) {
	s.t.Helper()
	tx, err := s.conn().Begin(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		s.t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback(ctx) }) }
	s.t.Cleanup(release)
	return release
}

// slowProvider makes every charge and void wait until release is called.
func (s *testShop) slowProvider() (release func()) {
	return s.hold(`LOCK TABLE sandbox_payment IN SHARE MODE`)
}

// waitFor polls a boolean SQL condition (on a connection of its own) until it holds.
func (s *testShop) waitFor(cond string, args ...any) {
	s.t.Helper()
	c := s.conn()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var ok bool
		if err := c.QueryRow(ctx, `SELECT `+cond, args...).Scan(&ok); err != nil {
			s.t.Fatalf("%s: %v", cond, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s", cond)
		}
	}
}

// waitingCharges counts provider calls blocked by slowProvider.
const waitingCharges = `(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	AND query LIKE 'INSERT INTO sandbox_payment %' AND wait_event_type = 'Lock')`

func placeAsync(a *App, req PlaceRequest) <-chan PlaceResult {
	done := make(chan PlaceResult, 1)
	go func() {
		res, err := a.PlaceOrder(ctx, req, nil)
		if err != nil {
			res = PlaceResult{Status: "error: " + err.Error()}
		}
		done <- res
	}()
	return done
}

func recoverAsync(a *App, wait time.Duration) <-chan []Recovered {
	done := make(chan []Recovered, 1)
	go func() {
		out, err := a.RecoverSagas(ctx, wait, func(string) shop.Observer { return nil })
		if err != nil {
			out = append(out, Recovered{Error: "recover: " + err.Error()})
		}
		done <- out
	}()
	return done
}

// assertNoLostMoney checks the invariants no interleaving may break: stock
// conserved, every charge the provider holds has a paid order or was
// refunded, no payment left PROGRESS, no saga unfinished.
func (s *testShop) assertNoLostMoney() {
	s.t.Helper()
	if n := s.count(`SELECT count(*) FROM product p WHERE p.stock_quantity + coalesce((SELECT sum(op.quantity) FROM order_product op
		JOIN orders o ON o.id = op.order_id AND o.status <> 'cancelled' WHERE op.product_id = p.id), 0)
		<> CASE p.sku WHEN 'GOLD' THEN 5 ELSE 10 END`); n != 0 {
		s.t.Errorf("stock not conserved for %d products", n)
	}
	if n := s.count(`SELECT count(*) FROM sandbox_payment l WHERE l.status = 'SUCCESS' AND NOT EXISTS (SELECT FROM orders o
		JOIN payment p ON p.order_id = o.id AND p.status = 'SUCCESS' WHERE o.order_uuid = l.order_uuid AND o.status = 'paid')`); n != 0 {
		s.t.Errorf("%d charges have neither a paid order nor a refund", n)
	}
	if n := s.count(`SELECT count(*) FROM payment WHERE status = 'PROGRESS'`); n != 0 {
		s.t.Errorf("%d payments still PROGRESS", n)
	}
	if n := s.count(`SELECT count(*) FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); n != 0 {
		s.t.Errorf("%d sagas unfinished", n)
	}
}

// The saga's connection dies while the process waits on a slow provider (its
// backend terminated, or the server's idle_session_timeout). The process is
// alive and keeps renewing its lease, so `saga recover` leaves the saga
// alone; when the provider answers, the order completes. The charge is never lost.
func TestLostConnectionWhileProviderIsSlowLosesNoCharge(t *testing.T) {
	for _, mode := range []string{"backend_terminated", "idle_session_timeout"} {
		t.Run(mode, func(t *testing.T) {
			s := newShop(t)
			if mode == "idle_session_timeout" { // new sessions only: the placing App below, not s.a
				if _, err := s.conn().Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s SET idle_session_timeout = '1s'`,
					pgx.Identifier{s.strings(`SELECT current_database()`)[0]}.Sanitize())); err != nil {
					t.Fatal(err)
				}
			}
			var opened time.Time
			if err := s.conn().QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&opened); err != nil {
				t.Fatal(err)
			}
			a := s.open(lease(6 * time.Second))
			release := s.slowProvider()
			done := placeAsync(a, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")})
			s.waitFor(waitingCharges + ` = 1`)
			if mode == "backend_terminated" {
				// Every rabbitpay connection but the provider's (the sandbox's
				// charge shares the app's pool; a real provider is elsewhere).
				s.waitFor(`count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity WHERE datname = current_database()
					AND application_name = 'rabbitpay' AND query NOT LIKE 'INSERT INTO sandbox_payment %' AND pid <> pg_backend_pid()`)
				s.a.db.Pool.Reset() // the test's own App ("another process") was hit too
			} else {
				// The placing App's idle sessions are ended by the server: wait
				// until one of them is gone (sessions opened after the setting,
				// idle now; a new one may take its place, as a pool does).
				idle := s.strings(`SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE datname = current_database()
					AND state = 'idle' AND backend_start > $1 AND pid <> pg_backend_pid()`, opened)[0]
				if idle == "" {
					t.Fatal("the placing App has no idle session for the server to end")
				}
				s.waitFor(`NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = ANY (string_to_array($1, ',')::int[]))`, idle)
			}
			out := <-recoverAsync(s.a, 0)
			if len(out) != 1 || !strings.HasPrefix(out[0].Action, "skipped") {
				t.Errorf("recover did not leave the live saga alone: %+v", out)
			}
			release()
			res := <-done
			if res.Status != Placed {
				t.Errorf("placement: %+v", res)
			}
			<-recoverAsync(s.a, time.Minute)
			s.assertNoLostMoney()
			if got := s.strings(`SELECT status::text FROM sandbox_payment UNION ALL SELECT status::text FROM orders`); !slices.Equal(got, []string{"SUCCESS", "paid"}) {
				t.Errorf("provider and order %v, want the charge and a paid order", got)
			}
		})
	}
}

// With max_conns 1 a slow provider call must not keep the saga's lease
// renewal from its connection: the sandbox's ledger then has a connection of
// its own, so the live saga is renewed, `saga recover` leaves it alone past
// its first lease, and the order is placed.
func TestSlowProviderWithOneConnectionKeepsTheLease(t *testing.T) {
	s := newShop(t)
	a := s.open(func(c *config.Config) { c.Saga.Lease = 3 * time.Second; c.MaxConns = 1 })
	release := s.slowProvider()
	done := placeAsync(a, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")})
	s.waitFor(waitingCharges + ` = 1`)
	// Past the first lease (3s from the start), by the server's clock: only renewals keep it.
	s.waitFor(`EXISTS (SELECT FROM saga WHERE now() > created_at + interval '3.5 s' AND lease_until > now())`)
	out := <-recoverAsync(s.a, 0)
	if len(out) != 1 || !strings.HasPrefix(out[0].Action, "skipped") {
		t.Errorf("recover did not leave the live saga alone: %+v", out)
	}
	release()
	if res := <-done; res.Status != Placed {
		t.Errorf("placement: %+v", res)
	}
	s.assertNoLostMoney()
}

// A process whose lease expired (it stalled) is fenced out by recover's
// takeover: its later writes are refused, it reports exit 3, and recover's
// void means the late charge is refused or refunded.
func TestFencedProcessChangesNothing(t *testing.T) {
	s := newShop(t)
	a := s.open(lease(30 * time.Second)) // no renewal during the test
	release := s.slowProvider()
	done := placeAsync(a, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")})
	s.waitFor(waitingCharges + ` = 1`)
	if _, err := s.conn().Exec(ctx, `UPDATE saga SET lease_until = now() - interval '1 second'`); err != nil { // it stalled
		t.Fatal(err)
	}
	recovered := recoverAsync(s.a, 0)
	s.waitFor(waitingCharges + ` = 2`) // recover's void waits behind the charge
	release()
	res, out := <-done, <-recovered
	if res.Status != Failed || !res.Incomplete || !errors.Is(res.Err(), shop.ErrFenced) {
		t.Fatalf("fenced placement: %+v (%v)", res, res.Err())
	}
	if len(out) != 1 || out[0].To != shop.SagaCompensated || out[0].Error != "" {
		t.Fatalf("recover: %+v", out)
	}
	if got := s.strings(`SELECT state || ' token ' || owner_token FROM saga`); !slices.Equal(got, []string{"compensated token 2"}) {
		t.Errorf("saga %v", got)
	}
	if n := s.count(`SELECT count(*) FROM saga, jsonb_array_elements(history) e WHERE e->>'name' = 'create_order'`); n != 0 {
		t.Errorf("the fenced process logged create_order")
	}
	if got := s.strings(`SELECT status FROM sandbox_payment`); !slices.Contains([]string{"CANCELLED", "FAILED"}, got[0]) {
		t.Errorf("provider holds %v: the late charge was neither refused nor refunded", got)
	}
	if s.stock("A") != 10 || s.count(`SELECT count(*) FROM orders`) != 0 {
		t.Errorf("stock %d, orders %d", s.stock("A"), s.count(`SELECT count(*) FROM orders`))
	}
	s.assertNoLostMoney()
}

// The session dies while the order's transaction waits to commit: its
// outcome is unknown. The process resolves the doubt itself by taking the saga
// over from itself (its token bump waits for, then fences out, the lost
// transaction) and finishes; when even that fails, it reports the outcome as
// unknown (never as compensated) and recover finishes the order.
func TestUnknownCommitOutcome(t *testing.T) {
	for _, resolvable := range []bool{true, false} {
		t.Run(map[bool]string{true: "resolved_in_process", false: "reported_then_recovered"}[resolvable], func(t *testing.T) {
			s := newShop(t)
			a := s.open(lease(30 * time.Second))
			releaseProvider := s.slowProvider()
			done := placeAsync(a, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:2")})
			s.waitFor(waitingCharges + ` = 1`)
			releaseSaga := s.hold(`SELECT FROM saga FOR UPDATE`)
			releaseProvider()
			kill := func(query string) {
				s.waitFor(`count(pg_terminate_backend(pid)) = 1 FROM pg_stat_activity WHERE datname = current_database()
					AND application_name = 'rabbitpay' AND wait_event_type = 'Lock' AND query LIKE $1`, query)
			}
			kill("%saga_fence%") // the order's transaction, lost mid-flight
			if !resolvable {
				kill("%owner_token + 1%") // and the resolution too
			}
			releaseSaga()
			res := <-done
			if resolvable {
				if res.Status != Placed || s.count(`SELECT owner_token FROM saga`) != 2 {
					t.Fatalf("placement %+v, owner token %d", res, s.count(`SELECT owner_token FROM saga`))
				}
			} else {
				if res.Status != Failed || res.FailedStep != StepCreateOrder || !res.Incomplete || res.Compensated || !errors.Is(res.Err(), shop.ErrIncomplete) {
					t.Fatalf("unknown outcome reported as %+v", res)
				}
				if got := s.strings(`SELECT state::text FROM saga UNION ALL SELECT status::text FROM payment`); !slices.Equal(got, []string{"running", "PROGRESS"}) {
					t.Fatalf("after the lost commit: %v", got)
				}
				out := <-recoverAsync(s.a, time.Minute) // the process released its lease: no wait
				if len(out) != 1 || out[0].To != shop.SagaCompleted {
					t.Fatalf("recover: %+v", out)
				}
			}
			if got := s.strings(`SELECT status::text FROM orders UNION ALL SELECT status::text FROM payment`); !slices.Equal(got, []string{"paid", "SUCCESS"}) {
				t.Fatalf("order and payment: %v", got)
			}
			s.assertNoLostMoney()
		})
	}
}

// Ctrl-C before the charge compensates; Ctrl-C after it finishes forward.
func TestInterruptBeforeAndAfterPayment(t *testing.T) {
	for _, after := range []string{StepReduceStock, StepPayment} {
		t.Run("after_"+after, func(t *testing.T) {
			s := newShop(t)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var seen []string
			res, err := s.a.PlaceOrder(cctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")},
				shop.ObserverFunc(func(e shop.SagaEvent) {
					seen = append(seen, e.Name+":"+string(e.Outcome))
					if e.Name == after {
						cancel() // Ctrl-C
					}
				}))
			if err != nil {
				t.Fatal(err)
			}
			if after == StepReduceStock {
				if !res.Interrupted || !res.Compensated || res.FailedStep != StepPayment || !errors.Is(res.Err(), shop.ErrInterrupted) {
					t.Fatalf("%+v", res)
				}
				if !slices.Equal(seen, []string{"reduce_stock:ok", "payment:failed", "restore_stock:ok"}) || s.stock("A") != 10 {
					t.Fatalf("events %v, stock %d", seen, s.stock("A"))
				}
				if n := s.count(`SELECT count(*) FROM sandbox_payment`); n != 0 {
					t.Fatal("the provider was called after Ctrl-C")
				}
			} else if res.Status != Placed || s.stock("A") != 8 || s.count(`SELECT count(*) FROM orders WHERE status = 'paid'`) != 1 {
				t.Fatalf("Ctrl-C after the charge: %+v, stock %d", res, s.stock("A"))
			}
			s.assertNoLostMoney()
		})
	}
}

// Two requests with one idempotency key, held at a barrier until both have
// checked the key and started: exactly one order, one charge.
func TestSameKeyRaceWithBarrier(t *testing.T) {
	s := newShop(t)
	release := s.hold(`LOCK TABLE idempotency_key IN SHARE MODE`)
	req := PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"), IdempotencyKey: "k-1"}
	first, second := placeAsync(s.a, req), placeAsync(s.a, req)
	s.waitFor(`count(*) = 2 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'rabbitpay'
		AND wait_event_type = 'Lock'`)
	release()
	r1, r2 := <-first, <-second
	if r1.Status != Placed || r2.Status != Placed || r1.OrderUUID != r2.OrderUUID || r1.Replayed == r2.Replayed {
		t.Fatalf("results %+v and %+v", r1, r2)
	}
	if s.count(`SELECT count(*) FROM orders`) != 1 || s.count(`SELECT count(*) FROM sandbox_payment`) != 1 || s.stock("A") != 8 {
		t.Fatalf("orders %d, charges %d, stock %d", s.count(`SELECT count(*) FROM orders`), s.count(`SELECT count(*) FROM sandbox_payment`), s.stock("A"))
	}
}

// The charge's outcome is unknown (the provider's connection dies mid-call
// and the look-up finds nothing): the saga voids the order at the provider
// before giving up, so a late charge for it is refused.
func TestUncertainPaymentIsVoided(t *testing.T) {
	s := newShop(t)
	release := s.slowProvider()
	done := placeAsync(s.a, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:2")})
	s.waitFor(waitingCharges + ` = 1`)
	var charge int
	if err := s.conn().QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
		AND query LIKE 'INSERT INTO sandbox_payment %' AND wait_event_type = 'Lock'`).Scan(&charge); err != nil {
		t.Fatal(err)
	}
	s.waitFor(`pg_terminate_backend($1)`, charge)
	s.waitFor(waitingCharges+` = 1 AND NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)`, charge) // the void
	release()
	res := <-done
	if res.Status != Failed || res.FailedStep != StepPayment || !res.Compensated {
		t.Fatalf("%+v", res)
	}
	if got := s.strings(`SELECT l.status || ' ' || l.reason || ' / ' || p.status FROM sandbox_payment l JOIN payment p USING (order_uuid)`); !slices.Equal(got,
		[]string{"FAILED voided by the merchant before any charge / FAILED"}) {
		t.Fatalf("provider / payment: %v", got)
	}
	gw, err := s.a.Gateway(shop.Naver)
	if err != nil {
		t.Fatal(err)
	}
	late, err := gw.Approve(ctx, payment.Ref{OrderUUID: res.OrderUUID, CustomerID: 1, Amount: 2000})
	if err != nil || late.Status != shop.PaymentFailed {
		t.Fatalf("a late charge for a voided order: %+v %v", late, err)
	}
	s.assertNoLostMoney()
}

// A completed saga cannot be compensated, whatever a caller believes: the
// database refuses to mark it compensating, give its stock back or settle
// its payment as failed.
func TestCompletedSagaCannotBeCompensated(t *testing.T) {
	s := newShop(t)
	res, err := s.a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")}, nil)
	if err != nil || res.Status != Placed {
		t.Fatalf("%+v %v", res, err)
	}
	log, _, err := s.a.db.AcquireSaga(ctx, res.OrderUUID, []shop.SagaState{shop.SagaCompleted})
	if err != nil {
		t.Fatal(err)
	}
	if err := log.MarkCompensating(ctx, "a confused caller", &shop.PaymentOutcome{Status: shop.PaymentFailed}, nil); err == nil {
		t.Error("a completed saga was marked compensating")
	}
	if _, err := log.RestoreStock(ctx, shop.NewEvent(shop.EventCompensation, UndoRestoreStock, shop.OutcomeOK, "")); err == nil {
		t.Error("a completed saga's stock was given back")
	}
	if got := s.strings(`SELECT s.state || ' ' || p.status || ' ' || o.status FROM saga s JOIN payment p USING (order_uuid) JOIN orders o USING (order_uuid)`); !slices.Equal(got, []string{"completed SUCCESS paid"}) || s.stock("A") != 8 {
		t.Fatalf("after the refused compensation: %v, stock %d", got, s.stock("A"))
	}
}

// A provider that does not answer within payment.timeout is given up on: the
// charge's outcome is unknown, and since the void cannot get through either,
// the saga is left for recover (exit 3), which settles it once the provider answers.
func TestProviderCallsHaveADeadline(t *testing.T) {
	s := newShop(t)
	a := s.open(func(c *config.Config) { c.Payment.Timeout = 500 * time.Millisecond; c.Saga.Lease = 30 * time.Second })
	release := s.slowProvider()
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Failed || res.FailedStep != StepPayment || !res.Incomplete || !strings.Contains(res.Error, "did not answer the payment within 500ms") {
		t.Fatalf("%+v", res)
	}
	release()
	out := <-recoverAsync(s.a, time.Minute) // the lease was released
	if len(out) != 1 || out[0].To != shop.SagaCompensated {
		t.Fatalf("recover: %+v", out)
	}
	s.assertNoLostMoney()
}
