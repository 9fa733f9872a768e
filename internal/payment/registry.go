package payment

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// providers is the registry: every payment method rabbitpay takes, in the
// order parsing, help, completions and the checkout show them. A provider
// is its own file (its Provider, config section, adapter and sandbox ids)
// plus one line here.
var providers = []*Provider{&naverProvider, &kakaoProvider}

// Provider is one payment method's adapter as the registry holds it.
type Provider struct {
	Method shop.PaymentMethod // what orders and payments record: KAKAO
	Name   string             // what people call it: Kakao Pay
	// Section is its config section, payment.<Section>.*.
	Section string
	// Settings returns a new config section holding the defaults: a pointer
	// to a flat struct whose mapstructure tags name the keys.
	Settings func() Settings
	// SandboxTxID makes an identifier shaped like the provider's, for its
	// offline sandbox.
	SandboxTxID func() string
	// Token is the shape of the buyer's approval token (Kakao's pg_token,
	// Naver's paymentId), checked before it is sent: a paste of something
	// else is refused without asking the provider. TokenShape says it in
	// words.
	Token      *regexp.Regexp
	TokenShape string
}

// CheckToken refuses an approval token for method that is not shaped like
// the provider's, in one sentence (shop.ErrInvalid).
func CheckToken(method shop.PaymentMethod, token string) error {
	p, err := Lookup(method)
	if err != nil {
		return err
	}
	if p.Token != nil && !p.Token.MatchString(token) {
		return shop.Invalid("%q is not a %s approval: %s", token, p.Name, p.TokenShape)
	}
	return nil
}

// Settings is a provider's config section.
type Settings interface {
	// Missing names the keys (within the section) that live payments need
	// and that are not set.
	Missing() []string
	// Check names a setting whose value is malformed (error) or returns nil.
	Check() error
	// Live returns the provider's HTTP adapter; client.Timeout bounds each
	// request.
	Live(client *http.Client) Gateway
}

// Providers returns the registered providers.
func Providers() []*Provider { return append([]*Provider(nil), providers...) }

// Methods returns the registered methods.
func Methods() []shop.PaymentMethod {
	ms := make([]shop.PaymentMethod, len(providers))
	for i, p := range providers {
		ms[i] = p.Method
	}
	return ms
}

// MethodNames joins the registered methods with sep: "NAVER|KAKAO".
func MethodNames(sep string) string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = string(p.Method)
	}
	return strings.Join(names, sep)
}

// ParseMethod accepts a registered method in any case.
func ParseMethod(s string) (shop.PaymentMethod, error) {
	p, err := Lookup(shop.PaymentMethod(strings.ToUpper(strings.TrimSpace(s))))
	if err != nil {
		return "", shop.Invalid("payment method %q is not one of %s", s, MethodNames(", "))
	}
	return p.Method, nil
}

// Lookup returns the method's provider.
func Lookup(m shop.PaymentMethod) (*Provider, error) {
	for _, p := range providers {
		if p.Method == m {
			return p, nil
		}
	}
	return nil, shop.Invalid("payment method %q is not one of %s", m, MethodNames(", "))
}

// Key names one of the provider's settings as config files and errors do.
func (p *Provider) Key(k string) string { return settingKey(p.Section, k) }

func settingKey(section, k string) string { return "payment." + section + "." + k }

// Live returns the provider's HTTP adapter configured by s (nil: the
// defaults), or Configured's refusal.
func (p *Provider) Live(s Settings, client *http.Client) (Gateway, error) {
	if s == nil {
		s = p.Settings()
	}
	if err := p.Configured(s); err != nil {
		return nil, err
	}
	return s.Live(client), nil
}

// Configured refuses live payments with p when s (nil: the defaults) lacks
// a setting they need: one sentence naming the settings to set
// (shop.ErrInvalid).
func (p *Provider) Configured(s Settings) error {
	if s == nil {
		s = p.Settings()
	}
	var keys []string
	for _, k := range s.Missing() {
		keys = append(keys, p.Key(k))
	}
	if len(keys) > 0 {
		return shop.Invalid("%s is not configured for live payments: set %s", p.Name, joinAnd(keys))
	}
	return nil
}

// unset returns the keys of pairs (key, value, key, value, ...) whose value is empty.
func unset(pairs ...string) []string {
	var keys []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			keys = append(keys, pairs[i])
		}
	}
	return keys
}

// checkURLs refuses a set value of pairs (key, value, ...) that is not an
// http(s) URL, naming it as payment.<section>.<key>.
func checkURLs(section string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%s %q is not an http(s) URL", settingKey(section, pairs[i]), v)
			}
		}
	}
	return nil
}

// joinAnd lists words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
