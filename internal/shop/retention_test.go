package shop

import (
	"errors"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	good := map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "720h": 720 * time.Hour, "24h": 24 * time.Hour,
		"24h30m": 24*time.Hour + 30*time.Minute, " 36h ": 36 * time.Hour,
	}
	for in, want := range good {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90", "0", "0d", "-1d", "-5h", "0s", "d", "1.5d", "ninety days", "90 d", "1y", "999999999999d",
		"90m", "23h59m", "30s"} { // under a day: MinRetention
		if d, err := ParseAge(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAge(%q) = %v, %v; want an ErrInvalid error", in, d, err)
		}
	}
}
