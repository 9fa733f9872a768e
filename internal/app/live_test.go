package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// Live mode against the providers' local stand-ins (httptest servers that
// check every request): the saga asks the buyer, waits for the redirect to
// the callback listener, then approves.

type liveShop struct {
	*testShop
	kakao  *standin.Kakao
	naver  *standin.Naver
	cfg    func(*config.Config)
	method shop.PaymentMethod
}

// provider is what the tests ask of either stand-in.
type provider interface {
	Payment(ref string) (standin.Payment, bool)
	Next(call string, bs ...standin.Behaviour)
	Problems() []string
}

func (s *liveShop) provider() provider {
	if s.method == shop.Naver {
		return s.naver
	}
	return s.kakao
}

// call names a call as the stand-in of the shop's method knows it.
func (s *liveShop) call(kakao string) string {
	if s.method == shop.Naver {
		return map[string]string{"approve": "apply", "page": "page", "cancel": "cancel"}[kakao]
	}
	return kakao
}

var methods = []shop.PaymentMethod{shop.Kakao, shop.Naver}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newLiveShop(t *testing.T, m shop.PaymentMethod) *liveShop {
	s := newShop(t)
	k, n := standin.NewKakao(t), standin.NewNaver(t)
	listen := freeAddr(t)
	cfg := func(c *config.Config) {
		p := &c.Payment
		p.Provider, p.HTTPTimeout, p.ApprovalTimeout = config.ProviderLive, 2*time.Second, time.Minute
		p.Callback.Listen, p.Callback.PublicURL = listen, "http://"+listen
		p.Providers = map[shop.PaymentMethod]payment.Settings{shop.Kakao: k.Config(), shop.Naver: n.Config()}
	}
	return &liveShop{testShop: s, kakao: k, naver: n, cfg: cfg, method: m}
}

// buyer watches a placement's events and plays the buyer on the approval
// page the saga shows.
type buyer struct {
	mu     sync.Mutex
	events []shop.SagaEvent
	err    error
	done   chan struct{}
}

func newBuyer() *buyer { return &buyer{done: make(chan struct{})} }

func (b *buyer) Event(ev shop.SagaEvent) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	if u, ok := strings.CutPrefix(ev.Detail, "approve at "); ok && ev.Outcome == shop.OutcomeWaiting {
		go func() {
			defer close(b.done)
			_, err := standin.Follow(context.Background(), u)
			b.mu.Lock()
			b.err = err
			b.mu.Unlock()
		}()
	}
}

func (b *buyer) trail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var parts []string
	for _, e := range b.events {
		parts = append(parts, fmt.Sprintf("%s:%s", e.Name, e.Outcome))
	}
	return strings.Join(parts, " ")
}

func (s *liveShop) placeLive(a *App, specs ...string) (PlaceResult, *buyer) {
	s.t.Helper()
	b := newBuyer()
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: s.method, Items: items(specs...)}, b)
	if err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-b.done:
	case <-time.After(time.Minute):
		s.t.Fatal("the buyer never got an approval URL")
	}
	return res, b
}

func TestLiveOrderEndToEnd(t *testing.T) {
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) { testLiveOrderEndToEnd(t, m) })
	}
}

