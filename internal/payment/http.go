package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The HTTP plumbing shared by the Kakao Pay and Naver Pay adapters.
//
// Every call is bounded by the http.Client's Timeout (payment.http_timeout)
// and by its context. A call is retried, with exponential backoff, only when
// repeating it cannot change anything at the provider: look-ups, and Naver
// calls carrying an idempotency key (the provider answers a repeated key with
// the first answer). A state-changing call that was sent and then timed out,
// answered 5xx or answered something unreadable has an unknown outcome: the
// adapter returns an error and never guesses.

// retryBackoff is the wait before each retry of an idempotent call: its
// length + 1 is the number of attempts. Tests shorten it.
var retryBackoff = []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// maxBody bounds what is read of a provider's answer.
const maxBody = 1 << 20

// exchange is one HTTP call to a provider.
type exchange struct {
	provider   string // "Kakao Pay"
	call       string // "approve"
	url        string
	header     http.Header
	body       []byte // JSON or form body
	idempotent bool   // safe to repeat: retried on transport errors, 5xx and unreadable answers
	changes    bool   // changes state at the provider: a failure leaves its outcome unknown
	secrets    []string
}

// answer is what a provider answered with a status it meant: 2xx, or 4xx
// (decoded by the adapter into a *ProviderError).
type answer struct {
	status int
	body   []byte
}

// do sends the exchange, retrying it when it is idempotent, and returns the
// provider's 2xx or 4xx answer. Any other outcome is an error saying the
// outcome is unknown (or, for an idempotent call, that the provider could not
// be asked).
func (x exchange) do(ctx context.Context, client *http.Client, decodable func(answer) bool) (answer, error) {
	attempts := 1
	if x.idempotent {
		attempts += len(retryBackoff)
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(retryBackoff[i-1])
			select {
			case <-ctx.Done():
				t.Stop()
				return answer{}, x.fail(fmt.Errorf("gave up after %d attempts: %w", i, last))
			case <-t.C:
			}
		}
		a, err := x.once(ctx, client)
		if err == nil && (a.status < 500 && a.status != http.StatusTooManyRequests) {
			if decodable(a) {
				return a, nil
			}
			err = fmt.Errorf("answered HTTP %d with a body that could not be read: %s", a.status, snippet(a.body))
		} else if err == nil {
			err = fmt.Errorf("answered HTTP %d: %s", a.status, snippet(a.body))
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if attempts > 1 {
		return answer{}, x.fail(fmt.Errorf("gave up after %d attempts: %w", attempts, last))
	}
	return answer{}, x.fail(last)
}

// once makes one attempt.
func (x exchange) once(ctx context.Context, client *http.Client) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, bytes.NewReader(x.body))
	if err != nil {
		return answer{}, err
	}
	req.Header = x.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("answered HTTP %d but its body could not be read: %w", resp.StatusCode, transportError(err))
	}
	return answer{status: resp.StatusCode, body: body}, nil
}

// transportError drops the request URL from a *url.Error-like chain's text
// (it names no secret, but it is noise in a sentence for the shop owner) and
// keeps what went wrong.
func transportError(err error) error {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return errors.New("no answer within the time limit")
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("the call was cancelled")
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// fail turns what went wrong into the error an adapter returns: one sentence
// naming the provider and the call, saying whether the outcome is unknown,
// with every secret removed.
func (x exchange) fail(err error) error {
	return &UnknownError{Provider: x.provider, Call: x.call, Detail: redact(err.Error(), x.secrets), Sent: x.changes}
}

// UnknownError is an adapter's error when the provider could not be asked or
// its answer could not be read. When Sent is true the call changes state at
// the provider and may have been carried out: its outcome is unknown, and
// only a look-up can tell.
type UnknownError struct {
	Provider string
	Call     string
	Detail   string
	Sent     bool
}

func (e *UnknownError) Error() string {
	if e.Sent {
		return fmt.Sprintf("the outcome of the %s %s is unknown: %s", e.Provider, e.Call, e.Detail)
	}
	return fmt.Sprintf("%s could not be asked for the %s: %s", e.Provider, e.Call, e.Detail)
}

// redact removes every non-empty secret from s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// snippet is the start of a body, for an error sentence.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty body)"
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// jsonBody encodes v for a request body.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings and numbers are encoded
	}
	return b
}

// validJSON reports whether b decodes into v (a pointer).
func validJSON(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }

// mask shows that a secret is set without showing it.
func mask(s string) string {
	if s == "" {
		return `""`
	}
	return "[set]"
}
