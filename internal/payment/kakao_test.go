package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

const (
	orderUUID = "0b9d4a7e-4c1f-4a8e-9a57-3f3e6d2c1b00"
	customer  = 42
)

// client is the adapters' HTTP client in tests: a generous timeout, so that
// only tests of a hanging provider ever reach it.
func client() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// hangingClient gives up quickly: for tests where the provider hangs until
// the client gives up (the test waits on that, it does not race it).
func hangingClient() *http.Client { return &http.Client{Timeout: 100 * time.Millisecond} }

func newKakao(t *testing.T, c *http.Client) (*standin.Kakao, payment.Gateway) {
	t.Helper()
	k := standin.NewKakao(t)
	return k, payment.NewKakao(k.Config(), c)
}

func request(amount shop.Won) payment.Request {
	return payment.Request{OrderUUID: orderUUID, CustomerID: customer, Amount: amount, ItemName: "Carrot cake x2",
		Quantity: 2, ReturnURL: "http://127.0.0.1:9/pay/" + orderUUID}
}

// readied readies a payment and lets the buyer act on the page as the
// stand-in's "page" script says; it returns the ref with the callback's
// token and the callback's decline reason.
func readied(t *testing.T, gw payment.Gateway, amount shop.Won) (payment.Ref, string) {
	t.Helper()
	ctx := context.Background()
	p, err := gw.Ready(ctx, request(amount))
	if err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if p.TxID == "" || p.ApprovalURL == "" {
		t.Fatalf("Ready returned %+v, want a tx id and an approval URL", p)
	}
	cb, err := standin.Redirect(ctx, p.ApprovalURL)
	if err != nil {
		t.Fatalf("the buyer's page: %v", err)
	}
	token, declined := gw.Callback(cb)
	return payment.Ref{OrderUUID: orderUUID, CustomerID: customer, Amount: amount, TxID: p.TxID, Token: token}, declined
}

func approved(t *testing.T, gw payment.Gateway, amount shop.Won) payment.Ref {
	t.Helper()
	ref, declined := readied(t, gw, amount)
	if declined != "" || ref.Token == "" {
		t.Fatalf("callback: token %q, declined %q", ref.Token, declined)
	}
	res, err := gw.Approve(context.Background(), ref)
	if err != nil || res.Status != shop.PaymentSuccess {
		t.Fatalf("Approve = %+v, %v", res, err)
	}
	return ref
}

func wantResult(t *testing.T, what string, got payment.Result, err error, want payment.Result) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	reason := got.Reason
	got.Reason, want.Reason = "", ""
	if got != want {
		t.Fatalf("%s = %+v (reason %q), want %+v", what, got, reason, want)
	}
}

func wantUnknown(t *testing.T, what string, err error) *payment.UnknownError {
	t.Helper()
	var ue *payment.UnknownError
	if !errors.As(err, &ue) {
		t.Fatalf("%s: got %v (%T), want an unknown outcome (*payment.UnknownError)", what, err, err)
	}
	return ue
}

func fieldsJSON(t *testing.T, r standin.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s body: %v", r.Path, err)
	}
	return m
}

