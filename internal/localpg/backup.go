package localpg

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Backup modes: synchronous (a commit returns only once its WAL is flushed
// in the backup dir) and asynchronous (the WAL streams there as it is
// written; the server does not wait for it).
const (
	BackupSynchronous  = "synchronous"
	BackupAsynchronous = "asynchronous"
)

// receiverPrefix starts the name of every backup stream rabbitpay runs: its
// application_name (the name synchronous_standby_names lists) and its
// replication slot. The rest comes from the backup dir (Backup.Name), so a
// stream into another dir never passes for this one's.
const receiverPrefix = "rabbitpay_backup_"

// baseBackupName is pg_basebackup's application_name: never a backup
// stream's, so its WAL stream never passes for a synchronous standby.
const baseBackupName = "rabbitpay_basebackup"

// Backup is a backup dir: base/ holds base backups (pg_basebackup, plain
// format, verified with pg_verifybackup, one dir per backup named by its
// start time in UTC), wal/ the WAL stream pg_receivewal writes (the segment
// in progress as NAME.partial), system_identifier the cluster it belongs to,
// receiver.pid and receiver.log the stream's process. Every file and dir is
// the cluster user's alone (0600/0700).
type Backup struct {
	Dir  string
	Sync bool
	// Keep is how many base backups `db backup` keeps (older ones and the WAL
	// only they need are removed).
	Keep int
}

// NewBackup returns the backup dir at dir (made absolute).
func NewBackup(dir, mode string, keep int) (*Backup, error) {
	abs, err := realPath(dir)
	if err != nil {
		return nil, shop.InField("backup dir", fmt.Errorf("backup dir %q: %w", dir, err))
	}
	if mode != BackupSynchronous && mode != BackupAsynchronous {
		return nil, shop.InField("backup mode", fmt.Errorf("backup.mode %q is not one of synchronous, asynchronous", mode))
	}
	if keep < 1 {
		return nil, shop.InField("backup keep", fmt.Errorf("backup.keep %d must be at least 1", keep))
	}
	return &Backup{Dir: abs, Sync: mode == BackupSynchronous, Keep: keep}, nil
}

// Mode names the backup's mode.
func (b *Backup) Mode() string {
	if b.Sync {
		return BackupSynchronous
	}
	return BackupAsynchronous
}

// Name is the backup stream's application_name and replication slot.
func (b *Backup) Name() string {
	sum := sha256.Sum256([]byte(b.Dir))
	return receiverPrefix + hex.EncodeToString(sum[:5])
}

func (b *Backup) walDir() string    { return filepath.Join(b.Dir, "wal") }
func (b *Backup) baseDir() string   { return filepath.Join(b.Dir, "base") }
func (b *Backup) pidFile() string   { return filepath.Join(b.Dir, "receiver.pid") }
func (b *Backup) logFile() string   { return filepath.Join(b.Dir, "receiver.log") }
func (b *Backup) idFile() string    { return filepath.Join(b.Dir, "system_identifier") }
func (b *Backup) ownerFile() string { return filepath.Join(b.Dir, "data_dir") }
func (b *Backup) lockFile() string  { return filepath.Join(b.Dir, "lock") }

// Owner is the data dir whose cluster streams into the backup dir ("" for none yet).
func (b *Backup) Owner() string {
	raw, _ := os.ReadFile(b.ownerFile())
	return strings.TrimSpace(string(raw))
}

// lock takes the backup dir's lock: one base backup, prune or restore at a time.
func (b *Backup) lock() (func(), error) { return flock(b.lockFile(), "backup dir") }

// backupDirFile is where the data dir records the backup dir it streams
// into, so a change of backup dir (or none) stops the old stream and drops
// its slot.
func (c *Cluster) backupDirFile() string { return filepath.Join(c.Dir, "backup_dir") }

// SystemID is the identifier of the cluster whose backups the dir holds ("" for none yet).
func (b *Backup) SystemID() string {
	id, _ := os.ReadFile(b.idFile())
	return strings.TrimSpace(string(id))
}

// prepare makes the backup dir and its subdirs, private to the cluster's user.
func (b *Backup) prepare(owner *credential) error {
	if fi, err := os.Stat(b.Dir); err == nil && !fi.IsDir() {
		return shop.InField("backup dir", shop.Invalid("backup dir %s is not a directory", b.Dir))
	}
	if err := os.MkdirAll(filepath.Dir(b.Dir), 0o755); err != nil {
		return fmt.Errorf("create backup dir: %w", err)
	}
	for _, d := range []string{b.Dir, b.walDir(), b.baseDir()} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create backup dir: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", d, err)
		}
		if owner != nil {
			if err := os.Chown(d, int(owner.uid), int(owner.gid)); err != nil {
				return fmt.Errorf("hand %s to user %s: %w", d, owner.name, err)
			}
		}
	}
	if owner != nil {
		for d := filepath.Dir(b.Dir); d != filepath.Dir(d); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && !searchable(fi, owner) {
				return shop.InField("backup dir", shop.Invalid("user %s, which runs the embedded cluster and its backups, cannot reach backup dir %s: %s has mode %04o; choose another backup dir or chmod o+x %s",
					owner.name, b.Dir, d, fi.Mode().Perm(), d))
			}
		}
	}
	return nil
}

