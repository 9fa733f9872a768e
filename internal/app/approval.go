package app

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Approval says where a placement gets the buyer's approval from when a live
// provider asks for one. The sandbox never asks.
type Approval struct {
	// Token is the approval given up front (--approval-token): the token
	// itself or the whole URL the provider redirected the buyer to. Real
	// providers issue the token only once the buyer approved this order's
	// payment, so it is for stand-ins and replays; scripts use Prompt.
	Token string
	// Prompt asks the operator for it once the approval URL is known (a
	// terminal prompt, or a line read from stdin). It may return "" and
	// wait for ctx to end when the callback listener answers first.
	Prompt func(ctx context.Context, approvalURL string) (string, error)
	// Given says the operator handed an approval over up front (a token,
	// or one to read from stdin): refused when the provider never asks.
	Given bool
	// Retry, when set, hears why what Prompt returned was not an approval
	// (not this order's redirect, or a token the provider refused as a
	// token: payment.ErrApprovalToken); Prompt is then asked again, within
	// the same payment.approval_timeout.
	Retry func(error)
}

// answer is the buyer's approval, or why there is none.
type answer struct {
	token, declined string
	err             error
}

// live reports whether payments go to the providers' real APIs.
func (a *App) live() bool { return a.cfg.Payment.Provider == "live" }

// returnURL is where the provider sends the buyer back for this order.
func (a *App) returnURL(orderUUID string) string {
	if a.cfg.Payment.Callback.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(a.cfg.Payment.Callback.PublicURL, "/") + "/pay/" + orderUUID
}

// checkApproval refuses a live placement nobody could approve, and an
// approval handed to the sandbox (it would be ignored), before anything is
// changed.
func (a *App) checkApproval(method shop.PaymentMethod, ap Approval) error {
	if !a.live() && (ap.Token != "" || ap.Given) {
		return shop.InField("approval token", shop.Invalid("an approval token is only for live payments: payment.provider is %s, whose payments need no buyer approval", a.cfg.Payment.Provider))
	}
	if tok := strings.TrimSpace(ap.Token); tok != "" {
		if u, err := url.Parse(tok); err == nil && u.Host != "" {
			return nil // a redirect URL: read (and checked) when it is used
		}
		if err := checkToken(method, tok); err != nil {
			return shop.InField("approval token", err)
		}
	}
	if !a.live() || ap.Token != "" || ap.Prompt != nil || a.cfg.Payment.Callback.Listen != "" {
		return nil
	}
	return shop.InField("approval token", shop.Invalid("live payments need the buyer's approval: set payment.callback.listen, give the approval token, or run on a terminal"))
}

// readApproval turns what was handed over (a token, or the redirect URL the
// buyer landed on) into the approval token or a decline.
// What is handed over is checked before anything is sent: a control
// character (a paste that is not what the clerk copied) is refused, never
// stripped, and a token not shaped like the provider's is refused.
func (o *orderSaga) readApproval(s string) answer {
	s = strings.TrimSpace(s)
	if err := checkPasted(s); err != nil {
		return answer{err: err}
	}
	a := answer{token: s}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		if strings.Contains(u.Path, "/pay/") && !strings.Contains(u.Path, "/pay/"+o.rec.OrderUUID+"/") {
			return answer{err: shop.Invalid("%s is the redirect of another order, not of %s", u.Redacted(), o.rec.OrderUUID)}
		}
		a.token, a.declined = o.gw.Callback(u)
		if a.token == "" && a.declined == "" {
			return answer{err: shop.Invalid("%s is not a redirect from the provider's approval page", u.Redacted())}
		}
	}
	switch {
	case s == "":
		return answer{err: shop.Invalid("no approval token was given")}
	case a.token != "":
		if err := payment.CheckToken(o.rec.Method, a.token); err != nil {
			return answer{err: err}
		}
	}
	return a
}

// checkPasted refuses an approval holding a control character: never
// stripped, as it is not what the operator copied.
func checkPasted(s string) error {
	if err := shop.CheckText("the pasted approval", s, 4096); err != nil {
		return fmt.Errorf("%w: copy the token or the URL again", err)
	}
	return nil
}

// checkToken refuses a token that is not shaped like the provider's.
func checkToken(method shop.PaymentMethod, token string) error {
	if err := checkPasted(token); err != nil {
		return err
	}
	return payment.CheckToken(method, token)
}