func TestKakaoPaysAndSendsExactRequests(t *testing.T) {
	k, gw := newKakao(t, client())
	ref := approved(t, gw, 12000)

	reqs := k.Requests()
	if len(reqs) != 3 || reqs[0].Call != "ready" || reqs[1].Call != "page" || reqs[2].Call != "approve" {
		t.Fatalf("requests: %+v", reqs)
	}
	for _, r := range []standin.Request{reqs[0], reqs[2]} {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "SECRET_KEY "+standin.KakaoSecretKey ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: method %s, headers %v", r.Path, r.Method, r.Header)
		}
	}
	ready := fieldsJSON(t, reqs[0])
	wantReady := map[string]any{
		"cid": "TC0ONETIME", "partner_order_id": orderUUID, "partner_user_id": "42", "item_name": "Carrot cake x2",
		"quantity": 2.0, "total_amount": 12000.0, "tax_free_amount": 0.0,
		"approval_url": "http://127.0.0.1:9/pay/" + orderUUID + "/approve",
		"cancel_url":   "http://127.0.0.1:9/pay/" + orderUUID + "/cancel",
		"fail_url":     "http://127.0.0.1:9/pay/" + orderUUID + "/fail",
	}
	if fmt.Sprint(ready) != fmt.Sprint(wantReady) {
		t.Errorf("ready body:\n got %v\nwant %v", ready, wantReady)
	}
	approve := fieldsJSON(t, reqs[2])
	wantApprove := map[string]any{"cid": "TC0ONETIME", "tid": ref.TxID, "partner_order_id": orderUUID, "partner_user_id": "42", "pg_token": ref.Token}
	if fmt.Sprint(approve) != fmt.Sprint(wantApprove) {
		t.Errorf("approve body:\n got %v\nwant %v", approve, wantApprove)
	}
	if reqs[0].Path != "/online/v1/payment/ready" || reqs[2].Path != "/online/v1/payment/approve" {
		t.Errorf("paths %s, %s", reqs[0].Path, reqs[2].Path)
	}

	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 12000})
	if r := k.Requests()[3]; r.Path != "/online/v1/payment/order" || fmt.Sprint(fieldsJSON(t, r)) != fmt.Sprint(map[string]any{"cid": "TC0ONETIME", "tid": ref.TxID}) {
		t.Errorf("order request %s %s", r.Path, r.Body)
	}

	// Approving twice charges once: Kakao refuses, the adapter looks it up.
	res, err = gw.Approve(context.Background(), ref)
	wantResult(t, "second Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 12000})
	if p, _ := k.Payment(ref.TxID); p.Charged != 12000 || p.Status != "SUCCESS_PAYMENT" {
		t.Errorf("stand-in payment %+v", p)
	}
}

func TestKakaoBuyerCancelsOnThePage(t *testing.T) {
	k, gw := newKakao(t, client())
	k.Next("page", standin.BuyerCancel)
	ref, declined := readied(t, gw, 5000)
	if ref.Token != "" || declined != "the buyer cancelled the payment on Kakao Pay's page" {
		t.Fatalf("callback: token %q, declined %q", ref.Token, declined)
	}
	res, err := gw.Void(context.Background(), ref)
	wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.TxID})
	if !strings.Contains(res.Reason, "cancelled") {
		t.Errorf("reason %q", res.Reason)
	}
}

func TestKakaoBuyerNeverApproves(t *testing.T) {
	_, gw := newKakao(t, client())
	p, err := gw.Ready(context.Background(), request(5000))
	if err != nil {
		t.Fatal(err)
	}
	ref := payment.Ref{OrderUUID: orderUUID, CustomerID: customer, Amount: 5000, TxID: p.TxID}
	res, err := gw.Void(context.Background(), ref)
	wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed, TxID: p.TxID})
	if !strings.Contains(res.Reason, "did not approve") {
		t.Errorf("reason %q", res.Reason)
	}
	// Nothing readied: no record, no call.
	res, err = gw.Lookup(context.Background(), payment.Ref{OrderUUID: orderUUID})
	wantResult(t, "Lookup without tid", res, err, payment.Result{})
}

func TestKakaoExpiredApproval(t *testing.T) {
	t.Run("page", func(t *testing.T) {
		k, gw := newKakao(t, client())
		k.Next("page", standin.Expire)
		ref, declined := readied(t, gw, 5000)
		if ref.Token != "" || !strings.Contains(declined, "failed on Kakao Pay's page") {
			t.Fatalf("callback: token %q, declined %q", ref.Token, declined)
		}
		res, err := gw.Lookup(context.Background(), ref)
		wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.TxID})
	})
	t.Run("approve too late", func(t *testing.T) {
		k, gw := newKakao(t, client())
		ref, _ := readied(t, gw, 5000)
		k.Next("approve", standin.Expire)
		res, err := gw.Approve(context.Background(), ref)
		wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.TxID})
		if !strings.Contains(res.Reason, "time limit") || !strings.Contains(res.Reason, "-780") {
			t.Errorf("reason %q", res.Reason)
		}
	})
}

