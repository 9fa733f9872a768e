package localpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// ConnectionCheckInterval is how often the server checks that a client of a
// running query is still there (client_connection_check_interval), so the
// sessions of a killed rabbitpay end promptly and release their locks.
const ConnectionCheckInterval = "2s"

// ownEntries are the names rabbitpay keeps in a data dir. A directory holding
// anything else is not a rabbitpay data dir, and is not taken over.
var ownEntries = map[string]bool{"pgdata": true, "socket": true, "lock": true, "postgres.log": true,
	"pgpass": true, "pgpass.tmp": true, "initdb.pw": true, "initdb.pw.tmp": true, "lost+found": true,
	CheckoutHostKey: true, "backup_dir": true, "backup_dir.tmp": true}

// CheckoutHostKey is the SSH host key of `checkout --serve`, kept in the data dir.
const CheckoutHostKey = "checkout_host_ed25519"

// checkLocation refuses a data dir that another user could swap or enter:
//   - the data dir, if it exists, must belong to the invoking user or to the
//     cluster's user, and hold nothing but rabbitpay's own files;
//   - every directory above it must belong to root, the invoking user or the
//     cluster's user, and must not be writable by group or others unless its
//     sticky bit is set (as /tmp's is: others cannot rename or delete what is
//     ours there, and a data dir they made first is refused by the owner rule);
//   - as root, the cluster's unprivileged user must be able to reach it: rather
//     than changing the mode of directories outside the data dir, rabbitpay
//     refuses and says which directory to open or where to put the data dir.
func (c *Cluster) checkLocation(owner *credential) error {
	me := uint32(os.Geteuid())
	runUID := me
	if owner != nil {
		runUID = owner.uid
	}
	ok := func(uid uint32) bool { return uid == me || uid == runUID }

	// Resolve symbolic links in the part of the path that exists.
	real, rest := c.Dir, ""
	for {
		if r, err := filepath.EvalSymlinks(real); err == nil {
			real = r
			break
		}
		parent := filepath.Dir(real)
		if parent == real {
			break
		}
		rest = filepath.Join(filepath.Base(real), rest)
		real = parent
	}
	if rest == "" { // the data dir exists
		fi, err := os.Stat(real)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return shop.InField("data dir", shop.Invalid("data dir %s is not a directory", c.Dir))
		}
		if uid := statOf(fi).Uid; !ok(uid) {
			return shop.InField("data dir", shop.Invalid("data dir %s belongs to %s, not to you: another user may have made it to get at the database; choose another one", c.Dir, userName(uid)))
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			return fmt.Errorf("data dir %s: %w", c.Dir, err)
		}
		for _, e := range entries {
			if !ownEntries[e.Name()] {
				return shop.InField("data dir", shop.Invalid("data dir %s holds %q, which rabbitpay did not make: choose an empty or new directory", c.Dir, e.Name()))
			}
		}
	} else {
		real = filepath.Join(real, rest)
	}

	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) {
			if d == filepath.Dir(d) {
				return nil
			}
			continue // made by mkdir below, 0755
		}
		if err != nil {
			return fmt.Errorf("data dir %s: %w", c.Dir, err)
		}
		st := statOf(fi)
		perm := fi.Mode().Perm()
		if st.Uid != 0 && !ok(st.Uid) {
			return shop.InField("data dir", shop.Invalid("data dir %s is inside %s, which belongs to %s: that user could replace the data dir; choose a directory only you and root control", c.Dir, d, userName(st.Uid)))
		}
		if perm&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
			return shop.InField("data dir", shop.Invalid("data dir %s is inside %s, which other users can write to (mode %04o, no sticky bit): they could replace the data dir; choose a directory only you can change, or chmod go-w %s", c.Dir, d, perm, d))
		}
		if owner != nil && !searchable(fi, owner) {
			return fmt.Errorf("user %s, which runs the embedded cluster because PostgreSQL refuses to run as root, cannot reach data dir %s: %s has mode %04o; "+
				"choose a data dir it can reach (the default as root is %s), or allow it with chmod o+x %s", owner.name, c.Dir, d, perm, RootDataDir, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// RootDataDir is the default data dir when rabbitpay runs as root: a place
// the cluster's unprivileged user can reach without changing any directory's mode.
const RootDataDir = "/var/lib/rabbitpay"

// mkdir makes the data dir (0700) and any missing parent (0755, reachable by
// the cluster's user).
func (c *Cluster) mkdir() error {
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create data dir: %w", err)
	}
	if fi, err := os.Stat(c.Dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("data dir %s is not a directory (a symbolic link to nothing?)", c.Dir)
	}
	return nil
}

func searchable(fi fs.FileInfo, owner *credential) bool {
	st, perm := statOf(fi), fi.Mode().Perm()
	switch {
	case st.Uid == owner.uid:
		return perm&0o100 != 0
	case st.Gid == owner.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

func statOf(fi fs.FileInfo) *syscall.Stat_t {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st
	}
	return &syscall.Stat_t{}
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return "user " + u.Username
	}
	return fmt.Sprintf("user id %d", uid)
}

// resetPassword makes a new random superuser password and writes it to the
// password file (0600, owned by the cluster's user), replacing whatever was
// there: a password file is only ever written by the step that sets the
// password, so one planted while the data dir was open to others is never used.
func (c *Cluster) resetPassword(owner *credential) (string, error) {
	pw, err := newPassword()
	if err != nil {
		return "", err
	}
	return pw, c.writePassword(pw, owner)
}

// newPassword makes a new random superuser password.
func newPassword() (string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw[:]), nil
}

