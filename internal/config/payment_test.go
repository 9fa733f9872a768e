package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Each provider's section comes from its registered config struct: its
// defaults (the same the adapter falls back to), file, environment, and
// unknown keys warned about as anywhere else.
func TestProviderSections(t *testing.T) {
	c, err := Load(flags(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payment.Providers() {
		if got, want := c.Payment.Providers[p.Method], p.Settings(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: defaults %v, want %v", p.Method, got, want)
		}
	}
	file := writeConfig(t, "payment:\n  kakao:\n    secret_key: from-file\n    colour: red\n  naver:\n    base_url: https://apis.naver.com\n", 0o600)
	t.Setenv("RABBITPAY_PAYMENT_NAVER_PARTNER_ID", "partner-from-env")
	c, err = Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	k, n := c.Payment.Providers[shop.Kakao].(*payment.KakaoConfig), c.Payment.Providers[shop.Naver].(*payment.NaverConfig)
	if k.SecretKey != "from-file" || k.CID != payment.KakaoTestCID || k.BaseURL != payment.KakaoBaseURL {
		t.Errorf("kakao: a file setting one key keeps the other defaults: %v", k)
	}
	if n.BaseURL != "https://apis.naver.com" || n.PartnerID != "partner-from-env" || n.ApprovalBase != payment.NaverApprovalBase {
		t.Errorf("naver: file, environment and defaults: %v", n)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `unknown key "payment.kakao.colour"`) {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// Live mode asks for the callback's public URL and well-formed settings, not
// for every provider's keys: a shop with Kakao Pay only loads, and a method
// is refused only when an order chooses it (app).
func TestLiveModeIsPerMethod(t *testing.T) {
	kakaoOnly := "payment:\n  provider: live\n  callback:\n    listen: 127.0.0.1:8789\n  kakao:\n    secret_key: k\n"
	c, err := Load(flags(), writeConfig(t, kakaoOnly, 0o600))
	if err != nil {
		t.Fatalf("a Kakao-only live shop: %v", err)
	}
	if c.Payment.Callback.PublicURL != "http://127.0.0.1:8789" {
		t.Errorf("public URL %q", c.Payment.Callback.PublicURL)
	}
	for content, want := range map[string]string{
		"payment:\n  provider: live\n":                         "payment.provider is live but payment.callback.public_url is not set (RABBITPAY_PAYMENT_CALLBACK_PUBLIC_URL)",
		kakaoOnly + "  naver:\n    base_url: apis.naver.com\n": `payment.naver.base_url "apis.naver.com" is not an http(s) URL`,
		kakaoOnly + "    base_url: ftp://kakao\n":              `payment.kakao.base_url "ftp://kakao" is not an http(s) URL`,
	} {
		if _, err := Load(flags(), writeConfig(t, content, 0o600)); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
	}
}
