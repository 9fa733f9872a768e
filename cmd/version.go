package cmd

import (
	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print rabbitpay's version, commit, Go version and database schema version",
		Example: "  rabbitpay version\n  rabbitpay version -o json\n  rabbitpay --version",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := app.Version()
			return e.print(v, rowsFunc(func() ([]string, [][]string) {
				return []string{"version", "commit", "go", "schema"}, [][]string{{v.Version, v.Commit, v.Go, itoa(int64(v.Schema))}}
			}))
		},
	}
}
