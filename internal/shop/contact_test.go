package shop

import "testing"

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"010-1234-5678":       "010-1234-5678",
		"01012345678":         "010-1234-5678",
		"010 1234 5678":       "010-1234-5678",
		"+82 10-1234-5678":    "010-1234-5678",
		"+82 (0)10 1234 5678": "010-1234-5678",
		"+821012345678":       "010-1234-5678",
		"011-123-4567":        "011-123-4567",
		"02-123-4567":         "02-123-4567",
		"(02) 1234-5678":      "02-1234-5678",
		"+82 2 1234 5678":     "02-1234-5678",
		"031.123.4567":        "031-123-4567",
		"064-1234-5678":       "064-1234-5678",
		"070-1234-5678":       "070-1234-5678",
		"1588-1234":           "1588-1234",
	} {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "12345", "010-123-4567", "020-1234-5678", "039-123-4567", "+1 415 555 0100", "010-1234-567a", "1234-5678"} {
		if got, err := NormalizePhone(bad); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want a refusal", bad, got)
		}
	}
	if got := MaskPhone("010-1234-5678"); got != "010-****-5678" {
		t.Errorf("MaskPhone: %q", got)
	}
	if got := MaskPhone("02-123-4567"); got != "02-***-4567" {
		t.Errorf("MaskPhone: %q", got)
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got, err := NormalizeEmail(" Tokki@Example.COM "); err != nil || got != "Tokki@example.com" {
		t.Errorf("NormalizeEmail: %q %v", got, err)
	}
	for _, bad := range []string{"tokki", "tokki@", "@example.com", "to kki@example.com", "tokki@example", "a@b@example.com"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestBookAddressNormalized(t *testing.T) {
	a, err := BookAddress{Recipient: " 김토끼 ", Phone: "+82 10 1234 5678", ZipCode: "04524", Line1: " 서울 중구 세종대로 110 ", Memo: "문 앞에 놓아 주세요"}.Normalized()
	if err != nil || a.Recipient != "김토끼" || a.Phone != "010-1234-5678" || a.Line1 != "서울 중구 세종대로 110" {
		t.Fatalf("%+v %v", a, err)
	}
	for name, bad := range map[string]BookAddress{
		"no recipient": {Phone: "010-1234-5678", ZipCode: "04524", Line1: "서울"},
		"bad phone":    {Recipient: "김", Phone: "123", ZipCode: "04524", Line1: "서울"},
		"bad zip":      {Recipient: "김", Phone: "010-1234-5678", ZipCode: "4524", Line1: "서울"},
	} {
		if _, err := bad.Normalized(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
