package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
)

// Pair is a primary and a synchronous hot standby streaming from it, each on
// a free TCP port on 127.0.0.1, as a managed PostgreSQL with failover is: the
// failover harness. Both run as the tests' cluster user (PostgreSQL refuses
// root) with the superuser's random password (scram-sha-256). They commit
// durably towards each other (synchronous_commit on, the standby named by
// synchronous_standby_names) but skip fsync: the tests crash processes, never
// the machine, so the kernel keeps what was written.
type Pair struct {
	Primary, Standby *Node
	dir, password    string
}

// Node is one server of a Pair.
type Node struct {
	Name string // "primary" or "standby"
	Port int
	pair *Pair
}

// StartPair starts a primary, takes a base backup of it with
// `pg_basebackup -R` for the standby, starts the standby, and only then makes
// it synchronous (synchronous_standby_names = '*': named before the standby is
// up, every commit would wait for it). Everything stops and is removed when t
// ends.
func StartPair(t testing.TB) *Pair {
	t.Helper()
	p, err := startPair(context.Background())
	if p != nil {
		t.Cleanup(p.stop)
	}
	if err != nil {
		t.Fatalf("testdb: failover pair: %v", err)
	}
	return p
}

func startPair(ctx context.Context) (*Pair, error) {
	dir, err := os.MkdirTemp("", "rpha-") // not t.TempDir: the cluster's user must reach it
	if err != nil {
		return nil, err
	}
	var raw [18]byte
	rand.Read(raw[:])
	p := &Pair{dir: dir, password: hex.EncodeToString(raw[:])}
	p.Primary, p.Standby = &Node{Name: "primary", pair: p}, &Node{Name: "standby", pair: p}
	for _, n := range []*Node{p.Primary, p.Standby} {
		if n.Port, err = freePort(); err != nil {
			return p, err
		}
	}
	if err := p.chown(dir); err != nil {
		return p, err
	}
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(p.password+"\n"), 0o600); err != nil {
		return p, err
	}
	if err := p.chown(pwfile); err != nil {
		return p, err
	}
	if err := p.run("initdb", "-D", p.Primary.pgdata(), "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"); err != nil {
		return p, err
	}
	os.Remove(pwfile)
	hba := "host all all 127.0.0.1/32 scram-sha-256\nhost replication all 127.0.0.1/32 scram-sha-256\n"
	hbaFile := filepath.Join(p.Primary.pgdata(), "pg_hba.conf")
	if err := os.WriteFile(hbaFile, []byte(hba), 0o600); err != nil {
		return p, err
	}
	if err := p.chown(hbaFile); err != nil {
		return p, err
	}
	if err := localpg.AppendFile(filepath.Join(p.Primary.pgdata(), "postgresql.conf"), fmt.Sprintf(`
# rabbitpay tests: the failover harness's primary (TCP on loopback only)
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = ''
fsync = off
full_page_writes = off
synchronous_commit = on
max_connections = 60
wal_keep_size = '256MB'
`, p.Primary.Port)); err != nil {
		return p, err
	}
	if err := p.Primary.start(); err != nil {
		return p, err
	}
	if err := p.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Primary.Port), "-U", "postgres",
		"-D", p.Standby.pgdata(), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		return p, err
	}
	// The copy's postgresql.conf names the primary's port; a later line wins.
	if err := localpg.AppendFile(filepath.Join(p.Standby.pgdata(), "postgresql.conf"),
		fmt.Sprintf("\n# the standby\nport = %d\n", p.Standby.Port)); err != nil {
		return p, err
	}
	if err := p.Standby.start(); err != nil {
		return p, err
	}
	// Synchronous only now that the standby streams; then wait until it is the sync one.
	if err := p.Primary.Exec(ctx, "ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"); err != nil {
		return p, err
	}
	return p, p.Primary.waitFor(ctx, "SELECT count(*) = 1 FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'")
}

// URL is the multi-host URL of database db that finds whichever node takes
// writes (target_session_attrs=read-write), as README's "High availability" says.
func (p *Pair) URL(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write",
		p.password, p.Primary.Port, p.Standby.Port, db)
}

// URL is the URL of database db on this node alone.
func (n *Node) URL(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", n.pair.password, n.Port, db)
}

