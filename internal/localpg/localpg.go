// Package localpg runs rabbitpay's private PostgreSQL cluster: found from the
// system's binaries, created once under the data dir, started on demand and
// reused, listening only on a Unix socket in its own directory.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Port names the socket file (.s.PGSQL.<Port>); the cluster opens no TCP port.
const Port = 5432

// Superuser is the role initdb creates and rabbitpay connects as.
const Superuser = "postgres"

// ErrNoBinaries means no PostgreSQL server binaries were found on this machine.
var ErrNoBinaries error = &shop.FieldError{Field: "database URL", Err: errors.New("PostgreSQL server binaries (initdb, pg_ctl) were not found: install them " +
	"(Debian/Ubuntu: apt install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql@15) " +
	"or set a database URL to use an existing server")}

// Cluster is a PostgreSQL cluster under Dir: pgdata/, socket/, postgres.log and a lock file.
// Nothing in it records Dir itself (the socket dir is given on the server's
// command line, the password file lives in pgdata), so the data dir may move
// and a physical copy of pgdata starts as it is.
type Cluster struct {
	Dir string
	// Throwaway turns durability off (fsync, synchronous_commit): for tests only.
	Throwaway bool
	// Backup is where the cluster's WAL streams and its base backups go (nil: none).
	Backup *Backup
	// NewShop lets Ensure make an empty cluster where a shop once was (db init).
	NewShop bool
}

// New returns the cluster rooted at dir (made absolute).
func New(dir string, throwaway bool) (*Cluster, error) {
	abs, err := realPath(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir %q: %w", dir, err)
	}
	c := &Cluster{Dir: abs, Throwaway: throwaway}
	if n := len(c.socketPath()); n > 103 {
		return nil, shop.InField("data dir", shop.Invalid("data dir %q is too long for a Unix socket path (%d bytes); choose a shorter one", abs, n))
	}
	return c, nil
}

func (c *Cluster) pgdata() string    { return filepath.Join(c.Dir, "pgdata") }
func (c *Cluster) SocketDir() string { return filepath.Join(c.Dir, "socket") }
func (c *Cluster) logFile() string   { return filepath.Join(c.Dir, "postgres.log") }
func (c *Cluster) lockFile() string  { return filepath.Join(c.Dir, "lock") }

// PassFile is the password file (PostgreSQL's pgpass format, mode 0600) that
// holds the superuser's password; psql reads it through PGPASSFILE or the
// URL's passfile parameter. It lives inside pgdata, so every physical copy of
// the cluster (a base backup, a restore) carries the password it needs.
func (c *Cluster) PassFile() string {
	p := filepath.Join(c.pgdata(), passFileName)
	if _, err := os.Lstat(p); err != nil {
		if _, err := os.Lstat(c.oldPassFile()); err == nil {
			return c.oldPassFile() // an older rabbitpay's cluster, until its next start moves the file in
		}
	}
	return p
}

// newPassFile is where the password file belongs.
func (c *Cluster) newPassFile() string { return filepath.Join(c.pgdata(), passFileName) }

// passFileName is the password file's name in pgdata; oldPassFile is where
// rabbitpay kept it before (in the data dir, outside pgdata).
const passFileName = "rabbitpay.pgpass"

func (c *Cluster) oldPassFile() string { return filepath.Join(c.Dir, "pgpass") }
func (c *Cluster) socketPath() string {
	return filepath.Join(c.SocketDir(), ".s.PGSQL."+strconv.Itoa(Port))
}

// URL is the connection string for database dbname on this cluster. It holds
// no password: it names the password file (passfile=, which psql and pgx both
// read), so printing it shows no secret.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable&passfile=%s",
		Superuser, dbname, queryEscape(c.SocketDir()), Port, queryEscape(c.PassFile()))
}

// queryEscape escapes what would end or split a URL query value, keeping
// slashes readable.
func queryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20", "=", "%3D").Replace(s)
}

// Initialized reports whether initdb has run.
func (c *Cluster) Initialized() bool {
	_, err := os.Stat(filepath.Join(c.pgdata(), "PG_VERSION"))
	return err == nil
}

