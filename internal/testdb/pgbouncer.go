package testdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PoolerEnv is the switch that puts PgBouncer in front of the test server:
// with RABBITPAY_TEST_PGBOUNCER=1, testdb starts pgbouncer in transaction
// pooling mode and New and Empty return URLs that go through it, while
// creating, cloning and dropping databases still goes straight to the server.
// Set but pgbouncer missing is a failure, never a skip.
const PoolerEnv = "RABBITPAY_TEST_PGBOUNCER"

// PoolerURLParams are the connection settings rabbitpay needs behind a
// transaction pooler (README, "Behind a connection pooler"); every URL
// through the test PgBouncer carries them, so the tests check what the README
// tells operators to do.
const PoolerURLParams = "default_query_exec_mode=exec"

// poolerPort names pgbouncer's socket file (.s.PGSQL.<poolerPort>); it opens no TCP port.
const poolerPort = 6432

// bouncer is a running pgbouncer in front of the test server.
type bouncer struct {
	dir     string // config, log and socket dir, owned by the unprivileged user
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// pooled reports whether PoolerEnv asks for PgBouncer.
func pooled() (bool, error) {
	switch v := os.Getenv(PoolerEnv); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want 1 or 0", PoolerEnv, v)
	}
}

// serverLine is pgbouncer's [databases] wildcard: every database name a
// client asks for is opened on the test server with the admin URL's
// credentials. This is the one place that says how pgbouncer logs in to the
// server; clients log in to pgbouncer without checks (auth_type = any), which
// is enough for a private socket in a test.
func serverLine(adminURL string) (string, error) {
	cfg, err := pgconn.ParseConfig(adminURL)
	if err != nil {
		return "", fmt.Errorf("admin URL: %w", err)
	}
	q := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	line := fmt.Sprintf("* = host=%s port=%d user=%s", q(cfg.Host), cfg.Port, q(cfg.User))
	if cfg.Password != "" {
		line += " password=" + q(cfg.Password)
	}
	return line, nil
}

// findPgBouncer finds the pgbouncer binary: PATH, then Debian's /usr/sbin.
func findPgBouncer() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/usr/local/bin/pgbouncer"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s=1 but pgbouncer was not found on PATH or in /usr/sbin: install it (Debian/Ubuntu: apt-get install pgbouncer) or unset %s", PoolerEnv, PoolerEnv)
}

// startBouncer starts pgbouncer under dir in front of the server at adminURL
// and waits until it accepts connections.
func startBouncer(ctx context.Context, dir, adminURL string) (*bouncer, error) {
	bin, err := findPgBouncer()
	if err != nil {
		return nil, err
	}
	line, err := serverLine(adminURL)
	if err != nil {
		return nil, err
	}
	b := &bouncer{dir: dir, exited: make(chan struct{})}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`; rabbitpay tests: PgBouncer in transaction pooling mode in front of the test server
[databases]
%s

[pgbouncer]
pool_mode = transaction
listen_addr =
listen_port = %d
unix_socket_dir = %s
auth_type = any
logfile = %s
pidfile =
; PgBouncer's defaults otherwise: like a stock install, it refuses startup
; parameters it does not track (ignore_startup_parameters is empty) and keeps
; no prepared statements across transactions.
max_client_conn = 2000
default_pool_size = 20
max_db_connections = 30
server_login_retry = 1
`, line, poolerPort, dir, filepath.Join(dir, "pgbouncer.log"))
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	owner, err := unprivileged()
	if err != nil {
		return nil, err
	}
	b.cmd = exec.Command(bin, ini)
	b.cmd.Dir = dir
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if owner != nil {
		uid, _ := strconv.ParseUint(owner.Uid, 10, 32)
		gid, _ := strconv.ParseUint(owner.Gid, 10, 32)
		for _, p := range []string{dir, ini} {
			if err := os.Chown(p, int(uid), int(gid)); err != nil {
				return nil, fmt.Errorf("hand %s to user %s: %w", p, owner.Username, err)
			}
		}
		b.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	var out strings.Builder
	b.cmd.Stdout, b.cmd.Stderr = &out, &out
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pgbouncer: %w", err)
	}
	go func() { b.waitErr = b.cmd.Wait(); close(b.exited) }()

	probe := b.url("postgres")
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-b.exited:
			return nil, fmt.Errorf("pgbouncer exited at start: %v: %s %s", b.waitErr, strings.TrimSpace(out.String()), b.logTail())
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pctx, probe)
		if err == nil {
			err = conn.Ping(pctx)
			conn.Close(pctx)
		}
		cancel()
		if err == nil {
			return b, nil
		}
		if time.Now().After(deadline) {
			b.stop()
			return nil, fmt.Errorf("pgbouncer did not accept connections within 15 s: %v %s", err, b.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// url is the URL of database name through pgbouncer, with PoolerURLParams.
func (b *bouncer) url(name string) string {
	return fmt.Sprintf("postgres://rabbitpay@/%s?host=%s&port=%d&sslmode=disable&%s",
		url.PathEscape(name), url.QueryEscape(b.dir), poolerPort, PoolerURLParams)
}

// stop shuts pgbouncer down at once (SIGTERM) and waits for it.
func (b *bouncer) stop() {
	if b == nil || b.cmd == nil || b.cmd.Process == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
}

func (b *bouncer) logTail() string {
	data, err := os.ReadFile(filepath.Join(b.dir, "pgbouncer.log"))
	if err != nil {
		return ""
	}
	l := strings.Split(strings.TrimSpace(string(data)), "\n")
	return "(pgbouncer log: " + strings.Join(l[max(0, len(l)-10):], " | ") + ")"
}

// unprivileged returns the user pgbouncer runs as when we are root (it
// refuses to run as root): the one the test cluster runs as. Nil otherwise.
func unprivileged() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
	}
	return nil, errors.New("running as root, and pgbouncer refuses to: no unprivileged user (postgres or nobody) exists to run it as")
}

// PoolerFor gives a test that runs its own server (at adminURL) the same
// treatment as New: when the suite runs through PgBouncer it starts one of
// the test's own under dir, and the returned function gives a database's URL
// through it; otherwise it gives the direct URL.
func PoolerFor(t testing.TB, dir, adminURL string) func(db string) string {
	t.Helper()
	if !Pooled() {
		return func(db string) string { return withDB(adminURL, db) }
	}
	b, err := startBouncer(context.Background(), dir, adminURL)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(b.stop)
	return b.url
}
