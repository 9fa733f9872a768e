package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Naver Pay's servers (developers.pay.naver.com, payment-type API): the API
// at {base}/{partner ID}/naverpay/payments/{version}/{name}, and the page
// where the buyer approves at {approval base}{reserve ID}. The defaults are
// Naver's development API (named dev.apis.naver.com in older pages) and its
// test payment page; production is https://apis.naver.com and
// https://m.pay.naver.com/payments/.
const (
	NaverBaseURL      = "https://dev-pub.apis.naver.com"
	NaverApprovalBase = "https://test-m.pay.naver.com/payments/"
	naverSection      = "naver"
)

var naverProvider = Provider{Method: shop.Naver, Name: naverName, Section: naverSection,
	Settings: func() Settings { return &NaverConfig{BaseURL: NaverBaseURL, ApprovalBase: NaverApprovalBase} },
	// paymentId: the date and 12 digits
	SandboxTxID: func() string {
		return fmt.Sprintf("%s%012d", time.Now().UTC().Format("20060102"), randomUint64()%1_000_000_000_000)
	},
	// The paymentId Naver appends to returnUrl: the date, then letters and
	// digits (20170201NP1043587746 in developers.pay.naver.com's payment-type
	// API examples).
	Token:      regexp.MustCompile(`^[0-9]{8}[A-Za-z0-9]{4,40}$`),
	TokenShape: "a paymentId is a date and then letters and digits, like 20261207NP1043587746, or paste the whole URL the buyer landed on",
}

// NaverConfig configures the Naver Pay adapter (payment.naver.*).
type NaverConfig struct {
	ClientID     string `mapstructure:"client_id"`     // X-Naver-Client-Id
	ClientSecret string `mapstructure:"client_secret"` // X-Naver-Client-Secret; never printed
	ChainID      string `mapstructure:"chain_id"`      // X-NaverPay-Chain-Id
	PartnerID    string `mapstructure:"partner_id"`    // the partner ID in every API path
	BaseURL      string `mapstructure:"base_url"`      // NaverBaseURL when empty
	ApprovalBase string `mapstructure:"approval_base"` // NaverApprovalBase when empty; the reserve ID is appended
}

// Missing names the settings live payments need that are not set.
func (c NaverConfig) Missing() []string {
	return unset("client_id", c.ClientID, "client_secret", c.ClientSecret, "chain_id", c.ChainID,
		"partner_id", c.PartnerID, "base_url", c.BaseURL, "approval_base", c.ApprovalBase)
}

// Check refuses a base URL or approval page that is not an http(s) URL.
func (c NaverConfig) Check() error {
	return checkURLs(naverSection, "base_url", c.BaseURL, "approval_base", c.ApprovalBase)
}

// Live returns the Naver Pay adapter.
func (c NaverConfig) Live(client *http.Client) Gateway { return NewNaver(c, client) }

// String shows the configuration without its credentials (Naver asks that
// none of client ID, secret and chain ID be shown).
func (c NaverConfig) String() string {
	return fmt.Sprintf("Naver Pay (partner %s, base URL %s, approval page %s, client ID %s, client secret %s, chain ID %s)",
		c.PartnerID, c.BaseURL, c.ApprovalBase, mask(c.ClientID), mask(c.ClientSecret), mask(c.ChainID))
}

// GoString keeps %#v from printing the credentials.
func (c NaverConfig) GoString() string { return "payment.NaverConfig{" + c.String() + "}" }

