package cmd

import (
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
)

// Live mode is per method: a shop with only Kakao Pay's keys sells with
// Kakao Pay (against its stand-in) and refuses Naver Pay when it is chosen,
// with one sentence naming the settings to set, exit 2, and no change.
func TestKakaoOnlyLiveShop(t *testing.T) {
	c := newCLI(t)
	c.seed()
	k := standin.NewKakao(t)
	cfg, _ := liveConfig(t, "", k) // no payment.naver section at all
	buyer := c.buyerApproves(1)
	r := c.run("--config", cfg, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	if r.code != 0 || !strings.Contains(r.out, "approve at http") || !strings.Contains(r.out, "paid with KAKAO") {
		t.Fatalf("a live Kakao order: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if err := <-buyer; err != nil {
		t.Fatal(err)
	}
	if got := c.query(`SELECT string_agg(method || ' ' || status, ',') FROM payment`); got != "KAKAO SUCCESS" {
		t.Fatalf("payments: %s", got)
	}

	before := c.snapshot()
	const refusal = "rabbitpay: Naver Pay is not configured for live payments: set payment.naver.client_id, payment.naver.client_secret, payment.naver.chain_id and payment.naver.partner_id\n"
	for _, args := range [][]string{
		{"order", "place", "--customer", "1", "--method", "NAVER", "--item", "A:1"},
		{"order", "place", "--customer", "1", "--method", "naver", "--item", "A:1", "--idempotency-key", "k-1", "-o", "json"},
	} {
		r = c.run(append([]string{"--config", cfg}, args...)...)
		if r.code != 2 || r.err != refusal || r.out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, r.code, r.out, r.err, refusal)
		}
	}
	if after := c.snapshot(); after != before {
		t.Fatalf("the refused Naver order changed the database:\n%s\n%s", before, after)
	}
	if n := c.query(`SELECT count(*) FROM idempotency_key`); n != "0" {
		t.Errorf("the refused order kept its idempotency key (%s rows)", n)
	}
	if probs := k.Problems(); len(probs) > 0 {
		t.Errorf("requests Kakao Pay would refuse: %v", probs)
	}
}