func testLiveOrderEndToEnd(t *testing.T, m shop.PaymentMethod) {
	s := newLiveShop(t, m)
	a := s.open(s.cfg)
	res, b := s.placeLive(a, "A:2")
	if res.Status != Placed || b.err != nil {
		t.Fatalf("live order: %+v (buyer: %v) trail %s", res, b.err, b.trail())
	}
	if got := b.trail(); !strings.Contains(got, "approval:waiting approval:ok payment:ok") {
		t.Errorf("trail %q does not show the wait for the buyer", got)
	}
	ref := s.providerRef(res.OrderUUID)
	rec, ok := s.provider().Payment(ref)
	if !ok || rec.Charged != 2000 || rec.OrderID != res.OrderUUID {
		t.Fatalf("the stand-in's record of %q: %+v", ref, rec)
	}
	if got := s.strings(`SELECT call FROM payment_call WHERE order_uuid = $1 ORDER BY id`, res.OrderUUID); strings.Join(got, ",") != "ready,approve" {
		t.Errorf("provider calls recorded = %v, want ready, approve", got)
	}
	// Cancel goes to the provider too.
	if _, err := a.CancelOrder(ctx, res.Order.ID, nil); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.provider().Payment(ref); rec.Refunded != 2000 {
		t.Errorf("after cancel the stand-in holds %s refunded, want ₩2,000", rec.Refunded)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock after cancel = %d", s.stock("A"))
	}
	// A partial refund sends the exact amount.
	res, _ = s.placeLive(a, "A:3")
	if _, err := a.RefundOrder(ctx, RefundRequest{OrderID: res.Order.ID, Items: items("A:1")}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.provider().Payment(s.providerRef(res.OrderUUID)); rec.Refunded != 1000 || rec.Charged != 3000 {
		t.Errorf("after a partial refund the stand-in holds %+v", rec)
	}
	if probs := s.provider().Problems(); len(probs) > 0 {
		t.Errorf("requests the provider would refuse: %v", probs)
	}
	s.assertNoLostMoneyLive()
}

func (s *liveShop) providerRef(uuid string) string {
	s.t.Helper()
	return strings.Join(s.strings(`SELECT provider_ref FROM payment WHERE order_uuid = $1`, uuid), "")
}

func (s *liveShop) assertNoLostMoneyLive() {
	s.t.Helper()
	if n := s.count(`SELECT count(*) FROM payment WHERE status = 'PROGRESS'`); n != 0 {
		s.t.Errorf("%d payments still PROGRESS", n)
	}
	if n := s.count(`SELECT count(*) FROM saga WHERE state IN ('running', 'compensating', 'cancelling')`); n != 0 {
		s.t.Errorf("%d sagas unfinished", n)
	}
}

// The buyer cancelling, the page failing, the approval expiring and a
// charge of another amount are declines: the saga compensates.
func TestLiveDeclines(t *testing.T) {
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) { testLiveDeclines(t, m) })
	}
}

func testLiveDeclines(t *testing.T, m shop.PaymentMethod) {
	for name, tc := range map[string]struct {
		call string
		b    standin.Behaviour
		want string
	}{
		"buyer cancels":   {"page", standin.BuyerCancel, "ancel"},
		"payment fails":   {"page", standin.Decline, ""},
		"approve expired": {"approve", standin.Expire, ""},
		"other amount":    {"approve", standin.Charge(1500), "charged ₩1,500 but the order is ₩2,000"},
		"approve refused": {"approve", standin.Refuse(400, "-780", "approval failure"), "approval failure"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newLiveShop(t, m)
			a := s.open(s.cfg)
			s.provider().Next(s.call(tc.call), tc.b)
			res, b := s.placeLive(a, "A:2")
			if res.Status != Failed || !res.Compensated {
				t.Fatalf("%s: %+v trail %s", name, res, b.trail())
			}
			if !strings.Contains(res.Error, tc.want) {
				t.Errorf("error %q does not say %q", res.Error, tc.want)
			}
			if s.stock("A") != 10 {
				t.Errorf("stock after a decline = %d, want 10", s.stock("A"))
			}
			for _, p := range s.payments() {
				if p.Charged != p.Refunded {
					t.Errorf("the stand-in holds a charge of %s with %s refunded", p.Charged, p.Refunded)
				}
			}
			s.assertNoLostMoneyLive()
		})
	}
}

func (s *liveShop) payments() []standin.Payment {
	var out []standin.Payment
	for _, ref := range s.strings(`SELECT provider_ref FROM payment WHERE provider_ref IS NOT NULL`) {
		if p, ok := s.provider().Payment(ref); ok {
			out = append(out, p)
		}
	}
	return out
}