// connString is a replication connection to the cluster for the backup
// tools, named application.
func (c *Cluster) connString(application string) string {
	kv := func(k, v string) string {
		return k + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	return strings.Join([]string{kv("host", c.SocketDir()), kv("port", strconv.Itoa(Port)), kv("user", Superuser),
		kv("passfile", c.PassFile()), kv("application_name", application), kv("sslmode", "disable")}, " ")
}

// StreamRunning reports whether the backup's pg_receivewal process is alive
// and streams from this cluster's socket (a data dir that moved needs a new one).
func (c *Cluster) StreamRunning() (pid int, ok bool) {
	b := c.Backup
	pid, args := b.receiver()
	return pid, len(args) > 0 && slices.Contains(args, b.walDir()) && slices.Contains(args, c.connString(b.Name()))
}

// receiver is the pid in receiver.pid and, when that process is a
// pg_receivewal, its arguments (nil otherwise: gone, or the pid reused).
func (b *Backup) receiver() (int, []string) {
	pid, err := strconv.Atoi(readTrim(b.pidFile()))
	if err != nil || pid <= 0 {
		return 0, nil
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if args := strings.Split(string(cmdline), "\x00"); err == nil && filepath.Base(args[0]) == "pg_receivewal" {
		return pid, args
	}
	return pid, nil
}

// StopStream ends the backup's pg_receivewal (it flushes what it has) and
// waits for it to exit.
func (b *Backup) StopStream() error {
	pid, args := b.receiver()
	if args == nil {
		os.Remove(b.pidFile())
		return nil
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err != nil || zombie(st) {
			os.Remove(b.pidFile())
			return nil
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	os.Remove(b.pidFile())
	return nil
}

// zombie reports whether /proc/PID/stat says the process has exited.
func zombie(stat []byte) bool {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// EnsureStream makes the running cluster stream its WAL into the backup dir:
// it claims the dir for this cluster (its system identifier and data dir),
// creates the replication slot (the server keeps WAL the stream has not
// flushed), starts pg_receivewal when it is not running (it outlives this
// process; whatever next opens the cluster starts it again should it die),
// sets synchronous_standby_names for the mode, and takes the first base
// backup when there is none. say hears what it does that takes time. A
// backup dir given up (another one set, or none) has its stream stopped and
// its slot dropped, so neither commits nor the server's disk wait for it.
// The common case (all in place) reads a few small files.
func (c *Cluster) EnsureStream(ctx context.Context, say func(string)) error {
	want, was := "", readTrim(c.backupDirFile())
	if c.Backup != nil && c.Backup.Sync {
		want = `"` + c.Backup.Name() + `"`
	}
	modeOK := c.syncSetting() == want
	if c.Backup == nil {
		// No backup dir here and none remembered (AdoptBackup): a synchronous
		// setting an earlier rabbitpay left would make every commit wait.
		if modeOK || was != "" {
			return nil
		}
		return c.setSync(ctx, want)
	}
	b := c.Backup
	_, running := c.StreamRunning()
	if modeOK && running && was == b.Dir && b.Owner() == c.Dir && b.SystemID() != "" && len(b.bases()) > 0 {
		return nil
	}
	owner, err := runAs()
	if err != nil {
		return err
	}
	if err := b.prepare(owner); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var id string
	var inRecovery bool
	if err := conn.QueryRow(ctx, `SELECT system_identifier::text, pg_is_in_recovery() FROM pg_control_system()`).Scan(&id, &inRecovery); err != nil {
		return err
	}
	if inRecovery {
		return nil // a restore in progress: it streams once promoted
	}
	switch have := b.SystemID(); {
	case have == "":
		if err := writePrivate(b.idFile(), id+"\n", owner); err != nil {
			return err
		}
	case have != id:
		return shop.InField("backup dir", shop.Invalid("backup dir %s holds the backups of another shop (cluster %s, this one is %s): "+
			"choose a new backup dir, or restore that shop with 'rabbitpay db restore --from %s'", b.Dir, have, id, b.Dir))
	}
	if o := b.Owner(); o != c.Dir {
		if o != "" && exists(filepath.Join(o, "pgdata", "PG_VERSION")) {
			// A copy restored beside the shop (same system identifier): its
			// WAL would mix with the shop's, and each would stop the other's stream.
			return shop.InField("backup dir", shop.Invalid("backup dir %s belongs to the shop in %s, which still exists: this copy in %s needs a backup dir of its own",
				b.Dir, o, c.Dir))
		}
		if err := writePrivate(b.ownerFile(), c.Dir+"\n", owner); err != nil { // a new dir, or the data dir moved
			return err
		}
	}
	if was != b.Dir {
		if err := c.giveUpStream(ctx, conn, was, b.Name()); err != nil {
			return err
		}
		if err := writePrivate(c.backupDirFile(), b.Dir+"\n", owner); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, `SELECT pg_create_physical_replication_slot($1, true)
		WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)`, b.Name()); err != nil {
		return fmt.Errorf("create the backup's replication slot: %w", err)
	}
	if !running {
		if err := c.startStream(false); err != nil {
			return err
		}
	}
	if !modeOK {
		if err := setSync(ctx, conn, want); err != nil {
			return err
		}
	}
	if len(b.bases()) == 0 {
		say(fmt.Sprintf("taking the first base backup into %s", b.baseDir()))
		if _, err := c.BaseBackup(ctx, nil); err != nil {
			return fmt.Errorf("the first base backup failed: %w", err)
		}
	}
	return nil
}

// RestartStream (re)starts the backup's pg_receivewal, under the data dir's
// lock (two commands at once start one). A receiver that is alive but not
// streaming (waiting to retry a connection the server refused while it
// restarted) is replaced, so the stream is back at once.
func (c *Cluster) RestartStream() error { return c.startStream(true) }

// startStream starts the receiver under the data dir's lock: when it is not
// running (looked at again under the lock: two commands at once start one),
// or always (restart).
func (c *Cluster) startStream(restart bool) error {
	bin, err := FindBinDir()
	if err != nil {
		return err
	}
	owner, err := runAs()
	if err != nil {
		return err
	}
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, running := c.StreamRunning(); running && !restart {
		return nil
	}
	return c.startReceiver(bin, owner)
}

// AdoptBackup, when no backup dir is configured, takes the one the data
// dir streams into (remembered in its backup_dir), in the mode the cluster
// is in: a command run without the setting (a cron job, another config
// file) must neither stop the stream nor drop its slot. To stop backing up,
// StopBackup.
func (c *Cluster) AdoptBackup(keep int) {
	if c.Backup != nil {
		return
	}
	was := readTrim(c.backupDirFile())
	if was == "" {
		return
	}
	mode := BackupAsynchronous
	if c.syncSetting() != "" {
		mode = BackupSynchronous
	}
	if b, err := NewBackup(was, mode, keep); err == nil {
		c.Backup = b
	}
}

// StopBackup ends backing up: the commits stop waiting for the stream, the
// stream stops and its slot is dropped (the server keeps no WAL for it),
// and the data dir forgets the backup dir. The backup dir's contents stay.
func (c *Cluster) StopBackup(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := setSync(ctx, conn, ""); err != nil {
		return err
	}
	if err := c.giveUpStream(ctx, conn, readTrim(c.backupDirFile()), ""); err != nil {
		return err
	}
	if err := os.Remove(c.backupDirFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// giveUpStream stops the stream into the backup dir the data dir used before
// (old; "" for none) and drops every rabbitpay backup slot but keep's: a slot
// no receiver reads makes the server keep its WAL for ever.
func (c *Cluster) giveUpStream(ctx context.Context, conn *pgx.Conn, old, keep string) error {
	if old != "" {
		(&Backup{Dir: old}).StopStream()
	}
	// rabbitpay_backup was the one name of an earlier rabbitpay's stream.
	const ours = `(slot_name LIKE 'rabbitpay\_backup\_%' OR slot_name = 'rabbitpay_backup') AND slot_name <> $1`
	_, err := conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE `+ours+` AND active_pid IS NOT NULL`, keep)
	// A terminated receiver's walsender lets go of its slot a moment later:
	// until then the slot is active and cannot be dropped.
	for deadline := time.Now().Add(10 * time.Second); err == nil; time.Sleep(50 * time.Millisecond) {
		var left int
		if _, err = conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE `+ours+` AND NOT active`, keep); err != nil {
			break
		}
		if err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE `+ours, keep).Scan(&left); err != nil || left == 0 {
			break
		}
		if time.Now().After(deadline) {
			err = fmt.Errorf("%d slot(s) still in use after 10s", left)
		}
	}
	if err != nil {
		return fmt.Errorf("drop the former backup's replication slot: %w", err)
	}
	return nil
}

func readTrim(path string) string {
	raw, _ := os.ReadFile(path)
	return strings.TrimSpace(string(raw))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startReceiver starts pg_receivewal into the backup dir's wal/, detached
// from this process (its own process group, as the cluster's user), its
// output appended to receiver.log. It flushes every write (--synchronous)
// in both modes: in asynchronous mode the server just does not wait for it.
func (c *Cluster) startReceiver(bin string, owner *credential) error {
	b := c.Backup
	b.StopStream() // a stale one, streaming from where the data dir used to be
	if err := b.mendPartial(owner); err != nil {
		return err
	}
	log, err := os.OpenFile(b.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("backup stream log: %w", err)
	}
	defer log.Close()
	if err := fixFile(b.logFile(), owner); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "pg_receivewal"), "-D", b.walDir(), "-S", b.Name(), "--synchronous",
		"-d", c.connString(b.Name()))
	c.setup(cmd, owner)
	cmd.Dir = b.Dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pg_receivewal: %w", err)
	}
	go cmd.Wait() // reaped should it end while this process lives
	return writePrivate(b.pidFile(), strconv.Itoa(cmd.Process.Pid)+"\n", owner)
}

// walSegmentSize is the WAL segment size of the clusters rabbitpay makes
// (initdb's default).
const walSegmentSize = 16 << 20

// mendPartial extends a NAME.partial shorter than a segment to a whole one.
// pg_receivewal fills a new segment with zeros before writing any WAL to it;
// killed while doing so (a crash, the OOM killer) it leaves a short file of
// zeros, and refuses to start again ever after ("has N bytes, should be 0 or
// 16777216"). Extending it with zeros is what it was doing.
func (b *Backup) mendPartial(owner *credential) error {
	entries, err := os.ReadDir(b.walDir())
	if err != nil {
		return nil // pg_receivewal will say what is wrong with it
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".partial") {
			continue
		}
		fi, err := e.Info()
		if err != nil || fi.Size() == 0 || fi.Size() == walSegmentSize {
			continue
		}
		p := filepath.Join(b.walDir(), e.Name())
		if err := os.Truncate(p, walSegmentSize); err != nil {
			return fmt.Errorf("mend the backup's WAL segment %s: %w", p, err)
		}
	}
	return nil
}

// syncSetting is synchronous_standby_names as rabbitpay set it in
// postgresql.auto.conf ("" when unset), read without a connection.
func (c *Cluster) syncSetting() string {
	f, err := os.Open(filepath.Join(c.pgdata(), "postgresql.auto.conf"))
	if err != nil {
		return ""
	}
	defer f.Close()
	val := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "synchronous_standby_names" {
			v = strings.TrimSpace(v)
			val = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'"), "''", "'")
		}
	}
	return val
}

func (c *Cluster) setSync(ctx context.Context, want string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return setSync(ctx, conn, want)
}

// setSync makes commits wait for the backup stream (want names it) or not
// (want ""), at once: the server rereads its settings.
func setSync(ctx context.Context, conn *pgx.Conn, want string) error {
	q := `ALTER SYSTEM RESET synchronous_standby_names`
	if want != "" {
		q = `ALTER SYSTEM SET synchronous_standby_names = '` + strings.ReplaceAll(want, "'", "''") + `'`
	}
	if _, err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("set synchronous_standby_names: %w", err)
	}
	_, err := conn.Exec(ctx, `SELECT pg_reload_conf()`)
	return err
}

// BaseInfo describes one base backup.
type BaseInfo struct {
	Name  string    // its directory's name under base/
	Start time.Time // when it started (its WAL begins there)
	Bytes int64
	// StartWAL is the WAL segment it starts in: the oldest the stream must keep for it.
	StartWAL string
	Took     time.Duration
}

// bases lists the complete base backups, oldest first.
func (b *Backup) bases() []string {
	entries, err := os.ReadDir(b.baseDir())
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if _, err := time.Parse(baseNameLayout, e.Name()); err == nil && e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

const baseNameLayout = "20060102T150405Z"

// Bases describes the complete base backups, oldest first.
func (b *Backup) Bases() []BaseInfo {
	var out []BaseInfo
	for _, name := range b.bases() {
		info := BaseInfo{Name: name}
		info.Start, _ = time.Parse(baseNameLayout, name)
		info.StartWAL = startWAL(filepath.Join(b.baseDir(), name))
		filepath.WalkDir(filepath.Join(b.baseDir(), name), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					info.Bytes += fi.Size()
				}
			}
			return nil
		})
		out = append(out, info)
	}
	return out
}

// startWAL reads the segment a base backup starts in from its backup_label.
func startWAL(dir string) string {
	raw, _ := os.ReadFile(filepath.Join(dir, "backup_label"))
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "START WAL LOCATION:") {
			if i := strings.Index(l, "(file "); i >= 0 {
				return strings.TrimSuffix(strings.TrimSpace(l[i+len("(file "):]), ")")
			}
		}
	}
	return ""
}

