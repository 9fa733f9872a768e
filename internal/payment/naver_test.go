package payment_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newNaver(t *testing.T, c *http.Client) (*standin.Naver, payment.Gateway) {
	t.Helper()
	n := standin.NewNaver(t)
	return n, payment.NewNaver(n.Config(), c)
}

// times repeats a behaviour for every attempt of a retried call.
func times(b standin.Behaviour) []standin.Behaviour {
	bs := make([]standin.Behaviour, payment.RetryAttempts())
	for i := range bs {
		bs[i] = b
	}
	return bs
}

func TestNaverPaysAndSendsExactRequests(t *testing.T) {
	n, gw := newNaver(t, client())
	ref := approved(t, gw, 12000)

	reqs := n.Requests()
	if len(reqs) != 3 || reqs[0].Call != "reserve" || reqs[1].Call != "page" || reqs[2].Call != "apply" {
		t.Fatalf("requests: %+v", reqs)
	}
	api := "/" + standin.NaverPartnerID + "/naverpay/payments/"
	for i, want := range []struct{ path, ctype, key string }{
		{api + "v2/reserve", "application/json", payment.NaverIdempotencyKey(orderUUID, "reserve", "")},
		{},
		{api + "v2.2/apply/payment", "application/x-www-form-urlencoded", payment.NaverIdempotencyKey(orderUUID, "apply", ref.Token)},
	} {
		r := reqs[i]
		if want.path == "" {
			continue
		}
		h := r.Header
		if r.Method != http.MethodPost || r.Path != want.path || h.Get("Content-Type") != want.ctype ||
			h.Get("X-Naver-Client-Id") != standin.NaverClientID || h.Get("X-Naver-Client-Secret") != standin.NaverClientSecret ||
			h.Get("X-NaverPay-Chain-Id") != standin.NaverChainID || h.Get("X-NaverPay-Idempotency-Key") != want.key {
			t.Errorf("%s %s: headers %v", r.Method, r.Path, h)
		}
	}
	reserve := fieldsJSON(t, reqs[0])
	wantReserve := map[string]any{
		"modelVersion": "2", "merchantPayKey": orderUUID, "merchantUserKey": "42", "productName": "Carrot cake x2",
		"productCount": 2.0, "totalPayAmount": 12000.0, "taxScopeAmount": 12000.0, "taxExScopeAmount": 0.0,
		"returnUrl": "http://127.0.0.1:9/pay/" + orderUUID + "/return",
	}
	if fmt.Sprint(reserve) != fmt.Sprint(wantReserve) {
		t.Errorf("reserve body:\n got %v\nwant %v", reserve, wantReserve)
	}
	if string(reqs[2].Body) != "paymentId="+ref.Token {
		t.Errorf("apply body %q", reqs[2].Body)
	}
	if p, _ := n.Payment(ref.TxID); p.Token != ref.Token || p.Charged != 12000 {
		t.Errorf("stand-in payment %+v", p)
	}

	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 12000})
	h := n.Requests()[3]
	if h.Path != api+"v2.2/list/history" || h.Header.Get("X-NaverPay-Idempotency-Key") != "" ||
		fmt.Sprint(fieldsJSON(t, h)) != fmt.Sprint(map[string]any{"paymentId": ref.Token, "approvalType": "ALL", "pageNumber": 1.0, "rowsPerPage": 100.0}) {
		t.Errorf("history request %s %v %s", h.Path, h.Header, h.Body)
	}

	// Applying twice charges once: the same key gets the first answer.
	res, err = gw.Approve(context.Background(), ref)
	wantResult(t, "second Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 12000})
	if p, _ := n.Payment(ref.TxID); p.Charged != 12000 || p.Status != "APPLIED" {
		t.Errorf("stand-in payment %+v", p)
	}
}

