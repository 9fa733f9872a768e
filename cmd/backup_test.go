package cmd

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// shopDirs is an embedded shop with a backup dir, run as separate processes.
type shopDirs struct {
	t                *testing.T
	parent, data, bk string
	env              []string
}

// newBackedUpShop makes a data dir and a backup dir (under the system temp
// dir: as root the cluster's user must reach them) in the given mode, with a
// short saga lease so recovery after a crash need not wait long.
func newBackedUpShop(t *testing.T, mode string) *shopDirs {
	t.Helper()
	parent, err := os.MkdirTemp("", "rpbackup-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	s := &shopDirs{t: t, parent: parent, data: filepath.Join(parent, "data"), bk: filepath.Join(parent, "backup")}
	s.setData(s.data)
	s.env = append(s.env, "RABBITPAY_BACKUP_DIR="+s.bk, "RABBITPAY_BACKUP_MODE="+mode)
	t.Cleanup(func() {
		s.run("db", "stop")
		os.RemoveAll(parent)
	})
	return s
}

func (s *shopDirs) setData(dir string) {
	s.data = dir
	env := []string{"RABBITPAY_DATA_DIR=" + dir, "RABBITPAY_SAGA_LEASE=2s"}
	for _, e := range s.env {
		if !strings.HasPrefix(e, "RABBITPAY_DATA_DIR=") && !strings.HasPrefix(e, "RABBITPAY_SAGA_LEASE=") {
			env = append(env, e)
		}
	}
	s.env = env
}

func (s *shopDirs) run(args ...string) (string, string, int) { return rabbitpayProcess(s.env, args...) }

func (s *shopDirs) ok(args ...string) string {
	s.t.Helper()
	out, serr, code := s.run(args...)
	if code != 0 {
		s.t.Fatalf("rabbitpay %s: exit %d: %s", strings.Join(args, " "), code, serr)
	}
	return out
}

func (s *shopDirs) json(v any, args ...string) {
	s.t.Helper()
	out := s.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		s.t.Fatalf("rabbitpay %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type stockRow struct {
	SKU   string `json:"sku"`
	Price int64  `json:"price"`
	Stock int64  `json:"stock_quantity"`
}

func (s *shopDirs) product(sku string) stockRow {
	s.t.Helper()
	var rows []stockRow
	s.json(&rows, "product", "list")
	for _, r := range rows {
		if r.SKU == sku {
			return r
		}
	}
	s.t.Fatalf("no product %s in %v", sku, rows)
	return stockRow{}
}

type orderRow struct {
	UUID   string `json:"order_uuid"`
	Status string `json:"status"`
	Items  []struct {
		Quantity int64 `json:"quantity"`
		Refunded int64 `json:"refunded_quantity"`
	} `json:"items"`
}

func (s *shopDirs) orders() map[string]orderRow {
	s.t.Helper()
	var rows []orderRow
	s.json(&rows, "order", "list", "--all")
	out := map[string]orderRow{}
	for _, r := range rows {
		out[r.UUID] = r
	}
	return out
}

// killPostmaster kills the cluster's postmaster with SIGKILL, as a crash would.
func (s *shopDirs) killPostmaster() {
	s.t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.data, "pgdata", "postmaster.pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
}

// loseDisk kills the server and deletes its data dir: the disk is gone.
func (s *shopDirs) loseDisk() {
	s.t.Helper()
	s.killPostmaster()
	if err := os.RemoveAll(s.data); err != nil {
		s.t.Fatal(err)
	}
}

// blockStream ends the backup stream and puts a file where its WAL dir was,
// so it cannot start again; the returned func undoes it.
func (s *shopDirs) blockStream() func() {
	s.t.Helper()
	wal := filepath.Join(s.bk, "wal")
	if err := os.Rename(wal, wal+".away"); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(wal, nil, 0o600); err != nil {
		s.t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(s.bk, "receiver.pid"))
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(raw))); pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return func() {
		os.Remove(wal)
		if err := os.Rename(wal+".away", wal); err != nil {
			s.t.Fatal(err)
		}
	}
}

