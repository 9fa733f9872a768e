package localpg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// dataDir returns a new directory path in the system temp dir (sticky,
// reachable by the cluster's user when the tests run as root), removed at the end.
func dataDir(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "rplocal-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	return filepath.Join(parent, "data")
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := New(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	if err := c.Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return c
}

// asNobody runs psql as the second OS user and returns its combined output
// and whether it connected.
func asNobody(t *testing.T, c *Cluster) (string, bool) {
	t.Helper()
	bin, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "psql"), "-X", "-w", "-h", c.SocketDir(), "-p", "5432", "-U", Superuser, "-d", "postgres", "-c", "SELECT 1")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// A second OS user cannot connect, even when the data dir and its socket dir
// existed beforehand with mode 0777: Ensure makes them 0700, and even with the
// dirs opened again by hand the server asks for the password.
func TestOnlyTheOwnerGetsIn(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs it as root): it connects as the user nobody to check that another user is kept out")
	}
	dir := dataDir(t)
	for _, d := range []string{dir, filepath.Join(dir, "socket"), filepath.Join(dir, "pgdata")} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o777)
	}
	// What another user could leave in the open dir: a password of their choosing.
	os.WriteFile(filepath.Join(dir, "pgpass"), []byte("*:*:*:postgres:planted\n"), 0o666)
	c := start(t, dir)
	if readPassword(t, c) == "planted" {
		t.Fatal("the planted password file was used")
	}
	planted := "postgres://postgres:planted@/postgres?host=" + c.SocketDir() + "&sslmode=disable"
	if conn, err := pgx.Connect(context.Background(), planted); err == nil {
		conn.Close(context.Background())
		t.Fatal("connected with the planted password")
	}
	for _, d := range []string{dir, c.SocketDir(), c.pgdata()} {
		if m := mode(t, d); m != 0o700 {
			t.Fatalf("%s has mode %04o after start, want 0700", d, m)
		}
	}
	for _, f := range []string{c.PassFile(), c.logFile(), c.lockFile(), c.hbaFile()} {
		if m := mode(t, f); m != 0o600 {
			t.Fatalf("%s has mode %04o, want 0600", f, m)
		}
	}
	if out, ok := asNobody(t, c); ok {
		t.Fatalf("user nobody connected: %s", out)
	}
	if !c.Private() {
		t.Fatal("Private() = false after Ensure")
	}

	// The directories and the socket (0700 too) opened again: the socket is
	// reachable, the password is not.
	for _, d := range []string{dir, c.SocketDir(), c.socketPath()} {
		os.Chmod(d, 0o777)
	}
	out, ok := asNobody(t, c)
	if ok || !strings.Contains(out, "password") {
		t.Fatalf("user nobody with open directories: connected=%v: %s", ok, out)
	}
	if c.Private() {
		t.Fatal("Private() = true with open directories")
	}

	// The owner connects with the URL (which names the password file, and holds no password).
	url := c.URL("postgres")
	if strings.Contains(url, readPassword(t, c)) {
		t.Fatalf("URL %s shows the password", url)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("owner: %v", err)
	}
	defer conn.Close(context.Background())
	var listen, interval string
	if err := conn.QueryRow(context.Background(), "SELECT current_setting('listen_addresses'), current_setting('client_connection_check_interval')").Scan(&listen, &interval); err != nil {
		t.Fatal(err)
	}
	if listen != "" || interval != ConnectionCheckInterval {
		t.Fatalf("listen_addresses %q, client_connection_check_interval %q", listen, interval)
	}

	// The next start makes them private again.
	if err := c.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, c.SocketDir()); m != 0o700 {
		t.Fatalf("socket dir mode %04o after a second start", m)
	}
}

func readPassword(t *testing.T, c *Cluster) string {
	b, err := os.ReadFile(c.PassFile())
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(b))
	return line[strings.LastIndexByte(line, ':')+1:]
}

// A cluster made by an older rabbitpay (trust, no password) gets the password
// and rabbitpay's pg_hba.conf on its next start, running or not.
func TestTrustClusterIsFixed(t *testing.T) {
	t.Parallel()
	for _, running := range []bool{true, false} {
		dir := dataDir(t)
		c := start(t, dir)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "ALTER ROLE postgres PASSWORD NULL"); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		owner, _ := runAs()
		if err := writePrivate(c.hbaFile(), "local all all trust\nhost all all 127.0.0.1/32 trust\n", owner); err != nil {
			t.Fatal(err)
		}
		os.Remove(c.PassFile())
		bin, _ := FindBinDir()
		if out, err := c.pgctl(bin, "reload").CombinedOutput(); err != nil {
			t.Fatalf("reload: %v %s", err, out)
		}
		if !running {
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
		}

		if err := c.Ensure(ctx); err != nil {
			t.Fatalf("running=%v: Ensure on a trust cluster: %v", running, err)
		}
		b, _ := os.ReadFile(c.hbaFile())
		if hasTrust(string(b)) || string(b) != hba {
			t.Fatalf("running=%v: pg_hba.conf still\n%s", running, b)
		}
		if _, err := os.Stat(c.PassFile()); err != nil {
			t.Fatalf("running=%v: no password file: %v", running, err)
		}
		noPass := "postgres://postgres@/postgres?host=" + c.SocketDir() + "&sslmode=disable&passfile=/nonexistent"
		if conn, err := pgx.Connect(ctx, noPass); err == nil {
			conn.Close(ctx)
			t.Fatalf("running=%v: connected without the password", running)
		}
		conn, err = pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			t.Fatalf("running=%v: with the password: %v", running, err)
		}
		conn.Close(ctx)
	}
}