// writePassword writes the password file.
func (c *Cluster) writePassword(pw string, owner *credential) error {
	os.Remove(c.oldPassFile()) // an older rabbitpay's, which would name the old password
	return writePrivate(c.newPassFile(), "*:*:*:"+Superuser+":"+pw+"\n", owner)
}

// writePrivate writes path atomically, mode 0600, owned by owner (nil: us).
func writePrivate(path, content string, owner *credential) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fixFile(tmp, owner); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fixFile makes path 0600 and owned by owner (nil: leave the owner).
func fixFile(path string, owner *credential) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	if owner != nil {
		if err := os.Chown(path, int(owner.uid), int(owner.gid)); err != nil {
			return fmt.Errorf("hand %s to user %s: %w", path, owner.name, err)
		}
	}
	return nil
}

// hba is the whole of pg_hba.conf: local (Unix socket) connections only, with
// the superuser's password.
const hba = `# rabbitpay: the cluster admits only its owner. Connections come only through
# the Unix socket in the data dir's socket/ (mode 0700), and need the superuser's
# password, kept in the data dir's pgpass (mode 0600). There is no TCP listener.
# rabbitpay rewrites this file when it differs.
local all all scram-sha-256
local replication all scram-sha-256
`

func (c *Cluster) hbaFile() string { return filepath.Join(c.pgdata(), "pg_hba.conf") }

func (c *Cluster) writeHBA(owner *credential) error {
	return writePrivate(c.hbaFile(), hba, owner)
}

// requirePassword makes the running cluster require the password: a cluster
// made by an older rabbitpay trusted every local connection and had no
// password, so it gets the password file's password and rabbitpay's
// pg_hba.conf. It reports whether pg_hba.conf changed (the caller reloads).
func (c *Cluster) requirePassword(ctx context.Context, owner *credential) (bool, error) {
	cur, err := os.ReadFile(c.hbaFile())
	if err != nil {
		return false, err
	}
	if string(cur) == hba {
		return false, nil
	}
	if hasTrust(string(cur)) {
		// Still trusting: connect without the password and set a new one.
		pw, err := c.resetPassword(owner)
		if err != nil {
			return false, err
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(cctx, c.URL("postgres"))
		if err != nil {
			return false, fmt.Errorf("set the superuser's password on the cluster in %s: %w", c.pgdata(), err)
		}
		defer conn.Close(context.Background())
		// The password is hex: safe as a literal. Keep it out of the server log.
		if _, err := conn.Exec(cctx, "SET log_statement = 'none'; SET password_encryption = 'scram-sha-256'; ALTER ROLE "+
			pgx.Identifier{Superuser}.Sanitize()+" PASSWORD '"+pw+"'"); err != nil {
			return false, fmt.Errorf("set the superuser's password on the cluster in %s: %w", c.pgdata(), err)
		}
	}
	return true, c.writeHBA(owner)
}

// hasTrust reports whether a pg_hba.conf admits some connection without a password.
func hasTrust(conf string) bool {
	for _, l := range strings.Split(conf, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		for _, f := range strings.Fields(l) {
			if f == "trust" {
				return true
			}
		}
	}
	return false
}

// ensureConf appends the settings an older rabbitpay did not write to
// postgresql.conf, and reports whether it changed anything.
func (c *Cluster) ensureConf() (bool, error) {
	path := filepath.Join(c.pgdata(), "postgresql.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		key, _, _ := strings.Cut(l, "=")
		set[strings.ToLower(strings.TrimSpace(key))] = true
	}
	want := []string{"listen_addresses = ''", "unix_socket_permissions = 0700"}
	if c.majorVersion() >= 14 {
		want = append(want, "client_connection_check_interval = "+ConnectionCheckInterval)
	}
	add := ""
	for _, w := range want {
		key, _, _ := strings.Cut(w, " ")
		if !set[key] {
			add += w + "\n"
		}
	}
	if add == "" {
		return false, nil
	}
	return true, AppendFile(path, "\n# rabbitpay: admit only the owner; end the sessions of killed clients promptly\n"+add)
}

func (c *Cluster) majorVersion() int {
	b, _ := os.ReadFile(filepath.Join(c.pgdata(), "PG_VERSION"))
	v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return v
}

// Private reports, cheaply (a few stats and one small read), whether the
// cluster is as Ensure leaves it: the data, pgdata and socket dirs 0700 and
// owned by the cluster's user, the password file present and rabbitpay's
// pg_hba.conf in place. When it is not — a new data dir (whose socket dir may
// have been prepared by someone else), a cluster made by an older rabbitpay
// that trusted local connections, directories opened since — callers run
// Ensure before connecting, even though a server may be running.
func (c *Cluster) Private() bool {
	uid := uint32(os.Geteuid())
	if owner, err := runAs(); err != nil {
		return false
	} else if owner != nil {
		uid = owner.uid
	}
	for _, d := range []string{c.Dir, c.pgdata(), c.SocketDir()} {
		stat := os.Lstat
		if d == c.Dir {
			stat = os.Stat // may be a link to the user's real data dir
		}
		fi, err := stat(d)
		// Owned by the cluster's user too: a look-alike data dir another
		// user prepared (with their own server on its socket) is not ours.
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || statOf(fi).Uid != uid {
			return false
		}
	}
	if fi, err := os.Lstat(c.PassFile()); err != nil || fi.Mode().Perm() != 0o600 {
		return false
	}
	b, err := os.ReadFile(c.hbaFile())
	return err == nil && string(b) == hba
}