// The restore drill: synchronous backup, lanes placing orders, the
// postmaster killed and the data dir deleted. The next command refuses to
// open an empty shop; db restore brings back every order that exited 0; once
// saga recover has run, stock is conserved and every payment taken belongs to
// a paid order or was refunded. Every backup file is the owner's alone.
func TestRestoreDrill(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	const stock = 10000
	s.ok("product", "register", "--sku", "D-1", "--name", "Drill", "--price", "1000", "--stock", strconv.Itoa(stock))
	s.ok("customer", "register", "--name", "Kim")

	var (
		mu     sync.Mutex
		acked  []string
		killed atomic.Bool
		wg     sync.WaitGroup
		placed atomic.Int32
	)
	for lane := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				if killed.Load() {
					return
				}
				out, _, code := s.run("order", "place", "--customer", "1", "--item", "D-1:"+strconv.Itoa(1+(lane+i)%3), "--method", "NAVER", "-o", "json")
				if code == 0 {
					var r struct {
						UUID string `json:"order_uuid"`
					}
					if err := json.Unmarshal([]byte(out), &r); err != nil || r.UUID == "" {
						t.Errorf("order place exit 0 without an order: %v %s", err, out)
						return
					}
					mu.Lock()
					acked = append(acked, r.UUID)
					mu.Unlock()
					placed.Add(1)
				}
			}
		})
	}
	for placed.Load() < 12 {
		time.Sleep(50 * time.Millisecond)
	}
	s.killPostmaster()
	killed.Store(true)
	wg.Wait()
	if err := os.RemoveAll(s.data); err != nil {
		t.Fatal(err)
	}

	// The next command refuses: no empty shop in its place.
	_, serr, code := s.run("product", "list")
	if code != ExitFailure || !strings.Contains(serr, "db restore --from "+s.bk) || strings.Count(strings.TrimSpace(serr), "\n") != 0 {
		t.Fatalf("product list after the data dir was lost: exit %d, stderr %q", code, serr)
	}
	if _, err := os.Stat(filepath.Join(s.data, "pgdata", "PG_VERSION")); err == nil {
		t.Fatal("a new cluster was made in place of the lost one")
	}

	out := s.ok("db", "restore", "--from", s.bk)
	if !strings.Contains(out, "restored data dir "+s.data) {
		t.Fatalf("db restore said %q", out)
	}
	orders := s.orders()
	for _, u := range acked {
		if o, ok := orders[u]; !ok || o.Status != "paid" {
			t.Errorf("order %s exited 0 but after the restore it is %+v", u, o)
		}
	}
	t.Logf("%d orders acknowledged, %d restored", len(acked), len(orders))

	// Sagas cut off by the crash: finished (their leases are 2 s).
	if _, serr, code := s.run("saga", "recover", "--wait", "1m"); code != 0 {
		t.Fatalf("saga recover: exit %d: %s", code, serr)
	}
	orders = s.orders()
	sold := int64(0)
	for _, o := range orders {
		if o.Status == "paid" {
			for _, it := range o.Items {
				sold += it.Quantity - it.Refunded
			}
		}
	}
	if p := s.product("D-1"); p.Stock+sold != stock {
		t.Errorf("stock %d + sold %d != %d", p.Stock, sold, stock)
	}
	var pays []struct {
		UUID     string `json:"order_uuid"`
		OrderID  *int64 `json:"order_id"`
		Status   string `json:"status"`
		Amount   int64  `json:"amount"`
		Refunded int64  `json:"refunded_amount"`
	}
	s.json(&pays, "pay", "list", "--all")
	for _, p := range pays {
		switch {
		case p.Status == "PROGRESS":
			t.Errorf("payment for %s still in progress after recover", p.UUID)
		case p.Status == "SUCCESS" && (p.OrderID == nil || orders[p.UUID].Status != "paid"):
			t.Errorf("payment for %s taken but its order is %+v", p.UUID, orders[p.UUID])
		}
	}

	// Nothing in the backup dir is open to other users.
	filepath.WalkDir(s.bk, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o: others may read it", p, fi.Mode().Perm())
		}
		return nil
	})
}

