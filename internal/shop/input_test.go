package shop

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct{ s, msg string }{
		{"", ""},
		{"damaged", ""},
		{"포장 파손", ""},
		{strings.Repeat("가", 10), ""},
		{strings.Repeat("가", 11), "reason is 11 characters long; the limit is 10"},
		{"a\xffb", "reason is not valid UTF-8"},
		{"a\nb", "reason contains a control character (a newline)"},
		{"a\tb", "reason contains a control character (a tab)"},
		{"a\x00", "reason contains a control character (a NUL byte)"},
		{"a\x1b[31m", "reason contains a control character (U+001B)"},
		{"a\x7f", "control character (U+007F)"},
		{"a\u0085", "control character (U+0085)"},
		{"\u00a0", ""}, // a no-break space is text
	} {
		check(t, tc.s, CheckText("reason", tc.s, 10), tc.msg)
	}
}
