package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/secret"
)

// dbStatus is what `db status` reports.
type dbStatus struct {
	Mode          string `json:"mode"` // embedded or external
	DataDir       string `json:"data_dir,omitempty"`
	Initialized   bool   `json:"initialized"`
	Running       bool   `json:"running"`
	URL           string `json:"url"`
	SchemaVersion int32  `json:"schema_version"`
}

func newDBCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "db", Short: "Manage the database: the embedded cluster and migrations"}
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
			st := dbStatus{Mode: "external", URL: url, Initialized: true}
			if cluster != nil {
				st = dbStatus{Mode: "embedded", DataDir: cluster.Dir, URL: url, Initialized: cluster.Initialized(), Running: cluster.Running()}
			}
			if st.Running || cluster == nil {
				if a, err := e.app(cmd.Context()); err == nil {
					st.Running = true
					st.SchemaVersion, _ = a.SchemaVersion(cmd.Context())
				}
			}
			return e.print(st, rowsFunc(func() ([]string, [][]string) {
				return []string{"mode", "data_dir", "initialized", "running", "url", "schema_version"},
					[][]string{{st.Mode, st.DataDir, fmt.Sprint(st.Initialized), fmt.Sprint(st.Running), st.URL, fmt.Sprint(st.SchemaVersion)}}
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
			fmt.Fprintf(e.Out, "database ready: %s\n", redact(url))
			return nil
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
			if !cluster.Running() {
				fmt.Fprintf(e.Out, "embedded cluster in %s is not running\n", cluster.Dir)
				return nil
			}
			if err := cluster.Stop(); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "stopped the embedded cluster in %s\n", cluster.Dir)
			return nil
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
			fmt.Fprintf(e.Out, "schema at version %d (was %d)\n", to, from)
			return nil
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
			fmt.Fprintln(e.Out, url)
			return nil
		},
	}
	c.AddCommand(status, start, stop, migrate, url)
	return c
}

// redact hides every password in a database URL, in any form (db url still
// prints it whole, for psql).
func redact(u string) string { return secret.Mask(u) }
