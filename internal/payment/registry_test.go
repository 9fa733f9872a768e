package payment_test

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]shop.PaymentMethod{"KAKAO": shop.Kakao, "kakao": shop.Kakao, " Naver\t": shop.Naver} {
		if got, err := payment.ParseMethod(in); err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"PAYPAL", "", "KAKAOPAY", "N"} {
		_, err := payment.ParseMethod(in)
		if want := `payment method "` + in + `" is not one of NAVER, KAKAO`; err == nil || err.Error() != want || !errors.Is(err, shop.ErrInvalid) {
			t.Errorf("ParseMethod(%q): %v, want %q (invalid input)", in, err, want)
		}
	}
}

// The lists every front end shows come from the registry, in its order.
func TestRegistryLists(t *testing.T) {
	var ms []shop.PaymentMethod
	var names []string
	for _, p := range payment.Providers() {
		ms, names = append(ms, p.Method), append(names, string(p.Method))
	}
	if !slices.Equal(payment.Methods(), ms) || payment.MethodNames("|") != strings.Join(names, "|") {
		t.Fatalf("Methods %v, MethodNames %q; the registry holds %v", payment.Methods(), payment.MethodNames("|"), ms)
	}
	if payment.MethodNames("|") != "NAVER|KAKAO" {
		t.Errorf("registered: %s", payment.MethodNames("|"))
	}
	_, err := payment.Lookup("PAYPAL")
	for _, m := range ms {
		if !strings.Contains(err.Error(), string(m)) {
			t.Errorf("the unknown-method sentence %q does not list %s", err, m)
		}
	}
}

// Every provider is whole: a unique method and section, a flat config
// section whose every field is a key, defaults that are well formed and
// lack only the merchant's own credentials, and sandbox ids of its shape.
func TestEveryProviderIsWhole(t *testing.T) {
	credentials := map[shop.PaymentMethod][]string{
		shop.Kakao: {"secret_key"},
		shop.Naver: {"client_id", "client_secret", "chain_id", "partner_id"},
	}
	txID := map[shop.PaymentMethod]*regexp.Regexp{
		shop.Kakao: regexp.MustCompile(`^T[0-9a-f]{19}$`),
		shop.Naver: regexp.MustCompile(`^20\d{6}\d{12}$`),
	}
	methods, sections := map[shop.PaymentMethod]bool{}, map[string]bool{}
	for _, p := range payment.Providers() {
		if p.Method == "" || strings.ToUpper(string(p.Method)) != string(p.Method) || methods[p.Method] || sections[p.Section] || p.Name == "" {
			t.Errorf("provider %+v: method and section must be set, upper case and unique", p)
		}
		methods[p.Method], sections[p.Section] = true, true
		s := p.Settings()
		v := reflect.ValueOf(s)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			t.Fatalf("%s: Settings() is %T, not a pointer to a struct", p.Method, s)
		}
		for i := 0; i < v.Elem().NumField(); i++ {
			f := v.Elem().Type().Field(i)
			if f.Tag.Get("mapstructure") == "" || f.Type.Kind() == reflect.Struct {
				t.Errorf("%s: field %s is not a flat, tagged key", p.Method, f.Name)
			}
		}
		if err := s.Check(); err != nil {
			t.Errorf("%s: the defaults are malformed: %v", p.Method, err)
		}
		if got := s.Missing(); !slices.Equal(got, credentials[p.Method]) {
			t.Errorf("%s: the defaults lack %v, want %v", p.Method, got, credentials[p.Method])
		}
		if id := p.SandboxTxID(); txID[p.Method] == nil || !txID[p.Method].MatchString(id) || id == p.SandboxTxID() {
			t.Errorf("%s: sandbox id %q is not shaped like the provider's, or repeats", p.Method, id)
		}
	}
}

func TestLiveIsPerMethod(t *testing.T) {
	naver, _ := payment.Lookup(shop.Naver)
	kakao, _ := payment.Lookup(shop.Kakao)
	for s, want := range map[payment.Settings]string{
		nil:                   "Naver Pay is not configured for live payments: set payment.naver.client_id, payment.naver.client_secret, payment.naver.chain_id and payment.naver.partner_id",
		naver.Settings():      "Naver Pay is not configured for live payments: set payment.naver.client_id, payment.naver.client_secret, payment.naver.chain_id and payment.naver.partner_id",
		payment.NaverConfig{}: "Naver Pay is not configured for live payments: set payment.naver.client_id, payment.naver.client_secret, payment.naver.chain_id, payment.naver.partner_id, payment.naver.base_url and payment.naver.approval_base",
		&payment.NaverConfig{ClientID: "id", ClientSecret: "s", ChainID: "c", PartnerID: "p", BaseURL: "https://x"}: "Naver Pay is not configured for live payments: set payment.naver.approval_base",
	} {
		gw, err := naver.Live(s, nil)
		if err == nil || err.Error() != want || !errors.Is(err, shop.ErrInvalid) || gw != nil {
			t.Errorf("%#v: %v, want %q (invalid input)", s, err, want)
		}
	}
	k := standin.NewKakao(t)
	if gw, err := kakao.Live(k.Config(), nil); err != nil || gw == nil || kakao.Configured(k.Config()) != nil {
		t.Fatalf("a configured Kakao Pay: %v", err)
	}
	if err := (payment.KakaoConfig{BaseURL: "open-api.kakaopay.com"}).Check(); err == nil ||
		err.Error() != `payment.kakao.base_url "open-api.kakaopay.com" is not an http(s) URL` {
		t.Errorf("a base URL without a scheme: %v", err)
	}
	if err := (payment.NaverConfig{ApprovalBase: "ftp://x/"}).Check(); err == nil || !strings.Contains(err.Error(), "payment.naver.approval_base") {
		t.Errorf("an approval page that is not http(s): %v", err)
	}
}
