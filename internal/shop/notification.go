package shop

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// Notification is one row of the outbox. Its id is stable: a receiver that
// gets it twice (delivery is at least once) recognises it.
type Notification struct {
	ID            int64            `json:"id"`
	Kind          NotificationKind `json:"kind"`
	CustomerID    *int64           `json:"customer_id"`
	OrderID       *int64           `json:"order_id"`
	Message       string           `json:"message"`
	Payload       json.RawMessage  `json:"payload"`
	CreatedAt     time.Time        `json:"created_at"`
	SentAt        *time.Time       `json:"sent_at"`
	Attempts      int              `json:"attempts"`
	NextAttemptAt *time.Time       `json:"next_attempt_at"`
	LastError     string           `json:"last_error,omitempty"`
	DeadAt        *time.Time       `json:"dead_at"`
}

// State is pending, sent or dead.
func (n Notification) State() string {
	switch {
	case n.SentAt != nil:
		return "sent"
	case n.DeadAt != nil:
		return "dead"
	}
	return "pending"
}

// NotificationFilter narrows `notify list`.
type NotificationFilter struct {
	Pending, Dead bool
	CustomerID    int64
	Kind          NotificationKind
}

// MaxBackoff caps the wait between two attempts of one notification.
const MaxBackoff = time.Hour

// Backoff is how long a notification waits after its attempts-th failed
// attempt: base doubled per attempt, capped at MaxBackoff, with jitter (a
// random half of it), so receivers coming back are not hit by every sender
// at once.
func Backoff(base time.Duration, attempts int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempts && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// SendSummary is what one `notify send` did.
type SendSummary struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed_attempts"`
	Dead   int `json:"dead"`
	// Waiting counts the notifications whose last attempt in this run
	// failed: they wait for their next attempt (or are dead).
	Waiting int `json:"waiting"`
}

// NotificationDead says whether a notification whose attempts-th attempt
// failed is given up (dead: 'notify retry' brings it back).
func NotificationDead(attempts, maxAttempts int) bool { return attempts >= maxAttempts }

// SendAttempt is how one delivery attempt of a notification ended.
type SendAttempt struct {
	Found bool // a due notification was there to send
	Sent  bool
	Dead  bool // it failed for the last time
	Err   error
	N     Notification
}
