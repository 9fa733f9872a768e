package shop

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestWonString(t *testing.T) {
	for _, tc := range []struct {
		w    Won
		want string
	}{
		{0, "₩0"},
		{1, "₩1"},
		{999, "₩999"},
		{1000, "₩1,000"},
		{12000, "₩12,000"},
		{100000, "₩100,000"},
		{1234567, "₩1,234,567"},
		{MaxWon, "₩1,000,000,000,000"},
		{-1, "-₩1"},
		{-1234, "-₩1,234"},
		{math.MaxInt64, "₩9,223,372,036,854,775,807"},
		{math.MinInt64, "-₩9223372036854775808"},
	} {
		if got := tc.w.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", int64(tc.w), got, tc.want)
		}
	}
}

func TestWonMulQty(t *testing.T) {
	for _, tc := range []struct {
		w    Won
		qty  int64
		want Won
		bad  bool
	}{
		{1000, 3, 3000, false},
		{1000, 0, 0, false},
		{0, MaxQuantity, 0, false},
		{MaxWon, 1, MaxWon, false},
		{MaxWon / 2, 2, MaxWon, false},
		{MaxWon/2 + 1, 2, 0, true},
		{MaxWon, 2, 0, true},
		{1_000_000, 1_000_001, 0, true},
	} {
		got, err := tc.w.MulQty(tc.qty)
		if tc.bad != (err != nil) || got != tc.want || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%d × %d: %d %v", int64(tc.w), tc.qty, int64(got), err)
		}
	}
}

func TestTotal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []Line
		want  Won
		msg   string
	}{
		{"none", nil, 0, ""},
		{"one", []Line{{Quantity: 2, Price: 1500}}, 3000, ""},
		{"several", []Line{{Quantity: 2, Price: 1500}, {Quantity: 1, Price: 99}, {Quantity: 5, Price: 0}}, 3099, ""},
		{"up to the maximum", []Line{{Quantity: 1, Price: MaxWon - 1}, {Quantity: 1, Price: 1}}, MaxWon, ""},
		{"one line too large", []Line{{Quantity: 3, Price: MaxWon / 2}}, 0, "is larger than the maximum"},
		{"the sum too large", []Line{{Quantity: 1, Price: MaxWon}, {Quantity: 1, Price: 1}}, 0, "order total is larger than the maximum of ₩1,000,000,000,000"},
	} {
		got, err := Total(tc.lines)
		if tc.msg == "" && (err != nil || got != tc.want) || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %s %v", tc.name, got, err)
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		msg  string
	}{
		{"12", 12, ""},
		{" 12 ", 12, ""},
		{"-3", -3, ""},
		{"0", 0, ""},
		{"9223372036854775807", math.MaxInt64, ""},
		{"9223372036854775808", 0, `order id "9223372036854775808" is out of range`},
		{"", 0, `order id "" is not a whole number`},
		{"1.5", 0, `order id "1.5" is not a whole number`},
		{"1e3", 0, "is not a whole number"},
		{"12abc", 0, "is not a whole number"},
		{"٣", 0, "is not a whole number"}, // an Arabic-Indic digit
	} {
		got, err := ParseInt("order id", tc.in)
		if tc.msg == "" && (err != nil || got != tc.want) || tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, ErrInvalid)) {
			t.Errorf("%q: %d %v", tc.in, got, err)
		}
	}
}
