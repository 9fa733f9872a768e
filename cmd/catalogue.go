package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newProductImportCmd(e *env) *cobra.Command {
	var format string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE|- [--format csv|jsonl] [--dry-run]",
		Short: "Import a catalogue: upsert products by SKU, all or nothing",
		Long: `Import reads a CSV file (header sku,name,price,stock, columns in any order) or
JSON Lines (objects with the same keys) and upserts by SKU: new SKUs are
inserted, existing ones updated, identical ones counted as unchanged. The whole
file is validated and applied in one transaction: one bad row (reported with its
line, column and reason, up to 20 of them) and nothing changes. The format
comes from --format, else the file's extension (.jsonl, .ndjson), else CSV.`,
		Example: `  rabbitpay product import catalogue.csv
  rabbitpay product export | sed 's/,12000,/,13000,/' | rabbitpay product import -
  rabbitpay product import new.jsonl --dry-run -o json`,
		Args: exactArgs(1, "one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := importFormat(cmd, args[0], format)
			if err != nil {
				return err
			}
			in := e.In
			if args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("cannot open %s: %v", args[0], pathReason(err))
				}
				defer file.Close()
				if fi, err := file.Stat(); err == nil && fi.IsDir() {
					return fmt.Errorf("cannot import %s: it is a directory", args[0])
				}
				in = file
			}
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			progress, done := e.importProgress()
			sum, err := a.ImportProducts(cmd.Context(), in, f, shop.ImportOptions{DryRun: dryRun, Progress: progress})
			done()
			if err != nil {
				return err
			}
			return e.print(sum, rowsFunc(func() ([]string, [][]string) {
				return []string{"rows", "inserted", "updated", "unchanged", "dry_run"},
					[][]string{{itoa(sum.Rows), itoa(sum.Inserted), itoa(sum.Updated), itoa(sum.Unchanged), fmt.Sprint(sum.DryRun)}}
			}))
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file extension, else csv)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and count, but write nothing")
	return cmd
}

func importFormat(cmd *cobra.Command, path, flag string) (shop.CatalogueFormat, error) {
	if cmd.Flags().Changed("format") {
		return shop.ParseCatalogueFormat(flag)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return shop.CatalogueJSONL, nil
	}
	return shop.CatalogueCSV, nil
}

func pathReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// importProgress reports rows and rows/s on stderr when it is a terminal;
// done clears the line.
func (e *env) importProgress() (progress func(int64), done func()) {
	if !e.isTTY(e.Err) {
		return nil, func() {}
	}
	start := time.Now()
	shown := false
	return func(rows int64) {
			shown = true
			fmt.Fprintf(e.Err, "\r%d rows read (%.0f rows/s)\033[K", rows, float64(rows)/time.Since(start).Seconds())
		}, func() {
			if shown {
				fmt.Fprint(e.Err, "\r\033[K")
			}
		}
}

func newProductExportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE]",
		Short: "Export the catalogue as CSV (sku,name,price,stock), ready to import",
		Example: `  rabbitpay product export catalogue.csv
  rabbitpay product export > catalogue.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErr(cmd, "expected at most one FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.app(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) == 0 || args[0] == "-" {
				_, err := a.ExportProducts(cmd.Context(), e.Out)
				return err
			}
			// Write beside the target and rename, so a failed export leaves no half file.
			tmp, err := os.CreateTemp(filepath.Dir(args[0]), ".rabbitpay-export-*")
			if err != nil {
				return fmt.Errorf("cannot write %s: %v", args[0], pathReason(err))
			}
			defer os.Remove(tmp.Name())
			n, err := a.ExportProducts(cmd.Context(), tmp)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.Err, "exported %d products to %s\n", n, args[0])
			return nil
		},
	}
}