// crashAfterReady leaves a live saga as a process that crashed after the
// provider readied the payment (its tid committed) leaves it; approve then
// says whether the buyer approved (the token committed) and charge whether
// the crashed process had sent the approval.
func (s *liveShop) crashAfterReady(a *App, approve, charge bool) string {
	s.t.Helper()
	uuid := s.startCrashed("A:2")
	s.exec(`UPDATE saga SET method = $2 WHERE order_uuid = $1`, uuid, s.method)
	s.exec(`UPDATE payment SET method = $2 WHERE order_uuid = $1`, uuid, s.method)
	gw, err := a.Gateway(s.method)
	if err != nil {
		s.t.Fatal(err)
	}
	p, err := gw.Ready(ctx, payment.Request{OrderUUID: uuid, CustomerID: 1, Amount: 2000, ItemName: "A×2", Quantity: 2, ReturnURL: a.returnURL(uuid)})
	if err != nil {
		s.t.Fatal(err)
	}
	s.exec(`UPDATE payment SET provider_ref = $2, approval_url = $3 WHERE order_uuid = $1`, uuid, p.TxID, p.ApprovalURL)
	if !approve {
		return uuid
	}
	back, err := standin.Redirect(ctx, p.ApprovalURL)
	if err != nil {
		s.t.Fatal(err)
	}
	token, declined := gw.Callback(back)
	if token == "" {
		s.t.Fatalf("no token in %s (%s)", back, declined)
	}
	s.exec(`UPDATE payment SET approval_token = $2 WHERE order_uuid = $1`, uuid, token)
	if charge {
		if _, err := gw.Approve(ctx, payment.Ref{OrderUUID: uuid, CustomerID: 1, Amount: 2000, TxID: p.TxID, Token: token}); err != nil {
			s.t.Fatal(err)
		}
	}
	return uuid
}

func (s *testShop) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.a.db.Pool.Exec(ctx, sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// A crash after ready, after the buyer's approval and after the charge:
// `saga recover` finishes each, forward exactly when money was or can be
// taken with the buyer's approval.
func TestLiveRecoverAfterCrash(t *testing.T) {
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) { testLiveRecoverAfterCrash(t, m) })
	}
}

func testLiveRecoverAfterCrash(t *testing.T, m shop.PaymentMethod) {
	s := newLiveShop(t, m)
	a := s.open(s.cfg)
	notApproved := s.crashAfterReady(a, false, false)
	approved := s.crashAfterReady(a, true, false)
	charged := s.crashAfterReady(a, true, true)
	out, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %v %+v", err, RecoveryError(out), out)
	}
	state := func(uuid string) string {
		return strings.Join(s.strings(`SELECT state::text || '/' || (SELECT status::text FROM payment WHERE order_uuid = $1) FROM saga WHERE order_uuid = $1`, uuid), "")
	}
	if got := state(notApproved); got != "compensated/FAILED" {
		t.Errorf("crash before the buyer approved: %s, want compensated/FAILED", got)
	}
	if got := state(approved); got != "completed/SUCCESS" {
		t.Errorf("crash after the buyer approved: %s, want completed/SUCCESS (recover approves)", got)
	}
	if got := state(charged); got != "completed/SUCCESS" {
		t.Errorf("crash after the charge: %s, want completed/SUCCESS", got)
	}
	if got := s.stock("A"); got != 10-2-2 {
		t.Errorf("stock of A = %d, want 6", got)
	}
	s.assertNoLostMoneyLive()
}

// The approval's answer is lost and so is every look-up: the order is left
// running with its payment PROGRESS (never guessed), and recovery finishes
// it forward once the provider answers again.
func TestLiveUnknownChargeIsLeftForRecovery(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(s.cfg)
	s.kakao.Next("approve", standin.Hang)
	s.kakao.Next("order", standin.ServerError, standin.ServerError, standin.ServerError, standin.ServerError)
	res, _ := s.placeLive(a, "A:2")
	if res.Status != Failed || !res.Incomplete || res.Compensated {
		t.Fatalf("an unknown charge: %+v", res)
	}
	if got := s.strings(`SELECT status::text FROM payment`); strings.Join(got, "") != "PROGRESS" {
		t.Fatalf("payment = %v, want PROGRESS", got)
	}
	if s.stock("A") != 8 {
		t.Errorf("stock = %d: an unknown charge must keep the stock taken", s.stock("A"))
	}
	rs, err := a.Reconcile(ctx, time.Now().Add(-time.Hour), func(string) shop.Observer { return nil })
	if err != nil || len(rs) != 1 || rs[0].Result != ReconcileSettled || rs[0].Ours != shop.PaymentSuccess {
		t.Fatalf("reconcile: %+v %v", rs, err)
	}
	if n := s.count(`SELECT count(*) FROM orders WHERE status = 'paid'`); n != 1 {
		t.Errorf("paid orders after reconcile = %d, want 1", n)
	}
	if rec, _ := s.kakao.Payment(s.providerRef(res.OrderUUID)); rec.Charged != 2000 || rec.Refunded != 0 {
		t.Errorf("the provider holds %+v, want one charge of ₩2,000", rec)
	}
	s.assertNoLostMoneyLive()
}

