package standin

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Naver stand-in credentials.
const (
	NaverClientID     = "standinNaverClientID"
	NaverClientSecret = "standinNaverClientSecret0123"
	NaverChainID      = "standinChainID"
	NaverPartnerID    = "np_standin"
)

// Naver is a stand-in for Naver Pay's payment-type API under
// /{partner ID}/naverpay/payments/: v2/reserve (JSON), v2.2/apply/payment
// (form), v1/cancel (form), v2.2/list/history (JSON), and the buyer's page
// at GET /payments/{reserveId}. Calls to script with Next: "reserve",
// "apply", "cancel", "history", "page".
//
// Like Naver, it carries a state-changing call out once per
// X-NaverPay-Idempotency-Key and answers a repeated key with the first
// answer; the key is required on reserve, apply and cancel.
type Naver struct {
	*server
	payments  map[string]*Payment // by reserveId
	records   map[string]*naverRecord
	byPayment map[string]string // paymentId → reserveId
	keys      map[string]keyedAnswer
}

type naverRecord struct {
	userKey, productName, returnURL string
	history                         []map[string]any
}

type keyedAnswer struct {
	call   string
	body   []byte
	answer map[string]any
}

// NewNaver starts a Naver Pay stand-in, closed when the test ends.
func NewNaver(t testing.TB) *Naver {
	if t != nil {
		t.Helper()
	}
	n := &Naver{payments: map[string]*Payment{}, records: map[string]*naverRecord{}, byPayment: map[string]string{}, keys: map[string]keyedAnswer{}}
	api := "/" + NaverPartnerID + "/naverpay/payments/"
	mux := http.NewServeMux()
	mux.HandleFunc(api+"v2/reserve", n.reserve)
	mux.HandleFunc(api+"v2.2/apply/payment", n.apply)
	mux.HandleFunc(api+"v1/cancel", n.cancel)
	mux.HandleFunc(api+"v2.2/list/history", n.history)
	mux.HandleFunc("/payments/", n.page)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.record("unknown", r)
		n.problem("%s %s: no such API", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	n.server = newServer(t, "Naver Pay", mux)
	return n
}

// Config is the adapter configuration pointing at the stand-in.
func (n *Naver) Config() payment.NaverConfig {
	return payment.NaverConfig{ClientID: NaverClientID, ClientSecret: NaverClientSecret, ChainID: NaverChainID,
		PartnerID: NaverPartnerID, BaseURL: n.URL, ApprovalBase: n.URL + "/payments/"}
}

// section is its config section, for Settings.
func (n *Naver) section() string {
	c := n.Config()
	return fmt.Sprintf("  naver:\n    client_id: %s\n    client_secret: %s\n    chain_id: %s\n    partner_id: %s\n    base_url: %s\n    approval_base: %s\n",
		c.ClientID, c.ClientSecret, c.ChainID, c.PartnerID, c.BaseURL, c.ApprovalBase)
}

// Payment returns the stand-in's record of the payment with this reserveId.
// Status is RESERVED, APPROVED (by the buyer), APPLIED, PART_CANCELLED,
// CANCELLED, or FAILED.
func (n *Naver) Payment(reserveID string) (Payment, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.payments[reserveID]
	if !ok {
		return Payment{}, false
	}
	return *p, true
}

func naverOK(body any) map[string]any {
	return map[string]any{"code": "Success", "message": "detail message", "body": body}
}

func naverFail(code, message string) map[string]any {
	return map[string]any{"code": code, "message": message}
}

// begin records and checks a Naver API request: POST, the credentials, the
// idempotency key when keyed, and a body of exactly spec's fields.
func (n *Naver) begin(call string, w http.ResponseWriter, r *http.Request, spec map[string]ftype, form, keyed bool) (Request, bool) {
	rec := n.read(call, r)
	defer func() { n.keep(rec) }()
	if r.Header.Get("X-Naver-Client-Id") != NaverClientID || r.Header.Get("X-Naver-Client-Secret") != NaverClientSecret ||
		r.Header.Get("X-NaverPay-Chain-Id") != NaverChainID {
		n.problem("%s: wrong or missing X-Naver-Client-Id / X-Naver-Client-Secret / X-NaverPay-Chain-Id", r.URL.Path)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errorCode": "024", "errorMessage": "Authentication failed"})
		return rec, false
	}
	ok := true
	if r.Method != http.MethodPost {
		n.problem("%s %s: want POST", r.Method, r.URL.Path)
		ok = false
	}
	if keyed && r.Header.Get("X-NaverPay-Idempotency-Key") == "" {
		n.problem("%s: no X-NaverPay-Idempotency-Key on a state-changing call", r.URL.Path)
		ok = false
	}
	if form {
		ok = n.checkMediaType(r, "application/x-www-form-urlencoded") && n.decodeForm(&rec, spec) && ok
	} else {
		ok = n.checkMediaType(r, "application/json") && n.decodeJSON(&rec, spec) && ok
	}
	if !ok {
		writeJSON(w, http.StatusBadRequest, naverFail("InvalidParameter", "invalid request"))
	}
	return rec, ok
}

// once carries a keyed call out with do, or returns the first answer to its
// idempotency key.
func (n *Naver) once(rec Request, do func() map[string]any) map[string]any {
	key := rec.Header.Get("X-NaverPay-Idempotency-Key")
	n.mu.Lock()
	defer n.mu.Unlock()
	if k, seen := n.keys[key]; seen {
		if k.call != rec.Call || !bytes.Equal(k.body, rec.Body) {
			n.mu.Unlock()
			n.problem("%s: idempotency key %s was used for a different request", rec.Path, key)
			n.mu.Lock()
			return naverFail("InvalidIdempotencyKey", "the idempotency key was used for a different request")
		}
		return k.answer
	}
	a := do()
	n.keys[key] = keyedAnswer{call: rec.Call, body: rec.Body, answer: a}
	return a
}

// refusedNaver answers a scripted Refuse or ServerError: true when it did.
func refusedNaver(w http.ResponseWriter, b Behaviour) bool {
	switch b.kind {
	case kRefuse:
		status := b.status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, naverFail(b.code, b.message))
		return true
	case kServerError:
		if !b.apply {
			serverError(w)
			return true
		}
	}
	return false
}