// awaitApproval shows the approval URL (first: the first time it is waited
// for) and waits for the buyer: the token given up front, the
// callback listener, or the prompt, whichever answers first, until
// deadline (payment.approval_timeout after the first wait began). The buyer
// declining, the time running out or the operator interrupting is a
// decline: the saga compensates. It returns the buyer's approval token.
func (o *orderSaga) awaitApproval(ctx context.Context, approvalURL string, deadline time.Time, first bool) (string, error) {
	ch := make(chan answer, 2)
	if o.approval.Token != "" {
		ch <- o.readApproval(o.approval.Token)
	}
	if cb, err := o.a.callbacks(); err != nil {
		return "", err
	} else if cb != nil {
		defer cb.await(o.rec.OrderUUID, func(u *url.URL) answer {
			token, declined := o.gw.Callback(u)
			return answer{token: token, declined: declined}
		}, ch)()
	}
	// Shown once the listener waits for this order's redirect; asked again
	// after a refused token, the URL is shown again (a QR code only once).
	if first {
		o.emit(shop.EventStep, stepApproval, shop.OutcomeWaiting, "approve at "+approvalURL)
	} else {
		o.emit(shop.EventStep, stepApproval, shop.OutcomeWaiting, "asked again: approve at "+approvalURL)
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	if o.approval.Prompt != nil && o.approval.Token == "" {
		go func() {
			for pctx.Err() == nil {
				s, err := o.approval.Prompt(pctx, approvalURL)
				if err != nil {
					ch <- answer{err: err}
					return
				}
				if s == "" { // nothing typed, or the callback answered first
					continue
				}
				a := o.readApproval(s)
				if errors.Is(a.err, shop.ErrInvalid) && o.approval.Retry != nil { // a typo: ask again
					o.approval.Retry(a.err)
					continue
				}
				ch <- a
				return
			}
		}()
	}
	limit := o.a.cfg.Payment.ApprovalTimeout
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var ans answer
	select {
	case ans = <-ch:
	case <-timer.C:
		ans.declined = fmt.Sprintf("the buyer did not approve within payment.approval_timeout (%s)", limit)
	case <-o.interrupt:
		ans.err = shop.Interrupted("interrupted while waiting for the buyer's approval")
	case <-o.lost:
		ans.err = shop.Fenced("saga %s was taken over by another process while waiting for the buyer: this one changes nothing more", o.rec.OrderUUID)
	}
	switch {
	case ans.err != nil:
		return "", ans.err
	case ans.declined != "":
		o.declined = &shop.PaymentOutcome{Status: shop.PaymentFailed, TxID: o.ref.TxID, Reason: ans.declined}
		return "", errors.New(ans.declined)
	}
	return ans.token, nil
}

// callbackServer is the listener buyers are sent back to from a provider's
// approval page: /pay/<order_uuid>/... hands the redirect to the placement
// waiting for that order.
type callbackServer struct {
	mu      sync.Mutex
	waiting map[string]func(*url.URL) bool
	srv     *http.Server
}

// callbacks starts the callback listener on first use (live mode with
// payment.callback.listen set); nil when there is none.
func (a *App) callbacks() (*callbackServer, error) {
	if !a.live() || a.cfg.Payment.Callback.Listen == "" {
		return nil, nil
	}
	a.cb.once.Do(func() {
		ln, err := net.Listen("tcp", a.cfg.Payment.Callback.Listen)
		if err != nil {
			a.cb.err = fmt.Errorf("the approval callback listener cannot listen on %s (payment.callback.listen): %v",
				a.cfg.Payment.Callback.Listen, err)
			return
		}
		s := &callbackServer{waiting: map[string]func(*url.URL) bool{}}
		s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
		go s.srv.Serve(ln)
		a.cb.srv = s
	})
	return a.cb.srv, a.cb.err
}

type callbacks struct {
	once sync.Once
	srv  *callbackServer
	err  error
}

func (c *callbacks) close() {
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.srv.srv.Shutdown(ctx)
	}
}

// await routes the redirect for orderUUID to ch until the returned func is called.
func (s *callbackServer) await(orderUUID string, read func(*url.URL) answer, ch chan<- answer) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var once sync.Once
	s.waiting[orderUUID] = func(u *url.URL) bool {
		ans := read(u)
		if ans.token == "" && ans.declined == "" {
			return false
		}
		once.Do(func() { ch <- ans })
		return true
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.waiting, orderUUID)
	}
}

func (s *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/pay/")
	orderUUID, _, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	deliver := s.waiting[orderUUID]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !ok || deliver == nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<p>No order is waiting for this approval here (order %s). Ask at the counter.</p>\n", html.EscapeString(orderUUID))
		return
	}
	if !deliver(r.URL) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "<p>This is not an answer from the payment page.</p>")
		return
	}
	fmt.Fprintln(w, "<p>Thank you: the shop has your answer. You can close this page.</p>")
}
