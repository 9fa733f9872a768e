package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, IO{In: &bytes.Buffer{}, Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

// db status and every error hide each password form.
func TestPasswordsNeverShown(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://bob:s3cret@127.0.0.1:1/x",
		"postgres://bob@127.0.0.1:1/x?password=s3cret",
		"host=127.0.0.1 port=1 user=bob password=s3cret dbname=x",
		"host=127.0.0.1 port=1 user=bob password='s3 cret' dbname=x",
	} {
		// Nothing answers there: db status fails with the reason, the password in neither stream.
		out, serr, code := runCLI("--database-url", url, "db", "status", "-o", "json")
		if code != ExitFailure || strings.Contains(out+serr, "s3") || !strings.Contains(serr, "connection refused") {
			t.Errorf("db status with %s: exit %d %s %s", url, code, out, serr)
		}
		_, serr, code = runCLI("--database-url", url, "product", "list")
		if code != ExitFailure || strings.Contains(serr, "s3") || !strings.HasPrefix(serr, "rabbitpay: cannot connect to 127.0.0.1:1: connection refused") {
			t.Errorf("product list with %s: exit %d %q", url, code, serr)
		}
	}
	// A bad port names the problem, not "<nil>", hides the password, and is bad input (exit 2).
	_, serr, code := runCLI("--database-url", "postgres://bob:s3cret@db:99999/x", "product", "list")
	if code != ExitUsage || strings.Contains(serr, "s3cret") || strings.Contains(serr, "<nil>") || !strings.Contains(serr, "database URL is not valid: invalid port") {
		t.Errorf("bad port: exit %d %q", code, serr)
	}
}

// connect_timeout from the environment bounds a server that accepts and never answers.
func TestConnectTimeoutFromEnvironment(t *testing.T) {
	addr := testdb.Unanswering(t) // accepts and never answers
	t.Setenv("RABBITPAY_CONNECT_TIMEOUT", "1s")
	start := time.Now()
	_, serr, code := runCLI("--database-url", "postgres://shop@"+addr+"/shop", "product", "list")
	want := "rabbitpay: cannot connect to " + addr + ": timed out after 1s (check --database-url)\n"
	if code != ExitFailure || serr != want {
		t.Fatalf("exit %d, stderr %q, want %q", code, serr, want)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("took %s", took)
	}
}

// A config file planted by another user is refused before anything runs;
// failpoints in a file are refused; from the environment they warn.
func TestPlantedConfigRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "rabbitpay.yaml")
	os.WriteFile(file, []byte("payment:\n  sandbox:\n    decline_over: 1\n"), 0o600)
	if os.Geteuid() == 0 {
		os.Chown(file, 65534, 65534)
		_, serr, code := runCLI("--config", file, "--database-url", "postgres://x@127.0.0.1:1/x", "product", "list")
		if code != ExitUsage || !strings.Contains(serr, "config file "+file+" belongs to user nobody") || strings.Count(serr, "\n") != 1 {
			t.Fatalf("file owned by nobody: exit %d %q", code, serr)
		}
		os.Chown(file, 0, 0)
	}
	os.Chmod(file, 0o666)
	_, serr, code := runCLI("--config", file, "--database-url", "postgres://x@127.0.0.1:1/x", "product", "list")
	if code != ExitUsage || !strings.Contains(serr, "can be changed by other users (mode 0666)") {
		t.Fatalf("0666 file: exit %d %q", code, serr)
	}
	os.WriteFile(file, []byte("failpoints: after_payment=crash\n"), 0o600)
	os.Chmod(file, 0o600)
	_, serr, code = runCLI("--config", file, "--database-url", "postgres://x@127.0.0.1:1/x", "product", "list")
	if code != ExitUsage || !strings.Contains(serr, "only the RABBITPAY_FAILPOINTS environment variable may set") {
		t.Fatalf("failpoints in a file: exit %d %q", code, serr)
	}
}

func TestFailpointsFromEnvironmentWarn(t *testing.T) {
	t.Setenv("RABBITPAY_FAILPOINTS", "payment=error")
	_, serr, _ := runCLI("--database-url", "postgres://x@127.0.0.1:1/x", "product", "list")
	if !strings.HasPrefix(serr, "rabbitpay: warning: failpoints are on (RABBITPAY_FAILPOINTS=payment=error)") {
		t.Fatalf("stderr %q", serr)
	}
}

// An interactive command gives up after command_timeout when the database
// stops answering (here: a table lock held elsewhere), with one clear line.
func TestCommandTimeout(t *testing.T) {
	c := newCLI(t)
	c.seed()
	conn, err := pgx.Connect(context.Background(), testdb.Direct(t, c.url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "LOCK TABLE product IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	_, serr, code := rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + c.url, "RABBITPAY_COMMAND_TIMEOUT=1s"}, "product", "list")
	if code != ExitFailure || !strings.Contains(serr, "gave up after 1s (command_timeout)") {
		t.Fatalf("exit %d, %q", code, serr)
	}
}

// Migrating runs to its end even when the command's deadline passes while it
// waits: cut short, a long migration would roll back on every command.
func TestMigrationOutlivesCommandTimeout(t *testing.T) {
	t.Parallel()
	direct := testdb.Direct(t, testdb.Empty(t))
	conn, err := pgx.Connect(context.Background(), direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const ternLock = 9628173550095224 // tern's migration lock: the migration waits for it
	if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_lock($1)", int64(ternLock)); err != nil {
		t.Fatal(err)
	}
	type exit struct {
		stderr string
		code   int
	}
	done := make(chan exit, 1)
	go func() {
		_, serr, code := rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + direct, "RABBITPAY_COMMAND_TIMEOUT=500ms"}, "product", "list")
		done <- exit{serr, code}
	}()
	// Unlock once the command's migration has waited for the lock past its 500ms deadline (by the server's clock).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var waited bool
		if err := conn.QueryRow(context.Background(), `SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			WHERE l.locktype = 'advisory' AND NOT l.granted AND a.query_start < now() - interval '1 s')`).Scan(&waited); err != nil {
			t.Fatal(err)
		}
		if waited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command never waited for the migration lock")
		}
	}
	if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(ternLock)); err != nil {
		t.Fatal(err)
	}
	// The command gives up (its deadline passed) and says so; its migration committed all the same.
	if e := <-done; e.code != 1 || !strings.Contains(e.stderr, "gave up after 500ms") {
		t.Errorf("the command that timed out while migrating: exit %d, stderr %q", e.code, e.stderr)
	}
	var v int32
	if err := conn.QueryRow(context.Background(), "SELECT version FROM schema_version").Scan(&v); err != nil || v < 4 {
		t.Fatalf("schema %d after a command that timed out while migrating (%v)", v, err)
	}
}
