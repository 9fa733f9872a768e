package postgres_test

import (
	"fmt"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// With a multi-host URL, the error names every server tried and why it was
// not used, in one sentence: a refused connection, a read-only standby, a
// timeout, a refused login (which ends the attempts, as in libpq).
func TestConnectErrorNamesEveryHost(t *testing.T) {
	t.Parallel()
	p := testdb.StartPair(t)
	primary := fmt.Sprintf("127.0.0.1:%d", p.Primary.Port)
	standby := fmt.Sprintf("127.0.0.1:%d", p.Standby.Port)
	url := p.URL("postgres")

	wrong, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	wrong.User = neturl.UserPassword("postgres", "wrong-one")
	msg, _ := connectErr(t, wrong.String())
	if want := "cannot connect to any of its servers: " + primary + ` refused the login: password authentication failed for user "postgres"; ` +
		standby + " was not tried"; msg != want {
		t.Errorf("wrong password:\n got %q\nwant %q", msg, want)
	}

	addr := testdb.Unanswering(t) // accepts and never answers
	msg, _ = connectErr(t, strings.Replace(url, primary, addr, 1), postgres.ConnectTimeout(time.Second))
	if want := "cannot connect to a writable server: " + addr + " timed out after 1s; " + standby + " is a read-only standby"; msg != want {
		t.Errorf("a silent first host:\n got %q\nwant %q", msg, want)
	}

	p.Primary.Crash(t)
	want := "cannot connect to a writable server: " + primary + " refused the connection; " + standby + " is a read-only standby"
	// sslmode=prefer (the default) tries each host twice, with TLS and without: still one clause per host.
	for _, u := range []string{url, strings.Replace(url, "sslmode=disable&", "", 1)} {
		if msg, _ := connectErr(t, u); msg != want {
			t.Errorf("primary down, standby not promoted (%s):\n got %q\nwant %q", u, msg, want)
		}
	}
}
