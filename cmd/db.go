package cmd

import (
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
	status := &cobra.Command{
		Use:     "status",
		Short:   "Say which database rabbitpay uses and whether it runs",
		Example: "  rabbitpay db status -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster, err := app.Cluster(e.cfg)
			if err != nil {
				return err
			}
			url, _ := app.DatabaseURL(e.cfg)
			url = redact(url)
			st := dbStatus{Mode: "external", URL: url, Initialized: true, SchemaTarget: app.Version().Schema}
			if cluster != nil {
				st = dbStatus{Mode: "embedded", DataDir: cluster.Dir, URL: url, Initialized: cluster.Initialized(), Running: cluster.Running(),
					SchemaTarget: st.SchemaTarget}
			}
			if st.Running || cluster == nil {
				if a, err := e.app(cmd.Context()); err == nil {
					st.Running = true
					if v, err := a.SchemaVersion(cmd.Context()); err == nil {
						st.SchemaVersion = &v
					}
				}
			}
			version := "unknown (not running)"
			if st.SchemaVersion != nil {
				version = fmt.Sprint(*st.SchemaVersion)
			}
			return e.print(st, rowsFunc(func() ([]string, [][]string) {
				return []string{"mode", "data_dir", "initialized", "running", "url", "schema_version", "schema_target"},
					[][]string{{st.Mode, st.DataDir, fmt.Sprint(st.Initialized), fmt.Sprint(st.Running), st.URL, version, fmt.Sprint(st.SchemaTarget)}}
			}))
		},
	}
	start := &cobra.Command{
		Use:     "start",
		Short:   "Start the embedded cluster (creating it if needed) and migrate",
		Example: "  rabbitpay db start --data-dir /var/lib/rabbitpay",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := e.app(cmd.Context()); err != nil {
				return err
			}
			url, _ := app.DatabaseURL(e.cfg)
			return e.report("database ready: "+redact(url), map[string]any{"ready": true, "url": redact(url)}, []string{"ready", "url"}, "true", redact(url))
		},
	}
	stop := &cobra.Command{
		Use:     "stop",
		Short:   "Stop the embedded cluster",
		Example: "  rabbitpay db stop",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster, err := app.Cluster(e.cfg)
			if err != nil {
				return err
			}
			if cluster == nil {
				return fmt.Errorf("a database URL is configured, so there is no embedded cluster to stop")
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
			return e.report(sentence, map[string]any{"data_dir": cluster.Dir, "was_running": was, "running": false},
				[]string{"data_dir", "was_running", "running"}, cluster.Dir, fmt.Sprint(was), "false")
		},
	}
	migrate := &cobra.Command{
		Use:     "migrate",
		Short:   "Apply pending schema migrations (commands also do this on their own)",
		Example: "  rabbitpay db migrate --database-url postgres://shop@db.internal/shop",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			from, to, err := a.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			return e.report(fmt.Sprintf("schema at version %d (was %d)", to, from), map[string]int32{"from": from, "to": to},
				[]string{"from", "to"}, fmt.Sprint(from), fmt.Sprint(to))
		},
	}
	url := &cobra.Command{
		Use:     "url",
		Short:   "Print the database URL (for psql and scripts)",
		Example: `  psql "$(rabbitpay db url)"`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			url, err := app.DatabaseURL(e.cfg)
			if err != nil {
				return err
			}
			return e.report(url, map[string]string{"url": url}, []string{"url"}, url)
		},
	}
	c.AddCommand(status, start, stop, migrate, url)
	return c
}

// redact hides every password in a database URL, in any form (db url still
// prints it whole, for psql).
func redact(u string) string { return secret.Mask(u) }