// A data dir inside a directory other users can write to (without the sticky
// bit) is refused with one sentence saying why; nothing is created.
func TestLooseParentRefused(t *testing.T) {
	t.Parallel()
	parent := dataDir(t)
	if err := os.Mkdir(parent, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o777)
	dir := filepath.Join(parent, "rabbitpay")
	c, err := New(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ensure(context.Background())
	if err == nil || !strings.Contains(err.Error(), "other users can write to") || !strings.Contains(err.Error(), parent) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Ensure under a 0777 parent: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the data dir was created anyway")
	}

	// Sticky, like /tmp: allowed.
	os.Chmod(parent, 0o777|os.ModeSticky)
	start(t, dir)
}

// A data dir another user made, or one holding files rabbitpay did not make,
// is not taken over.
func TestForeignDataDirRefused(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "passwd"), []byte("x"), 0o600)
	c, _ := New(dir, true)
	if err := c.Ensure(context.Background()); err == nil || !strings.Contains(err.Error(), `"passwd"`) {
		t.Fatalf("non-empty foreign dir: %v", err)
	}
	os.Remove(filepath.Join(dir, "passwd"))
	if os.Geteuid() == 0 {
		os.Chown(dir, 65534, 65534)
		if err := c.Ensure(context.Background()); err == nil || !strings.Contains(err.Error(), "belongs to user nobody") {
			t.Fatalf("dir owned by nobody: %v", err)
		}
	}
}

// The checkout's SSH host key lives in the data dir beside the cluster.
func TestDataDirMayHoldTheCheckoutHostKey(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(dir, CheckoutHostKey), []byte("key"), 0o600)
	start(t, dir)
}

// As root, a data dir the cluster's user cannot reach is refused, and the
// directory above it keeps its mode.
func TestUnreachableDataDirRefusedNotChmodded(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs it as root): only as root does the cluster run as another user, who must reach the data dir")
	}
	parent := dataDir(t)
	os.Mkdir(parent, 0o700)
	c, _ := New(filepath.Join(parent, "rabbitpay"), true)
	err := c.Ensure(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach data dir") || !strings.Contains(err.Error(), "chmod o+x "+parent) {
		t.Fatalf("unreachable: %v", err)
	}
	if m := mode(t, parent); m != 0o700 {
		t.Fatalf("parent mode changed to %04o", m)
	}
}

// A data dir that is a symbolic link to a directory of the user's is fine.
func TestDataDirMayBeALink(t *testing.T) {
	t.Parallel()
	real := dataDir(t)
	link := filepath.Join(filepath.Dir(real), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	c, _ := New(link, true)
	if err := c.Ensure(context.Background()); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("link to nothing: %v", err)
	}
	os.Remove(link)
	os.Mkdir(real, 0o755)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	c = start(t, link)
	if !c.Private() {
		t.Fatal("not private")
	}
}

// Files planted while the data dir was open to others are not written
// through: a log file that is a link is refused, and its target not created.
func TestPlantedLinkRefused(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	os.Mkdir(dir, 0o777)
	os.Chmod(dir, 0o777)
	target := filepath.Join(filepath.Dir(dir), "target")
	if err := os.Symlink(target, filepath.Join(dir, "postgres.log")); err != nil {
		t.Fatal(err)
	}
	c, _ := New(dir, true)
	if err := c.Ensure(context.Background()); err == nil || !strings.Contains(err.Error(), "postgres.log is a symbolic link") {
		t.Fatalf("planted link: %v", err)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the link's target was created")
	}
}

// Private is false for a data dir that is not the cluster user's, so Open
// runs Ensure (which refuses it) instead of connecting to its socket.
func TestPrivateChecksTheOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs it as root): it gives the data dir to the user nobody (chown)")
	}
	c := start(t, dataDir(t))
	if !c.Private() {
		t.Fatal("not private after start")
	}
	fi, _ := os.Stat(c.Dir)
	st := statOf(fi)
	os.Chown(c.Dir, 65534, 65534)
	defer os.Chown(c.Dir, int(st.Uid), int(st.Gid))
	if c.Private() {
		t.Fatal("a data dir owned by nobody counts as private")
	}
}
