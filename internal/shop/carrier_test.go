package shop

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCarrier(t *testing.T) {
	for in, want := range map[string]string{
		"CJ대한통운": "CJ대한통운", "kr.cjlogistics": "CJ대한통운", "cj": "CJ대한통운", "CJ Logistics": "CJ대한통운",
		"우체국": "우체국택배", "EPOST": "우체국택배", " 한진택배 ": "한진택배", "lotte": "롯데택배", "로젠": "로젠택배",
		"other:동네택배": "동네택배",
	} {
		if got, err := ParseCarrier(in); err != nil || got != want {
			t.Errorf("ParseCarrier(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"CJ대한통원":       "did you mean CJ대한통운?",
		"hanjn":        "did you mean 한진택배?",
		"동네택배":         "write other:NAME for another",
		"other:":       "other: needs the carrier's name",
		"other:CJ대한통운": "is a carrier rabbitpay knows: write CJ대한통운",
	} {
		if _, err := ParseCarrier(in); err == nil || !strings.Contains(err.Error(), msg) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCarrier(%q): %v; want bad input saying %q", in, err, msg)
		}
	}
}

func TestCheckWaybill(t *testing.T) {
	for _, c := range []struct{ carrier, in, want, msg string }{
		{"CJ대한통운", "6012-3456-7890", "601234567890", ""},
		{"CJ대한통운", "6012345678", "6012345678", ""},
		{"CJ대한통운", "6012", "", "is not a CJ대한통운 waybill number: 10 or 12 digits"},
		{"우체국택배", "6865123456789", "6865123456789", ""},
		{"우체국택배", "1865123456789", "", "13 digits starting with 6 or 7"},
		{"롯데택배", "1234-5678-9013", "123456789013", ""}, // 12345678901 mod 7 = 3
		{"롯데택배", "123456789014", "", "the last a check digit"},
		{"동네택배", "ABC-1", "ABC-1", ""}, // a carrier rabbitpay does not know takes any number
	} {
		got, err := CheckWaybill(c.carrier, c.in)
		switch {
		case c.msg == "" && (err != nil || got != c.want):
			t.Errorf("CheckWaybill(%s, %s) = %q, %v; want %q", c.carrier, c.in, got, err, c.want)
		case c.msg != "" && (err == nil || !strings.Contains(err.Error(), c.msg)):
			t.Errorf("CheckWaybill(%s, %s): %v; want %q", c.carrier, c.in, err, c.msg)
		}
	}
	if got := TrackingURL("CJ대한통운", "601234567890"); got != "https://trace.cjlogistics.com/next/tracking.html?wblNo=601234567890" {
		t.Errorf("CJ tracking URL %q", got)
	}
	if got := TrackingURL("동네택배", "1"); got != "" {
		t.Errorf("an unknown carrier's tracking URL %q", got)
	}
	for _, c := range Carriers {
		if !strings.HasPrefix(c.Track, "http") || strings.Count(c.Track, "%s") != 1 || c.Shape == "" {
			t.Errorf("carrier %s: tracking URL %q, shape %q", c.Code, c.Track, c.Shape)
		}
	}
}