func (n *Naver) reserve(w http.ResponseWriter, r *http.Request) {
	rec, ok := n.begin("reserve", w, r, map[string]ftype{
		"modelVersion": tString, "merchantPayKey": tString, "merchantUserKey": tString, "productName": tString,
		"productCount": tInt, "totalPayAmount": tInt, "taxScopeAmount": tInt, "taxExScopeAmount": tInt, "returnUrl": tString,
	}, false, true)
	if !ok {
		return
	}
	f := rec.Fields
	if u, err := url.Parse(str(f, "returnUrl")); err != nil || !u.IsAbs() || str(f, "modelVersion") != "2" ||
		num(f, "totalPayAmount") < 1 || num(f, "productCount") < 1 ||
		num(f, "taxScopeAmount")+num(f, "taxExScopeAmount") != num(f, "totalPayAmount") {
		n.problem("reserve: bad values %v", f)
		writeJSON(w, http.StatusOK, naverFail("InvalidParameter", "invalid reserve parameters"))
		return
	}
	b := n.behaviour("reserve")
	if b.kind == kDecline || b.kind == kExpire {
		b = Refuse(http.StatusOK, "InvalidMerchant", "the reserve was declined")
	}
	if refusedNaver(w, b) {
		return
	}
	a := n.once(rec, func() map[string]any {
		id := fmt.Sprintf("NPR%016d", 4_000_000_000_000_000+int64(n.seq))
		n.seq++
		n.payments[id] = &Payment{TxID: id, OrderID: str(f, "merchantPayKey"), Status: "RESERVED", Asked: shop.Won(num(f, "totalPayAmount"))}
		n.records[id] = &naverRecord{userKey: str(f, "merchantUserKey"), productName: str(f, "productName"), returnURL: str(f, "returnUrl")}
		return naverOK(map[string]any{"reserveId": id})
	})
	n.finish(w, r, b, a)
}

