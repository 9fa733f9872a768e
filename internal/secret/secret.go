// Package secret hides passwords in text rabbitpay prints: database URLs in
// `db status`, connection strings echoed by errors.
package secret

import (
	"os"
	"regexp"
	"strings"
)

// Masked is what a password is replaced with.
const Masked = "xxxxx"

var (
	// scheme://user:PASSWORD@host — the password runs to the last @ before
	// the host (a raw @ in a password is common even though URLs forbid it).
	// It may hold /, ? and # too: the match runs to the last @ in the word.
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:]*:)(\S*)@`)
	// password=..., ?password=..., &sslpassword=..., PGPASSWORD=..., a quoted
	// key/value value ('it''s' or 'a\'b') included.
	keyValue = regexp.MustCompile(`(?i)\b((?:ssl|pg)?password\s*=\s*)('(?:[^'\\]|\\.|'')*'|[^\s&#'"]*)`)
)

// Mask returns s with every password it can recognise replaced by xxxxx:
// URL userinfo (postgres://u:PW@h), query and key/value parameters
// (?password=PW, password=PW, password='P W', sslpassword=PW, PGPASSWORD=PW)
// and the value of the PGPASSWORD environment variable wherever it appears.
func Mask(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}"+Masked+"@")
	s = keyValue.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValue.FindStringSubmatch(m)
		if sub[2] == "" || sub[2] == Masked {
			return m
		}
		return sub[1] + Masked
	})
	// A password from the environment can appear anywhere (a server echoing
	// it, a URL built from it); very short ones would mask ordinary words.
	if pw := os.Getenv("PGPASSWORD"); len(pw) >= 4 {
		s = strings.ReplaceAll(s, pw, Masked)
	}
	return s
}
