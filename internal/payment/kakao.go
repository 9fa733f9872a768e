package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Kakao Pay's API server, and its test merchant's cid (payment.kakao.cid
// until the shop has its own).
const (
	KakaoBaseURL = "https://open-api.kakaopay.com"
	KakaoTestCID = "TC0ONETIME"
	kakaoSection = "kakao"
)

var kakaoProvider = Provider{Method: shop.Kakao, Name: kakaoName, Section: kakaoSection,
	Settings:    func() Settings { return &KakaoConfig{CID: KakaoTestCID, BaseURL: KakaoBaseURL} },
	SandboxTxID: func() string { return "T" + randomHex(10)[:19] }, // tid: "T" + 19 characters
	// The pg_token Kakao appends to approval_url: letters and digits, 20 in
	// Kakao's examples (developers.kakaopay.com, single payment, "approve");
	// the length is not documented, so 10 to 64 pass.
	Token:      regexp.MustCompile(`^[A-Za-z0-9]{10,64}$`),
	TokenShape: "a pg_token is letters and digits only (20 of them), or paste the whole URL the buyer landed on",
}

// KakaoConfig configures the Kakao Pay adapter (payment.kakao.*).
type KakaoConfig struct {
	SecretKey string `mapstructure:"secret_key"` // sent as "Authorization: SECRET_KEY <key>"; never printed
	CID       string `mapstructure:"cid"`        // the merchant's cid (KakaoTestCID for Kakao's test merchant)
	BaseURL   string `mapstructure:"base_url"`   // KakaoBaseURL when empty
}

// Missing names the settings live payments need that are not set.
func (c KakaoConfig) Missing() []string {
	return unset("secret_key", c.SecretKey, "cid", c.CID, "base_url", c.BaseURL)
}

// Check refuses a base URL that is not an http(s) URL.
func (c KakaoConfig) Check() error { return checkURLs(kakaoSection, "base_url", c.BaseURL) }

// Live returns the Kakao Pay adapter.
func (c KakaoConfig) Live(client *http.Client) Gateway { return NewKakao(c, client) }

// String shows the configuration without its secret.
func (c KakaoConfig) String() string {
	return fmt.Sprintf("Kakao Pay (cid %s, base URL %s, secret key %s)", c.CID, c.BaseURL, mask(c.SecretKey))
}

// GoString keeps %#v from printing the secret.
func (c KakaoConfig) GoString() string { return "payment.KakaoConfig{" + c.String() + "}" }

// NewKakao returns the Kakao Pay online single-payment adapter. The client's
// Timeout bounds every HTTP call (payment.http_timeout).
func NewKakao(cfg KakaoConfig, client *http.Client) Gateway {
	if cfg.BaseURL == "" {
		cfg.BaseURL = KakaoBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if client == nil {
		client = http.DefaultClient
	}
	return &kakao{cfg: cfg, client: client}
}

type kakao struct {
	cfg    KakaoConfig
	client *http.Client
}

func (k *kakao) String() string   { return k.cfg.String() }
func (k *kakao) GoString() string { return k.cfg.GoString() }

const kakaoName = "Kakao Pay"

// Kakao's request bodies (https://developers.kakaopay.com, online single payment).
type kakaoReadyRequest struct {
	CID            string `json:"cid"`
	PartnerOrderID string `json:"partner_order_id"`
	PartnerUserID  string `json:"partner_user_id"`
	ItemName       string `json:"item_name"`
	Quantity       int64  `json:"quantity"`
	TotalAmount    int64  `json:"total_amount"`
	TaxFreeAmount  int64  `json:"tax_free_amount"`
	ApprovalURL    string `json:"approval_url"`
	CancelURL      string `json:"cancel_url"`
	FailURL        string `json:"fail_url"`
}

type kakaoApproveRequest struct {
	CID            string `json:"cid"`
	TID            string `json:"tid"`
	PartnerOrderID string `json:"partner_order_id"`
	PartnerUserID  string `json:"partner_user_id"`
	PgToken        string `json:"pg_token"`
}

type kakaoOrderRequest struct {
	CID string `json:"cid"`
	TID string `json:"tid"`
}

type kakaoCancelRequest struct {
	CID                 string `json:"cid"`
	TID                 string `json:"tid"`
	CancelAmount        int64  `json:"cancel_amount"`
	CancelTaxFreeAmount int64  `json:"cancel_tax_free_amount"`
}

// Kakao's answers: only the fields the adapter reads.
type kakaoReadyAnswer struct {
	TID               string `json:"tid"`
	NextRedirectPCURL string `json:"next_redirect_pc_url"`
}

type kakaoAmount struct {
	Total int64 `json:"total"`
}

// kakaoPayment is the approve, order and cancel answers' common part.
type kakaoPayment struct {
	TID            string       `json:"tid"`
	Status         string       `json:"status"` // order and cancel only
	Amount         *kakaoAmount `json:"amount"`
	CanceledAmount *kakaoAmount `json:"canceled_amount"`
}

type kakaoError struct {
	ErrorCode    *int64 `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	Extras       struct {
		MethodResultCode    string `json:"method_result_code"`
		MethodResultMessage string `json:"method_result_message"`
	} `json:"extras"`
}

// post makes one Kakao call. out receives a 2xx answer, which ok must accept;
// a 4xx answer with Kakao's error body is a *ProviderError. Look-ups are
// retried; ready, approve and cancel are not (Kakao has no idempotency key:
// a repeated ready makes a second tid, a repeated cancel refunds twice).
func (k *kakao) post(ctx context.Context, call, path string, body, out any, ok func() bool, lookup bool) error {
	x := exchange{
		provider:   kakaoName,
		call:       call,
		url:        k.cfg.BaseURL + path,
		header:     http.Header{"Authorization": {"SECRET_KEY " + k.cfg.SecretKey}, "Content-Type": {"application/json"}},
		body:       jsonBody(body),
		idempotent: lookup,
		changes:    !lookup,
		secrets:    []string{k.cfg.SecretKey},
	}
	var perr kakaoError
	a, err := x.do(ctx, k.client, func(a answer) bool {
		if a.status >= 200 && a.status < 300 {
			return validJSON(a.body, out) && ok()
		}
		perr = kakaoError{}
		return a.status >= 400 && validJSON(a.body, &perr) && perr.ErrorCode != nil
	})
	if err != nil {
		return err
	}
	if a.status >= 400 {
		msg := perr.ErrorMessage
		if m := perr.Extras.MethodResultMessage; m != "" {
			msg += " (" + m + ")"
		}
		return &ProviderError{Provider: kakaoName, Call: call, HTTP: a.status,
			Code: strconv.FormatInt(*perr.ErrorCode, 10), Message: redact(msg, x.secrets)}
	}
	if a.status >= 300 {
		return x.fail(fmt.Errorf("answered HTTP %d", a.status))
	}
	return nil
}

// Ready asks Kakao for a payment: its tid and the page where the buyer
// approves (next_redirect_pc_url, which also shows a QR code for a phone).
func (k *kakao) Ready(ctx context.Context, r Request) (Pending, error) {
	qty := r.Quantity
	if qty < 1 {
		qty = 1
	}
	base := strings.TrimRight(r.ReturnURL, "/")
	var out kakaoReadyAnswer
	err := k.post(ctx, "payment request", "/online/v1/payment/ready", kakaoReadyRequest{
		CID:            k.cfg.CID,
		PartnerOrderID: r.OrderUUID,
		PartnerUserID:  strconv.FormatInt(r.CustomerID, 10),
		ItemName:       r.ItemName,
		Quantity:       qty,
		TotalAmount:    int64(r.Amount),
		TaxFreeAmount:  0,
		ApprovalURL:    base + "/approve",
		CancelURL:      base + "/cancel",
		FailURL:        base + "/fail",
	}, &out, func() bool { return out.TID != "" && out.NextRedirectPCURL != "" }, false)
	if err != nil {
		return Pending{}, err
	}
	return Pending{TxID: out.TID, ApprovalURL: out.NextRedirectPCURL}, nil
}

// Approve charges the payment the buyer approved with ref.Token (the
// pg_token). When Kakao refuses the approve, the adapter does not read
// Kakao's error code (a wrong pg_token has been answered -2, -701 and -780
// alike): it asks Kakao where the payment stands (/order) and decides from
// that. A payment still on its way to our approve (kakaoNotCharged: READY
// before the buyer authenticated, AUTH_PASSWORD after) was charged nothing
// and still takes the right pg_token: the token was refused, an
// *ApprovalTokenError, and the caller may ask again. Approving twice (Kakao:
// already approved) returns the charge. Only a payment Kakao ended without a
// charge (kakaoFailed: FAIL_PAYMENT, QUIT_PAYMENT, FAIL_AUTH_PASSWORD) is a
// decline, a FAILED Result carrying Kakao's refusal. When the look-up fails
// too, the refusal is returned: the outcome is unknown.
//
// Kakao's statuses: developers.kakaopay.com, online payment, single
// payment, "order" (payment status codes).
func (k *kakao) Approve(ctx context.Context, ref Ref) (Result, error) {
	if ref.TxID == "" {
		return Result{}, errors.New("a Kakao Pay payment cannot be approved without the tid from its payment request")
	}
	var out kakaoPayment
	err := k.post(ctx, "payment", "/online/v1/payment/approve", kakaoApproveRequest{
		CID:            k.cfg.CID,
		TID:            ref.TxID,
		PartnerOrderID: ref.OrderUUID,
		PartnerUserID:  strconv.FormatInt(ref.CustomerID, 10),
		PgToken:        ref.Token,
	}, &out, func() bool { return out.Amount != nil }, false)
	var refused *ProviderError
	if errors.As(err, &refused) {
		p, lerr := k.order(ctx, ref)
		if lerr != nil {
			return Result{}, err
		}
		if kakaoNotCharged[p.Status] {
			return Result{}, &ApprovalTokenError{Provider: kakaoName, Code: refused.Code, Message: refused.Message}
		}
		res, lerr := k.result(ref, p)
		if lerr != nil {
			return Result{}, err
		}
		if res.Status == shop.PaymentSuccess || res.Status == shop.PaymentCancelled {
			return res, nil
		}
		return Result{Status: shop.PaymentFailed, TxID: ref.TxID, Reason: "Kakao Pay declined the payment: " + refused.Message + " (code " + refused.Code + ")"}, nil
	}
	if err != nil {
		return Result{}, err
	}
	tid := out.TID
	if tid == "" {
		tid = ref.TxID
	}
	// The amount is what Kakao says it charged, even if it is not ref.Amount.
	return Result{Status: shop.PaymentSuccess, TxID: tid, Amount: shop.Won(out.Amount.Total)}, nil
}

// Cancel refunds r.Amount of the charge. Kakao takes no refund key, so a
// cancel is never repeated by the adapter: after an unknown outcome, look the
// payment up (its Refunded) before cancelling again.
func (k *kakao) Cancel(ctx context.Context, ref Ref, r Refund) (Result, error) {
	if ref.TxID == "" {
		return Result{}, errors.New("a Kakao Pay payment cannot be refunded without its tid")
	}
	var out kakaoPayment
	err := k.post(ctx, "refund", "/online/v1/payment/cancel", kakaoCancelRequest{
		CID:                 k.cfg.CID,
		TID:                 ref.TxID,
		CancelAmount:        int64(r.Amount),
		CancelTaxFreeAmount: 0,
	}, &out, func() bool { return out.Status != "" && out.Amount != nil }, false)
	if err != nil {
		return Result{}, err
	}
	return k.result(ref, out)
}

// Lookup asks Kakao for the payment by its tid (/order). Without a tid
// nothing was readied, so Kakao has no record of it.
func (k *kakao) Lookup(ctx context.Context, ref Ref) (Result, error) {
	if ref.TxID == "" {
		return Result{}, nil
	}
	p, err := k.order(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	return k.result(ref, p)
}

// order is Kakao's answer about the payment with ref's tid.
func (k *kakao) order(ctx context.Context, ref Ref) (kakaoPayment, error) {
	var out kakaoPayment
	err := k.post(ctx, "look-up", "/online/v1/payment/order", kakaoOrderRequest{CID: k.cfg.CID, TID: ref.TxID},
		&out, func() bool { return out.Status != "" }, true)
	return out, err
}

// Void is a look-up: Kakao charges nothing without our approve, so once we
// stop approving (the caller does not call Approve after Void) no charge can
// land, and there is no call to make at Kakao. A tid the buyer never
// approved is FAILED; a charge that landed first is returned as it stands.
func (k *kakao) Void(ctx context.Context, ref Ref) (Result, error) {
	return k.Lookup(ctx, ref)
}

// kakaoNotCharged are Kakao's statuses of a payment on its way to the buyer's
// approval: nothing is charged, and nothing will be without our approve.
var kakaoNotCharged = map[string]bool{
	"READY": true, "SEND_TMS": true, "OPEN_PAYMENT": true, "SELECT_METHOD": true,
	"ARS_WAITING": true, "AUTH_PASSWORD": true, "ISSUED_SID": true,
}

// kakaoFailed are Kakao's final statuses of a payment that charged nothing.
var kakaoFailed = map[string]string{
	"QUIT_PAYMENT":       "the buyer cancelled the payment on Kakao Pay's page",
	"FAIL_AUTH_PASSWORD": "the buyer failed Kakao Pay's password check",
	"FAIL_PAYMENT":       "Kakao Pay failed the payment",
}

// result reads Kakao's status and amounts into a Result.
func (k *kakao) result(ref Ref, p kakaoPayment) (Result, error) {
	tid := p.TID
	if tid == "" {
		tid = ref.TxID
	}
	res := Result{TxID: tid}
	switch {
	case p.Status == "SUCCESS_PAYMENT" || p.Status == "PART_CANCEL_PAYMENT" || p.Status == "CANCEL_PAYMENT":
		if p.Amount == nil {
			return Result{}, &UnknownError{Provider: kakaoName, Call: "look-up", Detail: "the answer had no amount for a " + p.Status + " payment"}
		}
		res.Status = shop.PaymentSuccess
		res.Amount = shop.Won(p.Amount.Total)
		if p.CanceledAmount != nil {
			res.Refunded = shop.Won(p.CanceledAmount.Total)
		}
		if p.Status == "CANCEL_PAYMENT" {
			res.Status = shop.PaymentCancelled
		}
	case kakaoNotCharged[p.Status]:
		res.Status = shop.PaymentFailed
		if ref.Token == "" {
			res.Reason = "the buyer did not approve the payment on Kakao Pay's page (Kakao status " + p.Status + ")"
		} else {
			res.Reason = "Kakao Pay has not charged the payment: it was never approved (Kakao status " + p.Status + ")"
		}
	case kakaoFailed[p.Status] != "":
		res.Status = shop.PaymentFailed
		res.Reason = kakaoFailed[p.Status] + " (Kakao status " + p.Status + ")"
	default:
		return Result{}, &UnknownError{Provider: kakaoName, Call: "look-up", Detail: fmt.Sprintf("unknown payment status %q", p.Status)}
	}
	return res, nil
}

// Callback reads the redirect Kakao sends the buyer to: approval_url with
// pg_token, cancel_url or fail_url (Request.ReturnURL + /approve, /cancel,
// /fail). A URL that is none of them answers ("", ""): not Kakao's redirect.
func (k *kakao) Callback(u *url.URL) (string, string) {
	if u == nil {
		return "", ""
	}
	switch path.Base(u.Path) {
	case "approve":
		if t := u.Query().Get("pg_token"); t != "" {
			return t, ""
		}
		return "", "Kakao Pay sent the buyer back without an approval (no pg_token)"
	case "cancel":
		return "", "the buyer cancelled the payment on Kakao Pay's page"
	case "fail":
		return "", "the payment failed on Kakao Pay's page (it expired or the buyer could not pay)"
	}
	return "", ""
}