// BaseBackup takes a base backup of the running cluster into the backup dir,
// checks it with pg_verifybackup, and removes the base backups beyond Keep
// and the WAL only they needed. progress, when not nil, shows
// pg_basebackup's progress (a terminal).
func (c *Cluster) BaseBackup(ctx context.Context, progress io.Writer) (BaseInfo, error) {
	b := c.Backup
	bin, err := FindBinDir()
	if err != nil {
		return BaseInfo{}, err
	}
	owner, err := runAs()
	if err != nil {
		return BaseInfo{}, err
	}
	if err := b.prepare(owner); err != nil {
		return BaseInfo{}, err
	}
	unlock, err := b.lock() // one base backup at a time: a second waits, then takes its own
	if err != nil {
		return BaseInfo{}, err
	}
	defer unlock()
	began := time.Now()
	name := began.UTC().Format(baseNameLayout)
	for _, have := range b.bases() {
		if have >= name { // two in one second: the next second's name
			began = began.Add(time.Second)
			name = began.UTC().Format(baseNameLayout)
		}
	}
	tmp, err := os.MkdirTemp(b.baseDir(), name+".tmp-")
	if err != nil {
		return BaseInfo{}, err
	}
	defer os.RemoveAll(tmp) // gone once renamed; removed if anything failed
	if owner != nil {
		if err := os.Chown(tmp, int(owner.uid), int(owner.gid)); err != nil {
			return BaseInfo{}, err
		}
	}
	args := []string{"-D", tmp, "-Fp", "-X", "stream", "-c", "fast", "-d", c.connString(baseBackupName)}
	if progress != nil {
		args = append(args, "-P")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "pg_basebackup"), args...)
	c.setup(cmd, owner)
	cmd.Dir = b.Dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if progress != nil {
		cmd.Stderr = io.MultiWriter(&out, progress)
	}
	if err := cmd.Run(); err != nil {
		os.RemoveAll(tmp)
		return BaseInfo{}, &startError{msg: fmt.Sprintf("pg_basebackup into %s failed: %v", b.baseDir(), err), details: lines(out.String())}
	}
	verify := exec.CommandContext(ctx, filepath.Join(bin, "pg_verifybackup"), "-q", tmp)
	c.setup(verify, owner)
	verify.Dir = b.Dir
	if vout, err := verify.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return BaseInfo{}, &startError{msg: fmt.Sprintf("the new base backup failed pg_verifybackup (removed): %v", err), details: lines(string(vout))}
	}
	if err := os.Rename(tmp, filepath.Join(b.baseDir(), name)); err != nil {
		return BaseInfo{}, err
	}
	if err := b.prune(); err != nil {
		return BaseInfo{}, err
	}
	for _, info := range b.Bases() {
		if info.Name == name {
			info.Took = time.Since(began)
			return info, nil
		}
	}
	return BaseInfo{Name: name, Took: time.Since(began)}, nil
}

