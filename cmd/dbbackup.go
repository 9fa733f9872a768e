package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
)

func newDBBackupCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	opts := &dbOptions{env: e}
	c := &cobra.Command{
		Use:   "backup",
		Short: "Take a base backup of the embedded cluster into the backup dir",
		Long: `backup takes a new base backup of the embedded cluster into backup.dir
(RABBITPAY_BACKUP_DIR), checks it with pg_verifybackup, and removes base backups
beyond backup.keep with the WAL only they needed. The WAL streams into the same
dir continuously while the cluster runs, so a restore reaches the last commit.

The data dir remembers its backup dir: a command run without backup.dir (a
cron job, another config file) goes on streaming into it. --off, with backup.dir
unset, ends backing up: commits stop waiting for the stream, the stream stops and
its replication slot is dropped; the backup dir's contents stay.`,
		Example:     "  RABBITPAY_BACKUP_DIR=/mnt/backup/rabbitpay rabbitpay db backup\n  rabbitpay db backup --off",
		Annotations: runsLong(),
		Args:        noArgs,
		RunE:        func(cmd *cobra.Command, args []string) error { return dispatch(cmd, opts, runF, dbBackupRun) },
	}
	c.Flags().BoolVar(&opts.Off, "off", false, "stop backing up (backup.dir unset): the stream stops, its slot is dropped")
	return c
}

func dbBackupRun(ctx context.Context, opts *dbOptions) error {
	if opts.Off {
		dir, err := app.StopBackup(ctx, opts.cfg)
		if err != nil {
			return err
		}
		return opts.report("stopped backing up into "+dir+" (its contents stay)", map[string]any{"dir": dir, "backing_up": false},
			[]string{"dir", "backing_up"}, dir, "false")
	}
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var progress = opts.Err
	if !opts.isTTY(opts.Err) {
		progress = nil
	}
	info, err := a.BaseBackup(ctx, progress)
	if err != nil {
		return err
	}
	sentence := fmt.Sprintf("base backup %s taken and verified: %s in %.1fs; %d kept (backup.keep)",
		info.Name, bytesText(info.Bytes), info.Took.Seconds(), a.Backup(ctx).BaseBackups)
	return opts.report(sentence, map[string]any{"name": info.Name, "bytes": info.Bytes, "seconds": info.Took.Seconds(), "start_wal": info.StartWAL},
		[]string{"name", "bytes", "seconds", "start_wal"}, info.Name, fmt.Sprint(info.Bytes), fmt.Sprintf("%.3f", info.Took.Seconds()), info.StartWAL)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", (n+1023)/1024)
}

// dbRestoreOptions is where `db restore` restores from, and up to when.
type dbRestoreOptions struct {
	*env
	From string
	To   string
	to   *time.Time
}

func newDBRestoreCmd(e *env, runF func(*dbRestoreOptions) error) *cobra.Command {
	opts := &dbRestoreOptions{env: e}
	c := &cobra.Command{
		Use:   "restore --from DIR [--to TIME]",
		Short: "Restore the embedded cluster from a backup dir (all of it, or up to a time)",
		Long: `restore makes the embedded cluster again from a backup dir: the newest base
backup (before --to, when given), then every WAL record streamed after it, the
segment in progress included, or the WAL up to --to. The restored cluster is
promoted, opens for writing and streams into backup.dir again.

It never overwrites a cluster: the data dir must have none (after a lost disk it
has none; to go back in time, move the current one aside first).

--to takes RFC 3339 (2026-12-07T09:30:00+09:00) or "2006-01-02 15:04:05" in local
time. Orders placed after it are not in the restored shop, though their
payments may have been taken at the provider.`,
		Example: "  rabbitpay db restore --from /mnt/backup/rabbitpay\n" +
			"  rabbitpay db stop && mv ~/.local/share/rabbitpay ~/.local/share/rabbitpay.mistake\n" +
			"  rabbitpay db restore --from /mnt/backup/rabbitpay --to '2026-12-07 09:29:00'",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.From == "" {
				return usageErr(cmd, "--from DIR is required: the backup dir to restore from")
			}
			if opts.To != "" {
				t, err := parseTime(opts.To)
				if err != nil {
					return usageErr(cmd, "--to %q is not a time: give RFC 3339 (2026-12-07T09:30:00+09:00) or \"2026-12-07 09:30:00\"", opts.To)
				}
				opts.to = &t
			}
			return dispatch(cmd, opts, runF, dbRestoreRun)
		},
		Annotations: runsLong(),
	}
	c.Flags().StringVar(&opts.From, "from", "", "the backup dir to restore from (required)")
	c.Flags().StringVar(&opts.To, "to", "", "restore up to this time instead of to the last commit")
	return c
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02 15:04:05", s, time.Local)
}

func dbRestoreRun(ctx context.Context, opts *dbRestoreOptions) error {
	r, err := app.Restore(ctx, opts.cfg, opts.From, opts.to, func(msg string) { warn(opts.Err, []string{msg}) })
	if err != nil {
		return err
	}
	newest := "no orders"
	if r.NewestOrder != nil {
		newest = "the newest placed at " + stamp(*r.NewestOrder)
	}
	sentence := fmt.Sprintf("restored data dir %s from %s (base backup %s and the WAL after it) in %.1fs: recovery ended at %s (%s); %d orders, %s",
		r.DataDir, r.From, r.Base, r.Seconds, r.LSN, r.Reason, r.Orders, newest)
	if r.To != nil {
		warn(opts.Err, []string{fmt.Sprintf("the shop is as it was at %s: orders placed after that are not in it, but their buyers may have paid "+
			"at the provider; look up the provider's payments from %s until the loss and refund them there, or enter those orders again",
			stamp(*r.To), stamp(*r.To))})
	}
	return opts.report(sentence, r, []string{"data_dir", "from", "base_backup", "lsn", "reason", "orders"},
		r.DataDir, r.From, r.Base, r.LSN, r.Reason, fmt.Sprint(r.Orders))
}

func newDBInitCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbInitRun, &cobra.Command{
		Use:   "init",
		Short: "Create a new, empty shop in the data dir (also where a lost one was)",
		Long: `init creates a new, empty embedded cluster in the data dir. Commands make one
on their own only in a data dir that never held a shop: where one was (its server
log, or its backups in backup.dir, say so) they refuse, so a lost disk is never
silently replaced by an empty shop. init is the explicit way to start afresh;
'rabbitpay db restore' is the way to get the lost shop back.`,
		Example:     "  rabbitpay db init",
		Annotations: runsLong(),
	})
}

func dbInitRun(ctx context.Context, opts *dbOptions) error {
	if err := app.InitShop(ctx, opts.cfg); err != nil {
		return err
	}
	if _, err := opts.app(ctx); err != nil {
		return err
	}
	return opts.report("created a new, empty shop in "+opts.cfg.DataDir, map[string]any{"data_dir": opts.cfg.DataDir, "created": true},
		[]string{"data_dir", "created"}, opts.cfg.DataDir, "true")
}