// A mistaken UPDATE undone: restore to a time before it, into the data dir
// once the damaged one is moved aside.
func TestRestoreToATime(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "T-1", "--name", "Time", "--price", "5000", "--stock", "10")
	s.ok("customer", "register", "--name", "Lee")
	s.ok("order", "place", "--customer", "1", "--item", "T-1:2", "--method", "KAKAO")
	time.Sleep(1100 * time.Millisecond)
	before := time.Now()
	time.Sleep(1100 * time.Millisecond)
	url := strings.TrimSpace(s.ok("db", "url"))
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "UPDATE product SET price = 1"); err != nil {
		t.Fatal(err)
	}
	// More segments after the mistake: the restore's fork leaves them behind
	// in the backup dir, and the stream must still go on from the new timeline.
	for range 3 {
		if _, err := conn.Exec(context.Background(), "UPDATE product SET price = price + 1; SELECT pg_switch_wal()"); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(context.Background())
	s.ok("order", "place", "--customer", "1", "--item", "T-1:1", "--method", "KAKAO")

	// A restore never overwrites a cluster.
	if _, serr, code := s.run("db", "restore", "--from", s.bk, "--to", before.Format(time.RFC3339Nano)); code != ExitFailure ||
		!strings.Contains(serr, "already holds a shop") {
		t.Fatalf("restore over a cluster: exit %d %q", code, serr)
	}
	s.ok("db", "stop")
	if err := os.Rename(s.data, s.data+".mistake"); err != nil {
		t.Fatal(err)
	}
	_, serr, code := s.run("db", "restore", "--from", s.bk, "--to", before.Format(time.RFC3339Nano))
	if code != 0 || !strings.Contains(serr, "may have paid at the provider") {
		t.Fatalf("db restore --to: exit %d, stderr %q", code, serr)
	}
	if p := s.product("T-1"); p.Price != 5000 || p.Stock != 8 {
		t.Fatalf("after the restore to before the UPDATE: %+v, want price 5000, stock 8", p)
	}
	if n := len(s.orders()); n != 1 {
		t.Fatalf("%d orders after the restore, want the 1 placed before", n)
	}
	// The restored shop takes orders, and they reach the backup again.
	s.ok("order", "place", "--customer", "1", "--item", "T-1:1", "--method", "KAKAO")
	var st dbStatus
	s.json(&st, "db", "status")
	if st.Backup == nil || st.Backup.State != "streaming" || st.Backup.LagBytes == nil || *st.Backup.LagBytes != 0 {
		log, _ := os.ReadFile(filepath.Join(s.bk, "receiver.log"))
		t.Fatalf("backup after the restore: %+v\n%s", st.Backup, log)
	}

	// Once more, to the same earlier time: what the first restore kept aside
	// stays, and the stream goes on again.
	kept, _ := filepath.Glob(filepath.Join(s.bk, "wal", "abandoned", "*", "*"))
	if len(kept) == 0 {
		t.Fatal("the first restore kept nothing aside")
	}
	s.ok("db", "stop")
	os.RemoveAll(s.data + ".mistake")
	if err := os.Rename(s.data, s.data+".mistake"); err != nil {
		t.Fatal(err)
	}
	s.ok("db", "restore", "--from", s.bk, "--to", before.Format(time.RFC3339Nano))
	for _, f := range kept {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the second restore lost %s, kept by the first: %v", f, err)
		}
	}
	s.ok("order", "place", "--customer", "1", "--item", "T-1:1", "--method", "KAKAO")
	s.json(&st, "db", "status")
	if st.Backup == nil || st.Backup.State != "streaming" {
		log, _ := os.ReadFile(filepath.Join(s.bk, "receiver.log"))
		t.Fatalf("backup after the second restore: %+v\n%s", st.Backup, log)
	}
}

// With the synchronous stream down and unable to start, a placement is
// refused within seconds, before anything is reserved; once the stream can
// run again, orders go through.
func TestStreamDownRefusesPlacement(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "S-1", "--name", "Stream", "--price", "3000", "--stock", "5")
	s.ok("customer", "register", "--name", "Park")
	unblock := s.blockStream()
	began := time.Now()
	_, serr, code := s.run("order", "place", "--customer", "1", "--item", "S-1:1", "--method", "NAVER")
	took := time.Since(began)
	if code != ExitFailure || !strings.Contains(serr, "backup stream") || !strings.Contains(serr, "nothing was changed or reserved") || strings.Contains(serr, "saga") {
		t.Fatalf("order place with the stream down: exit %d, stderr %q", code, serr)
	}
	t.Logf("refused in %s", took)
	if p := s.product("S-1"); p.Stock != 5 {
		t.Fatalf("stock %d after a refused placement, want 5", p.Stock)
	}
	var sagas []any
	s.json(&sagas, "saga", "list")
	if len(sagas) != 0 {
		t.Fatalf("a refused placement left sagas: %v", sagas)
	}
	// Any other write is refused too, in seconds, rather than waiting for the stream.
	began = time.Now()
	if _, serr, code := s.run("customer", "register", "--name", "Waits"); code != ExitFailure || !strings.Contains(serr, "backup stream") {
		t.Fatalf("customer register with the stream down: exit %d %q", code, serr)
	}
	t.Logf("customer register refused in %s", time.Since(began))
	var customers []any
	s.json(&customers, "customer", "list")
	if len(customers) != 1 {
		t.Fatalf("customers after the refused register: %v", customers)
	}
	unblock()
	s.ok("order", "place", "--customer", "1", "--item", "S-1:1", "--method", "NAVER")
	if p := s.product("S-1"); p.Stock != 4 {
		t.Fatalf("stock %d after the stream came back and one order, want 4", p.Stock)
	}
}