func TestKakaoDecline(t *testing.T) {
	k, gw := newKakao(t, client())
	ref, _ := readied(t, gw, 5000)
	k.Next("approve", standin.Decline)
	res, err := gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.TxID})
	if res.Reason != "Kakao Pay declined the payment: approval failure (the card was declined) (code -780)" {
		t.Errorf("reason %q", res.Reason)
	}
}

// A pg_token Kakao refuses (-2) while the payment still waits for our
// approve is an *ApprovalTokenError, the payment untouched: the right token
// then charges once. A decline (-780) is not one (TestKakaoDecline).
func TestKakaoRefusedToken(t *testing.T) {
	k, gw := newKakao(t, client())
	ref, _ := readied(t, gw, 5000)
	bad := ref
	bad.Token = "not-the-pg-token"
	for range 2 {
		res, err := gw.Approve(context.Background(), bad)
		var te *payment.ApprovalTokenError
		if !errors.As(err, &te) || !errors.Is(err, payment.ErrApprovalToken) || te.Code != "-2" || res != (payment.Result{}) {
			t.Fatalf("Approve with a bad pg_token = %+v, %v (%T)", res, err, err)
		}
		if p, _ := k.Payment(ref.TxID); p.Status != "AUTH_PASSWORD" || p.Charged != 0 {
			t.Fatalf("after a refused pg_token the payment is %+v, want it still waiting", p)
		}
	}
	res, err := gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 5000})
	if p, _ := k.Payment(ref.TxID); p.Charged != 5000 {
		t.Fatalf("charged %s", p.Charged)
	}

	// A -2 for a payment no longer waiting is Kakao's refusal, not the token's.
	k.Next("approve", standin.Refuse(400, "-2", "invalid request"))
	res, err = gw.Approve(context.Background(), bad)
	if errors.Is(err, payment.ErrApprovalToken) || err != nil || res.Status != shop.PaymentSuccess {
		t.Fatalf("Approve of a charged payment = %+v, %v", res, err)
	}
}

// Kakao's error code does not decide: a refusal coded as a decline (-780,
// "approval failure") while Kakao still holds the payment waiting for our
// approve is the token refused, and the right pg_token then charges once.
func TestKakaoRefusalDecidedByThePaymentsState(t *testing.T) {
	k, gw := newKakao(t, client())
	ref, _ := readied(t, gw, 5000)
	bad := ref
	bad.Token = "deadbeefdeadbeefdead"
	k.Next("approve", standin.Refuse(400, "-780", "approval failure: bad pg_token"))
	res, err := gw.Approve(context.Background(), bad)
	var te *payment.ApprovalTokenError
	if !errors.As(err, &te) || te.Code != "-780" || res != (payment.Result{}) {
		t.Fatalf("Approve refused -780 while waiting = %+v, %v (%T)", res, err, err)
	}
	res, err = gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 5000})
	if p, _ := k.Payment(ref.TxID); p.Charged != 5000 || k.Count("approve") != 2 {
		t.Fatalf("charged %s in %d approves", p.Charged, k.Count("approve"))
	}
}