// Running reports whether the postmaster answers pg_ctl status.
func (c *Cluster) Running() bool {
	if !c.Initialized() {
		return false
	}
	bin, err := FindBinDir()
	if err != nil {
		return false
	}
	return c.pgctl(bin, "status").Run() == nil
}

// Ensure creates the cluster if needed and starts it if it is not running.
// A lock on the data dir makes concurrent callers share one cluster.
//
// Every call also enforces that the cluster admits only its owner: the data
// dir must be in a place other users cannot change (checkLocation), the data,
// pgdata and socket dirs are made 0700 and owned by the cluster's user, local
// connections need the password kept in the data dir (a cluster made by an
// older rabbitpay with trust authentication is fixed), and there is no TCP
// listener.
func (c *Cluster) Ensure(ctx context.Context) error {
	bin, err := FindBinDir()
	if err != nil {
		return err
	}
	owner, err := runAs()
	if err != nil {
		return err
	}
	if err := c.checkLocation(owner); err != nil {
		return err
	}
	if err := c.mkdir(); err != nil {
		return err
	}
	// Again, now that every part of the path exists: a directory another user
	// made in between is refused too.
	if err := c.checkLocation(owner); err != nil {
		return err
	}
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.prepareDirs(owner); err != nil {
		return err
	}
	if !c.Initialized() {
		if err := c.mayCreate(); err != nil {
			return err
		}
		if err := c.initdb(ctx, bin, owner); err != nil {
			return err
		}
	}
	confChanged, err := c.ensureConf()
	if err != nil {
		return err
	}
	c.awaitDeadPostmaster()
	running := c.pgctl(bin, "status").Run() == nil
	if !running {
		// Command-line settings win over postgresql.conf: whatever the file
		// says, the server opens no TCP port.
		if err := c.start(bin, 60); err != nil {
			return err
		}
	}
	hbaChanged, err := c.requirePassword(ctx, owner)
	if err != nil {
		return err
	}
	if hbaChanged || running && confChanged {
		if out, err := c.pgctl(bin, "reload").CombinedOutput(); err != nil {
			return fmt.Errorf("reload PostgreSQL in %s: %v: %s", c.pgdata(), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// realPath is path made absolute with the symbolic links in the part that
// exists resolved: one directory has one name, however it is reached (the
// backup's stream name, the owner checks and the registry compare names).
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest), nil
		}
		if filepath.Dir(p) == p {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// start starts the postmaster and waits up to wait seconds for it. Command-line
// settings win over postgresql.conf: whatever the file says, the server opens
// no TCP port and its socket is in this data dir's socket/ (wherever the data
// dir is now: nothing in pgdata records its path).
func (c *Cluster) start(bin string, wait int, settings ...string) error {
	opts := "-c listen_addresses='' -p " + strconv.Itoa(Port) + " -k " + shellQuote(c.SocketDir())
	for _, s := range settings {
		opts += " -c " + shellQuote(s)
	}
	cmd := c.pgctl(bin, "start", "-w", "-t", strconv.Itoa(wait), "-l", c.logFile(), "-o", opts)
	if out, err := cmd.CombinedOutput(); err != nil {
		return &startError{msg: fmt.Sprintf("PostgreSQL did not start in %s: %v (server log: %s)", c.pgdata(), err, c.logFile()),
			details: append(lines(string(out)), c.logTail()...)}
	}
	return nil
}

// awaitDeadPostmaster waits (a few seconds at most) while the postmaster
// postmaster.pid names has died but is not yet reaped: to pg_ctl status, and
// to a new postmaster checking the lock file, it still runs, so a command
// right after a crash would neither use it nor start a new one.
func (c *Cluster) awaitDeadPostmaster() {
	raw, err := os.ReadFile(filepath.Join(c.pgdata(), "postmaster.pid"))
	if err != nil {
		return
	}
	pid, _, _ := strings.Cut(string(raw), "\n")
	stat := filepath.Join("/proc", strings.TrimSpace(pid), "stat")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st, err := os.ReadFile(stat)
		if err != nil || !zombie(st) {
			return
		}
	}
}

// shellQuote quotes s for the shell pg_ctl starts the server through.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Stop stops the cluster if it runs; stopping a stopped cluster is not an error.
func (c *Cluster) Stop() error {
	c.awaitDeadPostmaster()
	if !c.Running() {
		return nil
	}
	bin, err := FindBinDir()
	if err != nil {
		return err
	}
	if out, err := c.pgctl(bin, "stop", "-m", "fast", "-w").CombinedOutput(); err != nil {
		return fmt.Errorf("stop PostgreSQL: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context, bin string, owner *credential) error {
	pw, err := newPassword()
	if err != nil {
		return err
	}
	// initdb reads the superuser's password from a file the cluster's user can read.
	pwfile := filepath.Join(c.Dir, "initdb.pw")
	if err := writePrivate(pwfile, pw+"\n", owner); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	args := []string{"-D", c.pgdata(), "-U", Superuser, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
		"--pwfile=" + pwfile, "-E", "UTF8", "--no-locale", "--no-instructions"}
	if c.Throwaway {
		args = append(args, "--no-sync")
	}
	// Sorting and comparing stay in the C locale (fast, the same on every
	// system), but characters are classified as UTF-8 (CType): under C,
	// pg_trgm finds no trigrams in Hangul and a Korean search cannot use the
	// trigram index. A system without C.UTF-8 gets C, which `db status` flags.
	out, err := c.runInitdb(ctx, bin, owner, append(args, "--lc-ctype="+CType))
	if err != nil && strings.Contains(string(out), "invalid locale name") {
		out, err = c.runInitdb(ctx, bin, owner, args)
	}
	if err != nil {
		return fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if err := c.writePassword(pw, owner); err != nil {
		os.RemoveAll(c.pgdata())
		return err
	}
	if err := c.writeHBA(owner); err != nil {
		return err
	}
	// The socket dir is given on the command line (start), not here: a data
	// dir that moves, or a copy restored elsewhere, listens where it is now.
	conf := fmt.Sprintf("\n# rabbitpay: a private cluster on a Unix socket only\nlisten_addresses = ''\nport = %d\nmax_connections = 100\n", Port)
	if c.Throwaway {
		conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
	}
	return AppendFile(filepath.Join(c.pgdata(), "postgresql.conf"), conf)
}

// CType is the character classification new embedded clusters get.
const CType = "C.UTF-8"

func (c *Cluster) runInitdb(ctx context.Context, bin string, owner *credential, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), args...)
	c.setup(cmd, owner)
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.RemoveAll(c.pgdata())
	}
	return out, err
}

// AppendFile appends text to the file at path (a cluster's postgresql.conf
// or pg_hba.conf).
func AppendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *Cluster) pgctl(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, "pg_ctl"), append([]string{"-D", c.pgdata()}, args...)...)
	owner, _ := runAs()
	c.setup(cmd, owner)
	return cmd
}