// prune removes the base backups beyond Keep, oldest first, and the WAL
// older than the oldest one kept (history files stay: they are tiny and a
// restore across a timeline needs them).
func (b *Backup) prune() error {
	names := b.bases()
	for len(names) > b.Keep {
		if err := os.RemoveAll(filepath.Join(b.baseDir(), names[0])); err != nil {
			return err
		}
		names = names[1:]
	}
	if len(names) == 0 {
		return nil
	}
	oldest := startWAL(filepath.Join(b.baseDir(), names[0]))
	if len(oldest) != 24 {
		return nil
	}
	entries, err := os.ReadDir(b.walDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		// The timeline (the first 8 hex digits) aside, names sort by position.
		if len(n) >= 24 && isHex(n[:24]) && !strings.HasSuffix(n, ".history") && n[8:24] < oldest[8:] {
			os.Remove(filepath.Join(b.walDir(), n))
		}
	}
	return nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789ABCDEF", r) {
			return false
		}
	}
	return true
}

// RestoreResult is where a restore ended.
type RestoreResult struct {
	Base     string // the base backup restored
	Timeline int    // the timeline the restored cluster goes on in
	// LSN is where recovery ended; Reason PostgreSQL's words for why there.
	LSN, Reason string
}

// Restore makes this (absent) cluster from the backup dir from: its newest
// base backup (or the newest taken before to), then all its WAL — the
// segment in progress (NAME.partial) too — or the WAL up to to; it promotes
// the result, so it opens for writing, and leaves it running. It never
// overwrites a cluster that exists.
func (c *Cluster) Restore(ctx context.Context, from *Backup, to *time.Time) (RestoreResult, error) {
	var res RestoreResult
	if c.Initialized() {
		return res, fmt.Errorf("data dir %s already holds a shop, and a restore never overwrites one: restore into a new data dir (--data-dir), "+
			"or move this one aside first ('rabbitpay db stop', then 'mv %s %s.old')", c.Dir, c.Dir, c.Dir)
	}
	bases := from.bases()
	if to != nil {
		bases = slices.DeleteFunc(bases, func(n string) bool { t, _ := time.Parse(baseNameLayout, n); return !t.Before(*to) })
	}
	if len(bases) == 0 {
		if to != nil {
			return res, fmt.Errorf("backup dir %s holds no base backup taken before %s", from.Dir, to.Format(time.RFC3339))
		}
		return res, fmt.Errorf("backup dir %s holds no base backup (base/ is empty or missing)", from.Dir)
	}
	res.Base = bases[len(bases)-1]
	bin, err := FindBinDir()
	if err != nil {
		return res, err
	}
	owner, err := runAs()
	if err != nil {
		return res, err
	}
	streamsBack := c.Backup != nil && c.Backup.Dir == from.Dir
	if o := from.Owner(); o != "" && o != c.Dir && exists(filepath.Join(o, "pgdata", "PG_VERSION")) {
		// The shop that streams into from still exists: a copy beside it
		// reads the dir, but must neither stop its stream nor write into it.
		if streamsBack {
			return res, fmt.Errorf("backup dir %s belongs to the shop in %s, which still exists: a copy restored beside it needs a backup dir of its own (backup.dir, RABBITPAY_BACKUP_DIR), or none (RABBITPAY_BACKUP_DIR=)",
				from.Dir, o)
		}
	} else {
		from.StopStream() // it streamed from the lost cluster; it would write into the dir being read
	}
	if err := c.checkLocation(owner); err != nil {
		return res, err
	}
	if err := c.mkdir(); err != nil {
		return res, err
	}
	unlock, err := c.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	if err := c.prepareDirs(owner); err != nil {
		return res, err
	}
	fail := func(err error) (RestoreResult, error) {
		c.Stop()
		os.RemoveAll(c.pgdata())
		return res, err
	}
	if err := copyTree(filepath.Join(from.baseDir(), res.Base), c.pgdata(), owner); err != nil {
		return fail(fmt.Errorf("copy base backup %s: %w", res.Base, err))
	}
	os.Remove(filepath.Join(c.pgdata(), "backup_manifest"))
	if _, err := os.Stat(c.PassFile()); err != nil {
		return fail(fmt.Errorf("base backup %s has no password file (%s): it was not taken by rabbitpay", res.Base, passFileName))
	}
	// The segments in progress: pg_receivewal keeps each as NAME.partial.
	// Recovery reads pg_wal/ where restore_command finds nothing.
	entries, err := os.ReadDir(from.walDir())
	if err != nil {
		return fail(err)
	}
	for _, e := range entries {
		full, ok := strings.CutSuffix(e.Name(), ".partial")
		if !ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(from.walDir(), full)); err == nil {
			continue
		}
		if err := copyFile(filepath.Join(from.walDir(), e.Name()), filepath.Join(c.pgdata(), "pg_wal", full), 0o600, owner); err != nil {
			return fail(err)
		}
	}
	conf := "restore_command = " + confQuote("cp "+shellQuote(strings.ReplaceAll(from.walDir(), "%", "%%")+"/%f")+` "%p"`) + "\n" +
		"recovery_target_timeline = 'latest'\nrecovery_target_action = 'promote'\n"
	if to != nil {
		conf += "recovery_target_time = " + confQuote(to.UTC().Format("2006-01-02 15:04:05.999999+00")) + "\n"
	}
	if err := rewriteAutoConf(filepath.Join(c.pgdata(), "postgresql.auto.conf"), conf, owner); err != nil {
		return fail(err)
	}
	if err := writePrivate(filepath.Join(c.pgdata(), "recovery.signal"), "", owner); err != nil {
		return fail(err)
	}
	if _, err := c.ensureConf(); err != nil {
		return fail(err)
	}
	if err := c.start(bin, 3600); err != nil {
		return fail(err)
	}
	conn, err := c.awaitPromotion(ctx)
	if err != nil {
		return fail(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range []string{"restore_command", "recovery_target_timeline", "recovery_target_action", "recovery_target_time"} {
		if _, err := conn.Exec(ctx, "ALTER SYSTEM RESET "+s); err != nil {
			return res, err
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return res, err
	}
	if err := conn.QueryRow(ctx, `SELECT timeline_id FROM pg_control_checkpoint()`).Scan(&res.Timeline); err != nil {
		return res, err
	}
	// The new timeline's history file: its last line says where the old one ended, and why.
	raw, _ := os.ReadFile(filepath.Join(c.pgdata(), "pg_wal", fmt.Sprintf("%08X.history", res.Timeline)))
	if l := lines(string(raw)); len(l) > 0 {
		if f := strings.SplitN(l[len(l)-1], "\t", 3); len(f) == 3 {
			res.LSN, res.Reason = f[1], f[2]
		}
	}
	if streamsBack {
		if err := from.abandon(string(raw), res.Timeline); err != nil {
			return res, err
		}
	}
	return res, nil
}

// abandon moves the WAL the restored cluster's history does not go through
// out of wal/ into wal/abandoned/ (kept, not deleted): the segments of an
// ancestor timeline past the point where it ended (a restore to a time left
// them behind, and the one it ended in, which the stream fetches again up to
// the fork), and those of timelines that are no ancestor. pg_receivewal
// starts from the newest segment it finds in wal/: one the server's history
// does not hold, and it could never stream again.
func (b *Backup) abandon(history string, timeline int) error {
	ends := map[uint64]uint64{} // ancestor timeline → the segment it ended in
	var fork uint64             // the segment the new timeline began in
	for _, l := range lines(history) {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			continue
		}
		tli, err1 := strconv.ParseUint(strings.TrimSpace(f[0]), 10, 32)
		hi, lo, ok := strings.Cut(strings.TrimSpace(f[1]), "/")
		h, err2 := strconv.ParseUint(hi, 16, 32)
		lw, err3 := strconv.ParseUint(lo, 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || !ok {
			continue
		}
		ends[tli] = (h<<32 | lw) / walSegmentSize
		fork = ends[tli] // the last line is where the new timeline began
	}
	entries, err := os.ReadDir(b.walDir())
	if err != nil {
		return err
	}
	// One dir per restore (its new timeline): a later restore never replaces
	// what an earlier one kept.
	dest := filepath.Join(b.walDir(), "abandoned", fmt.Sprintf("%08X", timeline))
	for _, e := range entries {
		n := e.Name()
		if len(n) < 24 || !isHex(n[:24]) || strings.HasSuffix(n, ".history") {
			continue
		}
		tli, _ := strconv.ParseUint(n[:8], 16, 32)
		log, _ := strconv.ParseUint(n[8:16], 16, 32)
		seg, _ := strconv.ParseUint(n[16:24], 16, 32)
		end, ancestor := ends[tli]
		// The segment an ancestor ended in goes too (pg_receivewal streams
		// it again up to the fork, then follows the new timeline), and so
		// does anything at or past the segment the new timeline began in:
		// a restore to an earlier time than a former one leaves an ancestor
		// whose own end lies beyond the fork.
		if n := log*(1<<32/walSegmentSize) + seg; tli == uint64(timeline) || ancestor && n < end && n < fork {
			continue
		}
		if err := os.MkdirAll(dest, 0o700); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(b.walDir(), n), filepath.Join(dest, n)); err != nil {
			return err
		}
	}
	return nil
}

// awaitPromotion waits for a cluster in recovery to finish it and promote,
// and returns a connection to it.
func (c *Cluster) awaitPromotion(ctx context.Context) (*pgx.Conn, error) {
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			var inRecovery bool
			if err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err == nil && !inRecovery {
				return conn, nil
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		if !c.Running() {
			return nil, &startError{msg: "recovery stopped before it could promote the restored cluster (the server log says why)", details: c.logTail()}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rewriteAutoConf drops the recovery and synchronous settings a base backup
// carries from postgresql.auto.conf and appends add.
func rewriteAutoConf(path, add string, owner *credential) error {
	raw, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var keep []string
	for _, l := range strings.Split(string(raw), "\n") {
		k, _, _ := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if l == "" || k == "synchronous_standby_names" || k == "restore_command" || strings.HasPrefix(k, "recovery_target") {
			continue
		}
		keep = append(keep, l)
	}
	return writePrivate(path, strings.Join(keep, "\n")+"\n"+add, owner)
}

func confQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// copyTree copies the directory src into dst (which exists), files 0600 and
// dirs 0700, owned by owner.
func copyTree(src, dst string, owner *credential) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			if owner != nil {
				return os.Chown(target, int(owner.uid), int(owner.gid))
			}
			return nil
		case d.Type().IsRegular():
			return copyFile(p, target, 0o600, owner)
		}
		return nil // pg_basebackup's plain format holds only dirs and files
	})
}

