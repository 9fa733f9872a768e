package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// rabbitpayProcess runs rabbitpay as a separate process (this test binary
// re-executing cmd.Main) with the given environment additions.
func rabbitpayProcess(env []string, args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1", "RABBITPAY_DATABASE_URL="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		code = -1
	}
	return out.String(), errb.String(), code
}

func TestEmbeddedDefaultStartsOnceAndRestarts(t *testing.T) {
	t.Parallel()
	// Under the system temp dir: as root the cluster runs as an unprivileged
	// user, who cannot enter t.TempDir()'s 0700 parent.
	parent, err := os.MkdirTemp("", "rpembedded-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	os.Chmod(parent, 0o755)
	dir := filepath.Join(parent, "data")
	cluster, err := localpg.New(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop() })
	env := []string{"RABBITPAY_DATA_DIR=" + dir}

	// Two first commands at the same moment on a fresh data dir share one cluster.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]string, 2)
	for i := range 2 {
		wg.Go(func() {
			_, errs[i], codes[i] = rabbitpayProcess(env, "product", "register", "--sku", "S-"+string(rune('A'+i)),
				"--name", "토끼", "--price", "1000", "--stock", "3")
		})
	}
	wg.Wait()
	for i := range 2 {
		if codes[i] != 0 {
			t.Fatalf("concurrent first command %d: exit %d: %s", i, codes[i], errs[i])
		}
	}
	// Directories opened while the cluster runs are made private again by the next command.
	for _, d := range []string{dir, cluster.SocketDir()} {
		os.Chmod(d, 0o777)
	}
	if _, serr, code := rabbitpayProcess(env, "product", "list"); code != 0 {
		t.Fatalf("product list: exit %d %s", code, serr)
	}
	for _, d := range []string{dir, cluster.SocketDir()} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s not made private again: %v %v", d, fi.Mode(), err)
		}
	}
	var st dbStatus
	out, serr, code := rabbitpayProcess(env, "db", "status", "-o", "json")
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Running || st.Mode != "embedded" || st.SchemaVersion == nil || *st.SchemaVersion != st.SchemaTarget {
		t.Fatalf("db status: exit %d %s %s", code, out, serr)
	}
	// A new embedded cluster classifies characters as UTF-8, so Korean search uses the trigram index.
	if st.CType != "C.UTF-8" || st.KoreanSearchIndexed == nil || !*st.KoreanSearchIndexed || strings.Contains(serr, "LC_CTYPE") {
		t.Errorf("db status on a new embedded cluster: ctype %q, korean search indexed %v, stderr %s", st.CType, st.KoreanSearchIndexed, serr)
	}

	if out, serr, code := rabbitpayProcess(env, "db", "stop", "-o", "json"); code != 0 || cluster.Running() || !strings.Contains(out, `"was_running": true`) {
		t.Fatalf("db stop: exit %d %s %s; running=%v", code, out, serr, cluster.Running())
	}
	// Stopped: the database's schema is unknown, the binary's is still said.
	out, serr, code = rabbitpayProcess(env, "db", "status", "-o", "json")
	st = dbStatus{}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Running || st.SchemaVersion != nil || st.SchemaTarget < 4 {
		t.Fatalf("db status while stopped: exit %d %s %s", code, out, serr)
	}
	out, serr, code = rabbitpayProcess(env, "product", "list", "-o", "json")
	var ps []productJSON
	if code != 0 || json.Unmarshal([]byte(out), &ps) != nil || len(ps) != 2 {
		t.Fatalf("after restart: exit %d, products %s %s", code, out, serr)
	}

	// db url holds no password, and psql gets in with it (it names the password file).
	url, serr, code := rabbitpayProcess(env, "db", "url")
	url = strings.TrimSpace(url)
	if code != 0 || !strings.Contains(url, "passfile=") {
		t.Fatalf("db url: exit %d %q %s", code, url, serr)
	}
	if pw, err := os.ReadFile(cluster.PassFile()); err != nil || strings.Contains(url, strings.TrimSpace(string(pw))[len("*:*:*:postgres:"):]) {
		t.Fatalf("db url %q shows the password (or no password file: %v)", url, err)
	}
	bin, err := localpg.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(bin, "psql"), "-X", "-w", "-Atc", "SELECT 1", url).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("psql with db url: %v %s", err, out)
	}

	// An operator's PGPASSWORD (for other servers) does not stop the embedded
	// cluster's password file from being used, by the store or the payment sandbox.
	pw := append(env, "PGPASSWORD=for-another-server")
	if _, serr, code := rabbitpayProcess(pw, "customer", "register", "--name", "김토끼"); code != 0 {
		t.Fatalf("customer register: exit %d %s", code, serr)
	}
	if out, serr, code := rabbitpayProcess(pw, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "S-A:1"); code != 0 {
		t.Fatalf("order place with PGPASSWORD set: exit %d %s %s", code, out, serr)
	}
}

func TestNoDatabaseIsOneClearError(t *testing.T) {
	t.Parallel()
	var errb bytes.Buffer
	code := Run(context.Background(), []string{"--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", "product", "list"},
		IO{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, Err: &errb})
	if code != ExitFailure || errb.String() != "rabbitpay: cannot connect to 127.0.0.1:1: connection refused (check --database-url)\n" {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestDBStatusHidesThePassword(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	// Nothing answers there: a failure with the reason (exit 1), the password in neither stream.
	code := Run(context.Background(), []string{"--database-url", "postgres://bob:s3cret@127.0.0.1:1/x?connect_timeout=1", "db", "status", "-o", "json"},
		IO{In: &bytes.Buffer{}, Out: &out, Err: &errb})
	if code != ExitFailure || bytes.Contains(out.Bytes(), []byte("s3cret")) || bytes.Contains(errb.Bytes(), []byte("s3cret")) ||
		!bytes.Contains(errb.Bytes(), []byte("connection refused")) {
		t.Fatalf("db status: exit %d %s %s", code, out.String(), errb.String())
	}
}

// A server that refuses rabbitpay (a wrong password) is up: db status says it
// was refused, and fails, instead of "running false".
func TestDBStatusSaysTheServerRefused(t *testing.T) {
	c := newCLI(t)
	// To the server itself: the tests' PgBouncer does not check passwords.
	c.url = testdb.Direct(t, c.url) + "&password=WRONG-PASSWORD"
	r := c.run("db", "status")
	if r.code != ExitFailure || strings.Contains(r.out, "false") || !strings.Contains(r.err, "running but refused the connection") ||
		!strings.Contains(r.err, "password authentication failed") || strings.Contains(r.err, "WRONG-PASSWORD") {
		t.Fatalf("db status with a wrong password: exit %d\nstdout %q\nstderr %q", r.code, r.out, r.err)
	}
}

// Another database's URL is refused as such, not as unreadable key=value settings.
func TestOnlyPostgreSQLURLs(t *testing.T) {
	c := newCLI(t)
	for _, url := range []string{"mysql://root:s3cret@localhost:3306/shop", "sqlite:///var/lib/shop.db"} {
		c.url = url
		for _, args := range [][]string{{"product", "list"}, {"db", "status"}, {"db", "migrate"}} {
			r := c.run(args...)
			if r.code != ExitUsage || !strings.Contains(r.err, "rabbitpay speaks only PostgreSQL, so give a postgres:// or postgresql:// URL") ||
				strings.Contains(r.err, "s3cret") || strings.Contains(r.err, "keyword/value") {
				t.Errorf("%s with %s: exit %d, stderr %q", strings.Join(args, " "), url, r.code, r.err)
			}
		}
	}
}
