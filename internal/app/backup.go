package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// streamWait is how long a placement waits for a backup stream that is down
// to come back (restarted) before it is refused.
const streamWait = 5 * time.Second

// preflight refuses, in one round trip and before anything is written (no
// saga, nothing reserved), a placement the shop or the server cannot take:
// a line the shop's rules refuse (a retired product, more than the stock), a
// read-only server (a standby, a restore not yet promoted), or, in
// synchronous backup mode, a backup stream that is down (restarted and
// waited for a few seconds first) — an order is never acknowledged that the
// backup dir does not hold.
func (a *App) preflight(ctx context.Context, lines []shop.Line) error {
	receiver := a.syncReceiver()
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.ProductID
	}
	began := time.Now()
	var restartErr error // why the stream could not be started again, if it could not
	for deadline, step := began.Add(streamWait), 0; ; {
		st, stock, err := a.backups.WriteState(ctx, receiver, ids)
		if err != nil {
			return DescribeError(a.cfg, err)
		}
		for _, l := range lines {
			if err := shop.CheckOrderable(l, stock[l.ProductID].Quantity, stock[l.ProductID].Retired); err != nil {
				return err
			}
		}
		if st.ReadOnly {
			return postgres.ErrReadOnly
		}
		if receiver == "" || st.Streaming {
			return nil
		}
		switch {
		case step == 0: // whatever is missing: a dead receiver, the slot, the setting
			restartErr = a.cluster.EnsureStream(ctx, func(string) {})
			step++
		case step == 1 && time.Since(began) > time.Second && !st.Connected: // alive but not connected: waiting to retry
			restartErr = a.cluster.RestartStream() // (one that is connected and catching up is left to catch up)
			step++
		}
		if time.Now().After(deadline) {
			return a.streamDown(restartErr)
		}
		select {
		case <-ctx.Done():
			return shop.Interrupted("interrupted while waiting for the backup stream")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RequireBackup refuses, in synchronous backup mode, while the backup stream
// is down and does not come back within a few seconds (it is restarted):
// every commit would wait for it. Without a synchronous backup it costs nothing.
func (a *App) RequireBackup(ctx context.Context) error {
	if a.syncReceiver() == "" {
		return nil
	}
	return a.preflight(ctx, nil)
}

// syncReceiver is the synchronous backup stream's name ("" when commits do
// not wait for one).
func (a *App) syncReceiver() string {
	if c := a.cluster; c != nil && c.Backup != nil && c.Backup.Sync {
		return c.Backup.Name()
	}
	return ""
}

// awaitBackup waits, in synchronous mode, until the backup has flushed all
// the WAL written so far, at most backup.wait: an order replayed for a
// retry may have committed while the stream was cut off (locally only), and
// is acknowledged only once the backup holds it.
func (a *App) awaitBackup(ctx context.Context) error {
	receiver := a.syncReceiver()
	if receiver == "" {
		return nil
	}
	ok, err := a.backups.BackupHolds(ctx, receiver, a.cfg.Backup.Wait)
	if err != nil {
		return DescribeError(a.cfg, err)
	}
	if !ok {
		return shop.Incomplete("the order is placed, but the backup into %s has not confirmed it within %s: run the command again once 'rabbitpay db status' shows the stream", a.cluster.Backup.Dir, a.cfg.Backup.Wait)
	}
	return nil
}

// streamDown says that the synchronous backup stream is down, and why as far
// as its log tells.
func (a *App) streamDown(restartErr error) error {
	b := a.cluster.Backup
	why := ""
	if restartErr != nil {
		why = " (starting it again failed: " + restartErr.Error() + ")"
	}
	if raw, err := os.ReadFile(filepath.Join(b.Dir, "receiver.log")); err == nil {
		// The last error, not the retry notice that follows every one.
		l := strings.Split(strings.TrimSpace(string(raw)), "\n")
		for i := len(l) - 1; i >= 0 && i >= len(l)-50; i-- {
			if why == "" && strings.Contains(l[i], "error:") {
				why = " (its last error: " + strings.TrimSpace(l[i]) + ")"
				break
			}
		}
	}
	return shop.Conflict("the backup stream into %s is down%s, and in synchronous mode nothing is written that the backup does not hold: "+
		"nothing was changed or reserved; 'rabbitpay db status' shows the stream", b.Dir, why)
}

// BackupStatus is the embedded cluster's backup, for `db status`.
type BackupStatus struct {
	Dir  string `json:"dir"`
	Mode string `json:"mode"`
	// State is streaming, catchup, or down (no receiver connected).
	State string `json:"state"`
	// LagBytes is the WAL the server wrote that the backup has not flushed.
	LagBytes *int64 `json:"lag_bytes"`
	// RetainedBytes is the WAL the server keeps for the stream's slot: it
	// grows while the stream is down, on the data disk.
	RetainedBytes int64 `json:"retained_bytes"`
	// ReceiverPID is the pg_receivewal process (0: not running).
	ReceiverPID int        `json:"receiver_pid"`
	LastBase    *string    `json:"last_base_backup"`
	LastBaseAt  *time.Time `json:"last_base_backup_at"`
	BaseBackups int        `json:"base_backups"`
}

// Backup reports the embedded cluster's backup (nil when none is configured).
func (a *App) Backup(ctx context.Context) *BackupStatus {
	c := a.cluster
	if c == nil || c.Backup == nil {
		return nil
	}
	st := &BackupStatus{Dir: c.Backup.Dir, Mode: c.Backup.Mode(), State: "down"}
	if pid, ok := c.StreamRunning(); ok {
		st.ReceiverPID = pid
	}
	if r, err := a.backups.ReceiverState(ctx, c.Backup.Name()); err == nil && r != nil {
		st.State, st.LagBytes = r.State, &r.LagBytes
	}
	st.RetainedBytes, _ = a.backups.SlotRetained(ctx, c.Backup.Name())
	bases := c.Backup.Bases()
	st.BaseBackups = len(bases)
	if len(bases) > 0 {
		last := bases[len(bases)-1]
		st.LastBase, st.LastBaseAt = &last.Name, &last.Start
	}
	return st
}

// BaseBackup takes a base backup of the embedded cluster into the backup dir
// (progress on w when not nil) and prunes the old ones.
func (a *App) BaseBackup(ctx context.Context, progress io.Writer) (localpg.BaseInfo, error) {
	c := a.cluster
	if c == nil {
		return localpg.BaseInfo{}, shop.Invalid("a database URL is configured: db backup is for the embedded cluster (for a server, docs/operations.md, \"Backups and restore\", shows pgBackRest)")
	}
	if c.Backup == nil {
		return localpg.BaseInfo{}, shop.InField("backup dir", fmt.Errorf("no backup dir is set: set backup.dir (RABBITPAY_BACKUP_DIR), ideally on another disk"))
	}
	return c.BaseBackup(ctx, progress)
}

// Restored is what `db restore` brought back.
type Restored struct {
	DataDir  string `json:"data_dir"`
	From     string `json:"from"`
	Base     string `json:"base_backup"`
	Timeline int    `json:"timeline"`
	LSN      string `json:"lsn"`
	Reason   string `json:"reason"`
	// To is the target time asked for (nil: all the WAL there is).
	To          *time.Time    `json:"to"`
	Orders      int64         `json:"orders"`
	NewestOrder *time.Time    `json:"newest_order_at"`
	Took        time.Duration `json:"-"`
	Seconds     float64       `json:"seconds"`
}

// Restore makes the embedded cluster from the backup dir from (all its WAL,
// or up to to), promotes it and opens it, streaming again into the
// configured backup dir.
func Restore(ctx context.Context, cfg *config.Config, from string, to *time.Time, say func(string)) (Restored, error) {
	began := time.Now()
	c, err := Cluster(cfg)
	if err != nil {
		return Restored{}, err
	}
	if c == nil {
		return Restored{}, shop.Invalid("a database URL is configured: db restore is for the embedded cluster (for a server, docs/operations.md, \"Backups and restore\", shows pgBackRest)")
	}
	src, err := localpg.NewBackup(from, cfg.Backup.Mode, cfg.Backup.Keep)
	if err != nil {
		return Restored{}, err
	}
	if fi, err := os.Stat(src.Dir); err != nil || !fi.IsDir() {
		return Restored{}, shop.InField("restore source", fmt.Errorf("backup dir %s does not exist", src.Dir))
	}
	if to != nil && to.After(time.Now()) {
		return Restored{}, shop.InField("restore time", fmt.Errorf("%s is in the future", to.Format(time.RFC3339)))
	}
	res, err := c.Restore(ctx, src, to)
	if err != nil {
		return Restored{}, err
	}
	a, err := OpenSaying(ctx, cfg, say)
	if err != nil {
		return Restored{}, err
	}
	defer a.Close()
	n, newest, err := a.backups.OrderCount(ctx)
	if err != nil {
		return Restored{}, err
	}
	if b := a.cluster.Backup; b != nil {
		// The stream goes on from where the restore left it: say so if it does not.
		if ok, err := a.backups.BackupHolds(ctx, b.Name(), 15*time.Second); err != nil || !ok {
			say(fmt.Sprintf("the backup stream into %s has not caught up with the restored shop: 'rabbitpay db status' shows it, %s/receiver.log says why", b.Dir, b.Dir))
		}
	}
	took := time.Since(began)
	return Restored{DataDir: c.Dir, From: src.Dir, Base: res.Base, Timeline: res.Timeline, LSN: res.LSN, Reason: res.Reason, To: to,
		Orders: n, NewestOrder: newest, Took: took, Seconds: took.Seconds()}, nil
}

// StopBackup ends the embedded cluster's backup: commits stop waiting for
// it, its stream stops and its slot is dropped; the backup dir is kept.
func StopBackup(ctx context.Context, cfg *config.Config) (string, error) {
	c, err := Cluster(cfg)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", shop.Invalid("a database URL is configured: backups are for the embedded cluster")
	}
	if c.Backup == nil {
		return "", shop.Conflict("the embedded cluster in %s is not backed up", c.Dir)
	}
	if cfg.Backup.Dir != "" {
		return "", shop.Invalid("backup.dir is set (%s): unset it too, or this command would back up again at once", cfg.Backup.Dir)
	}
	if err := c.Ensure(ctx); err != nil {
		return "", err
	}
	return c.Backup.Dir, c.StopBackup(ctx)
}

// InitShop makes a new, empty shop in the embedded data dir, where none is
// (even where one was: the explicit way to start afresh).
func InitShop(ctx context.Context, cfg *config.Config) error {
	c, err := Cluster(cfg)
	if err != nil {
		return err
	}
	if c == nil {
		return shop.Invalid("a database URL is configured: db init is for the embedded cluster")
	}
	if c.Initialized() {
		return shop.Conflict("data dir %s already holds a shop", c.Dir)
	}
	c.NewShop = true
	return c.Ensure(ctx)
}
