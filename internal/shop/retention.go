package shop

import (
	"strconv"
	"strings"
	"time"
)

// ParseAge reads an age such as a retention period: a whole number of days
// (90d) or a Go duration (720h, 36h, 24h0m). A unit is required (a bare
// number could mean days or seconds) and the age is at least MinRetention.
func ParseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(t, "d"); ok {
		var n int64
		if n, err = strconv.ParseInt(days, 10, 64); err == nil && n > int64(time.Duration(1<<63-1)/(24*time.Hour)) {
			err = strconv.ErrRange
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(t)
		if err == nil && strings.Trim(t, "0123456789.+-") == "" { // "0" parses without a unit
			err = strconv.ErrSyntax
		}
	}
	if err != nil || d <= 0 {
		return 0, Invalid("age %q is not a positive duration with a unit, such as 90d or 720h", s)
	}
	if d < MinRetention {
		return 0, Invalid("age %s is under a day: younger idempotency keys and saga histories may still be needed (a client retrying an order, a refund being settled)", Echo(s))
	}
	return d, nil
}

// MinRetention is the youngest age a prune may remove: below it an
// idempotency key a client still retries with, or the history a refund's
// unknown outcome is settled from, could go.
const MinRetention = 24 * time.Hour

// PruneCount is how many rows of one kind of operational record a prune
// removed (or, in a dry run, would remove).
type PruneCount struct {
	Kind string `json:"kind"`
	Rows int64  `json:"rows"`
}
