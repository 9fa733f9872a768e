// Package notify holds the sinks `notify send` delivers notifications to:
// a writer (stdout), a file, and an HTTP webhook signed per the Standard
// Webhooks convention (https://www.standardwebhooks.com).
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Sink delivers one notification; an error means it was not delivered.
type Sink interface {
	Send(ctx context.Context, n shop.Notification) error
}

// Flusher is a sink that takes several notifications and makes them
// durable at once: none counts as delivered until Flush returns nil. `notify
// send` hands such a sink a batch per database transaction; any other sink
// (the webhook, where every send is a delivery) one notification at a time.
type Flusher interface {
	Sink
	Flush() error
}

// MessageID is a notification's stable id on the wire: every attempt of one
// notification carries the same id, so a receiver can de-duplicate.
func MessageID(n shop.Notification) string { return "ntf_" + strconv.FormatInt(n.ID, 10) }

// Message is the JSON document every sink delivers: the webhook's body, a
// line of the stdout and file sinks. Its schema (README "Event types"):
//
//	id           ntf_N, the same on every attempt: receivers de-duplicate by it
//	type         the event type, e.g. order.placed (shop.NotificationKinds)
//	timestamp    when the change happened (RFC 3339, UTC)
//	customer_id  the customer told; order_id the order it is about (null when none)
//	message      the sentence the customer reads, in Korean, then English
//	data         the event's payload: the type's struct in package shop
//	             (order.placed is shop.OrderPlacedV1), with its version field
type Message struct {
	ID         string                `json:"id"`
	Type       shop.NotificationKind `json:"type"`
	Timestamp  time.Time             `json:"timestamp"`
	CustomerID *int64                `json:"customer_id"`
	OrderID    *int64                `json:"order_id"`
	Message    string                `json:"message"`
	Data       shop.Event            `json:"data"`
}

// Body encodes n as the document sinks deliver. A notification whose
// payload cannot be read as its type is not sent: the error says why.
func Body(n shop.Notification) ([]byte, error) {
	ev, err := shop.DecodeEvent(n.Kind, n.Payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Message{ID: MessageID(n), Type: n.Kind, Timestamp: n.CreatedAt.UTC(), CustomerID: n.CustomerID,
		OrderID: n.OrderID, Message: ev.Message(), Data: ev})
}

// Writer writes each notification as one JSON line.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// Send implements Sink.
func (w *Writer) Send(_ context.Context, n shop.Notification) error {
	b, err := Body(n)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.W.Write(append(b, '\n'))
	return err
}

// Flush implements Flusher: each line was written by Send.
func (w *Writer) Flush() error { return nil }

// File appends each notification to a file as one JSON line, synced to
// disk (Flush, once per batch) before it counts as delivered.
type File struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFile opens (or creates) path for appending.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, shop.Invalid("cannot open %s: %v", path, errors.Unwrap(err))
	}
	return &File{f: f}, nil
}

// Send implements Sink.
func (f *File) Send(_ context.Context, n shop.Notification) error {
	b, err := Body(n)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err = f.f.Write(append(b, '\n'))
	return err
}

// Flush implements Flusher: the lines written reach the disk.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Sync()
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// SecretPrefix starts a Standard Webhooks signing secret.
const SecretPrefix = "whsec_"

// ParseSecret decodes a whsec_-prefixed base64 secret. Its error never
// repeats the secret.
func ParseSecret(s string) ([]byte, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(s), SecretPrefix)
	if !ok {
		return nil, shop.Invalid("notify.webhook.secret must start with %s followed by base64", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 16 {
		return nil, shop.Invalid("notify.webhook.secret is not %s followed by the base64 of at least 16 bytes", SecretPrefix)
	}
	return key, nil
}

// Sign is the webhook-signature header's value: v1, then the base64
// HMAC-SHA256 of "id.timestamp.body" under key.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery's signature headers against the secret, as a
// receiver does: one of the space-separated v1 signatures must match, and
// the timestamp must be within tolerance of now.
func Verify(secret string, h http.Header, body []byte, tolerance time.Duration) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return errors.New("bad webhook-timestamp")
	}
	if d := time.Since(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook-timestamp too far from now")
	}
	want := Sign(key, h.Get("webhook-id"), ts, body)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// Webhook POSTs each notification as JSON, signed.
type Webhook struct {
	URL    string
	key    []byte
	client *http.Client
}

// NewWebhook checks the URL and secret; every request gives up after timeout.
func NewWebhook(url, secret string, timeout time.Duration) (*Webhook, error) {
	if url == "" {
		return nil, shop.Invalid("the webhook sink needs notify.webhook.url (or RABBITPAY_NOTIFY_WEBHOOK_URL)")
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, shop.Invalid("notify.webhook.url %s is not an http:// or https:// URL", shop.Echo(url))
	}
	if secret == "" {
		return nil, shop.Invalid("the webhook sink needs notify.webhook.secret (or RABBITPAY_NOTIFY_WEBHOOK_SECRET): %s followed by base64", SecretPrefix)
	}
	key, err := ParseSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Webhook{URL: url, key: key, client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Send implements Sink: a 2xx answer is delivered; anything else, a
// redirect included, is a failed attempt.
func (w *Webhook) Send(ctx context.Context, n shop.Notification) error {
	body, err := Body(n)
	if err != nil {
		return err
	}
	id, ts := MessageID(n), time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rabbitpay")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(w.key, id, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() && ctx.Err() == nil {
			return fmt.Errorf("no answer within %s", w.client.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) { // the URL may carry a token: the error names no URL
			return fmt.Errorf("the receiver could not be reached: %v", ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(text)))
	}
	return nil
}