func TestNaverBuyerCancelsOnThePage(t *testing.T) {
	n, gw := newNaver(t, client())
	n.Next("page", standin.BuyerCancel)
	ref, declined := readied(t, gw, 5000)
	if ref.Token != "" || declined != "the buyer cancelled the payment on Naver Pay's page (resultCode Fail, userCancel)" {
		t.Fatalf("callback: token %q, declined %q", ref.Token, declined)
	}
	before := len(n.Requests())
	res, err := gw.Void(context.Background(), ref)
	wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed})
	if len(n.Requests()) != before {
		t.Errorf("Void without a paymentId called Naver")
	}
	res, err = gw.Lookup(context.Background(), payment.Ref{OrderUUID: orderUUID})
	wantResult(t, "Lookup without anything", res, err, payment.Result{})
}

func TestNaverExpiredApproval(t *testing.T) {
	t.Run("page", func(t *testing.T) {
		n, gw := newNaver(t, client())
		n.Next("page", standin.Expire)
		ref, declined := readied(t, gw, 5000)
		if ref.Token != "" || declined != "the approval expired on Naver Pay's page (resultCode Fail, paymentTimeExpire)" {
			t.Fatalf("callback: token %q, declined %q", ref.Token, declined)
		}
	})
	t.Run("apply too late", func(t *testing.T) {
		n, gw := newNaver(t, client())
		ref, _ := readied(t, gw, 5000)
		n.Next("apply", standin.Expire)
		res, err := gw.Approve(context.Background(), ref)
		wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.Token})
		if res.Reason != "Naver Pay declined the payment: the approval time limit has passed (code TimeExpired)" {
			t.Errorf("reason %q", res.Reason)
		}
		res, err = gw.Void(context.Background(), ref)
		wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.Token})
	})
}

func TestNaverDecline(t *testing.T) {
	n, gw := newNaver(t, client())
	ref, _ := readied(t, gw, 5000)
	n.Next("apply", standin.Decline)
	res, err := gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.Token})
	if res.Reason != "Naver Pay declined the payment: the card company declined the payment (code Fail)" {
		t.Errorf("reason %q", res.Reason)
	}
	res, err = gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.Token})
	if n.Count("apply") != 1 {
		t.Errorf("%d apply requests", n.Count("apply"))
	}
}

func TestNaverProviderErrors(t *testing.T) {
	n, gw := newNaver(t, client())
	n.Next("reserve", standin.Refuse(400, "InvalidMerchant", "the merchant is not registered"))
	_, err := gw.Ready(context.Background(), request(5000))
	var pe *payment.ProviderError
	if !errors.As(err, &pe) || pe.HTTP != 400 || pe.Code != "InvalidMerchant" ||
		err.Error() != "Naver Pay refused the payment request: the merchant is not registered (code InvalidMerchant)" {
		t.Fatalf("Ready: %v", err)
	}
	n.Next("reserve", standin.Refuse(200, "InvalidMerchant", "in a 200 answer"))
	if _, err = gw.Ready(context.Background(), request(5000)); !errors.As(err, &pe) || pe.HTTP != 0 {
		t.Fatalf("Ready: %v", err)
	}

	ref := approved(t, gw, 5000)
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 9000, Key: "r1"})
	if !errors.As(err, &pe) || pe.Code != "InvalidCancelAmount" || !strings.Contains(err.Error(), "more than the 5000 left") {
		t.Fatalf("Cancel: %v", err)
	}

	// The API gateway's own error body, for a wrong secret.
	cfg := n.Config()
	cfg.ClientSecret = "wrong-secret"
	var problems []string
	n.OnProblem = func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	_, err = payment.NewNaver(cfg, client()).Lookup(context.Background(), ref)
	if !errors.As(err, &pe) || pe.HTTP != 401 || pe.Code != "024" || err.Error() != "Naver Pay refused the look-up: Authentication failed (code 024)" {
		t.Fatalf("Lookup with a wrong secret: %v", err)
	}
	if len(problems) != 1 {
		t.Errorf("problems %q", problems)
	}
}