// A token given before the buyer approved (a clerk typing something while the
// buyer still looks at the page): Kakao answers -701 and the payment still
// waits for the buyer, so it is the token refused, not a decline; the buyer
// then approves and the right pg_token charges once.
func TestKakaoTokenBeforeTheBuyerApproved(t *testing.T) {
	k, gw := newKakao(t, client())
	ctx := context.Background()
	p, err := gw.Ready(ctx, request(3000))
	if err != nil {
		t.Fatal(err)
	}
	early := payment.Ref{OrderUUID: orderUUID, CustomerID: customer, Amount: 3000, TxID: p.TxID, Token: "typed-too-early"}
	res, err := gw.Approve(ctx, early)
	var te *payment.ApprovalTokenError
	if !errors.As(err, &te) || te.Code != "-701" || res != (payment.Result{}) {
		t.Fatalf("Approve before the buyer approved = %+v, %v (%T)", res, err, err)
	}
	if sp, _ := k.Payment(p.TxID); sp.Charged != 0 || sp.Status != "READY" {
		t.Fatalf("after a token given too early the payment is %+v, want it still waiting for the buyer", sp)
	}
	cb, err := standin.Redirect(ctx, p.ApprovalURL)
	if err != nil {
		t.Fatal(err)
	}
	token, declined := gw.Callback(cb)
	if declined != "" {
		t.Fatalf("declined %q", declined)
	}
	early.Token = token
	res, err = gw.Approve(ctx, early)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: p.TxID, Amount: 3000})
}

func TestKakaoProviderErrors(t *testing.T) {
	k, gw := newKakao(t, client())
	k.Next("ready", standin.Refuse(400, "-8", "invalid cid"))
	_, err := gw.Ready(context.Background(), request(5000))
	var pe *payment.ProviderError
	if !errors.As(err, &pe) || pe.HTTP != 400 || pe.Code != "-8" || pe.Provider != "Kakao Pay" {
		t.Fatalf("Ready: %v (%#v)", err, err)
	}
	if err.Error() != "Kakao Pay refused the payment request: invalid cid (code -8)" {
		t.Errorf("error %q", err)
	}

	ref := approved(t, gw, 5000)
	k.Next("cancel", standin.Refuse(400, "-710", "the cancel amount is more than what is left"))
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 9000, Key: "r1"})
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "-710") || !strings.Contains(err.Error(), "what is left") {
		t.Fatalf("Cancel: %v", err)
	}
	// The stand-in itself refuses to refund more than is left.
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 9000, Key: "r1"})
	if !errors.As(err, &pe) || pe.Code != "-710" {
		t.Fatalf("Cancel: %v", err)
	}
}

func TestKakaoServerErrorOnApproveIsUnknownAndLookupResolves(t *testing.T) {
	t.Run("charged", func(t *testing.T) {
		k, gw := newKakao(t, client())
		ref, _ := readied(t, gw, 7000)
		k.Next("approve", standin.ServerErrorAfter)
		_, err := gw.Approve(context.Background(), ref)
		if ue := wantUnknown(t, "Approve", err); !ue.Sent {
			t.Errorf("Sent = false for an approve")
		}
		if n := k.Count("approve"); n != 1 {
			t.Errorf("%d approve requests, want 1 (no retry)", n)
		}
		res, err := gw.Lookup(context.Background(), ref)
		wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 7000})
	})
	t.Run("not charged", func(t *testing.T) {
		k, gw := newKakao(t, client())
		ref, _ := readied(t, gw, 7000)
		k.Next("approve", standin.ServerError)
		_, err := gw.Approve(context.Background(), ref)
		wantUnknown(t, "Approve", err)
		res, err := gw.Void(context.Background(), ref)
		wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.TxID})
	})
}

func TestKakaoTimeoutAfterReceiving(t *testing.T) {
	k, gw := newKakao(t, hangingClient())
	ref, _ := readied(t, gw, 7000)
	k.Next("approve", standin.Hang)
	_, err := gw.Approve(context.Background(), ref)
	wantUnknown(t, "Approve", err)
	if n := k.Count("approve"); n != 1 {
		t.Errorf("%d approve requests, want 1 (no retry)", n)
	}
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 7000})

	k.Next("cancel", standin.Hang)
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 7000, Key: "r1"})
	wantUnknown(t, "Cancel", err)
	if n := k.Count("cancel"); n != 1 {
		t.Errorf("%d cancel requests, want 1 (no retry)", n)
	}
	res, err = gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentCancelled, TxID: ref.TxID, Amount: 7000, Refunded: 7000})
}

