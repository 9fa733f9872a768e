// Package standin has local stand-ins for the Kakao Pay and Naver Pay HTTP
// APIs, for tests: httptest servers that keep payments like the providers
// do, check every request exactly (method, path, headers, each field and its
// JSON type), record them, host the buyer's approval page, and answer each
// call as scripted (success, decline, buyer cancel, expiry, a 4xx error
// body, 5xx, a hang after the change was made, malformed JSON, a different
// charged amount).
//
//	k := standin.NewKakao(t)
//	gw := payment.NewKakao(k.Config(), client)
//	k.Next("approve", standin.Hang)
//	...
//	cb, _ := standin.Follow(ctx, pending.ApprovalURL) // the buyer approves
//
// A request that breaks the provider's contract is answered 400 and is a
// problem: reported with t.Errorf (or OnProblem) and kept in Problems().
package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Behaviour is how a stand-in answers one call. Calls not scripted with Next
// answer OK.
type Behaviour struct {
	kind    kind
	apply   bool // ServerErrorAfter: the change is made before the 500
	status  int
	code    string
	message string
	amount  shop.Won
}

type kind int

const (
	kOK kind = iota
	kDecline
	kBuyerCancel
	kExpire
	kRefuse
	kServerError
	kHang
	kMalformed
	kCharge
	kNotComplete
)

var (
	// OK carries the call out and answers like the provider.
	OK = Behaviour{kind: kOK}
	// Decline: the page sends the buyer to the failure redirect; the
	// approve/apply is declined (nothing charged).
	Decline = Behaviour{kind: kDecline}
	// BuyerCancel: the buyer cancels on the approval page.
	BuyerCancel = Behaviour{kind: kBuyerCancel}
	// Expire: the approval page has expired; an approve/apply comes too late.
	Expire = Behaviour{kind: kExpire}
	// ServerError answers 500 without doing anything.
	ServerError = Behaviour{kind: kServerError}
	// ServerErrorAfter carries the call out, then answers 500.
	ServerErrorAfter = Behaviour{kind: kServerError, apply: true}
	// Hang carries the call out, then answers nothing until the client gives
	// up (its request context ends) or the stand-in is closed.
	Hang = Behaviour{kind: kHang}
	// Malformed carries the call out, then answers broken JSON.
	Malformed = Behaviour{kind: kMalformed}
	// CancelNotComplete (Naver's cancel) accepts the cancel but answers
	// resultCode CancelNotComplete, as Naver Pay does while a cancel is still
	// being processed: the refund is under way, not refused, and the history
	// (and a repeat of the call, by its idempotency key) shows it completed.
	CancelNotComplete = Behaviour{kind: kNotComplete}
)

// Refuse answers with the provider's error body and HTTP status (Naver: 200
// puts the error code in a 200 answer, as Naver does), changing nothing.
func Refuse(status int, code, message string) Behaviour {
	return Behaviour{kind: kRefuse, status: status, code: code, message: message}
}

// Charge makes the approve/apply charge amount instead of what was asked.
func Charge(amount shop.Won) Behaviour { return Behaviour{kind: kCharge, amount: amount} }

// Request is one request a stand-in received.
type Request struct {
	Call   string // Kakao: ready, approve, order, cancel, page; Naver: reserve, apply, cancel, history, page
	Method string
	Path   string
	Header http.Header
	Body   []byte
	// Fields is the decoded body: JSON values (numbers as json.Number) or
	// form values (strings).
	Fields map[string]any
}

// Payment is a stand-in's record of one payment.
type Payment struct {
	TxID     string // Kakao's tid, Naver's reserveId
	OrderID  string // partner_order_id / merchantPayKey
	Status   string // the provider's status (Kakao's, or Naver's: RESERVED, APPROVED, APPLIED, FAILED, CANCELLED…)
	Asked    shop.Won
	Charged  shop.Won
	Refunded shop.Won
	Token    string // Kakao's pg_token, Naver's paymentId, once the buyer approved
}

// server is what both stand-ins share.
type server struct {
	*httptest.Server
	name string
	// OnProblem reports a request that breaks the provider's contract; by
	// default t.Errorf. Set it before the first call.
	OnProblem func(format string, args ...any)

	mu       sync.Mutex
	next     map[string][]Behaviour
	requests []Request
	problems []string
	closing  chan struct{}
	seq      int
}