// Asynchronous mode: commits do not wait for the stream, so an order goes
// through while it is down; once it runs again it catches up (the server
// kept the WAL for it), and a restore then holds that order.
func TestAsynchronousBackupCatchesUp(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "asynchronous")
	s.ok("product", "register", "--sku", "A-1", "--name", "Async", "--price", "2000", "--stock", "5")
	s.ok("customer", "register", "--name", "Choi")
	unblock := s.blockStream()
	var r struct {
		UUID string `json:"order_uuid"`
	}
	s.json(&r, "order", "place", "--customer", "1", "--item", "A-1:1", "--method", "NAVER")
	var down dbStatus
	s.json(&down, "db", "status")
	if down.Backup == nil || down.Backup.State != "down" || down.Backup.RetainedBytes <= 0 {
		t.Errorf("db status with the stream down: %+v", down.Backup)
	}
	unblock()
	// The next command starts the stream again; wait until it has caught up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st dbStatus
		s.json(&st, "db", "status")
		if st.Backup != nil && st.Backup.State == "streaming" && st.Backup.LagBytes != nil && *st.Backup.LagBytes == 0 {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.bk, "receiver.log"))
			t.Fatalf("the stream did not catch up: %+v\nreceiver.log:\n%s", st.Backup, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.loseDisk()
	s.ok("db", "restore", "--from", s.bk)
	if o, ok := s.orders()[r.UUID]; !ok || o.Status != "paid" {
		t.Fatalf("the order placed while the stream was down is %+v after the restore", o)
	}
}

// The data dir may move: nothing in it records its old path (the socket dir
// is on the server's command line, the password file inside pgdata).
func TestDataDirMoves(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "M-1", "--name", "Move", "--price", "1000", "--stock", "3")
	s.ok("db", "stop")
	moved := filepath.Join(s.parent, "moved")
	if err := os.Rename(s.data, moved); err != nil {
		t.Fatal(err)
	}
	s.setData(moved)
	if p := s.product("M-1"); p.Stock != 3 {
		t.Fatalf("after the move: %+v", p)
	}
	s.ok("customer", "register", "--name", "Jung")
	s.ok("order", "place", "--customer", "1", "--item", "M-1:1", "--method", "NAVER")
	var st dbStatus
	s.json(&st, "db", "status")
	if st.DataDir != moved || !st.Running || st.Backup == nil || st.Backup.State != "streaming" {
		t.Fatalf("db status after the move: %+v %+v", st, st.Backup)
	}
}

