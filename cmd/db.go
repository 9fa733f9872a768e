package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/secret"
)

// dbStatus is what `db status` reports.
type dbStatus struct {
	Mode        string `json:"mode"` // embedded or external
	DataDir     string `json:"data_dir,omitempty"`
	Initialized bool   `json:"initialized"`
	Running     bool   `json:"running"`
	URL         string `json:"url"`
	// SchemaVersion is the database's, nil when it cannot be asked (the
	// cluster is stopped); SchemaTarget the last migration this binary carries.
	SchemaVersion *int32 `json:"schema_version"`
	SchemaTarget  int32  `json:"schema_target"`
	// CType is the database's LC_CTYPE; KoreanSearchIndexed whether pg_trgm
	// finds trigrams in Hangul under it (nil when it cannot be asked).
	CType               string `json:"ctype,omitempty"`
	KoreanSearchIndexed *bool  `json:"korean_search_indexed"`

	// The read replica (database_read_url), when one is configured: whether
	// it is a standby, its replay lag, or why reads cannot use it.
	ReadURL          string   `json:"read_url,omitempty"`
	ReadInRecovery   *bool    `json:"read_in_recovery,omitempty"`
	ReplayLagSeconds *float64 `json:"replay_lag_seconds,omitempty"`
	ReadError        string   `json:"read_error,omitempty"`

	// Backup is the embedded cluster's continuous backup, when backup.dir is set.
	Backup *app.BackupStatus `json:"backup,omitempty"`
}

// retainedWarning is how much WAL kept for a backup stream that has not read
// it makes db status warn.
const retainedWarning = 1 << 30

// backupCells is the backup in the table's words.
func (st dbStatus) backupCells() []string {
	b := st.Backup
	if b == nil {
		return []string{"", "", "", ""}
	}
	state := b.State
	if b.LagBytes != nil {
		state += fmt.Sprintf(", lag %d bytes", *b.LagBytes)
	}
	if b.ReceiverPID == 0 {
		state += " (pg_receivewal not running)"
	}
	last := "none"
	if b.LastBaseAt != nil {
		last = fmt.Sprintf("%s (%d kept)", stamp(*b.LastBaseAt), b.BaseBackups)
	}
	return []string{b.Dir, b.Mode, state, last}
}

// readStatus is the read replica in words, for the table.
func (st dbStatus) readStatus() string {
	switch {
	case st.ReadURL == "":
		return ""
	case st.ReadError != "":
		return "cannot be used: " + st.ReadError
	case st.ReadInRecovery != nil && !*st.ReadInRecovery:
		return "not a standby (a primary answers there)"
	case st.ReplayLagSeconds != nil:
		return fmt.Sprintf("standby, replay lag %.1fs", *st.ReplayLagSeconds)
	}
	return "unknown"
}

// report prints a command's outcome: the sentence on a table, else v (JSON)
// or its one row (CSV).
func (e *env) report(sentence string, v any, header []string, row ...string) error {
	if e.format() == render.Table {
		fmt.Fprintln(e.Out, sentence)
		return nil
	}
	return e.print(v, rowsFunc(func() ([]string, [][]string) { return header, [][]string{row} }))
}

func newDBCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "db", Short: "Manage the database: the embedded cluster and migrations",
		Example: "  rabbitpay db status\n  psql \"$(rabbitpay db url)\""}
	c.AddCommand(newDBStatusCmd(e, nil), newDBStartCmd(e, nil), newDBStopCmd(e, nil), newDBMigrateCmd(e, nil), newDBURLCmd(e, nil),
		newDBPruneCmd(e, nil), newDBBackupCmd(e, nil), newDBRestoreCmd(e, nil), newDBInitCmd(e, nil))
	return c
}

// dbOptions is what the db commands need: no flags of their own, the
// configuration (--database-url, --data-dir) and the streams.
type dbOptions struct {
	*env
	// Off is db backup --off.
	Off bool
}