func TestNaverServerErrorOnApply(t *testing.T) {
	t.Run("a retry with the same key gets the first answer", func(t *testing.T) {
		n, gw := newNaver(t, client())
		ref, _ := readied(t, gw, 7000)
		n.Next("apply", standin.ServerErrorAfter)
		res, err := gw.Approve(context.Background(), ref)
		wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000})
		if n.Count("apply") != 2 {
			t.Errorf("%d apply requests, want 2", n.Count("apply"))
		}
	})
	t.Run("unknown until looked up", func(t *testing.T) {
		n, gw := newNaver(t, client())
		ref, _ := readied(t, gw, 7000)
		n.Next("apply", times(standin.ServerErrorAfter)...)
		_, err := gw.Approve(context.Background(), ref)
		if ue := wantUnknown(t, "Approve", err); !ue.Sent {
			t.Errorf("Sent = false for an apply")
		}
		if n.Count("apply") != payment.RetryAttempts() {
			t.Errorf("%d apply requests, want %d", n.Count("apply"), payment.RetryAttempts())
		}
		res, err := gw.Lookup(context.Background(), ref)
		wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000})
	})
	t.Run("nothing applied", func(t *testing.T) {
		n, gw := newNaver(t, client())
		ref, _ := readied(t, gw, 7000)
		n.Next("apply", times(standin.ServerError)...)
		_, err := gw.Approve(context.Background(), ref)
		wantUnknown(t, "Approve", err)
		res, err := gw.Lookup(context.Background(), ref)
		wantResult(t, "Lookup", res, err, payment.Result{})
		res, err = gw.Void(context.Background(), ref)
		wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentFailed, TxID: ref.Token})
	})
}

func TestNaverTimeoutAfterReceiving(t *testing.T) {
	n, gw := newNaver(t, hangingClient())
	ref, _ := readied(t, gw, 7000)
	n.Next("apply", times(standin.Hang)...)
	_, err := gw.Approve(context.Background(), ref)
	wantUnknown(t, "Approve", err)
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000})

	// One hang, then the retry is answered from the key: refunded once.
	n.Next("cancel", standin.Hang)
	res, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 2000, Reason: "one cake", Key: "r1"})
	wantResult(t, "Cancel", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000, Refunded: 2000})
	if n.Count("cancel") != 2 {
		t.Errorf("%d cancel requests, want 2", n.Count("cancel"))
	}
	// The caller repeating the refund after an unknown outcome refunds once too.
	n.Next("cancel", times(standin.Hang)...)
	_, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 3000, Key: "r2"})
	wantUnknown(t, "Cancel", err)
	res, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 3000, Key: "r2"})
	wantResult(t, "repeated Cancel", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000, Refunded: 5000})
	if p, _ := n.Payment(ref.TxID); p.Refunded != 5000 {
		t.Errorf("stand-in refunded %d", p.Refunded)
	}
}

func TestNaverMalformedAnswerIsUnknown(t *testing.T) {
	n, gw := newNaver(t, client())
	ref, _ := readied(t, gw, 7000)
	n.Next("apply", times(standin.Malformed)...)
	_, err := gw.Approve(context.Background(), ref)
	wantUnknown(t, "Approve", err)
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 7000})
}

func TestNaverReportsTheAmountCharged(t *testing.T) {
	n, gw := newNaver(t, client())
	ref, _ := readied(t, gw, 10000)
	n.Next("apply", standin.Charge(10500))
	res, err := gw.Approve(context.Background(), ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 10500})
	res, err = gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 10500})
}