func TestKakaoMalformedAnswerIsUnknown(t *testing.T) {
	k, gw := newKakao(t, client())
	ref, _ := readied(t, gw, 7000)
	k.Next("approve", standin.Malformed)
	_, err := gw.Approve(context.Background(), ref)
	wantUnknown(t, "Approve", err)
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 7000})

	k.Next("ready", standin.Malformed)
	_, err = gw.Ready(context.Background(), request(100))
	wantUnknown(t, "Ready", err)
}

func TestKakaoReportsTheAmountCharged(t *testing.T) {
	k, gw := newKakao(t, client())
	ref, _ := readied(t, gw, 10000)
	k.Next("approve", standin.Charge(9000))
	res, err := gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 9000})
	res, err = gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 9000})
}

func TestKakaoPartialThenFullCancel(t *testing.T) {
	k, gw := newKakao(t, client())
	ref := approved(t, gw, 10000)
	res, err := gw.Cancel(context.Background(), ref, payment.Refund{Amount: 3000, Reason: "one cake", Key: "r1"})
	wantResult(t, "partial Cancel", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 10000, Refunded: 3000})
	c := k.Requests()[len(k.Requests())-1]
	if c.Path != "/online/v1/payment/cancel" || fmt.Sprint(fieldsJSON(t, c)) != fmt.Sprint(map[string]any{
		"cid": "TC0ONETIME", "tid": ref.TxID, "cancel_amount": 3000.0, "cancel_tax_free_amount": 0.0}) {
		t.Errorf("cancel request %s %s", c.Path, c.Body)
	}
	res, err = gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 10000, Refunded: 3000})
	res, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 7000, Key: "r2"})
	wantResult(t, "full Cancel", res, err, payment.Result{Status: shop.PaymentCancelled, TxID: ref.TxID, Amount: 10000, Refunded: 10000})
	res, err = gw.Void(context.Background(), ref)
	wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentCancelled, TxID: ref.TxID, Amount: 10000, Refunded: 10000})
}

func TestKakaoRetriesOnlyLookups(t *testing.T) {
	k, gw := newKakao(t, client())
	ref := approved(t, gw, 4000)

	k.Next("order", standin.ServerError, standin.Malformed)
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.TxID, Amount: 4000})
	if n := k.Count("order"); n != 3 {
		t.Errorf("%d order requests, want 3", n)
	}

	before := k.Count("order")
	for range payment.RetryAttempts() {
		k.Next("order", standin.ServerError)
	}
	_, err = gw.Lookup(context.Background(), ref)
	if ue := wantUnknown(t, "Lookup", err); ue.Sent {
		t.Errorf("a look-up's failure says a change was sent: %v", err)
	}
	if n := k.Count("order") - before; n != payment.RetryAttempts() {
		t.Errorf("%d order requests, want %d", n, payment.RetryAttempts())
	}

	for _, call := range []string{"ready", "cancel"} {
		k.Next(call, standin.ServerError)
	}
	_, err = gw.Ready(context.Background(), request(100))
	wantUnknown(t, "Ready", err)
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 100, Key: "r"})
	wantUnknown(t, "Cancel", err)
	if k.Count("ready") != 2 || k.Count("cancel") != 1 {
		t.Errorf("ready %d, cancel %d requests: want 2 and 1", k.Count("ready"), k.Count("cancel"))
	}
}