func copyFile(src, dst string, mode os.FileMode, owner *credential) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if owner != nil {
		return os.Chown(dst, int(owner.uid), int(owner.gid))
	}
	return nil
}

// mayCreate refuses to make a new, empty cluster where a shop once was: a
// data dir whose server log shows a cluster ran there, or a backup dir that
// holds a shop's backups. NewShop (db init) allows it.
func (c *Cluster) mayCreate() error {
	if c.NewShop {
		if c.Backup != nil && c.Backup.SystemID() != "" {
			return fmt.Errorf("backup dir %s holds another shop's backups: a new shop needs a new backup dir (set backup.dir), or restore that shop with 'rabbitpay db restore --from %s'",
				c.Backup.Dir, c.Backup.Dir)
		}
		return nil
	}
	why := ""
	if c.remembered() {
		why = "rabbitpay made or restored a shop there (" + registryFile() + ")"
	}
	if fi, err := os.Stat(c.logFile()); err == nil && fi.Size() > 0 {
		why = "its server log shows a shop ran here"
	}
	from := "DIR"
	if c.Backup != nil && c.Backup.SystemID() != "" {
		why, from = "backup dir "+c.Backup.Dir+" holds its backups", c.Backup.Dir
	}
	if why == "" {
		return nil
	}
	return &GoneError{msg: fmt.Sprintf("the shop in data dir %s is gone (%s, but its cluster is missing): restore it with 'rabbitpay db restore --from %s', "+
		"or start a new, empty shop with 'rabbitpay db init'", c.Dir, why, from)}
}

// GoneError is a data dir whose shop is missing: never replaced by an empty one unasked.
type GoneError struct{ msg string }

func (e *GoneError) Error() string { return e.msg }