// A process that crashed after the provider refunded part of an order, but
// before recording it, leaves the refund refunding: recover finishes it
// without refunding twice (Kakao takes no refund key).
func TestLiveRefundCrashThenRecover(t *testing.T) {
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) {
			s := newLiveShop(t, m)
			a := s.open(s.cfg)
			res, _ := s.placeLive(a, "A:3")
			o, err := a.acquire(ctx, res.OrderUUID, []shop.SagaState{shop.SagaCompleted})
			if err != nil {
				t.Fatal(err)
			}
			lines, _ := refundLines(*res.Order, productLines(*res.Order, "A", 1))
			f, _, err := o.log.BeginRefund(ctx, res.Order.ID, "k-1", "", lines, event(shop.EventStep, "refund", shop.OutcomeOK, "test"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.gw.Cancel(ctx, o.ref, payment.Refund{Amount: 1000, Key: fmt.Sprintf("refund-%d", f.ID)}); err != nil {
				t.Fatal(err)
			}
			s.exec(`UPDATE saga SET lease_until = now() - interval '1 second' WHERE order_uuid = $1`, res.OrderUUID) // the crash
			out, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
			if err != nil || RecoveryError(out) != nil || len(out) != 1 {
				t.Fatalf("recover: %v %+v", err, out)
			}
			if rec, _ := s.provider().Payment(s.providerRef(res.OrderUUID)); rec.Refunded != 1000 {
				t.Errorf("the provider refunded %s in all, want ₩1,000 (once)", rec.Refunded)
			}
			if got := s.strings(`SELECT state || '/' || (SELECT refunded_amount FROM payment) FROM order_refund`); strings.Join(got, "") != "refunded/1000" {
				t.Errorf("refund after recover = %v, want refunded/1000", got)
			}
			if s.stock("A") != 8 {
				t.Errorf("stock of A = %d, want 8", s.stock("A"))
			}
		})
	}
}