func TestNaverPartialThenFullCancel(t *testing.T) {
	n, gw := newNaver(t, client())
	ref := approved(t, gw, 10000)
	res, err := gw.Cancel(context.Background(), ref, payment.Refund{Amount: 3000, Reason: "one cake", Key: "r1"})
	wantResult(t, "partial Cancel", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 10000, Refunded: 3000})
	var c standin.Request
	for _, r := range n.Requests() {
		if r.Call == "cancel" {
			c = r
		}
	}
	form, _ := url.ParseQuery(string(c.Body))
	want := url.Values{"paymentId": {ref.Token}, "cancelAmount": {"3000"}, "cancelReason": {"one cake"}, "cancelRequester": {"2"},
		"taxScopeAmount": {"3000"}, "taxExScopeAmount": {"0"}}
	if c.Path != "/"+standin.NaverPartnerID+"/naverpay/payments/v1/cancel" || form.Encode() != want.Encode() ||
		c.Header.Get("X-NaverPay-Idempotency-Key") != payment.NaverIdempotencyKey(orderUUID, "cancel", "r1") {
		t.Errorf("cancel request %s %v %s", c.Path, c.Header, c.Body)
	}
	res, err = gw.Cancel(context.Background(), ref, payment.Refund{Amount: 7000, Key: "r2"})
	wantResult(t, "full Cancel", res, err, payment.Result{Status: shop.PaymentCancelled, TxID: ref.Token, Amount: 10000, Refunded: 10000})
	res, err = gw.Void(context.Background(), ref)
	wantResult(t, "Void", res, err, payment.Result{Status: shop.PaymentCancelled, TxID: ref.Token, Amount: 10000, Refunded: 10000})
	if _, err := gw.Cancel(context.Background(), ref, payment.Refund{Amount: 1}); err == nil {
		t.Errorf("a refund without a key was sent")
	}
}

func TestNaverRetriesLookupsAndKeyedCalls(t *testing.T) {
	n, gw := newNaver(t, client())
	n.Next("reserve", standin.ServerError)
	ref := approved(t, gw, 4000)
	if n.Count("reserve") != 2 {
		t.Errorf("%d reserve requests, want 2", n.Count("reserve"))
	}
	n.Next("history", standin.ServerError, standin.Malformed)
	res, err := gw.Lookup(context.Background(), ref)
	wantResult(t, "Lookup", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: 4000})
	if n.Count("history") != 3 {
		t.Errorf("%d history requests, want 3", n.Count("history"))
	}
	n.Next("history", times(standin.ServerError)...)
	_, err = gw.Lookup(context.Background(), ref)
	if ue := wantUnknown(t, "Lookup", err); ue.Sent {
		t.Errorf("a look-up's failure says a change was sent: %v", err)
	}
	if n.Count("history") != 3+payment.RetryAttempts() {
		t.Errorf("%d history requests", n.Count("history"))
	}
}

func TestNaverNeverShowsItsSecret(t *testing.T) {
	n, gw := newNaver(t, hangingClient())
	cfg := n.Config()
	secrets := []string{cfg.ClientSecret, cfg.ClientID, cfg.ChainID}
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	n.Next("reserve", standin.Refuse(401, "Unauthorized", "bad client secret "+cfg.ClientSecret))
	collect(gw.Ready(context.Background(), request(100)))
	n.Next("reserve", times(standin.ServerError)...)
	collect(gw.Ready(context.Background(), request(100)))
	n.Next("reserve", times(standin.Hang)...)
	collect(gw.Ready(context.Background(), request(100)))
	n.Next("reserve", times(standin.Malformed)...)
	collect(gw.Ready(context.Background(), request(100)))
	collect(gw.Approve(context.Background(), payment.Ref{}))
	down := payment.NewNaver(payment.NaverConfig{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, ChainID: cfg.ChainID,
		PartnerID: "p", BaseURL: "http://127.0.0.1:1"}, client())
	collect(down.Lookup(context.Background(), payment.Ref{TxID: "R", Token: "P"}))
	for _, err := range errs {
		if err == nil {
			t.Fatalf("an error was expected")
		}
		for _, s := range secrets {
			if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), s) {
				t.Errorf("a credential shows in %q", err)
			}
		}
	}
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(gw), fmt.Sprintf("%+v", gw), fmt.Sprintf("%#v", gw)} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("a credential shows in %q", out)
			}
		}
	}
}

