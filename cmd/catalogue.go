package cmd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// productImportOptions is the file `product import` reads.
type productImportOptions struct {
	*env
	Path   string               // - is standard input
	Format shop.CatalogueFormat // "": the content decides
	DryRun bool
}

func newProductImportCmd(e *env, runF func(*productImportOptions) error) *cobra.Command {
	opts := &productImportOptions{env: e}
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE|- [--format csv|jsonl] [--dry-run]",
		Short: "Import a catalogue: upsert products by SKU, all or nothing",
		Long: `Import reads a CSV file (header sku,name,price,stock, columns in any order) or
JSON Lines (objects with the same keys) and upserts by SKU: new SKUs are
inserted, existing ones updated, identical ones counted as unchanged. The whole
file is validated and applied in one transaction: one bad row (reported with its
line, column and reason, up to 20 of them) and nothing changes. The format
comes from --format, else the file's extension (.csv, .jsonl, .ndjson), else the
first character (JSON Lines when it is '{'), so standard input needs no --format.
On a terminal a progress bar shows the percentage, rate and time left.`,
		Example: `  rabbitpay product import catalogue.csv
  rabbitpay product export | sed 's/,12000,/,13000,/' | rabbitpay product import -
  rabbitpay product import new.jsonl --dry-run -o json`,
		Args: exactArgs(1, "one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			opts.Path = args[0]
			if opts.Format, err = catalogueFormat(cmd, args[0], format); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, productImportRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file extension, else csv)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "validate and count, but write nothing")
	return cmd
}

// openImport opens the file an import reads (- is standard input) and
// returns it buffered, its format (f, else sniffed from its first line),
// its size (-1 when unknown) and how to close it.
func (e *env) openImport(path string, f shop.CatalogueFormat) (br *bufio.Reader, _ shop.CatalogueFormat, size int64, closeIt func(), err error) {
	in, size, closeIt := e.In, -1, func() {}
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, "", 0, nil, shop.Invalid("cannot open %s: %v", path, pathReason(err))
		}
		if fi, err := file.Stat(); err == nil && fi.IsDir() {
			file.Close()
			return nil, "", 0, nil, shop.Invalid("cannot import %s: it is a directory", path)
		} else if err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in, closeIt = file, func() { file.Close() }
	}
	br = bufio.NewReaderSize(in, 64<<10)
	if f == "" {
		f = sniffFormat(br)
	}
	return br, f, size, closeIt, nil
}

func productImportRun(ctx context.Context, opts *productImportOptions) error {
	br, f, size, closeIt, err := opts.openImport(opts.Path, opts.Format)
	if err != nil {
		return err
	}
	defer closeIt()
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	counted, progress, done := opts.importProgress(br, size)
	sum, err := a.ImportProducts(ctx, counted, f, shop.ImportOptions{DryRun: opts.DryRun, Progress: progress})
	done()
	if err != nil {
		return err
	}
	return opts.print(sum, rowsFunc(func() ([]string, [][]string) {
		return []string{"rows", "inserted", "updated", "unchanged", "dry_run"},
			[][]string{{itoa(sum.Rows), itoa(sum.Inserted), itoa(sum.Updated), itoa(sum.Unchanged), fmt.Sprint(sum.DryRun)}}
	}))
}

// catalogueFormat is --format, else the file's extension; "" when neither
// says (the content decides).
func catalogueFormat(cmd *cobra.Command, path, flag string) (shop.CatalogueFormat, error) {
	if cmd.Flags().Changed("format") {
		return shop.ParseCatalogueFormat(flag)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return shop.CatalogueJSONL, nil
	case ".csv":
		return shop.CatalogueCSV, nil
	}
	return "", nil
}

// sniffFormat reads JSON Lines when the first non-blank character is '{', else CSV.
func sniffFormat(br *bufio.Reader) shop.CatalogueFormat {
	head, _ := br.Peek(4096)
	if t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return shop.CatalogueJSONL
	}
	return shop.CatalogueCSV
}