// Ctrl-C while the buyer has not approved yet compensates before the
// placement returns, and the buyer's late approval charges nothing.
func TestLiveInterruptWhileWaitingForApproval(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(s.cfg)
	pctx, interrupt := context.WithCancel(ctx)
	var approvalURL string
	obs := shop.ObserverFunc(func(ev shop.SagaEvent) {
		if u, ok := strings.CutPrefix(ev.Detail, "approve at "); ok && ev.Outcome == shop.OutcomeWaiting {
			approvalURL = u
			interrupt()
		}
	})
	res, err := a.PlaceOrder(pctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2")}, obs)
	if err != nil || res.Status != Failed || !res.Interrupted || !res.Compensated {
		t.Fatalf("interrupted while waiting: %+v %v", res, err)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock = %d, want 10", s.stock("A"))
	}
	if _, err := standin.Follow(ctx, approvalURL); err == nil {
		t.Errorf("the callback accepted an approval nobody waits for")
	}
	if rec, _ := s.kakao.Payment(s.providerRef(res.OrderUUID)); rec.Charged != 0 {
		t.Errorf("a late approval charged %s", rec.Charged)
	}
	s.assertNoLostMoneyLive()
}

// A buyer taking longer than saga.lease to approve does not make a live
// owner look dead: the lease is renewed while it waits, `saga recover`
// leaves the saga alone, and the approval completes the order.
func TestLiveApprovalWaitRenewsTheLease(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(s.cfg) // saga.lease 2s
	urls := make(chan string, 1)
	obs := shop.ObserverFunc(func(ev shop.SagaEvent) {
		if u, ok := strings.CutPrefix(ev.Detail, "approve at "); ok && ev.Outcome == shop.OutcomeWaiting {
			urls <- u
		}
	})
	done := make(chan PlaceResult, 1)
	go func() {
		res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:1")}, obs)
		if err != nil {
			res.Error = err.Error()
		}
		done <- res
	}()
	u := <-urls
	var first time.Time
	if err := s.a.db.Pool.QueryRow(ctx, `SELECT lease_until FROM saga`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	// Past the first lease's end, and renewed since.
	s.waitFor(`now() > $1::timestamptz AND (SELECT lease_until FROM saga) > $1::timestamptz + interval '1 second'`, first)
	out, err := s.open(nil).RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || len(out) != 1 || !out[0].skipped {
		t.Fatalf("recover during the wait: %+v %v", out, err)
	}
	if _, err := standin.Follow(ctx, u); err != nil {
		t.Fatal(err)
	}
	if res := <-done; res.Status != Placed {
		t.Fatalf("the approval after a long wait: %+v", res)
	}
	s.assertNoLostMoneyLive()
}

// A crash after a charge of another amount than ours: recovery refunds it and
// compensates, never creating the order.
func TestLiveRecoverAmountMismatchGoesBackward(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(s.cfg)
	s.kakao.Next("approve", standin.Charge(1500))
	uuid := s.crashAfterReady(a, true, true)
	out, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil })
	if err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %+v", err, out)
	}
	got := strings.Join(s.strings(`SELECT state::text || '/' || (SELECT status::text FROM payment WHERE order_uuid = $1) FROM saga WHERE order_uuid = $1`, uuid), "")
	if got != "compensated/CANCELLED" {
		t.Errorf("a charge of ₩1,500 for ₩2,000: %s, want compensated/CANCELLED", got)
	}
	if n := s.count(`SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders created", n)
	}
	if rec, _ := s.kakao.Payment(s.providerRef(uuid)); rec.Charged != 1500 || rec.Refunded != 1500 {
		t.Errorf("the provider holds %+v, want ₩1,500 charged and refunded", rec)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock = %d, want 10", s.stock("A"))
	}
}

// At the prompt, a redirect of another order is refused and asked again;
// the buyer's own redirect, pasted whole, approves (no callback listener).
func TestLivePromptAsksAgainAfterAWrongPaste(t *testing.T) {
	s := newLiveShop(t, shop.Naver)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	var refused []error
	calls := 0
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		if calls++; calls == 1 {
			return "http://127.0.0.1:1/pay/00000000-0000-0000-0000-000000000000/return?resultCode=Success&paymentId=X", nil
		}
		back, err := standin.Redirect(ctx, approvalURL)
		if err != nil {
			return "", err
		}
		return back.String(), nil
	}
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Naver, Items: items("A:1"),
		Approval: Approval{Prompt: prompt, Retry: func(err error) { refused = append(refused, err) }}}, nil)
	if err != nil || res.Status != Placed {
		t.Fatalf("placement: %+v %v", res, err)
	}
	if len(refused) != 1 || !strings.Contains(refused[0].Error(), "the redirect of another order") {
		t.Errorf("refused pastes = %v", refused)
	}
}

// A refund whose cancel went through but whose look-up afterwards was
// refused is not a refused refund: it stays refunding, and recover records
// it without refunding twice.
func TestLiveRefundWithARefusedLookupAfterwards(t *testing.T) {
	s := newLiveShop(t, shop.Naver)
	a := s.open(s.cfg)
	res, _ := s.placeLive(a, "A:3")
	s.naver.Next("history", standin.OK, standin.Refuse(400, "InvalidMerchant", "look-up refused"))
	_, err := a.RefundOrder(ctx, RefundRequest{OrderID: res.Order.ID, Items: items("A:1")}, nil)
	if !errors.Is(err, shop.ErrIncomplete) {
		t.Fatalf("refund with a refused look-up afterwards: %v, want incomplete", err)
	}
	if got := strings.Join(s.strings(`SELECT state FROM order_refund`), ""); got != "refunding" {
		t.Fatalf("refund state = %s, want refunding", got)
	}
	if out, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil }); err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if rec, _ := s.naver.Payment(s.providerRef(res.OrderUUID)); rec.Refunded != 1000 {
		t.Errorf("the provider refunded %s, want ₩1,000 once", rec.Refunded)
	}
	if got := strings.Join(s.strings(`SELECT state || '/' || (SELECT refunded_amount FROM payment) FROM order_refund`), ""); got != "refunded/1000" {
		t.Errorf("after recover: %s", got)
	}
	if s.stock("A") != 8 {
		t.Errorf("stock = %d, want 8", s.stock("A"))
	}
}

// Naver Pay answering a cancel with CancelNotComplete has taken it and not
// finished it: the refund is pending (exit 3, left refunding), not refused,
// and recover completes it from Naver's history without refunding twice.
func TestLiveNaverRefundPendingIsNotRefused(t *testing.T) {
	s := newLiveShop(t, shop.Naver)
	a := s.open(s.cfg)
	res, _ := s.placeLive(a, "A:3")
	s.naver.Next("cancel", standin.CancelNotComplete)
	_, err := a.RefundOrder(ctx, RefundRequest{OrderID: res.Order.ID, Items: items("A:1")}, nil)
	if !errors.Is(err, shop.ErrIncomplete) || !strings.Contains(err.Error(), "is pending") || strings.Contains(err.Error(), "refused") {
		t.Fatalf("refund answered CancelNotComplete: %v, want pending (incomplete), not refused", err)
	}
	if got := strings.Join(s.strings(`SELECT state FROM order_refund`), ""); got != "refunding" {
		t.Fatalf("refund state = %s, want refunding", got)
	}
	if out, err := a.RecoverSagas(ctx, 0, func(string) shop.Observer { return nil }); err != nil || RecoveryError(out) != nil {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if rec, _ := s.naver.Payment(s.providerRef(res.OrderUUID)); rec.Refunded != 1000 {
		t.Errorf("the provider refunded %s, want ₩1,000 once", rec.Refunded)
	}
	if got := strings.Join(s.strings(`SELECT state || '/' || (SELECT refunded_amount FROM payment) FROM order_refund`), ""); got != "refunded/1000" {
		t.Errorf("after recover: %s", got)
	}
}

// What the operator hands over before the right approval never ends the
// sale: a token sent before the buyer approved (Kakao: -701), a wrong one
// after (-2), and one Kakao answers with a decline's code (-780) while the
// payment still waits are each said and asked again, the payment untouched;
// a paste with a control character or not shaped like a pg_token is refused
// without being sent. The right one then charges once.
func TestLivePromptAsksAgainAfterARefusedToken(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	var refused []error
	var back string
	calls := 0
	waiting := func(status string) {
		for _, p := range s.payments() {
			if p.Status != status || p.Charged != 0 {
				t.Errorf("prompt %d: the payment is %s, charged %s; want it still waiting (%s)", calls, p.Status, p.Charged, status)
			}
		}
	}
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		switch calls++; calls {
		case 1: // typed before the buyer approved
			return "deadbeefdeadbeefdead", nil
		case 2: // the buyer approves on Kakao's page; the operator types garbage
			waiting("READY")
			u, err := standin.Redirect(ctx, approvalURL)
			if err != nil {
				return "", err
			}
			back = u.String()
			return "deadbeefdeadbeefdea0", nil
		case 3:
			waiting("AUTH_PASSWORD")
			s.kakao.Next("approve", standin.Refuse(400, "-780", "approval failure: bad pg_token"))
			return "deadbeefdeadbeefdea1", nil
		case 4:
			waiting("AUTH_PASSWORD")
			return "pg0000\x07000000000001", nil
		case 5:
			return "not a pg_token", nil
		}
		return back, nil
	}
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Prompt: prompt, Retry: func(err error) { refused = append(refused, err) }}}, nil)
	if err != nil || res.Status != Placed {
		t.Fatalf("placement: %+v %v", res, err)
	}
	if len(refused) != 5 || calls != 6 {
		t.Fatalf("prompted %d times, refused %v", calls, refused)
	}
	for i, want := range []string{
		"the provider did not accept that approval token: Kakao Pay answered the payment is not authenticated by the buyer (READY) (code -701)",
		"the provider did not accept that approval token: Kakao Pay answered invalid pg_token (code -2)",
		"the provider did not accept that approval token: Kakao Pay answered approval failure: bad pg_token (code -780)",
		"the pasted approval contains a control character (U+0007): copy the token or the URL again",
		`"not a pg_token" is not a Kakao Pay approval: a pg_token is letters and digits only`,
	} {
		if !strings.Contains(refused[i].Error(), want) {
			t.Errorf("refusal %d = %q, want %q", i+1, refused[i], want)
		}
	}
	if n := s.kakao.Count("approve"); n != 4 {
		t.Errorf("%d approve calls, want 4 (three refused, one charge): a refused paste was sent", n)
	}
	ps := s.payments()
	if len(ps) != 1 || ps[0].Status != "SUCCESS_PAYMENT" || ps[0].Charged != 2000 || ps[0].Refunded != 0 {
		t.Fatalf("the stand-in holds %+v, want one charge of ₩2,000", ps)
	}
	if got := s.strings(`SELECT status::text || ' ' || amount FROM payment`); len(got) != 1 || got[0] != "SUCCESS 2000" {
		t.Errorf("payments = %v", got)
	}
	if probs := s.kakao.Problems(); len(probs) > 0 {
		t.Errorf("requests Kakao would refuse: %v", probs)
	}
}

// The same refusal of a token given up front (--approval-token T) has
// nobody to ask: a decline, compensated as before.
func TestLiveRefusedTokenGivenUpFrontDeclines(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	// The buyer approves on Kakao's page (nobody listens for the redirect)
	// before the token given up front is sent.
	buyer := shop.ObserverFunc(func(ev shop.SagaEvent) {
		if u, ok := strings.CutPrefix(ev.Detail, "approve at "); ok && ev.Outcome == shop.OutcomeWaiting {
			if _, err := standin.Redirect(ctx, u); err != nil {
				t.Error(err)
			}
		}
	})
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Token: "deadbeefdeadbeefdead", Given: true}}, buyer)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Failed || !res.Compensated || !strings.Contains(res.Error, "the provider did not accept that approval token") {
		t.Fatalf("result %+v", res)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock after the decline = %d, want 10", s.stock("A"))
	}
	if got := s.strings(`SELECT status::text FROM payment`); len(got) != 1 || got[0] != "FAILED" {
		t.Errorf("payments = %v", got)
	}
	for _, p := range s.payments() {
		if p.Charged != 0 {
			t.Errorf("the stand-in charged %s", p.Charged)
		}
	}
}

// After a refused token the order waits again, and that wait still ends at
// payment.approval_timeout (a decline, compensated). That the deadline is
// the first wait's, not a new one, is pay's code (one deadline for the
// loop); telling them apart here would take a timing.
func TestLiveRefusedTokenWaitIsBoundedByTheTimeout(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) {
		s.cfg(c)
		c.Payment.Callback.Listen, c.Payment.ApprovalTimeout = "", 3*time.Second
	})
	calls := 0
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		if calls++; calls == 1 {
			if _, err := standin.Redirect(ctx, approvalURL); err != nil {
				return "", err
			}
			return "not-the-pg-token", nil
		}
		<-ctx.Done() // nothing more is typed
		return "", nil
	}
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:1"),
		Approval: Approval{Prompt: prompt, Retry: func(error) {}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Failed || !res.Compensated || !strings.Contains(res.Error, "did not approve within payment.approval_timeout (3s)") {
		t.Fatalf("result %+v", res)
	}
}

// The database going away while the buyer approves does not lose the sale:
// the approval is kept, the wait is said once, and when the database is
// back the payment is charged once and the order placed.
func TestLiveApprovalOutlivesADatabaseOutage(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	var back func()
	var mu sync.Mutex
	var said []string
	obs := shop.ObserverFunc(func(ev shop.SagaEvent) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(ev.Detail, "database") {
			said = append(said, ev.Detail)
		}
		if strings.HasPrefix(ev.Detail, "the database is not answering") {
			back() // brought back once the saga says it waits for it
		}
	})
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		u, err := standin.Redirect(ctx, approvalURL)
		if err != nil {
			return "", err
		}
		mu.Lock()
		back = testdb.Outage(t, s.url) // the buyer has approved; the database goes
		mu.Unlock()
		return u.String(), nil
	}
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Prompt: prompt, Retry: func(err error) { t.Errorf("asked again: %v", err) }}}, obs)
	if err != nil || res.Status != Placed {
		t.Fatalf("placement: %+v %v", res, err)
	}
	s.a.db.Pool.Reset() // the test's own connections were ended too
	if len(said) != 2 || !strings.Contains(said[0], "the buyer's approval is kept") || !strings.HasPrefix(said[1], "the database is back") {
		t.Errorf("the trail says %q, want the wait said once and its end", said)
	}
	ps := s.payments()
	if len(ps) != 1 || ps[0].Charged != 2000 || s.kakao.Count("approve") != 1 {
		t.Fatalf("the stand-in holds %+v after %d approves, want one charge of ₩2,000", ps, s.kakao.Count("approve"))
	}
	if s.stock("A") != 8 {
		t.Errorf("stock = %d, want 8", s.stock("A"))
	}
	if got := s.strings(`SELECT status::text || ' ' || amount FROM payment`); len(got) != 1 || got[0] != "SUCCESS 2000" {
		t.Errorf("payments = %v", got)
	}
}

// A database that does not come back within payment.approval_timeout ends
// the wait with a plain statement: nothing was charged. Once it is back,
// recovery gives the stock back.
func TestLiveApprovalDatabaseNeverBack(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) {
		s.cfg(c)
		c.Payment.Callback.Listen, c.Payment.ApprovalTimeout = "", 2*time.Second
	})
	var back func()
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		u, err := standin.Redirect(ctx, approvalURL)
		if err != nil {
			return "", err
		}
		back = testdb.Outage(t, s.url)
		return u.String(), nil
	}
	res, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Prompt: prompt}}, nil)
	if err != nil || res.Status != Failed || !res.Incomplete ||
		!strings.HasPrefix(res.Error, "nothing has been charged yet: the database did not come back within 2s") ||
		!strings.Contains(res.Error, "'rabbitpay saga recover' finishes the sale if the buyer's approval was recorded") {
		t.Fatalf("placement: %+v %v", res, err)
	}
	if n := s.kakao.Count("approve"); n != 0 {
		t.Fatalf("%d approve calls while the approval could not be recorded", n)
	}
	back()
	s.a.db.Pool.Reset()
	// The placement could not let go of its lease (saga.lease, 2s here):
	// recovery takes the saga over once it runs out.
	if _, err := a.RecoverSagas(ctx, time.Minute, func(string) shop.Observer { return nil }); err != nil {
		t.Fatal(err)
	}
	if s.stock("A") != 10 {
		t.Errorf("stock after recovery = %d, want 10", s.stock("A"))
	}
}

// An up-front approval token not shaped like the provider's is refused
// before anything changes: no saga, no stock taken, no call made.
func TestLiveMisshapenUpFrontTokenChangesNothing(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	_, err := a.PlaceOrder(ctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Token: "not a pg_token", Given: true}}, nil)
	if !errors.Is(err, shop.ErrInvalid) || !strings.Contains(err.Error(), `"not a pg_token" is not a Kakao Pay approval`) {
		t.Fatalf("PlaceOrder = %v, want the token's shape refused", err)
	}
	if got := s.strings(`SELECT count(*)::text FROM saga`); got[0] != "0" || s.stock("A") != 10 || len(s.kakao.Requests()) != 0 {
		t.Fatalf("a refused token changed something: %s sagas, stock %d, %d provider calls", got[0], s.stock("A"), len(s.kakao.Requests()))
	}
}

// Ctrl-C while the placement waits for the database ends the wait at once,
// saying so and what recovery will do; nothing is charged.
func TestLiveApprovalDatabaseWaitInterrupted(t *testing.T) {
	s := newLiveShop(t, shop.Kakao)
	a := s.open(func(c *config.Config) { s.cfg(c); c.Payment.Callback.Listen = "" })
	pctx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	obs := shop.ObserverFunc(func(ev shop.SagaEvent) {
		if strings.HasPrefix(ev.Detail, "the database is not answering") {
			interrupt()
		}
	})
	prompt := func(ctx context.Context, approvalURL string) (string, error) {
		u, err := standin.Redirect(ctx, approvalURL)
		if err != nil {
			return "", err
		}
		testdb.Outage(t, s.url)
		return u.String(), nil
	}
	res, err := a.PlaceOrder(pctx, PlaceRequest{CustomerID: 1, Method: shop.Kakao, Items: items("A:2"),
		Approval: Approval{Prompt: prompt}}, obs)
	if err != nil || !res.Incomplete || !strings.HasPrefix(res.Error, "nothing has been charged yet: interrupted while waiting for the database") {
		t.Fatalf("placement: %+v %v", res, err)
	}
	if n := s.kakao.Count("approve"); n != 0 {
		t.Fatalf("%d approve calls after the interrupt", n)
	}
}
