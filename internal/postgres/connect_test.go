package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// connectErr opens url and runs the first query, as every command does, and
// returns the described error and how long it took.
func connectErr(t *testing.T, url string, opts ...postgres.Option) (string, time.Duration) {
	t.Helper()
	store, err := postgres.Open(url, 2, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", url, err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	_, err = store.SchemaCurrent(ctx)
	took := time.Since(start)
	if err == nil {
		t.Fatalf("%s: connected", url)
	}
	if !postgres.IsConnectError(err) {
		t.Fatalf("%s: not a connect error: %v", url, err)
	}
	msg := postgres.DescribeConnectError(err).Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, "failed to connect to `") {
		t.Fatalf("%s: not one clean sentence: %q", url, msg)
	}
	return msg, took
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	msg, _ := connectErr(t, "postgres://shop@127.0.0.1:1/shop")
	if msg != "cannot connect to 127.0.0.1:1: connection refused" {
		t.Fatalf("got %q", msg)
	}
}

// A server that accepts the TCP connection and never answers: the default
// timeout (here set to 1s) ends the attempt; without it, it hangs forever.
func TestListenerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := testdb.Unanswering(t) // accepts and never answers
	url := "postgres://shop@" + addr + "/shop"
	msg, took := connectErr(t, url, postgres.ConnectTimeout(time.Second))
	if want := "cannot connect to " + addr + ": timed out after 1s"; msg != want {
		t.Fatalf("got %q, want %q", msg, want)
	}
	if took > 30*time.Second {
		t.Fatalf("took %s", took)
	}

	// The URL's own connect_timeout wins over the default.
	msg, _ = connectErr(t, url+"?connect_timeout=2", postgres.ConnectTimeout(time.Hour))
	if !strings.HasSuffix(msg, "timed out after 2s") {
		t.Fatalf("URL connect_timeout: %q", msg)
	}
}

func TestUnknownHost(t *testing.T) {
	t.Parallel()
	msg, took := connectErr(t, "postgres://shop@nonexistent.invalid:5432/shop", postgres.ConnectTimeout(2*time.Second))
	// Without a resolver (an offline CI machine) the look-up fails differently,
	// but always names the host, within the timeout.
	if !strings.HasPrefix(msg, "cannot connect to nonexistent.invalid:5432: ") ||
		!(strings.HasSuffix(msg, "unknown host nonexistent.invalid") || strings.Contains(msg, "look")) {
		t.Fatalf("got %q", msg)
	}
	if took > 30*time.Second {
		t.Fatalf("took %s", took)
	}
	t.Log(msg)
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("shop_%d", time.Now().UnixNano())
	ctx := context.Background()
	if err := postgres.Exec(ctx, url, "CREATE ROLE "+role+" LOGIN PASSWORD 'right-one'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { postgres.Exec(ctx, url, "DROP ROLE IF EXISTS "+role) })

	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s password=wrong-one sslmode=disable", cc.Host, cc.Port, cc.Database, role)
	msg, _ := connectErr(t, dsn)
	if !strings.HasPrefix(msg, "cannot connect to ") || !strings.HasSuffix(msg, `password authentication failed for user "`+role+`"`) {
		t.Fatalf("got %q", msg)
	}
	if strings.Contains(msg, "wrong-one") {
		t.Fatalf("shows the password: %q", msg)
	}

	// The right password through a passfile written after the pool was made.
	pf := t.TempDir() + "/pgpass"
	store, err := postgres.Open(fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=disable passfile=%s", cc.Host, cc.Port, cc.Database, role, pf), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := os.WriteFile(pf, []byte("*:*:*:"+role+":right-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("password from a passfile written after Open: %v", err)
	}
}

func TestBadURLSaysWhy(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"postgres://shop:s3cret@db:99999/shop":  "database URL is not valid: invalid port",
		"host=db port=abc password=s3cret":      "database URL is not valid: invalid port",
		"postgres://u@db/x?connect_timeout=abc": `database URL is not valid: connect_timeout "abc" is not a whole number`,
		"postgres://db/shop?connect_timeout=x":  `database URL is not valid: connect_timeout "x" is not a whole number`,
	} {
		_, err := postgres.Open(url, 2)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "<nil>") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) = %v, want %q", url, err, want)
		}
	}
}

// The embedded cluster's URL names its password file; an operator's
// PGPASSWORD (meant for other servers) does not get in the way.
func TestURLPassfileBeatsPGPASSWORD(t *testing.T) {
	url := testdb.New(t)
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("shop_%d", time.Now().UnixNano())
	ctx := context.Background()
	if err := postgres.Exec(ctx, url, "CREATE ROLE "+role+" LOGIN PASSWORD 'right-one'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { postgres.Exec(ctx, url, "DROP ROLE IF EXISTS "+role) })
	pf := t.TempDir() + "/pgpass"
	os.WriteFile(pf, []byte("*:*:*:"+role+":right-one\n"), 0o600)
	t.Setenv("PGPASSWORD", "wrong-one")
	dsn := fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=disable passfile=%s", cc.Host, cc.Port, cc.Database, role, pf)
	if err := postgres.Exec(ctx, dsn, "SELECT 1"); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	store, err := postgres.Open(dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("pool: %v", err)
	}
}

// Words around a connect error (a saga step's "payment: ") stay, and pgx's
// multi-line text becomes the one sentence: it is not cut at its first line.
func TestWrappedConnectErrorDescribed(t *testing.T) {
	t.Parallel()
	store, err := postgres.Open("postgres://shop@127.0.0.1:1/shop", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = store.SchemaCurrent(context.Background())
	got := postgres.DescribeConnectError(fmt.Errorf("create_order: %w", err))
	if want := "create_order: cannot connect to 127.0.0.1:1: connection refused"; got.Error() != want || !postgres.IsConnectError(got) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