func TestNaverCallback(t *testing.T) {
	gw := payment.NewNaver(payment.NaverConfig{}, nil)
	for _, c := range []struct{ url, token, declined string }{
		{"http://h/pay/o/return?resultCode=Success&paymentId=20260101NP1", "20260101NP1", ""},
		{"http://h/pay/o/return?resultCode=Success", "", "Naver Pay sent the buyer back without a paymentId"},
		{"http://h/pay/o/return?resultCode=Fail&resultMessage=userCancel", "", "the buyer cancelled the payment on Naver Pay's page (resultCode Fail, userCancel)"},
		{"http://h/pay/o/return?resultCode=UserCancel", "", "the buyer cancelled the payment on Naver Pay's page (resultCode UserCancel)"},
		{"http://h/pay/o/return?resultCode=OwnerAuthFail&resultMessage=x", "", "the buyer failed Naver Pay's owner authentication (resultCode OwnerAuthFail, x)"},
		{"http://h/pay/o/return?resultCode=Fail&resultMessage=webhookFail", "", "Naver Pay did not approve the payment (resultCode Fail, webhookFail)"},
		{"http://h/pay/o/approve?pg_token=x", "", ""},
	} {
		u, _ := url.Parse(c.url)
		if tok, dec := gw.Callback(u); tok != c.token || dec != c.declined {
			t.Errorf("Callback(%s) = %q, %q", c.url, tok, dec)
		}
	}
}

func TestNaverStandinChecksRequests(t *testing.T) {
	n := standin.NewNaver(t)
	var problems []string
	n.OnProblem = func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	post := func(api, ctype, body string, key bool) int {
		req, _ := http.NewRequest(http.MethodPost, n.URL+"/"+standin.NaverPartnerID+"/naverpay/payments/"+api, strings.NewReader(body))
		req.Header.Set("X-Naver-Client-Id", standin.NaverClientID)
		req.Header.Set("X-Naver-Client-Secret", standin.NaverClientSecret)
		req.Header.Set("X-NaverPay-Chain-Id", standin.NaverChainID)
		req.Header.Set("Content-Type", ctype)
		if key {
			req.Header.Set("X-NaverPay-Idempotency-Key", "k")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	if c := post("v2.2/apply/payment", form, "paymentId=1", false); c != 400 {
		t.Errorf("no idempotency key: HTTP %d", c)
	}
	if c := post("v2.2/apply/payment", "application/json", `{"paymentId":"1"}`, true); c != 400 {
		t.Errorf("JSON for a form: HTTP %d", c)
	}
	if c := post("v1/cancel", form, "paymentId=1&cancelAmount=x&cancelReason=r&cancelRequester=2&taxScopeAmount=1&taxExScopeAmount=0", true); c != 400 {
		t.Errorf("a non-integer amount: HTTP %d", c)
	}
	if c := post("v2.2/list/history", "application/json", `{"paymentId":"1","approvalType":"ALL","pageNumber":"1","rowsPerPage":100}`, false); c != 400 {
		t.Errorf("a string for a number: HTTP %d", c)
	}
	if len(problems) != 4 || len(n.Problems()) != 4 {
		t.Errorf("problems: %q", problems)
	}
}

// A paymentId Naver refuses and has no history for (mistyped, or pasted
// from elsewhere) is the token refused, not a decline: the buyer's approval
// still waits, and the right paymentId then charges once.
func TestNaverRefusedPaymentID(t *testing.T) {
	n, gw := newNaver(t, client())
	ctx := context.Background()
	p, err := gw.Ready(ctx, request(4000))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := standin.Redirect(ctx, p.ApprovalURL)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := gw.Callback(cb)
	ref := payment.Ref{OrderUUID: orderUUID, CustomerID: customer, Amount: 4000, TxID: p.TxID, Token: "20261207NP0000000000"}
	for range 2 {
		res, err := gw.Approve(ctx, ref)
		var te *payment.ApprovalTokenError
		if !errors.As(err, &te) || res != (payment.Result{}) {
			t.Fatalf("Approve with a wrong paymentId = %+v, %v (%T)", res, err, err)
		}
	}
	ref.Token = token
	res, err := gw.Approve(ctx, ref)
	wantResult(t, "Approve", res, err, payment.Result{Status: shop.PaymentSuccess, TxID: token, Amount: 4000})
	if sp, _ := n.Payment(p.TxID); sp.Charged != 4000 {
		t.Fatalf("charged %s", sp.Charged)
	}
}