// page is the buyer's approval page.
func (n *Naver) page(w http.ResponseWriter, r *http.Request) {
	n.record("page", r)
	id := strings.TrimPrefix(r.URL.Path, "/payments/")
	b := n.behaviour("page")
	n.mu.Lock()
	p, rec := n.payments[id], n.records[id]
	if p == nil || p.Status != "RESERVED" {
		n.mu.Unlock()
		http.Error(w, "this payment cannot be approved", http.StatusBadRequest)
		return
	}
	q := url.Values{}
	switch b.kind {
	case kBuyerCancel:
		p.Status = "FAILED"
		q.Set("resultCode", "Fail")
		q.Set("resultMessage", "userCancel")
	case kExpire:
		p.Status = "FAILED"
		q.Set("resultCode", "Fail")
		q.Set("resultMessage", "paymentTimeExpire")
	case kDecline:
		p.Status = "FAILED"
		q.Set("resultCode", "Fail")
		q.Set("resultMessage", "OwnerAuthFail")
	default:
		p.Status = "APPROVED"
		p.Token = fmt.Sprintf("%sNP%010d", time.Now().Format("20060102"), 1_000_000_000+n.seq*7919)
		n.seq++
		n.byPayment[p.Token] = id
		q.Set("resultCode", "Success")
		q.Set("paymentId", p.Token)
	}
	n.mu.Unlock()
	redirectTo(w, r, rec.returnURL, q)
}

// entry is a history entry (and apply's detail).
func (n *Naver) entry(p *Payment, rec *naverRecord, typ, state string, amount shop.Won) map[string]any {
	now := time.Now().Format("20060102150405")
	return map[string]any{
		"paymentId": p.Token, "payHistId": fmt.Sprintf("%s%04d", p.Token, len(rec.history)+1),
		"merchantId": NaverPartnerID, "merchantName": "rabbitpay stand-in shop",
		"merchantPayKey": p.OrderID, "merchantUserKey": rec.userKey,
		"admissionTypeCode": typ, "admissionYmdt": now, "tradeConfirmYmdt": "", "admissionState": state,
		"totalPayAmount": int64(amount), "primaryPayAmount": int64(amount), "npointPayAmount": 0, "giftCardAmount": 0,
		"taxScopeAmount": int64(amount), "taxExScopeAmount": 0, "environmentDepositAmount": 0,
		"primaryPayMeans": "CARD", "productName": rec.productName,
	}
}

func (n *Naver) apply(w http.ResponseWriter, r *http.Request) {
	rec, ok := n.begin("apply", w, r, map[string]ftype{"paymentId": tString}, true, true)
	if !ok {
		return
	}
	b := n.behaviour("apply")
	if refusedNaver(w, b) {
		return
	}
	a := n.once(rec, func() map[string]any {
		id, found := n.byPayment[str(rec.Fields, "paymentId")]
		if !found {
			return naverFail("InvalidPaymentId", "no such paymentId")
		}
		p, pr := n.payments[id], n.records[id]
		switch {
		case p.Status != "APPROVED":
			return naverFail("AlreadyComplete", "the payment was already processed ("+p.Status+")")
		case b.kind == kDecline:
			p.Status = "FAILED"
			pr.history = append(pr.history, n.entry(p, pr, "01", "FAIL", p.Asked))
			return naverFail("Fail", "the card company declined the payment")
		case b.kind == kExpire:
			p.Status = "FAILED"
			pr.history = append(pr.history, n.entry(p, pr, "01", "FAIL", p.Asked))
			return naverFail("TimeExpired", "the approval time limit has passed")
		}
		p.Status, p.Charged = "APPLIED", p.Asked
		if b.kind == kCharge {
			p.Charged = b.amount
		}
		e := n.entry(p, pr, "01", "SUCCESS", p.Charged)
		pr.history = append(pr.history, e)
		return naverOK(map[string]any{"paymentId": p.Token, "detail": e})
	})
	n.finish(w, r, b, a)
}