// setup runs cmd in the data dir as owner, in its own process group so a
// Ctrl-C at the terminal does not reach the postmaster it starts.
func (c *Cluster) setup(cmd *exec.Cmd, owner *credential) {
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if owner != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
		cmd.Env = append(os.Environ(), "HOME="+c.Dir, "USER="+owner.name)
	}
}

// prepareDirs makes the data, pgdata and socket dirs 0700 and owned by the
// cluster's user, whatever existed before, and the log and lock files 0600.
// As root the cluster's user is the unprivileged owner (PostgreSQL refuses
// root); nothing outside the data dir is changed (checkLocation refuses a data
// dir the owner cannot reach instead).
func (c *Cluster) prepareDirs(owner *credential) error {
	for _, d := range []string{c.SocketDir(), c.pgdata()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	// O_NOFOLLOW: a link planted while the dir was open to others is refused below, never written through.
	if f, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600); err == nil {
		f.Close()
	}
	if c.Initialized() {
		// An older rabbitpay kept the password file beside pgdata: move it
		// in, leaving a hard link where it was (an older rabbitpay, run
		// again, still finds it there).
		if _, err := os.Lstat(c.newPassFile()); errors.Is(err, fs.ErrNotExist) {
			if fi, err := os.Lstat(c.oldPassFile()); err == nil && fi.Mode().IsRegular() {
				if err := os.Link(c.oldPassFile(), c.newPassFile()); err != nil {
					return fmt.Errorf("move the password file into %s: %w", c.pgdata(), err)
				}
			}
		}
	}
	private := []string{c.Dir, c.SocketDir(), c.pgdata(), c.logFile(), c.lockFile()}
	if _, err := os.Lstat(c.PassFile()); err == nil {
		private = append(private, c.PassFile())
	}
	for _, p := range private {
		stat := os.Lstat
		if p == c.Dir {
			stat = os.Stat // the data dir may be a link to where the user keeps it (checkLocation judged its target)
		}
		fi, err := stat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; rabbitpay keeps only its own files in the data dir: remove it", p)
		}
		mode := os.FileMode(0o600)
		if fi.IsDir() {
			mode = 0o700
		}
		if fi.Mode().Perm() != mode {
			if err := os.Chmod(p, mode); err != nil {
				return fmt.Errorf("make %s private (mode %04o): %w", p, mode, err)
			}
		}
		if owner != nil {
			if err := os.Chown(p, int(owner.uid), int(owner.gid)); err != nil {
				return fmt.Errorf("hand %s to user %s: %w", p, owner.name, err)
			}
		}
	}
	return nil
}