// NewNaver returns the Naver Pay payment-type adapter. The client's Timeout
// bounds every HTTP call (payment.http_timeout).
func NewNaver(cfg NaverConfig, client *http.Client) Gateway {
	if cfg.BaseURL == "" {
		cfg.BaseURL = NaverBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.ApprovalBase == "" {
		cfg.ApprovalBase = NaverApprovalBase
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &naver{cfg: cfg, client: client}
}

type naver struct {
	cfg    NaverConfig
	client *http.Client
}

func (n *naver) String() string   { return n.cfg.String() }
func (n *naver) GoString() string { return n.cfg.GoString() }

const naverName = "Naver Pay"

// NaverIdempotencyKey is the X-NaverPay-Idempotency-Key of an order's call
// ("reserve"; "apply" with the paymentId applied; "cancel" with the refund's
// key): the same for every attempt, so that Naver carries a repeated call
// out once, and another for another paymentId (a mistyped one refused first
// must not stand for the right one). It is shaped like a UUID.
func NaverIdempotencyKey(orderUUID, call, refundKey string) string {
	h := sha256.Sum256([]byte("rabbitpay\x00" + orderUUID + "\x00" + call + "\x00" + refundKey))
	s := hex.EncodeToString(h[:16])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// Naver's request bodies. Reserve and the history look-up take JSON; apply
// and cancel take a form (application/x-www-form-urlencoded), as in Naver's
// API reference.
type naverReserveRequest struct {
	ModelVersion     string `json:"modelVersion"`
	MerchantPayKey   string `json:"merchantPayKey"`
	MerchantUserKey  string `json:"merchantUserKey"`
	ProductName      string `json:"productName"`
	ProductCount     int64  `json:"productCount"`
	TotalPayAmount   int64  `json:"totalPayAmount"`
	TaxScopeAmount   int64  `json:"taxScopeAmount"`
	TaxExScopeAmount int64  `json:"taxExScopeAmount"`
	ReturnURL        string `json:"returnUrl"`
}

type naverHistoryRequest struct {
	PaymentID    string `json:"paymentId"`
	ApprovalType string `json:"approvalType"`
	PageNumber   int64  `json:"pageNumber"`
	RowsPerPage  int64  `json:"rowsPerPage"`
}

// naverAnswer is Naver's envelope: code "Success" or an error code in a 200
// answer; errorCode/errorMessage in the API gateway's 4xx answers.
type naverAnswer struct {
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Body         json.RawMessage `json:"body"`
	ErrorCode    string          `json:"errorCode"`
	ErrorMessage string          `json:"errorMessage"`
}

type naverReserved struct {
	ReserveID string `json:"reserveId"`
}

// naverEntry is one approval or cancellation of a payment: apply's detail
// and the history's list entries.
type naverEntry struct {
	PaymentID         string `json:"paymentId"`
	MerchantPayKey    string `json:"merchantPayKey"`
	AdmissionTypeCode string `json:"admissionTypeCode"` // 01 approval, 03 full cancel, 04 partial cancel
	AdmissionState    string `json:"admissionState"`    // SUCCESS or FAIL
	TotalPayAmount    *int64 `json:"totalPayAmount"`
}

type naverApplied struct {
	PaymentID string      `json:"paymentId"`
	Detail    *naverEntry `json:"detail"`
}

type naverHistory struct {
	List []naverEntry `json:"list"`
}

// post makes one Naver call; every call is retried (state-changing ones
// carry their idempotency key, key != ""). out receives a Success answer's
// body; any other decodable answer is a *ProviderError.
func (n *naver) post(ctx context.Context, call, api string, body []byte, form bool, key string, out any, ok func() bool) error {
	h := http.Header{
		"X-Naver-Client-Id":     {n.cfg.ClientID},
		"X-Naver-Client-Secret": {n.cfg.ClientSecret},
		"X-Naverpay-Chain-Id":   {n.cfg.ChainID},
		"Content-Type":          {"application/json"},
	}
	if form {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "" {
		h.Set("X-NaverPay-Idempotency-Key", key)
	}
	x := exchange{
		provider:   naverName,
		call:       call,
		url:        n.cfg.BaseURL + "/" + url.PathEscape(n.cfg.PartnerID) + "/naverpay/payments/" + api,
		header:     h,
		body:       body,
		idempotent: true,
		changes:    key != "",
		secrets:    []string{n.cfg.ClientSecret, n.cfg.ClientID, n.cfg.ChainID},
	}
	var env naverAnswer
	a, err := x.do(ctx, n.client, func(a answer) bool {
		env = naverAnswer{}
		if !validJSON(a.body, &env) {
			return false
		}
		if a.status >= 200 && a.status < 300 && env.Code == "Success" {
			return validJSON(env.Body, out) && ok()
		}
		return (a.status >= 200 && a.status < 300 || a.status >= 400) && (env.Code != "" || env.ErrorCode != "")
	})
	if err != nil {
		return err
	}
	if a.status < 300 && env.Code == "Success" {
		return nil
	}
	code, msg, status := env.Code, env.Message, a.status
	if code == "" {
		code, msg = env.ErrorCode, env.ErrorMessage
	}
	if status < 300 {
		status = 0 // the error came in a 200 answer
	}
	return &ProviderError{Provider: naverName, Call: call, HTTP: status, Code: redact(code, x.secrets), Message: redact(msg, x.secrets)}
}

// Ready reserves the payment; the buyer approves it on Naver's page for the
// reserve ID.
func (n *naver) Ready(ctx context.Context, r Request) (Pending, error) {
	qty := r.Quantity
	if qty < 1 {
		qty = 1
	}
	var out naverReserved
	err := n.post(ctx, "payment request", "v2/reserve", jsonBody(naverReserveRequest{
		ModelVersion:     "2",
		MerchantPayKey:   r.OrderUUID,
		MerchantUserKey:  strconv.FormatInt(r.CustomerID, 10),
		ProductName:      r.ItemName,
		ProductCount:     qty,
		TotalPayAmount:   int64(r.Amount),
		TaxScopeAmount:   int64(r.Amount),
		TaxExScopeAmount: 0,
		ReturnURL:        strings.TrimRight(r.ReturnURL, "/") + "/return",
	}), false, NaverIdempotencyKey(r.OrderUUID, "reserve", ""), &out, func() bool { return out.ReserveID != "" })
	if err != nil {
		return Pending{}, err
	}
	return Pending{TxID: out.ReserveID, ApprovalURL: n.cfg.ApprovalBase + url.PathEscape(out.ReserveID)}, nil
}

// Approve applies the payment the buyer approved (ref.Token, Naver's
// paymentId). Naver carries a repeated apply (same idempotency key, made
// from the order and the paymentId) out once. When Naver refuses the apply,
// the adapter does not read Naver's code: it looks the paymentId up in the
// history and decides from that. A charge is returned as it stands; a failed
// approval (a FAIL entry: Naver ended the payment) is a decline, a FAILED
// Result with Naver's refusal as the reason; no entry at all means Naver
// charged and ended nothing under that paymentId (a mistyped or another
// order's paymentId), so the buyer's approval still waits for the right one:
// an *ApprovalTokenError. When the look-up fails too, the refusal is
// returned: the outcome is unknown.
//
// History entries and their admissionState (SUCCESS, FAIL):
// developers.pay.naver.com, payment-type API, "payment history look-up".
func (n *naver) Approve(ctx context.Context, ref Ref) (Result, error) {
	if ref.Token == "" {
		return Result{}, errors.New("a Naver Pay payment cannot be applied without the paymentId from the buyer's approval")
	}
	var out naverApplied
	err := n.post(ctx, "payment", "v2.2/apply/payment", []byte(url.Values{"paymentId": {ref.Token}}.Encode()), true,
		NaverIdempotencyKey(ref.OrderUUID, "apply", ref.Token), &out, func() bool {
			return out.Detail != nil && out.Detail.AdmissionState != "" && out.Detail.TotalPayAmount != nil
		})
	var refused *ProviderError
	if errors.As(err, &refused) {
		res, lerr := n.Lookup(ctx, ref)
		switch {
		case lerr != nil:
			return Result{}, err
		case res.Status == "":
			return Result{}, &ApprovalTokenError{Provider: naverName, Code: refused.Code, Message: refused.Message}
		case res.Status == shop.PaymentSuccess || res.Status == shop.PaymentCancelled:
			return res, nil
		}
		return Result{Status: shop.PaymentFailed, TxID: ref.Token, Reason: "Naver Pay declined the payment: " + refused.Message + " (code " + refused.Code + ")"}, nil
	}
	if err != nil {
		return Result{}, err
	}
	if out.Detail.AdmissionState != "SUCCESS" {
		return Result{Status: shop.PaymentFailed, TxID: ref.Token, Reason: "Naver Pay did not approve the payment (admission state " + out.Detail.AdmissionState + ")"}, nil
	}
	// The amount is what Naver says it charged, even if it is not ref.Amount.
	return Result{Status: shop.PaymentSuccess, TxID: ref.Token, Amount: shop.Won(*out.Detail.TotalPayAmount)}, nil
}

// Cancel refunds r.Amount; r.Key makes the refund's idempotency key, so a
// repeated cancel (a retry, or the caller's after an unknown outcome)
// refunds once. The answer is the payment as Naver's history shows it
// afterwards.
func (n *naver) Cancel(ctx context.Context, ref Ref, r Refund) (Result, error) {
	if ref.Token == "" {
		return Result{}, errors.New("a Naver Pay payment cannot be refunded without its paymentId")
	}
	if r.Key == "" {
		return Result{}, errors.New("a Naver Pay refund needs a refund key, so that it is carried out once")
	}
	reason := r.Reason
	if reason == "" {
		reason = "refund"
	}
	form := url.Values{
		"paymentId":        {ref.Token},
		"cancelAmount":     {strconv.FormatInt(int64(r.Amount), 10)},
		"cancelReason":     {reason},
		"cancelRequester":  {"2"}, // 2: the merchant's administrator
		"taxScopeAmount":   {strconv.FormatInt(int64(r.Amount), 10)},
		"taxExScopeAmount": {"0"},
	}
	var out map[string]any
	err := n.post(ctx, "refund", "v1/cancel", []byte(form.Encode()), true,
		NaverIdempotencyKey(ref.OrderUUID, "cancel", r.Key), &out, func() bool { return out != nil })
	// CancelNotComplete: Naver took the cancel but has not finished it (the
	// payments API's cancel, developer.pay.naver.com/docs/v2/api: the merchant
	// retries with the same request or checks the history): pending, not refused.
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Code == "CancelNotComplete" {
		return Result{}, &PendingError{Provider: naverName, Call: "refund", Message: pe.Message}
	}
	if err != nil {
		return Result{}, err
	}
	res, err := n.Lookup(ctx, ref)
	if err != nil {
		// The refund was made; repeating it with the same key is harmless.
		return Result{}, fmt.Errorf("the refund was made at Naver Pay, but its look-up afterwards failed: %w", err)
	}
	return res, nil
}

// Lookup reads the payment's history at Naver. Without the buyer's paymentId
// nothing could have been charged (only our apply charges), so no call is
// made: FAILED when a reserve was made, no record when not even that.
func (n *naver) Lookup(ctx context.Context, ref Ref) (Result, error) {
	if ref.Token == "" {
		if ref.TxID == "" {
			return Result{}, nil
		}
		return Result{Status: shop.PaymentFailed, Reason: "the buyer did not approve the payment on Naver Pay's page"}, nil
	}
	var out naverHistory
	err := n.post(ctx, "look-up", "v2.2/list/history", jsonBody(naverHistoryRequest{
		PaymentID: ref.Token, ApprovalType: "ALL", PageNumber: 1, RowsPerPage: 100,
	}), false, "", &out, func() bool { return out.List != nil })
	if err != nil {
		return Result{}, err
	}
	res := Result{TxID: ref.Token}
	approved, failed := false, false
	for _, e := range out.List {
		if e.MerchantPayKey != "" && e.MerchantPayKey != ref.OrderUUID {
			return Result{}, &UnknownError{Provider: naverName, Call: "look-up",
				Detail: fmt.Sprintf("payment %s belongs to order %s, not %s", ref.Token, e.MerchantPayKey, ref.OrderUUID)}
		}
		if e.TotalPayAmount == nil {
			return Result{}, &UnknownError{Provider: naverName, Call: "look-up", Detail: "a history entry has no totalPayAmount"}
		}
		amount := *e.TotalPayAmount
		if amount < 0 {
			amount = -amount
		}
		switch {
		case e.AdmissionState != "SUCCESS":
			failed = true
		case e.AdmissionTypeCode == "01":
			approved = true
			res.Amount = shop.Won(amount)
		case e.AdmissionTypeCode == "03" || e.AdmissionTypeCode == "04":
			res.Refunded += shop.Won(amount)
		default:
			return Result{}, &UnknownError{Provider: naverName, Call: "look-up", Detail: fmt.Sprintf("unknown admission type %q", e.AdmissionTypeCode)}
		}
	}
	switch {
	case approved && res.Refunded >= res.Amount:
		res.Status = shop.PaymentCancelled
	case approved:
		res.Status = shop.PaymentSuccess
	case failed:
		res.Status, res.Reason = shop.PaymentFailed, "Naver Pay failed the payment"
	default:
		return Result{}, nil // no record
	}
	return res, nil
}

// Void is a look-up: Naver charges nothing without our apply, so once we
// stop applying (the caller does not call Approve after Void) no charge can
// land, and there is nothing to call at Naver. A payment Naver has no charge
// for is FAILED; a charge that landed first is returned as it stands.
func (n *naver) Void(ctx context.Context, ref Ref) (Result, error) {
	res, err := n.Lookup(ctx, ref)
	if err == nil && res.Status == "" && (ref.TxID != "" || ref.Token != "") {
		res = Result{Status: shop.PaymentFailed, TxID: ref.Token, Reason: "Naver Pay has not charged the payment: it was never applied"}
	}
	return res, err
}

// naverResults are the buyer's reasons for not approving, by Naver's
// resultMessage (or resultCode).
var naverResults = map[string]string{
	"usercancel":        "the buyer cancelled the payment on Naver Pay's page",
	"paymenttimeexpire": "the approval expired on Naver Pay's page",
	"ownerauthfail":     "the buyer failed Naver Pay's owner authentication",
}

// Callback reads the redirect to returnUrl (Request.ReturnURL + /return):
// resultCode=Success with the paymentId, or another resultCode with a
// resultMessage (userCancel, paymentTimeExpire, OwnerAuthFail, …). A URL
// that is not the returnUrl answers ("", "").
func (n *naver) Callback(u *url.URL) (string, string) {
	if u == nil || path.Base(u.Path) != "return" {
		return "", ""
	}
	q := u.Query()
	code, msg := q.Get("resultCode"), q.Get("resultMessage")
	if code == "Success" {
		if id := q.Get("paymentId"); id != "" {
			return id, ""
		}
		return "", "Naver Pay sent the buyer back without a paymentId"
	}
	why := naverResults[strings.ToLower(msg)]
	if why == "" {
		why = naverResults[strings.ToLower(code)]
	}
	if why == "" {
		why = "Naver Pay did not approve the payment"
	}
	detail := "resultCode " + code
	if code == "" {
		detail = "no resultCode"
	}
	if msg != "" {
		detail += ", " + msg
	}
	return "", why + " (" + detail + ")"
}