func pathReason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// importProgress shows a progress bar on stderr when it is a terminal: the
// percentage, rate and time left when the input's size is known, else rows
// read and their rate. Nothing when stderr is piped. done clears it.
func (e *env) importProgress(in io.Reader, size int64) (counted io.Reader, progress func(int64), done func()) {
	if !e.isTTY(e.Err) {
		return in, nil, func() {}
	}
	if size > 0 {
		bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(e.Err), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
		r := progressbar.NewReader(in, bar)
		return &r, nil, func() { bar.Finish() }
	}
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(e.Err), progressbar.OptionSetDescription("importing"),
		progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts(), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	return in, func(rows int64) { bar.Set64(rows) }, func() { bar.Finish() }
}

// productExportOptions is where `product export` writes, and how.
type productExportOptions struct {
	*env
	Path   string // - is standard output
	Format shop.CatalogueFormat
}

func newProductExportCmd(e *env, runF func(*productExportOptions) error) *cobra.Command {
	opts := &productExportOptions{env: e}
	var format string
	cmd := &cobra.Command{
		Use:   "export [FILE] [--format csv|jsonl]",
		Short: "Export the catalogue as CSV or JSON Lines (sku, name, price, stock), ready to import",
		Long: `Export writes every product, by id, in the format of --format, else the file's
extension (.jsonl or .ndjson: JSON Lines), else JSON Lines with -o json, else CSV;
import reads it back unchanged.`,
		Example: `  rabbitpay product export catalogue.csv
  rabbitpay product export catalogue.jsonl
  rabbitpay product export --format jsonl > catalogue.jsonl`,
		Args: exportArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Path, opts.Format, err = exportTarget(cmd, args, format, "catalogue.csv"); err != nil {
				return err
			}
			if opts.Format == "" && e.format() == render.JSON { // -o json with no --format and no telling extension
				opts.Format = shop.CatalogueJSONL
			}
			return dispatch(cmd, opts, runF, productExportRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the file extension, else csv)")
	return cmd
}

func productExportRun(ctx context.Context, opts *productExportOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	return opts.writeExport(opts.Path, noun{"product", "products"}, func(w io.Writer) (int, error) {
		n, err := a.ExportProducts(ctx, w, opts.Format)
		return int(n), err
	})
}

// exportArgs takes an export's optional FILE.
func exportArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageErr(cmd, "expected at most one FILE, got %d arguments", len(args))
	}
	return nil
}

// exportTarget is where an export goes (FILE, else - for standard output)
// and its format (--format, else the file's extension); example names a
// file for the message when FILE is a directory.
func exportTarget(cmd *cobra.Command, args []string, format, example string) (string, shop.CatalogueFormat, error) {
	path := "-"
	if len(args) == 1 {
		path = args[0]
	}
	f, err := catalogueFormat(cmd, path, format)
	if err != nil {
		return "", "", err
	}
	if fi, err := os.Stat(path); path != "-" && err == nil && fi.IsDir() {
		return "", "", shop.Invalid("%s is a directory: give a file to export into (%s), or - for standard output", path, example)
	}
	return path, f, nil
}

// writeExport runs write into path, or standard output for "-". A file is
// written beside its target and renamed, so a failed export leaves no half
// file; how many rows it holds is said on stderr.
func (e *env) writeExport(path string, what noun, write func(io.Writer) (int, error)) error {
	if path == "-" {
		_, err := write(e.Out)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rabbitpay-export-*")
	if err != nil {
		return shop.Invalid("cannot write %s: %v", path, pathReason(err))
	}
	defer os.Remove(tmp.Name())
	n, err := write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return shop.Invalid("cannot write %s: %v", path, pathReason(err))
	}
	fmt.Fprintf(e.Err, "exported %s to %s\n", what.count(n), path)
	return nil
}