func newServer(t testing.TB, name string, h http.Handler) *server {
	s := &server{name: name, next: map[string][]Behaviour{}, closing: make(chan struct{})}
	if t != nil {
		t.Helper()
		s.OnProblem = t.Errorf
	}
	s.Server = httptest.NewServer(h)
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// Close stops the stand-in, releasing hanging answers first.
func (s *server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.Server.Close()
}

// Next scripts the next answers to call, in order.
func (s *server) Next(call string, bs ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next[call] = append(s.next[call], bs...)
}

// Requests returns every request received so far (the page's too).
func (s *server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests call received.
func (s *server) Count(call string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Call == call {
			n++
		}
	}
	return n
}

// Problems returns every contract violation seen so far.
func (s *server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *server) problem(format string, args ...any) {
	msg := s.name + " stand-in: " + fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.problems = append(s.problems, msg)
	report := s.OnProblem
	s.mu.Unlock()
	if report != nil {
		report("%s", msg)
	}
}

// behaviour takes the next scripted answer to call.
func (s *server) behaviour(call string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.next[call]
	if len(q) == 0 {
		return OK
	}
	s.next[call] = q[1:]
	return q[0]
}

func (s *server) nextSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// read reads a request; keep records it.
func (s *server) read(call string, r *http.Request) Request {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return Request{Call: call, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
}

func (s *server) keep(rec Request) {
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// record reads and records a request.
func (s *server) record(call string, r *http.Request) Request {
	rec := s.read(call, r)
	s.keep(rec)
	return rec
}

// finish answers v after the change was made, as b says.
func (s *server) finish(w http.ResponseWriter, r *http.Request, b Behaviour, v any) {
	switch b.kind {
	case kHang:
		s.hang(r)
	case kMalformed:
		malformed(w)
	case kServerError:
		serverError(w)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// hang blocks until the client gives up or the stand-in closes.
func (s *server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

// field types a request body is checked against.
type ftype int

const (
	tString ftype = iota // a non-empty JSON string
	tInt                 // a JSON integer (a form value of digits)
)

// checkMediaType reports a problem unless the Content-Type is want.
func (s *server) checkMediaType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		s.problem("%s %s: Content-Type is %q, want %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), want)
		return false
	}
	return true
}

// decodeJSON decodes a JSON object body and checks it has exactly the
// fields of spec, each of its type.
func (s *server) decodeJSON(rec *Request, spec map[string]ftype) bool {
	d := json.NewDecoder(bytes.NewReader(rec.Body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		s.problem("%s: the body is not a JSON object: %v", rec.Path, err)
		return false
	}
	rec.Fields = m
	ok := true
	for name, t := range spec {
		v, present := m[name]
		if !present {
			s.problem("%s: field %q is missing", rec.Path, name)
			ok = false
			continue
		}
		switch t {
		case tString:
			if str, isStr := v.(string); !isStr || str == "" {
				s.problem("%s: field %q is %#v, want a non-empty JSON string", rec.Path, name, v)
				ok = false
			}
		case tInt:
			n, isNum := v.(json.Number)
			if _, err := n.Int64(); !isNum || err != nil {
				s.problem("%s: field %q is %#v, want a JSON integer", rec.Path, name, v)
				ok = false
			}
		}
	}
	for name := range m {
		if _, known := spec[name]; !known {
			s.problem("%s: unexpected field %q", rec.Path, name)
			ok = false
		}
	}
	return ok
}

// decodeForm decodes a form body and checks it has exactly the fields of
// spec, once each, integers made of digits.
func (s *server) decodeForm(rec *Request, spec map[string]ftype) bool {
	vals, err := url.ParseQuery(string(rec.Body))
	if err != nil {
		s.problem("%s: the body is not a form: %v", rec.Path, err)
		return false
	}
	rec.Fields = map[string]any{}
	ok := true
	for name, vs := range vals {
		rec.Fields[name] = strings.Join(vs, ",")
		if _, known := spec[name]; !known {
			s.problem("%s: unexpected field %q", rec.Path, name)
			ok = false
		}
		if len(vs) != 1 {
			s.problem("%s: field %q is sent %d times", rec.Path, name, len(vs))
			ok = false
		}
	}
	for name, t := range spec {
		v := vals.Get(name)
		if v == "" {
			s.problem("%s: field %q is missing", rec.Path, name)
			ok = false
			continue
		}
		if _, err := strconv.ParseInt(v, 10, 64); t == tInt && err != nil {
			s.problem("%s: field %q is %q, want an integer", rec.Path, name, v)
			ok = false
		}
	}
	return ok
}

// str and num read checked fields.
func str(m map[string]any, k string) string { v, _ := m[k].(string); return v }

func num(m map[string]any, k string) int64 {
	switch v := m[k].(type) {
	case json.Number:
		n, _ := v.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// malformed is a broken answer: the start of a JSON object.
func malformed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"tid": "T1234`)
}

func serverError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "<html><body>500 Internal Server Error</body></html>")
}

// redirectTo sends the buyer's browser to u with extra query parameters.
func redirectTo(w http.ResponseWriter, r *http.Request, u string, q url.Values) {
	dst, err := url.Parse(u)
	if err != nil {
		http.Error(w, "bad redirect URL", http.StatusInternalServerError)
		return
	}
	v := dst.Query()
	for k, vs := range q {
		v[k] = vs
	}
	dst.RawQuery = v.Encode()
	http.Redirect(w, r, dst.String(), http.StatusFound)
}

// Redirect GETs an approval URL as the buyer's browser would and returns
// where the provider sends the buyer back (its redirect), without going
// there.
func Redirect(ctx context.Context, approvalURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, approvalURL, nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("the approval page answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return resp.Location()
}

// Follow is a simulated buyer: it opens the approval URL, does what the
// page was scripted to do (approve, cancel, fail…), and follows the
// provider's redirect to the merchant's callback URL, which it returns. An
// error means the page or the callback did not answer well (the callback
// must answer 2xx or 3xx).
func Follow(ctx context.Context, approvalURL string) (*url.URL, error) {
	cb, err := Redirect(ctx, approvalURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cb.String(), nil)
	if err != nil {
		return cb, err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return cb, fmt.Errorf("the merchant's callback %s: %w", cb.Redacted(), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 400 {
		return cb, fmt.Errorf("the merchant's callback answered HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return cb, nil
}

// Provider is a stand-in rabbitpay can be pointed at (*Kakao, *Naver).
type Provider interface{ section() string }

// Settings is the rabbitpay configuration (YAML) that points live mode at
// the stand-ins ps (the other methods stay unconfigured), with the callback
// listener on listen; extra is appended under payment: (indented two spaces).
func Settings(listen, extra string, ps ...Provider) string {
	s := fmt.Sprintf("# rabbitpay live mode against local stand-ins (not the providers: no money moves)\npayment:\n  provider: live\n  callback:\n    listen: %s\n", listen)
	for _, p := range ps {
		s += p.section()
	}
	return s + extra
}
