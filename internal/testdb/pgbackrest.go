package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
)

// BackRestEnv names the switch that makes the pgBackRest tests required:
// with RABBITPAY_TEST_PGBACKREST=1 (CI sets it, and installs pgbackrest) a
// missing pgbackrest fails them; without it they skip, saying so.
const BackRestEnv = "RABBITPAY_TEST_PGBACKREST"

// Archived is a PostgreSQL server (TCP on loopback for rabbitpay, a Unix
// socket for pgBackRest) whose WAL pgBackRest archives, set up as README's
// "Backups and restore" says: its pgbackrest.conf and archive_command.
type Archived struct {
	*Node
	pair *Pair
	// Conf is the pgbackrest.conf; its stanza is "shop".
	Conf string
}

// BackRestConf is the configuration README shows, for a server whose data
// dir, socket dir and port are given, with the repository, lock and log
// dirs under dir.
func BackRestConf(dir, pgdata, socket string, port int) string {
	return fmt.Sprintf(`[global]
repo1-path=%s
repo1-retention-full=2
start-fast=y
lock-path=%s
log-path=%s
spool-path=%s

[shop]
pg1-path=%s
pg1-socket-path=%s
pg1-port=%d
pg1-user=postgres
`, filepath.Join(dir, "repo"), filepath.Join(dir, "lock"), filepath.Join(dir, "log"), filepath.Join(dir, "spool"), pgdata, socket, port)
}

// StartArchived starts a server archiving its WAL with pgBackRest (stanza
// created and checked). Everything stops and is removed when t ends.
func StartArchived(t testing.TB) *Archived {
	t.Helper()
	bin, err := exec.LookPath("pgbackrest")
	if err != nil {
		if os.Getenv(BackRestEnv) == "" {
			t.Skipf("pgbackrest is not installed (apt install pgbackrest); %s=1 makes this test required, as CI does", BackRestEnv)
		}
		t.Fatalf("testdb: %s=1 but pgbackrest is not installed: %v", BackRestEnv, err)
	}
	dir, err := os.MkdirTemp("", "rpbackrest-") // not t.TempDir: the cluster's user must reach it
	if err != nil {
		t.Fatal(err)
	}
	var raw [18]byte
	rand.Read(raw[:])
	p := &Pair{dir: dir, password: hex.EncodeToString(raw[:])}
	n := &Node{Name: "server", pair: p}
	p.Primary = n
	t.Cleanup(p.stop)
	a := &Archived{Node: n, pair: p, Conf: filepath.Join(dir, "pgbackrest.conf")}
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("testdb: archived server: %v", err)
		}
	}
	n.Port, err = freePort()
	fail(err)
	socket := filepath.Join(dir, "socket")
	for _, d := range []string{dir, socket, filepath.Join(dir, "repo"), filepath.Join(dir, "lock"), filepath.Join(dir, "log"), filepath.Join(dir, "spool")} {
		if d != dir {
			fail(os.Mkdir(d, 0o700))
		}
		fail(p.chown(d))
	}
	fail(os.WriteFile(a.Conf, []byte(BackRestConf(dir, n.pgdata(), socket, n.Port)), 0o600))
	fail(p.chown(a.Conf))
	pwfile := filepath.Join(dir, "pw")
	fail(os.WriteFile(pwfile, []byte(p.password+"\n"), 0o600))
	fail(p.chown(pwfile))
	fail(p.run("initdb", "-D", n.pgdata(), "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"))
	os.Remove(pwfile)
	hbaFile := filepath.Join(n.pgdata(), "pg_hba.conf")
	fail(os.WriteFile(hbaFile, []byte("local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"), 0o600))
	fail(p.chown(hbaFile))
	fail(localpg.AppendFile(filepath.Join(n.pgdata(), "postgresql.conf"), fmt.Sprintf(`
# rabbitpay tests: a server archived by pgBackRest (README's "Backups and restore")
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
fsync = off
full_page_writes = on
archive_mode = on
archive_command = '%s'
`, n.Port, socket, strings.Join(append(append([]string{bin}, a.options()...), "archive-push", "%p"), " "))))
	fail(n.start())
	a.BackRest(t, "stanza-create")
	a.BackRest(t, "check")
	return a
}

// BackRest runs pgbackrest --stanza=shop with args as the cluster's user and
// returns its output.
func (a *Archived) BackRest(t testing.TB, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbackrest")
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.pair.output(bin, append(a.options(), args...)...)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return out
}

// options are pgbackrest's options that name this server's configuration and stanza.
func (a *Archived) options() []string { return []string{"--config=" + a.Conf, "--stanza=shop"} }

// Exec runs statements on the server's postgres database.
func (a *Archived) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	if err := a.Node.Exec(context.Background(), stmts...); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// Stop stops the server (fast shutdown: a clean one).
func (a *Archived) Stop(t testing.TB) {
	t.Helper()
	if err := a.pair.run("pg_ctl", "-D", a.pgdata(), "stop", "-m", "fast", "-w"); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// MoveAside renames the server's data dir (the damaged one an operator keeps)
// and leaves an empty one, the cluster user's, for a restore.
func (a *Archived) MoveAside(t testing.TB) {
	t.Helper()
	if err := os.Rename(a.pgdata(), a.pgdata()+".mistake"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(a.pgdata(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := a.pair.chown(a.pgdata()); err != nil {
		t.Fatal(err)
	}
}

// Start starts the server and waits until it takes writes (a restore promoted).
func (a *Archived) Start(t testing.TB) {
	t.Helper()
	if err := a.start(); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := a.waitFor(context.Background(), "SELECT NOT pg_is_in_recovery()"); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}