// lock takes an exclusive lock on the data dir so two processes never run
// initdb or pg_ctl start at once.
func (c *Cluster) lock() (func(), error) { return flock(c.lockFile(), "data dir") }

// flock takes an exclusive lock on the file at path (made 0600, never
// through a link), waiting for it; the returned func releases it.
func flock(path, what string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", what, err)
	}
	return func() { f.Close() }, nil
}

// logTail returns the last ten lines of the server log.
func (c *Cluster) logTail() []string {
	b, err := os.ReadFile(c.logFile())
	if err != nil || len(b) == 0 {
		return nil
	}
	l := lines(string(b))
	return l[max(0, len(l)-10):]
}

// lines splits s into its non-blank lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// startError is a failed start: one sentence, with pg_ctl's output and the
// server log's tail as details the CLI prints below it.
type startError struct {
	msg     string
	details []string
}

func (e *startError) Error() string     { return e.msg }
func (e *startError) Details() []string { return e.details }

type credential struct {
	name     string
	uid, gid uint32
}

// runAs returns the unprivileged user the cluster runs as when we are root
// (PostgreSQL refuses to run as root), or nil otherwise.
func runAs() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &credential{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and PostgreSQL refuses to: no unprivileged user (postgres or nobody) exists to run the cluster as")
}

// searchGlobs are the usual install locations, newest version first.
var searchGlobs = []string{"/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin"}

// FindBinDir finds the directory holding initdb and pg_ctl: $RABBITPAY_PG_BIN,
// then PATH, then pg_config --bindir, then the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("RABBITPAY_PG_BIN"); d != "" && has(d) {
		return d, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil // the real bin dir, which also holds postgres and pgbench
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d, nil
		}
	}
	for _, pattern := range searchGlobs {
		dirs, _ := filepath.Glob(pattern)
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		for _, d := range dirs {
			if has(d) {
				return d, nil
			}
		}
	}
	return "", ErrNoBinaries
}

func versionOf(dir string) int {
	base := filepath.Base(filepath.Dir(dir))
	base = base[strings.LastIndexAny(base, "@")+1:]
	n, _ := strconv.Atoi(base)
	return n
}

// StartTemp creates and starts a cluster in a new directory under the system's
// temporary dir (reachable by the cluster's unprivileged user, unlike a test's
// t.TempDir), for tests and benchmarks; stop stops it and removes it all.
func StartTemp(ctx context.Context, prefix string, throwaway bool) (c *Cluster, stop func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, err
	}
	if c, err = New(dir, throwaway); err == nil {
		err = c.Ensure(ctx)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return c, func() { c.Stop(); os.RemoveAll(dir) }, nil
}