func TestKakaoNeverShowsItsSecret(t *testing.T) {
	k, gw := newKakao(t, hangingClient())
	secret := k.Config().SecretKey
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }

	k.Next("ready", standin.Refuse(401, "-401", "invalid secret key "+secret))
	collect(gw.Ready(context.Background(), request(100)))
	k.Next("ready", standin.ServerError)
	collect(gw.Ready(context.Background(), request(100)))
	k.Next("ready", standin.Hang)
	collect(gw.Ready(context.Background(), request(100)))
	k.Next("ready", standin.Malformed)
	collect(gw.Ready(context.Background(), request(100)))
	collect(gw.Approve(context.Background(), payment.Ref{}))
	down := payment.NewKakao(payment.KakaoConfig{SecretKey: secret, CID: "C", BaseURL: "http://127.0.0.1:1"}, client())
	collect(down.Lookup(context.Background(), payment.Ref{TxID: "T1"}))

	for _, err := range errs {
		if err == nil {
			t.Fatalf("an error was expected")
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), secret) {
			t.Errorf("the secret shows in %q", err)
		}
	}
	for _, s := range []string{fmt.Sprint(k.Config()), fmt.Sprintf("%+v", k.Config()), fmt.Sprintf("%#v", k.Config()),
		fmt.Sprint(gw), fmt.Sprintf("%+v", gw), fmt.Sprintf("%#v", gw)} {
		if strings.Contains(s, secret) {
			t.Errorf("the secret shows in %q", s)
		}
	}
}

func TestKakaoCallback(t *testing.T) {
	gw := payment.NewKakao(payment.KakaoConfig{}, nil)
	for _, c := range []struct{ url, token, declined string }{
		{"http://h/pay/o/approve?pg_token=abc", "abc", ""},
		{"http://h/pay/o/approve", "", "Kakao Pay sent the buyer back without an approval (no pg_token)"},
		{"http://h/pay/o/cancel", "", "the buyer cancelled the payment on Kakao Pay's page"},
		{"http://h/pay/o/fail", "", "the payment failed on Kakao Pay's page (it expired or the buyer could not pay)"},
		{"http://h/pay/o/favicon.ico", "", ""},
	} {
		u, _ := url.Parse(c.url)
		if tok, dec := gw.Callback(u); tok != c.token || dec != c.declined {
			t.Errorf("Callback(%s) = %q, %q", c.url, tok, dec)
		}
	}
}

// The stand-in refuses a request that breaks Kakao's contract and reports it.
func TestKakaoStandinChecksRequests(t *testing.T) {
	k := standin.NewKakao(t)
	var problems []string
	k.OnProblem = func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	post := func(body string, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, k.URL+"/online/v1/payment/order", strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	auth := "SECRET_KEY " + standin.KakaoSecretKey
	if c := post(`{"cid":"TC0ONETIME","tid":12}`, auth); c != 400 {
		t.Errorf("a number for tid: HTTP %d", c)
	}
	if c := post(`{"cid":"TC0ONETIME"}`, auth); c != 400 {
		t.Errorf("no tid: HTTP %d", c)
	}
	if c := post(`{"cid":"TC0ONETIME","tid":"T1","extra":1}`, auth); c != 400 {
		t.Errorf("an unknown field: HTTP %d", c)
	}
	if c := post(`{"cid":"TC0ONETIME","tid":"T1"}`, "KakaoAK x"); c != 401 {
		t.Errorf("a wrong key: HTTP %d", c)
	}
	if len(problems) != 4 || len(k.Problems()) != 4 {
		t.Errorf("problems: %q", problems)
	}
}

// Follow takes the buyer to the merchant's callback listener.
func TestFollowReachesTheCallback(t *testing.T) {
	got := make(chan *url.URL, 1)
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL
		fmt.Fprintln(w, "You can close this page.")
	}))
	defer merchant.Close()
	k, gw := newKakao(t, client())
	req := request(3000)
	req.ReturnURL = merchant.URL + "/pay/" + orderUUID
	p, err := gw.Ready(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := standin.Follow(context.Background(), p.ApprovalURL)
	if err != nil {
		t.Fatal(err)
	}
	u := <-got
	tok, _ := gw.Callback(u)
	if u.Path != "/pay/"+orderUUID+"/approve" || tok == "" || cb.Query().Get("pg_token") != tok {
		t.Errorf("callback %s, token %q", u, tok)
	}
	if pay, _ := k.Payment(p.TxID); pay.Token != tok || pay.Status != "AUTH_PASSWORD" {
		t.Errorf("stand-in payment %+v", pay)
	}
}
