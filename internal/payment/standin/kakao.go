package standin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Kakao stand-in credentials.
const (
	KakaoSecretKey = "DEVKAKAOSTANDINSECRET0123456789"
	KakaoCID       = "TC0ONETIME"
)

// Kakao is a stand-in for Kakao Pay's online single-payment API: POST
// /online/v1/payment/{ready,approve,order,cancel}, and the buyer's page at
// GET /online-pay/{tid}. Calls to script with Next: "ready", "approve",
// "order", "cancel", "page".
type Kakao struct {
	*server
	payments map[string]*Payment // by tid
	kp       map[string]*kakaoRecord
}

type kakaoRecord struct {
	userID, itemName                 string
	quantity                         int64
	approvalURL, cancelURL, failURL  string
	createdAt, approvedAt, cancelled time.Time
}

// NewKakao starts a Kakao Pay stand-in, closed when the test ends.
func NewKakao(t testing.TB) *Kakao {
	if t != nil {
		t.Helper()
	}
	k := &Kakao{payments: map[string]*Payment{}, kp: map[string]*kakaoRecord{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/online/v1/payment/ready", k.ready)
	mux.HandleFunc("/online/v1/payment/approve", k.approve)
	mux.HandleFunc("/online/v1/payment/order", k.order)
	mux.HandleFunc("/online/v1/payment/cancel", k.cancel)
	mux.HandleFunc("/online-pay/", k.page)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		k.record("unknown", r)
		k.problem("%s %s: no such API", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	k.server = newServer(t, "Kakao Pay", mux)
	return k
}

// Config is the adapter configuration pointing at the stand-in.
func (k *Kakao) Config() payment.KakaoConfig {
	return payment.KakaoConfig{SecretKey: KakaoSecretKey, CID: KakaoCID, BaseURL: k.URL}
}

// section is its config section, for Settings.
func (k *Kakao) section() string {
	c := k.Config()
	return fmt.Sprintf("  kakao:\n    secret_key: %s\n    cid: %s\n    base_url: %s\n", c.SecretKey, c.CID, c.BaseURL)
}

// Payment returns the stand-in's record of the payment with this tid.
func (k *Kakao) Payment(tid string) (Payment, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, ok := k.payments[tid]
	if !ok {
		return Payment{}, false
	}
	return *p, true
}

// kakaoErr answers Kakao's error body.
func kakaoErr(w http.ResponseWriter, status int, code, message string) {
	n, err := strconv.Atoi(code)
	if err != nil {
		n = -780
	}
	writeJSON(w, status, map[string]any{"error_code": n, "error_message": message, "extras": map[string]any{}})
}

// begin records and checks a Kakao API request: POST, the secret key, a JSON
// body with exactly spec's fields and the stand-in's cid.
func (k *Kakao) begin(call string, w http.ResponseWriter, r *http.Request, spec map[string]ftype) (Request, bool) {
	rec := k.read(call, r)
	defer func() { k.keep(rec) }()
	ok := true
	if r.Method != http.MethodPost {
		k.problem("%s %s: want POST", r.Method, r.URL.Path)
		ok = false
	}
	if got := r.Header.Get("Authorization"); got != "SECRET_KEY "+KakaoSecretKey {
		k.problem("%s: Authorization header is not \"SECRET_KEY <the secret key>\"", r.URL.Path)
		kakaoErr(w, http.StatusUnauthorized, "-401", "invalid secret key")
		return rec, false
	}
	ok = k.checkMediaType(r, "application/json") && ok
	ok = k.decodeJSON(&rec, spec) && ok
	if ok && str(rec.Fields, "cid") != KakaoCID {
		k.problem("%s: cid is %q, want %q", r.URL.Path, str(rec.Fields, "cid"), KakaoCID)
		ok = false
	}
	if !ok {
		kakaoErr(w, http.StatusBadRequest, "-2", "invalid request parameters")
	}
	return rec, ok
}

// refused answers a scripted Refuse (and Decline/Expire where they mean a
// refusal): true when it answered.
func refused(w http.ResponseWriter, b Behaviour) bool {
	switch b.kind {
	case kRefuse:
		status := b.status
		if status == 0 {
			status = http.StatusBadRequest
		}
		kakaoErr(w, status, b.code, b.message)
		return true
	case kServerError:
		if !b.apply {
			serverError(w)
			return true
		}
	}
	return false
}

func (k *Kakao) ready(w http.ResponseWriter, r *http.Request) {
	rec, ok := k.begin("ready", w, r, map[string]ftype{
		"cid": tString, "partner_order_id": tString, "partner_user_id": tString, "item_name": tString,
		"quantity": tInt, "total_amount": tInt, "tax_free_amount": tInt,
		"approval_url": tString, "cancel_url": tString, "fail_url": tString,
	})
	if !ok {
		return
	}
	f := rec.Fields
	for _, name := range []string{"approval_url", "cancel_url", "fail_url"} {
		if u, err := url.Parse(str(f, name)); err != nil || !u.IsAbs() {
			k.problem("ready: %s %q is not an absolute URL", name, str(f, name))
			kakaoErr(w, http.StatusBadRequest, "-2", "invalid "+name)
			return
		}
	}
	if num(f, "quantity") < 1 || num(f, "total_amount") < 1 || num(f, "tax_free_amount") != 0 {
		k.problem("ready: quantity %d, total_amount %d, tax_free_amount %d", num(f, "quantity"), num(f, "total_amount"), num(f, "tax_free_amount"))
		kakaoErr(w, http.StatusBadRequest, "-2", "invalid amounts")
		return
	}
	b := k.behaviour("ready")
	if b.kind == kDecline || b.kind == kExpire {
		b = Refuse(http.StatusBadRequest, "-780", "the payment request was declined")
	}
	if refused(w, b) {
		return
	}
	tid := fmt.Sprintf("T%019d", 7_000_000_000_000_000_000+int64(k.nextSeq()))
	now := time.Now()
	k.mu.Lock()
	k.payments[tid] = &Payment{TxID: tid, OrderID: str(f, "partner_order_id"), Status: "READY", Asked: shop.Won(num(f, "total_amount"))}
	k.kp[tid] = &kakaoRecord{userID: str(f, "partner_user_id"), itemName: str(f, "item_name"), quantity: num(f, "quantity"),
		approvalURL: str(f, "approval_url"), cancelURL: str(f, "cancel_url"), failURL: str(f, "fail_url"), createdAt: now}
	k.mu.Unlock()
	page := k.URL + "/online-pay/" + tid
	k.finish(w, r, b, map[string]any{
		"tid":                      tid,
		"tms_result":               false,
		"next_redirect_app_url":    page + "?type=app",
		"next_redirect_mobile_url": page + "?type=mobile",
		"next_redirect_pc_url":     page,
		"android_app_scheme":       "kakaotalk://kakaopay/pg?url=" + url.QueryEscape(page),
		"ios_app_scheme":           "kakaotalk://kakaopay/pg?url=" + url.QueryEscape(page),
		"created_at":               now.Format("2006-01-02T15:04:05"),
	})
}

// page is the buyer's approval page: it redirects the buyer back to the
// merchant as scripted.
func (k *Kakao) page(w http.ResponseWriter, r *http.Request) {
	k.record("page", r)
	tid := strings.TrimPrefix(r.URL.Path, "/online-pay/")
	b := k.behaviour("page")
	k.mu.Lock()
	p, kr := k.payments[tid], k.kp[tid]
	if p == nil || p.Status != "READY" {
		k.mu.Unlock()
		http.Error(w, "this payment cannot be approved", http.StatusBadRequest)
		return
	}
	var dst string
	q := url.Values{}
	switch b.kind {
	case kBuyerCancel:
		p.Status, dst = "QUIT_PAYMENT", kr.cancelURL
	case kDecline:
		p.Status, dst = "FAIL_AUTH_PASSWORD", kr.failURL
	case kExpire:
		p.Status, dst = "FAIL_PAYMENT", kr.failURL
	default:
		p.Token = fmt.Sprintf("pg%018d", k.seq*7919+1)
		k.seq++
		p.Status, dst = "AUTH_PASSWORD", kr.approvalURL
		q.Set("pg_token", p.Token)
	}
	k.mu.Unlock()
	redirectTo(w, r, dst, q)
}

func amounts(total int64) map[string]any {
	return map[string]any{"total": total, "tax_free": 0, "vat": total / 11, "point": 0, "discount": 0, "green_deposit": 0}
}

// view is Kakao's payment answer for p.
func (k *Kakao) view(p *Payment, kr *kakaoRecord) map[string]any {
	amount := int64(p.Asked)
	if p.Charged > 0 {
		amount = int64(p.Charged)
	}
	v := map[string]any{
		"tid": p.TxID, "cid": KakaoCID, "status": p.Status,
		"partner_order_id": p.OrderID, "partner_user_id": kr.userID, "payment_method_type": "MONEY",
		"amount":                  amounts(amount),
		"canceled_amount":         amounts(int64(p.Refunded)),
		"cancel_available_amount": amounts(int64(p.Charged - p.Refunded)),
		"item_name":               kr.itemName, "quantity": kr.quantity,
		"created_at": kr.createdAt.Format("2006-01-02T15:04:05"),
	}
	if !kr.approvedAt.IsZero() {
		v["approved_at"] = kr.approvedAt.Format("2006-01-02T15:04:05")
	}
	if !kr.cancelled.IsZero() {
		v["canceled_at"] = kr.cancelled.Format("2006-01-02T15:04:05")
	}
	return v
}

func (k *Kakao) approve(w http.ResponseWriter, r *http.Request) {
	rec, ok := k.begin("approve", w, r, map[string]ftype{
		"cid": tString, "tid": tString, "partner_order_id": tString, "partner_user_id": tString, "pg_token": tString,
	})
	if !ok {
		return
	}
	f := rec.Fields
	b := k.behaviour("approve")
	if refused(w, b) {
		return
	}
	k.mu.Lock()
	p, kr := k.payments[str(f, "tid")], k.kp[str(f, "tid")]
	if p == nil {
		k.mu.Unlock()
		kakaoErr(w, http.StatusBadRequest, "-721", "the tid does not exist")
		return
	}
	if p.OrderID != str(f, "partner_order_id") || kr.userID != str(f, "partner_user_id") {
		k.mu.Unlock()
		k.problem("approve: partner_order_id/partner_user_id %q/%q differ from the ready's %q/%q",
			str(f, "partner_order_id"), str(f, "partner_user_id"), p.OrderID, kr.userID)
		kakaoErr(w, http.StatusBadRequest, "-2", "partner_order_id or partner_user_id does not match")
		return
	}
	var status int
	var code, msg string
	switch {
	case p.Status == "SUCCESS_PAYMENT" || p.Status == "PART_CANCEL_PAYMENT" || p.Status == "CANCEL_PAYMENT":
		status, code, msg = http.StatusBadRequest, "-702", "the payment is already done"
	case p.Status != "AUTH_PASSWORD":
		status, code, msg = http.StatusBadRequest, "-701", "the payment is not authenticated by the buyer ("+p.Status+")"
	case p.Token != str(f, "pg_token"):
		// -2, an invalid parameter (developers.kakaopay.com, online payment,
		// common error codes); the payment is left as it was, waiting for
		// the approve with the right pg_token.
		status, code, msg = http.StatusBadRequest, "-2", "invalid pg_token"
	case b.kind == kDecline:
		p.Status = "FAIL_PAYMENT"
		status, code, msg = http.StatusBadRequest, "-780", "approval failure (the card was declined)"
	case b.kind == kExpire:
		p.Status = "FAIL_PAYMENT"
		status, code, msg = http.StatusBadRequest, "-780", "approval failure (the approval time limit has passed)"
	default:
		p.Status = "SUCCESS_PAYMENT"
		p.Charged = p.Asked
		if b.kind == kCharge {
			p.Charged = b.amount
		}
		kr.approvedAt = time.Now()
	}
	var v map[string]any
	if status == 0 {
		v = k.view(p, kr)
		delete(v, "status")
		delete(v, "canceled_amount")
		delete(v, "cancel_available_amount")
		v["aid"] = "A" + p.TxID[1:]
	}
	k.mu.Unlock()
	if status != 0 {
		kakaoErr(w, status, code, msg)
		return
	}
	k.finish(w, r, b, v)
}

func (k *Kakao) order(w http.ResponseWriter, r *http.Request) {
	rec, ok := k.begin("order", w, r, map[string]ftype{"cid": tString, "tid": tString})
	if !ok {
		return
	}
	b := k.behaviour("order")
	if refused(w, b) {
		return
	}
	k.mu.Lock()
	p, kr := k.payments[str(rec.Fields, "tid")], k.kp[str(rec.Fields, "tid")]
	var v map[string]any
	if p != nil {
		v = k.view(p, kr)
	}
	k.mu.Unlock()
	if v == nil {
		kakaoErr(w, http.StatusBadRequest, "-721", "the tid does not exist")
		return
	}
	k.finish(w, r, b, v)
}

func (k *Kakao) cancel(w http.ResponseWriter, r *http.Request) {
	rec, ok := k.begin("cancel", w, r, map[string]ftype{
		"cid": tString, "tid": tString, "cancel_amount": tInt, "cancel_tax_free_amount": tInt,
	})
	if !ok {
		return
	}
	f := rec.Fields
	b := k.behaviour("cancel")
	if b.kind == kDecline || b.kind == kExpire {
		b = Refuse(http.StatusBadRequest, "-780", "the cancel was declined")
	}
	if refused(w, b) {
		return
	}
	amount := num(f, "cancel_amount")
	k.mu.Lock()
	p, kr := k.payments[str(f, "tid")], k.kp[str(f, "tid")]
	var code, msg string
	switch {
	case p == nil:
		code, msg = "-721", "the tid does not exist"
	case p.Status != "SUCCESS_PAYMENT" && p.Status != "PART_CANCEL_PAYMENT":
		code, msg = "-703", "the payment cannot be cancelled ("+p.Status+")"
	case amount < 1 || amount > int64(p.Charged-p.Refunded) || num(f, "cancel_tax_free_amount") != 0:
		code, msg = "-710", fmt.Sprintf("the cancel amount %d is more than the %d left to cancel", amount, p.Charged-p.Refunded)
	}
	var v map[string]any
	if code == "" {
		p.Refunded += shop.Won(amount)
		p.Status = "PART_CANCEL_PAYMENT"
		if p.Refunded == p.Charged {
			p.Status = "CANCEL_PAYMENT"
		}
		kr.cancelled = time.Now()
		v = k.view(p, kr)
		v["aid"] = fmt.Sprintf("A%019d", k.seq)
		v["approved_cancel_amount"] = amounts(amount)
	}
	k.mu.Unlock()
	if code != "" {
		kakaoErr(w, http.StatusBadRequest, code, msg)
		return
	}
	k.finish(w, r, b, v)
}