// newDBVerb builds a db command that takes no arguments.
func newDBVerb(e *env, runF func(*dbOptions) error, run func(context.Context, *dbOptions) error, c *cobra.Command) *cobra.Command {
	opts := &dbOptions{env: e}
	c.Args = noArgs
	c.RunE = func(cmd *cobra.Command, args []string) error { return dispatch(cmd, opts, runF, run) }
	return c
}

func newDBStatusCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbStatusRun, &cobra.Command{
		Use:     "status",
		Short:   "Say which database rabbitpay uses and whether it runs",
		Example: "  rabbitpay db status -o json",
	})
}

func dbStatusRun(ctx context.Context, opts *dbOptions) error {
	cluster, err := app.Cluster(opts.cfg)
	if err != nil {
		return err
	}
	url, _ := app.DatabaseURL(opts.cfg)
	url = redact(url)
	st := dbStatus{Mode: "external", URL: url, Initialized: true, SchemaTarget: app.Version().Schema}
	if cluster != nil {
		st = dbStatus{Mode: "embedded", DataDir: cluster.Dir, URL: url, Initialized: cluster.Initialized(), Running: cluster.Running(),
			SchemaTarget: st.SchemaTarget}
		if b := cluster.Backup; b != nil {
			st.Backup = &app.BackupStatus{Dir: b.Dir, Mode: b.Mode(), State: "down"}
		}
	}
	if st.Running || cluster == nil {
		a, err := opts.app(ctx)
		switch {
		case app.ServerRefused(err): // running, but it will not let rabbitpay in: not "running false"
			return fmt.Errorf("the database server is running but refused the connection: %w", err)
		case err != nil && (cluster == nil || !app.Unreachable(err)):
			// A bad URL, a failed migration, or a server that is not there:
			// "running false" is the embedded cluster's, stopped; a server
			// the URL names and nothing answers is an error, with its reason.
			return err
		case err == nil:
			// Running means the primary answers (reads may open on a replica alone).
			if v, err := a.SchemaVersion(ctx); err == nil {
				st.Running, st.SchemaVersion = true, &v
			} else { // the primary is down while the read replica answers: say why
				warn(opts.Err, []string{"the primary cannot be used: " + app.DescribeError(opts.cfg, err).Error()})
			}
			if r := a.ReadReplica(ctx); r != nil {
				st.ReadURL = redact(opts.cfg.DatabaseReadURL)
				if st.ReadError = r.Error; r.Error == "" {
					lag := r.ReplayLag.Seconds()
					st.ReadInRecovery, st.ReplayLagSeconds = &r.InRecovery, &lag
				}
			}
			if b := a.Backup(ctx); b != nil {
				st.Backup = b
				if b.RetainedBytes > retainedWarning {
					warn(opts.Err, []string{fmt.Sprintf("the server keeps %s of WAL for the backup stream into %s, which has not read it (%s/receiver.log says why): "+
						"it grows on the data disk until the stream runs again", bytesText(b.RetainedBytes), b.Dir, b.Dir)})
				}
			}
			if ctype, ok, err := a.SearchCType(ctx); err == nil {
				st.CType, st.KoreanSearchIndexed = ctype, &ok
				if !ok {
					warn(opts.Err, []string{fmt.Sprintf("the database's LC_CTYPE is %s, under which pg_trgm finds no trigrams in Korean text: "+
						"a Korean --search reads the whole table (docs/operations.md, \"Korean search\", says how to move the database)", ctype)})
				}
			}
		}
	}
	return opts.printDBStatus(st)
}

func (e *env) printDBStatus(st dbStatus) error {
	version := "unknown (not running)"
	if st.SchemaVersion != nil {
		version = fmt.Sprint(*st.SchemaVersion)
	}
	korean := "unknown"
	if st.KoreanSearchIndexed != nil {
		korean = map[bool]string{true: "indexed", false: "scans the table"}[*st.KoreanSearchIndexed]
	}
	return e.print(st, rowsFunc(func() ([]string, [][]string) {
		return []string{"mode", "data_dir", "initialized", "running", "url", "schema_version", "schema_target", "read_url", "read_replica", "ctype", "korean_search",
				"backup_dir", "backup_mode", "backup_stream", "last_base_backup"},
			[][]string{append([]string{st.Mode, st.DataDir, fmt.Sprint(st.Initialized), fmt.Sprint(st.Running), st.URL, version, fmt.Sprint(st.SchemaTarget),
				st.ReadURL, st.readStatus(), st.CType, korean}, st.backupCells()...)}
	}))
}

func newDBStartCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbStartRun, &cobra.Command{
		Use:         "start",
		Short:       "Start the embedded cluster (creating it if needed) and migrate",
		Example:     "  rabbitpay db start --data-dir /var/lib/rabbitpay",
		Annotations: runsLong(),
	})
}

func dbStartRun(ctx context.Context, opts *dbOptions) error {
	if _, err := opts.app(ctx); err != nil {
		return err
	}
	url, _ := app.DatabaseURL(opts.cfg)
	return opts.report("database ready: "+redact(url), map[string]any{"ready": true, "url": redact(url)}, []string{"ready", "url"}, "true", redact(url))
}

func newDBStopCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbStopRun, &cobra.Command{
		Use:         "stop",
		Short:       "Stop the embedded cluster",
		Example:     "  rabbitpay db stop",
		Annotations: runsLong(),
	})
}

func dbStopRun(ctx context.Context, opts *dbOptions) error {
	cluster, err := app.Cluster(opts.cfg)
	if err != nil {
		return err
	}
	if cluster == nil {
		return fmt.Errorf("a database URL is configured, so there is no embedded cluster to stop")
	}
	if cluster.Backup != nil {
		// After the server (it has flushed all the server wrote), and even
		// when stopping the server failed: a stream left behind loops for ever.
		defer cluster.Backup.StopStream()
	}
	was := cluster.Running()
	if was {
		if err := cluster.Stop(); err != nil {
			return err
		}
	}
	sentence := "stopped the embedded cluster in " + cluster.Dir
	if !was {
		sentence = "embedded cluster in " + cluster.Dir + " is not running"
	}
	return opts.report(sentence, map[string]any{"data_dir": cluster.Dir, "was_running": was, "running": false},
		[]string{"data_dir", "was_running", "running"}, cluster.Dir, fmt.Sprint(was), "false")
}

func newDBMigrateCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbMigrateRun, &cobra.Command{
		Use:         "migrate",
		Short:       "Apply pending schema migrations (commands also do this on their own)",
		Example:     "  rabbitpay db migrate --database-url postgres://shop@db.internal/shop",
		Annotations: runsLong(),
	})
}

func dbMigrateRun(ctx context.Context, opts *dbOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	from, to, err := a.Migrate(ctx)
	if err != nil {
		return err
	}
	sentence := fmt.Sprintf("schema migrated from version %d to %d", from, to)
	if from == to {
		sentence = fmt.Sprintf("schema already at version %d: nothing to migrate", to)
	}
	return opts.report(sentence, map[string]int32{"from": from, "to": to},
		[]string{"from", "to"}, fmt.Sprint(from), fmt.Sprint(to))
}

func newDBURLCmd(e *env, runF func(*dbOptions) error) *cobra.Command {
	return newDBVerb(e, runF, dbURLRun, &cobra.Command{
		Use:     "url",
		Short:   "Print the database URL (for psql and scripts)",
		Example: `  psql "$(rabbitpay db url)"`,
	})
}

func dbURLRun(_ context.Context, opts *dbOptions) error {
	url, err := app.DatabaseURL(opts.cfg)
	if err == nil {
		err = app.CheckURL(url) // a mysql:// URL is bad input here too, not a URL to hand psql
	}
	if err != nil {
		return err
	}
	return opts.report(url, map[string]string{"url": url}, []string{"url"}, url)
}

// redact hides every password in a database URL, in any form (db url still
// prints it whole, for psql).
func redact(u string) string { return secret.Mask(u) }