// A read-only server (a standby, a restore not yet promoted, or read-only by
// setting) refuses a placement with one sentence before anything is written,
// naming no saga.
func TestReadOnlyServerRefusesPlacement(t *testing.T) {
	c := newCLI(t)
	// Straight to the server: a pooler keeps server sessions opened before
	// the database was made read-only.
	c.url = testdb.Direct(t, c.url)
	c.ok("product", "register", "--sku", "R-1", "--name", "Read", "--price", "1000", "--stock", "3")
	c.ok("customer", "register", "--name", "Han")
	conn, err := pgx.Connect(context.Background(), testdb.Direct(t, c.url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	c.fails(ExitFailure, "read-only", "order", "place", "--customer", "1", "--item", "R-1:1", "--method", "NAVER")
	if _, err := conn.Exec(context.Background(), `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	var sagas []any
	c.json(&sagas, "saga", "list")
	var p []stockRow
	c.json(&p, "product", "list")
	if len(sagas) != 0 || len(p) != 1 || p[0].Stock != 3 {
		t.Fatalf("after a refused placement on a read-only server: sagas %v, products %+v", sagas, p)
	}
}

// saga recover --follow finishes a saga a crash left once its lease expires,
// with nobody running recover, and SIGTERM ends it with exit 0.
func TestSagaRecoverFollow(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "asynchronous")
	s.ok("product", "register", "--sku", "F-1", "--name", "Follow", "--price", "1000", "--stock", "5")
	s.ok("customer", "register", "--name", "Seo")
	crash := append(append([]string{}, s.env...), "RABBITPAY_FAILPOINTS=after_payment=crash")
	if _, _, code := rabbitpayProcess(crash, "order", "place", "--customer", "1", "--item", "F-1:1", "--method", "KAKAO"); code != 137 && code != -1 {
		t.Fatalf("the crashing placement exited %d", code)
	}
	cmd := exec.Command(os.Args[0], "saga", "recover", "--follow", "--interval", "200ms")
	cmd.Env = append(append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1", "RABBITPAY_DATABASE_URL="), s.env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var orders []orderRow
		s.json(&orders, "order", "list")
		if len(orders) == 1 && orders[0].Status == "paid" {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("recover --follow did not finish the crashed saga: orders %+v\n%s", orders, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("recover --follow after SIGTERM: %v\n%s", err, out.String())
	}
	if p := s.product("F-1"); p.Stock != 4 {
		t.Fatalf("stock %d after the recovered order, want 4", p.Stock)
	}
}

// A synchronous stream that stops answering while a saga commits (here:
// paused) leaves the commit waiting; after backup.wait it is cut off, the
// outcome is unknown (exit 3, never 0), and once the stream answers again
// saga recover finishes the saga.
func TestStreamStallsMidCommitIsUnknown(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.env = append(s.env, "RABBITPAY_BACKUP_WAIT=1s")
	s.ok("product", "register", "--sku", "W-1", "--name", "Wait", "--price", "1000", "--stock", "5")
	s.ok("customer", "register", "--name", "Oh")
	raw, err := os.ReadFile(filepath.Join(s.bk, "receiver.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, serr, code := s.run("order", "place", "--customer", "1", "--item", "W-1:1", "--method", "NAVER")
	took := time.Since(began)
	syscall.Kill(pid, syscall.SIGCONT)
	if code != ExitIncomplete || !strings.Contains(serr, "saga recover") {
		t.Fatalf("order place with the stream stalled: exit %d after %s, stderr %q", code, took, serr)
	}
	t.Logf("cut off after %s", took)
	if _, serr, code := s.run("saga", "recover", "--wait", "1m"); code != 0 {
		t.Fatalf("saga recover: exit %d: %s", code, serr)
	}
	orders := s.orders()
	sold := int64(0)
	for _, o := range orders {
		if o.Status == "paid" {
			sold++
		}
	}
	if p := s.product("W-1"); p.Stock+sold != 5 {
		t.Fatalf("stock %d with %d paid orders after recover, want 5 in all", p.Stock, sold)
	}
}

// db backup keeps backup.keep base backups and drops the WAL only older ones needed.
func TestBaseBackupsPruned(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.env = append(s.env, "RABBITPAY_BACKUP_KEEP=1")
	s.ok("product", "register", "--sku", "K-1", "--name", "Keep", "--price", "1000", "--stock", "5")
	first, _ := os.ReadDir(filepath.Join(s.bk, "base"))
	walBefore, _ := os.ReadDir(filepath.Join(s.bk, "wal"))
	var b struct {
		Name     string `json:"name"`
		StartWAL string `json:"start_wal"`
	}
	s.json(&b, "db", "backup")
	bases, _ := os.ReadDir(filepath.Join(s.bk, "base"))
	if len(first) != 1 || len(bases) != 1 || bases[0].Name() != b.Name || bases[0].Name() == first[0].Name() {
		t.Fatalf("base backups before %v, after %v, new %q", first, bases, b.Name)
	}
	wal, _ := os.ReadDir(filepath.Join(s.bk, "wal"))
	for _, e := range wal {
		if n := e.Name(); len(n) >= 24 && !strings.HasSuffix(n, ".history") && n[8:24] < b.StartWAL[8:] {
			t.Errorf("WAL %s is older than the kept base backup's start %s", n, b.StartWAL)
		}
	}
	if len(walBefore) == 0 || len(wal) > len(walBefore)+2 {
		t.Errorf("WAL files before %d, after %d", len(walBefore), len(wal))
	}
	// And the kept one restores.
	s.ok("db", "stop")
	os.Rename(s.data, s.data+".old")
	s.ok("db", "restore", "--from", s.bk)
	if p := s.product("K-1"); p.Stock != 5 {
		t.Fatalf("after restoring the kept base backup: %+v", p)
	}
}

// Without a backup dir too, a data dir that held a shop and is gone entirely
// is refused (the registry in the user's state dir remembers it); db init is
// the explicit way to start afresh there.
func TestLostDataDirWithoutBackupRefused(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	env := []string{"RABBITPAY_DATA_DIR=" + s.data, "XDG_STATE_HOME=" + filepath.Join(s.parent, "state")} // no backup dir
	run := func(args ...string) (string, string, int) { return rabbitpayProcess(env, args...) }
	if _, serr, code := run("product", "register", "--sku", "L-1", "--name", "Lost", "--price", "1000", "--stock", "5"); code != 0 {
		t.Fatalf("register: exit %d: %s", code, serr)
	}
	run("db", "stop")
	if err := os.RemoveAll(s.data); err != nil {
		t.Fatal(err)
	}
	_, serr, code := run("product", "list")
	if code != ExitFailure || !strings.Contains(serr, "is gone") || !strings.Contains(serr, "db init") {
		t.Fatalf("product list on the lost data dir: exit %d, stderr %q", code, serr)
	}
	if _, err := os.Stat(filepath.Join(s.data, "pgdata", "PG_VERSION")); err == nil {
		t.Fatal("a new cluster was made in place of the lost one")
	}
	if _, serr, code := run("db", "init"); code != 0 {
		t.Fatalf("db init: exit %d: %s", code, serr)
	}
	out, serr, code := run("product", "list", "-o", "json")
	if code != 0 || strings.Contains(out, "L-1") {
		t.Fatalf("product list after db init: exit %d %s %s", code, out, serr)
	}
	if _, serr, code := run("db", "init"); code != ExitFailure || !strings.Contains(serr, "already holds a shop") {
		t.Fatalf("db init over a shop: exit %d %q", code, serr)
	}
}

// The backup dir changed while the shop runs: the old stream stops, its slot
// is dropped (the server keeps no WAL for it), and orders are acknowledged
// only once the new dir holds them: a restore from it has them.
func TestBackupDirChanged(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "C-1", "--name", "Change", "--price", "1000", "--stock", "9")
	s.ok("customer", "register", "--name", "Nam")
	moved := filepath.Join(s.parent, "backup2")
	for i, e := range s.env {
		if strings.HasPrefix(e, "RABBITPAY_BACKUP_DIR=") {
			s.env[i] = "RABBITPAY_BACKUP_DIR=" + moved
		}
	}
	var r struct {
		UUID string `json:"order_uuid"`
	}
	s.json(&r, "order", "place", "--customer", "1", "--item", "C-1:1", "--method", "NAVER")
	url := strings.TrimSpace(s.ok("db", "url"))
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	var slots int
	conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_replication_slots").Scan(&slots)
	conn.Close(context.Background())
	if slots != 1 {
		t.Errorf("%d replication slots after the backup dir changed, want 1", slots)
	}
	s.loseDisk()
	s.bk = moved
	s.ok("db", "restore", "--from", moved)
	if o, ok := s.orders()[r.UUID]; !ok || o.Status != "paid" {
		t.Fatalf("the order placed after the change is %+v in the new backup dir", o)
	}
}

// A copy restored into a new data dir beside the running shop must not
// stream into the shop's backup dir (it would stop the shop's stream and
// mix its WAL in); with no backup dir of its own it restores, and the shop
// streams on.
func TestRestoreCopyBesideTheShop(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "B-1", "--name", "Beside", "--price", "1000", "--stock", "9")
	copyDir := filepath.Join(s.parent, "copy")
	env := func(backup string) []string {
		return []string{"RABBITPAY_DATA_DIR=" + copyDir, "RABBITPAY_BACKUP_DIR=" + backup}
	}
	_, serr, code := rabbitpayProcess(env(s.bk), "db", "restore", "--from", s.bk)
	if code != ExitFailure || !strings.Contains(serr, "belongs to the shop in "+s.data) {
		t.Fatalf("restore of a copy streaming into the shop's backup dir: exit %d %q", code, serr)
	}
	if _, serr, code := rabbitpayProcess(env(""), "db", "restore", "--from", s.bk); code != 0 {
		t.Fatalf("restore of a copy with no backup dir: exit %d %s", code, serr)
	}
	t.Cleanup(func() { rabbitpayProcess(env(""), "db", "stop") })
	out, _, code := rabbitpayProcess(env(""), "product", "list", "-o", "json")
	if code != 0 || !strings.Contains(out, "B-1") {
		t.Fatalf("the copy: exit %d %s", code, out)
	}
	s.ok("customer", "register", "--name", "Moon")
	s.ok("order", "place", "--customer", "1", "--item", "B-1:1", "--method", "NAVER")
	var st dbStatus
	s.json(&st, "db", "status")
	if st.Backup == nil || st.Backup.State != "streaming" {
		t.Fatalf("the shop's stream after a copy was restored beside it: %+v", st.Backup)
	}
}

// After the postmaster crashed, the next placement starts the cluster and
// goes through: the receiver waiting to retry its connection is replaced.
func TestPlacementAfterServerCrash(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "R-1", "--name", "Crash", "--price", "1000", "--stock", "9")
	s.ok("customer", "register", "--name", "Ahn")
	s.killPostmaster()
	// The receiver notices the lost server and waits to retry (its log says so).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if log, _ := os.ReadFile(filepath.Join(s.bk, "receiver.log")); strings.Contains(string(log), "disconnected; waiting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the receiver never noticed the server's crash")
		}
	}
	if _, serr, code := s.run("order", "place", "--customer", "1", "--item", "R-1:1", "--method", "NAVER"); code != 0 {
		t.Fatalf("order place after the crash: exit %d: %s", code, serr)
	}
}

// The data dir remembers its backup dir: a command run without backup.dir
// (a cron job, another config file) goes on backing up into it, stopping
// nothing; db backup --off is the one way to stop.
func TestBackupIsRememberedAndStoppedOnlyOnPurpose(t *testing.T) {
	t.Parallel()
	s := newBackedUpShop(t, "synchronous")
	s.ok("product", "register", "--sku", "S-1", "--name", "Sticky", "--price", "1000", "--stock", "5")
	bare := []string{"RABBITPAY_DATA_DIR=" + s.data, "RABBITPAY_BACKUP_DIR=", "RABBITPAY_SAGA_LEASE=2s"}
	if _, serr, code := rabbitpayProcess(bare, "customer", "register", "--name", "Cron"); code != 0 {
		t.Fatalf("a write without backup.dir: exit %d %s", code, serr)
	}
	out, _, code := rabbitpayProcess(bare, "db", "status", "-o", "json")
	var st dbStatus
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Backup == nil || st.Backup.Dir != s.bk ||
		st.Backup.Mode != "synchronous" || st.Backup.State != "streaming" {
		t.Fatalf("db status without backup.dir: exit %d %s", code, out)
	}
	if _, serr, code := s.run("db", "backup", "--off"); code != ExitUsage || !strings.Contains(serr, "backup.dir is set") {
		t.Fatalf("db backup --off with backup.dir set: exit %d %q", code, serr)
	}
	if _, serr, code := rabbitpayProcess(bare, "db", "backup", "--off"); code != 0 {
		t.Fatalf("db backup --off: exit %d %s", code, serr)
	}
	out, _, _ = rabbitpayProcess(bare, "db", "status", "-o", "json")
	st = dbStatus{}
	if json.Unmarshal([]byte(out), &st) != nil || st.Backup != nil {
		t.Fatalf("db status after --off: %s", out)
	}
	url := strings.TrimSpace(s.ok("db", "url"))
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var slots int
	var names string
	conn.QueryRow(context.Background(), "SELECT count(*), current_setting('synchronous_standby_names') FROM pg_replication_slots").Scan(&slots, &names)
	if slots != 0 || names != "" {
		t.Fatalf("after --off: %d slots, synchronous_standby_names %q", slots, names)
	}
	if _, serr, code := rabbitpayProcess(bare, "customer", "register", "--name", "After"); code != 0 {
		t.Fatalf("a write after --off: exit %d %s", code, serr)
	}
}