func (n *Naver) cancel(w http.ResponseWriter, r *http.Request) {
	rec, ok := n.begin("cancel", w, r, map[string]ftype{
		"paymentId": tString, "cancelAmount": tInt, "cancelReason": tString, "cancelRequester": tInt,
		"taxScopeAmount": tInt, "taxExScopeAmount": tInt,
	}, true, true)
	if !ok {
		return
	}
	f := rec.Fields
	if str(f, "cancelRequester") != "2" || num(f, "taxScopeAmount")+num(f, "taxExScopeAmount") != num(f, "cancelAmount") {
		n.problem("cancel: cancelRequester %q (want 2), tax amounts %v", str(f, "cancelRequester"), f)
		writeJSON(w, http.StatusOK, naverFail("InvalidParameter", "invalid cancel parameters"))
		return
	}
	b := n.behaviour("cancel")
	if b.kind == kDecline || b.kind == kExpire {
		b = Refuse(http.StatusOK, "CancelFail", "the cancel was declined")
	}
	if refusedNaver(w, b) {
		return
	}
	amount := shop.Won(num(f, "cancelAmount"))
	a := n.once(rec, func() map[string]any {
		id, found := n.byPayment[str(f, "paymentId")]
		if !found {
			return naverFail("NotExistPayment", "no such payment")
		}
		p, pr := n.payments[id], n.records[id]
		if p.Status != "APPLIED" && p.Status != "PART_CANCELLED" {
			return naverFail("CancelFail", "the payment cannot be cancelled ("+p.Status+")")
		}
		if amount < 1 || amount > p.Charged-p.Refunded {
			return naverFail("InvalidCancelAmount", fmt.Sprintf("the cancel amount %d is more than the %d left", amount, p.Charged-p.Refunded))
		}
		p.Refunded += amount
		typ := "04"
		p.Status = "PART_CANCELLED"
		if p.Refunded == p.Charged {
			typ, p.Status = "03", "CANCELLED"
		}
		pr.history = append(pr.history, n.entry(p, pr, typ, "SUCCESS", amount))
		rest := int64(p.Charged - p.Refunded)
		return naverOK(map[string]any{
			"paymentId": p.Token, "payHistId": fmt.Sprintf("%s%04d", p.Token, len(pr.history)),
			"primaryPayMeans": "CARD", "primaryPayCancelAmount": int64(amount), "primaryPayRestAmount": rest,
			"npointCancelAmount": 0, "npointRestAmount": 0, "giftCardCancelAmount": 0, "giftCardRestAmount": 0,
			"cancelYmdt": time.Now().Format("20060102150405"), "totalRestAmount": rest,
			"taxScopeAmount": int64(amount), "taxExScopeAmount": 0,
		})
	})
	if b.kind == kNotComplete && a["code"] == "Success" {
		// Carried out, but not confirmed yet: Naver answers CancelNotComplete
		// ("cancel is being processed"), and its history shows the cancel.
		a = naverFail("CancelNotComplete", "cancel is being processed")
	}
	n.finish(w, r, b, a)
}

func (n *Naver) history(w http.ResponseWriter, r *http.Request) {
	rec, ok := n.begin("history", w, r, map[string]ftype{
		"paymentId": tString, "approvalType": tString, "pageNumber": tInt, "rowsPerPage": tInt,
	}, false, false)
	if !ok {
		return
	}
	b := n.behaviour("history")
	if refusedNaver(w, b) {
		return
	}
	n.mu.Lock()
	list := []map[string]any{}
	if id, found := n.byPayment[str(rec.Fields, "paymentId")]; found {
		list = append(list, n.records[id].history...)
	}
	n.mu.Unlock()
	n.finish(w, r, b, naverOK(map[string]any{
		"responseCount": len(list), "totalCount": len(list), "totalPageCount": 1, "currentPageNumber": 1, "list": list,
	}))
}