// Crash stops the node as a crash would: `pg_ctl stop -m immediate` (no
// checkpoint; sessions cut mid-statement).
func (n *Node) Crash(t testing.TB) {
	t.Helper()
	if err := n.pair.run("pg_ctl", "-D", n.pgdata(), "stop", "-m", "immediate", "-w"); err != nil {
		t.Fatalf("testdb: crash the %s: %v", n.Name, err)
	}
}

// Promote makes the standby a primary (`pg_ctl promote`, waiting until it
// takes writes) and clears synchronous_standby_names there: with no standby
// of its own, a promoted node that kept it would make every commit wait.
func (n *Node) Promote(t testing.TB) {
	t.Helper()
	if err := n.pair.run("pg_ctl", "-D", n.pgdata(), "promote", "-w", "-t", "60"); err != nil {
		t.Fatalf("testdb: promote the %s: %v", n.Name, err)
	}
	if err := n.Exec(context.Background(), "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()"); err != nil {
		t.Fatalf("testdb: promote the %s: %v", n.Name, err)
	}
}

// WaitReplayed waits until the standby has replayed everything the primary
// has written so far. Synchronous replication waits for the standby to
// flush a commit, not to apply it, so a read on the standby right after a
// write (a migration, say) may not see it yet.
func (p *Pair) WaitReplayed(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.Primary.URL("postgres"))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	var lsn string
	err = conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn)
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := p.Standby.waitFor(ctx, fmt.Sprintf("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn)); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// Exec runs statements on the node's postgres database, one by one.
func (n *Node) Exec(ctx context.Context, stmts ...string) error {
	conn, err := pgx.Connect(ctx, n.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s on the %s: %w", s, n.Name, err)
		}
	}
	return nil
}

// waitFor polls a boolean query on the node until it is true (at most 60 s).
func (n *Node) waitFor(ctx context.Context, query string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		conn, err := pgx.Connect(ctx, n.URL("postgres"))
		if err == nil {
			err = conn.QueryRow(ctx, query).Scan(&ok)
			conn.Close(ctx)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s: not true within 60 s: %s (%v)", n.Name, query, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *Node) pgdata() string  { return filepath.Join(n.pair.dir, n.Name) }
func (n *Node) logFile() string { return filepath.Join(n.pair.dir, n.Name+".log") }

func (n *Node) start() error {
	return n.pair.run("pg_ctl", "-D", n.pgdata(), "start", "-w", "-t", "60", "-l", n.logFile())
}

// run runs one of PostgreSQL's programs as the cluster's user, with the
// superuser's password in its environment.
func (p *Pair) run(prog string, args ...string) error {
	_, err := p.output(prog, args...)
	return err
}

// output runs prog (one of PostgreSQL's programs, or another by its path) as
// run does and returns what it printed.
func (p *Pair) output(prog string, args ...string) (string, error) {
	if !filepath.IsAbs(prog) {
		bin, err := localpg.FindBinDir()
		if err != nil {
			return "", err
		}
		prog = filepath.Join(bin, prog)
	}
	cmd := exec.Command(prog, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.password, "PGAPPNAME=rpha")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C at the terminal reaches the test, not the servers
	owner, err := unprivileged()
	if err != nil {
		return "", err
	}
	if owner != nil {
		uid, _ := strconv.ParseUint(owner.Uid, 10, 32)
		gid, _ := strconv.ParseUint(owner.Gid, 10, 32)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = append(cmd.Env, "HOME="+p.dir)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", filepath.Base(prog), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// chown hands path to the cluster's user when we are root.
func (p *Pair) chown(path string) error {
	owner, err := unprivileged()
	if err != nil || owner == nil {
		return err
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	return os.Chown(path, uid, gid)
}

// stop stops both servers at once and removes everything.
func (p *Pair) stop() {
	for _, n := range []*Node{p.Primary, p.Standby} {
		if n != nil {
			if _, err := os.Stat(filepath.Join(n.pgdata(), "postmaster.pid")); err == nil {
				p.run("pg_ctl", "-D", n.pgdata(), "stop", "-m", "immediate", "-w")
			}
		}
	}
	os.RemoveAll(p.dir)
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
