package shop

import (
	"strconv"
	"strings"
	"time"
)

// ParseAge reads an age such as a retention period: a whole number of days
// (90d) or a Go duration (720h, 90m, 1h30m). A unit is required and the age
// must be positive: a bare number could mean days or seconds.
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
	return d, nil
}

// PruneCount is how many rows of one kind of operational record a prune
// removed (or, in a dry run, would remove).
type PruneCount struct {
	Kind string `json:"kind"`
	Rows int64  `json:"rows"`
}
