package notify

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The Standard Webhooks reference vector (from the specification's own
// libraries' tests): the same secret, id, timestamp and body sign the same.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, _ := ParseSecret(secret)
	body := []byte(`{"id":"ntf_1"}`)
	now := time.Now().Unix()
	h := http.Header{}
	h.Set("webhook-id", "ntf_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	h.Set("webhook-signature", "v1,bm90IGl0 "+Sign(key, "ntf_1", now, body))
	if err := Verify(secret, h, body, time.Minute); err != nil {
		t.Fatalf("a good delivery: %v", err)
	}
	if err := Verify(secret, h, []byte(`{"id":"ntf_2"}`), time.Minute); err == nil {
		t.Fatal("a changed body verified")
	}
	h.Set("webhook-timestamp", strconv.FormatInt(now-3600, 10))
	if err := Verify(secret, h, body, time.Minute); err == nil {
		t.Fatal("an old delivery verified")
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ="} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}
