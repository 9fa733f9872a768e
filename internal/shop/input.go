package shop

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on free text that enters from outside (a flag, an argument, the
// environment). Fields with a tighter rule of their own (SKU, names,
// carrier) check it too.
const (
	// MaxInputLen bounds any one value: longer than any URL, path or
	// token rabbitpay takes.
	MaxInputLen = 4096
	// MaxReasonLen bounds a refund's reason, sent to the provider and kept
	// in the notification.
	MaxReasonLen = 200
	// MaxIdempotencyKeyLen bounds an idempotency key (order place, refund).
	MaxIdempotencyKeyLen = 255
)

// CheckIdempotencyKey refuses a key that was given but is empty or blank: a
// script whose variable is unset would otherwise place (or refund) with no
// key at all and lose its retry protection without a word.
func CheckIdempotencyKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return Invalid("the idempotency key is empty or blank: give a key (a retry with the same key never charges twice), or leave the option out")
	}
	return nil
}

// CheckText checks one value of free text named what: valid UTF-8, no
// control character (C0, DEL, C1: none has a meaning in a one-line
// value), at most max characters. Every string from outside passes it
// before any use case runs.
func CheckText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return Invalid("%s is not valid UTF-8", what)
	}
	n := 0
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return Invalid("%s contains a control character (%s)", what, controlName(r))
		}
		n++
	}
	if n > max {
		return Invalid("%s is %d characters long; the limit is %d", what, n, max)
	}
	return nil
}

func controlName(r rune) string {
	switch r {
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	case '\t':
		return "a tab"
	case 0:
		return "a NUL byte"
	}
	return fmt.Sprintf("U+%04X", r)
}
