package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/notify"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a webhook receiver that checks every signature and counts
// the deliveries it accepted per webhook-id. fail says how to answer the
// n-th request (0-based): 0 accept, 500 fail, -1 hang until the sender gives up.
type receiver struct {
	t        *testing.T
	mu       sync.Mutex
	requests int
	accepted map[string]int
	fail     func(n int) int
	srv      *httptest.Server
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	r := &receiver{t: t, accepted: map[string]int{}, fail: fail}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := notify.Verify(testSecret, req.Header, body, 5*time.Minute); err != nil {
			t.Errorf("signature of %s: %v", req.Header.Get("webhook-id"), err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		n := r.requests
		r.requests++
		r.mu.Unlock()
		switch r.fail(n) {
		case 500:
			http.Error(w, "receiver is down", http.StatusInternalServerError)
			return
		case -1:
			<-req.Context().Done() // the sender gave up
			return
		}
		r.mu.Lock()
		r.accepted[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (s *testShop) webhookApp(url string, maxAttempts int) *App {
	a := s.withFailpoints("")
	a.cfg.Notify.Webhook.URL, a.cfg.Notify.Webhook.Secret = url, testSecret
	a.cfg.Notify.Webhook.Timeout = 2 * time.Second // only the receiver that hangs waits it out
	a.cfg.Notify.MaxAttempts, a.cfg.Notify.Backoff, a.cfg.Notify.PollInterval = maxAttempts, 0, 50*time.Millisecond
	return a
}

// A receiver that fails twice, then times out once, then accepts: every
// notification arrives exactly once, signed; the failed attempts are
// recorded on the first notification's row.
func TestWebhookRetriesUntilDelivered(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1", "B:1")
	for _, d := range s.start(o.ID) {
		if err := s.move(d.ID, shop.DeliveryShipped); err != nil {
			t.Fatal(err)
		}
	}
	want := s.count(`SELECT count(*) FROM notification`) // placed, paid, 2 ready, 2 shipped, order shipped
	if want != 7 {
		t.Fatalf("%d notifications, want 7", want)
	}
	r := newReceiver(t, func(n int) int { return map[int]int{0: 500, 1: 500, 2: -1}[n] })
	a := s.webhookApp(r.srv.URL, 10)
	sink, err := a.Webhook()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := a.SendNotifications(ctx, sink, SendOptions{})
	if err != nil || sum.Sent != want || sum.Failed != 3 || sum.Dead != 0 || sum.Waiting != 0 {
		t.Fatalf("send: %v %+v", err, sum)
	}
	if len(r.accepted) != want {
		t.Fatalf("receiver accepted %d notifications, want %d", len(r.accepted), want)
	}
	for id, n := range r.accepted {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	var attempts int
	var lastErr string
	if err := s.a.db.Pool.QueryRow(ctx, `SELECT attempts, last_error FROM notification ORDER BY id LIMIT 1`).Scan(&attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	if attempts != 4 || !strings.Contains(lastErr, "no answer within 2s") {
		t.Fatalf("first notification: %d attempts, last error %q", attempts, lastErr)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d notifications unsent", n)
	}
	// Nothing due: a second send delivers nothing.
	if sum, err := a.SendNotifications(ctx, sink, SendOptions{}); err != nil || sum.Sent != 0 {
		t.Fatalf("second send: %v %+v", err, sum)
	}
}

// A receiver that never accepts: after notify.max_attempts the notification
// is dead, with its attempts and error; retry puts it back and it goes.
func TestDeadNotificationsAndRetry(t *testing.T) {
	s := newShop(t)
	s.place("A:1") // order.placed, payment.succeeded
	down := newReceiver(t, func(int) int { return 500 })
	a := s.webhookApp(down.srv.URL, 3)
	sink, _ := a.Webhook()
	sum, err := a.SendNotifications(ctx, sink, SendOptions{})
	if err != nil || sum.Sent != 0 || sum.Failed != 6 || sum.Dead != 2 || sum.Waiting != 2 {
		t.Fatalf("send to a dead receiver: %v %+v", err, sum)
	}
	p, err := s.a.Notifications(ctx, shop.NotificationFilter{Dead: true}, shop.ListOptions{})
	if err != nil || len(p.Items) != 2 || p.Items[0].Attempts != 3 || !strings.Contains(p.Items[0].LastError, "HTTP 500") || p.Items[0].State() != "dead" {
		t.Fatalf("dead list: %v %+v", err, p.Items)
	}
	if p, _ := s.a.Notifications(ctx, shop.NotificationFilter{Pending: true}, shop.ListOptions{}); len(p.Items) != 0 {
		t.Fatalf("dead ones are not pending: %+v", p.Items)
	}
	if _, err := s.a.RetryNotification(ctx, p.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	up := newReceiver(t, func(int) int { return 0 })
	a = s.webhookApp(up.srv.URL, 3)
	sink, _ = a.Webhook()
	if sum, err := a.SendNotifications(ctx, sink, SendOptions{}); err != nil || sum.Sent != 1 {
		t.Fatalf("after retry of one: %v %+v", err, sum)
	}
	if n, err := s.a.RetryDead(ctx); err != nil || n != 1 {
		t.Fatalf("retry --dead: %v %d", err, n)
	}
	if sum, err := a.SendNotifications(ctx, sink, SendOptions{}); err != nil || sum.Sent != 1 {
		t.Fatalf("after retry --dead: %v %+v", err, sum)
	}
	if _, err := s.a.RetryNotification(ctx, p.Items[0].ID); !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("retry of a sent notification: %v", err)
	}
	if _, err := s.a.RetryNotification(ctx, 999); !errors.Is(err, shop.ErrNotFound) {
		t.Fatalf("retry of no notification: %v", err)
	}
}

// Two senders at once never deliver one notification twice, and together
// deliver every one.
func TestConcurrentSendersNeverDoubleDeliver(t *testing.T) {
	s := newShop(t)
	s.exec(`INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT 'order.placed', 1, g, jsonb_build_object('order_id', g, 'total_amount', 1000) FROM generate_series(1, 200) g`)
	r := newReceiver(t, func(int) int { return 0 })
	var wg sync.WaitGroup
	sums := make([]shop.SendSummary, 2)
	for i := range sums {
		a := s.webhookApp(r.srv.URL, 3)
		sink, _ := a.Webhook()
		wg.Go(func() {
			var err error
			if sums[i], err = a.SendNotifications(ctx, sink, SendOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(r.accepted) != 200 || sums[0].Sent+sums[1].Sent != 200 {
		t.Fatalf("accepted %d, senders sent %+v", len(r.accepted), sums)
	}
	for id, n := range r.accepted {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
}

// A change and its notification are one statement: when the notification
// cannot be written, the change does not happen either (there is no point
// in between where a crash could leave one without the other).
func TestChangeAndNotificationAreAtomic(t *testing.T) {
	s := newShop(t)
	o := s.place("A:1")
	d := s.start(o.ID)[0]
	o2 := s.place("B:1")
	s.exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox is full'; END $$`)
	s.exec(`CREATE TRIGGER refuse BEFORE INSERT ON notification FOR EACH ROW EXECUTE FUNCTION refuse()`)
	before := s.outbox()
	if err := s.move(d.ID, shop.DeliveryShipped); err == nil {
		t.Fatal("the change went through without its notification")
	}
	if _, err := s.a.StartDeliveries(ctx, shop.DeliveryStart{OrderID: o2.ID}); err == nil {
		t.Fatal("a delivery started without its notification")
	}
	if after := s.outbox(); after != before {
		t.Fatalf("a change without its notification:\n%s\n%s", before, after)
	}
}

// --follow delivers notifications written after it started, and ends
// without an error when its context ends.
func TestFollowWakesOnNewNotifications(t *testing.T) {
	s := newShop(t)
	r := newReceiver(t, func(int) int { return 0 })
	a := s.webhookApp(r.srv.URL, 3)
	if !testdb.Pooled() {
		a.cfg.Notify.PollInterval = time.Hour // only LISTEN/NOTIFY can wake it
	}
	sink, _ := a.Webhook()
	fctx, cancel := context.WithCancel(ctx)
	delivered := make(chan struct{}, 10)
	done := make(chan error)
	go func() {
		_, err := a.SendNotifications(fctx, sink, SendOptions{Follow: true, Attempted: func(at shop.SendAttempt) {
			if at.Sent {
				delivered <- struct{}{}
			}
		}})
		done <- err
	}()
	s.place("A:1") // two notifications, written while it waits
	for range 2 {
		select {
		case <-delivered:
		case <-time.After(time.Minute): // a guard against hanging, not a timing assertion
			t.Fatal("follow did not wake for new notifications")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
	if len(r.accepted) != 2 {
		t.Fatalf("accepted %v", r.accepted)
	}
}

// funcSink delivers by calling f.
type funcSink func(context.Context, shop.Notification) error

func (f funcSink) Send(ctx context.Context, n shop.Notification) error { return f(ctx, n) }

// A sender's claim is committed before it sends: while its send is in
// flight another sender does not take the notification, with or without
// the first one's database session (no transaction stays open meanwhile).
func TestClaimHoldsWithoutAnOpenTransaction(t *testing.T) {
	s := newShop(t)
	s.place("A:1")
	a := s.webhookApp("http://127.0.0.1:1", 3)
	inSend, release := make(chan struct{}), make(chan struct{})
	first := make(chan shop.SendAttempt, 1)
	go func() {
		ats, _ := a.sendBatch(ctx, 1, func(context.Context, shop.Notification) error {
			close(inSend)
			<-release
			return nil
		}, nil, func(int) time.Duration { return 0 }, 3, time.Minute)
		first <- ats[0]
	}()
	<-inSend
	if n := s.count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`); n != 0 {
		t.Errorf("%d sessions idle in a transaction while a send is in flight", n)
	}
	others, err := a.sendBatch(ctx, 5, func(_ context.Context, n shop.Notification) error {
		if n.ID == 1 {
			t.Errorf("a second sender took notification 1 while it was being sent")
		}
		return nil
	}, nil, func(int) time.Duration { return 0 }, 3, time.Minute)
	if err != nil || len(others) != 1 || !others[0].Sent || others[0].N.ID != 2 {
		t.Fatalf("second sender: %+v %v, want notification 2", others, err)
	}
	close(release)
	if at := <-first; !at.Sent || at.N.ID != 1 {
		t.Fatalf("first sender: %+v", at)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE sent_at IS NOT NULL AND claimed_until IS NULL`); n != 2 {
		t.Errorf("sent and released = %d, want 2", n)
	}
}

// --follow listens on a connection of its own: with max_conns 1 it still sends.
func TestFollowWithOneConnection(t *testing.T) {
	s := newShop(t)
	s.place("A:1")
	a := s.open(func(c *config.Config) { c.MaxConns = 1 })
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sent := 0
	_, err := a.SendNotifications(fctx, funcSink(func(context.Context, shop.Notification) error { return nil }), SendOptions{Follow: true,
		Attempted: func(at shop.SendAttempt) {
			if sent++; sent == 2 {
				cancel()
			}
		}})
	if err != nil || sent != 2 {
		t.Fatalf("follow with max_conns 1: sent %d, %v", sent, err)
	}
}

// flushSink is a sink that flushes (as the file sink does): it keeps the
// ids it was given, and what each Flush made durable; failFlush fails the
// first Flush.
type flushSink struct {
	pending, durable []int64
	flushes          []int
	failFlush        bool
}

func (f *flushSink) Send(_ context.Context, n shop.Notification) error {
	f.pending = append(f.pending, n.ID)
	return nil
}

func (f *flushSink) Flush() error {
	f.flushes = append(f.flushes, len(f.pending))
	if f.failFlush {
		f.failFlush, f.pending = false, nil
		return errors.New("disk full")
	}
	f.durable, f.pending = append(f.durable, f.pending...), nil
	return nil
}

// A sink that flushes gets the outbox in batches of SendBatch, oldest
// first, each claimed and recorded in one statement; a batch whose flush
// fails is a failed attempt of every notification in it, none sent.
func TestSendInBatches(t *testing.T) {
	s := newShop(t)
	s.place("A:1") // order.placed, payment.succeeded: 2 + 2 × 120 = 242 in the outbox
	if _, err := s.a.db.Pool.Exec(ctx, `INSERT INTO notification (kind, customer_id, order_id, payload)
		SELECT kind, customer_id, order_id, payload FROM notification, generate_series(1, 120) ORDER BY generate_series, id`); err != nil {
		t.Fatal(err)
	}
	sink := &flushSink{failFlush: true}
	sum, err := s.a.SendNotifications(ctx, sink, SendOptions{})
	if err != nil || sum.Sent != 142 || sum.Failed != SendBatch {
		t.Fatalf("send with a failing first flush: %v %+v", err, sum)
	}
	if fmt.Sprint(sink.flushes) != fmt.Sprint([]int{SendBatch, SendBatch, 42}) {
		t.Errorf("flushes %v, want [%d %d 42]", sink.flushes, SendBatch, SendBatch)
	}
	for i := 1; i < len(sink.durable); i++ {
		if sink.durable[i] <= sink.durable[i-1] {
			t.Fatalf("sent out of order: %v", sink.durable)
		}
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE attempts = 1 AND last_error = 'disk full' AND sent_at IS NULL
		AND claimed_until IS NULL AND id <= $1`, SendBatch); n != SendBatch {
		t.Errorf("the failed batch is recorded for %d notifications, want %d", n, SendBatch)
	}
	if n := s.count(`SELECT count(*) FROM notification WHERE sent_at IS NOT NULL AND attempts = 1 AND claimed_until IS NULL AND id > $1`, SendBatch); n != 142 {
		t.Errorf("%d recorded sent, want 142", n)
	}
	// --limit stops at the limit, mid-batch.
	s.a.db.Pool.Exec(ctx, `UPDATE notification SET next_attempt_at = now(), dead_at = NULL WHERE sent_at IS NULL`)
	if sum, err = s.a.SendNotifications(ctx, &flushSink{}, SendOptions{Limit: 30}); err != nil || sum.Sent != 30 {
		t.Errorf("--limit 30: %v %+v", err, sum)
	}
}
