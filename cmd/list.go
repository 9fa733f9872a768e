package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// defaultPage is how many rows a table shows unless --limit or --all says
// otherwise; JSON and CSV, read by scripts, get every row by default.
const defaultPage = 50

// listFlags are the paging and narrowing flags every list shares.
type listFlags struct {
	limit        int
	all          bool
	after        int64
	search, sort string
	since, until string
}

// addListFlags adds --limit, --all and --after, plus --search and --sort when
// the list offers them (search says what --search matches, "name or SKU";
// sorts lists the sort keys, the default first).
func addListFlags(cmd *cobra.Command, what string, search string, sorts string) *listFlags {
	lf := addPageFlags(cmd, what)
	f := cmd.Flags()
	f.Int64Var(&lf.after, "after", 0, "the next page: rows after this id (the last one shown)")
	if search != "" {
		f.StringVar(&lf.search, "search", "", "only rows whose "+search+" contains this text, any case")
	}
	if sorts != "" {
		f.StringVar(&lf.sort, "sort", "", "sort by "+sorts+" (put - before it for descending)")
	}
	return lf
}

// addPageFlags adds only --limit and --all.
func addPageFlags(cmd *cobra.Command, what string) *listFlags {
	lf := &listFlags{}
	cmd.Flags().IntVar(&lf.limit, "limit", 0, fmt.Sprintf("show at most N %s (tables default to %d)", what, defaultPage))
	cmd.Flags().BoolVar(&lf.all, "all", false, "show every row")
	return lf
}

// options turns the flags into list options.
func (lf *listFlags) options(e *env, cmd *cobra.Command) (shop.ListOptions, error) {
	o := shop.ListOptions{After: lf.after, Search: lf.search, Sort: lf.sort}
	switch {
	case lf.all && cmd.Flags().Changed("limit"):
		return o, usageErr(cmd, "--limit and --all cannot be used together")
	case cmd.Flags().Changed("limit") && lf.limit < 1:
		return o, usageErr(cmd, "--limit %d must be at least 1", lf.limit)
	case lf.after < 0:
		return o, usageErr(cmd, "--after %d must not be negative", lf.after)
	case cmd.Flags().Changed("limit"):
		o.Limit = lf.limit
	case !lf.all && e.format() == render.Table:
		o.Limit = defaultPage
	}
	var err error
	if o.Since, err = parseDate(cmd, "since", lf.since); err == nil {
		o.Until, err = parseDate(cmd, "until", lf.until)
	}
	if err == nil && !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		err = usageErr(cmd, "--since %s is not before --until %s: no order can match", lf.since, lf.until)
	}
	return o, err
}

// parseDate reads a --since/--until value: a date (local midnight) or an RFC 3339 time.
func parseDate(cmd *cobra.Command, flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageErr(cmd, "--%s %q is not a date (2026-11-25) or a time (2026-11-25T14:00:00+09:00)", flag, s)
}

// printPage prints one page and, when more rows match, says how to see them
// (--after only in the default order, where it works).
func printPage[T any](e *env, p shop.Page[T], rows func([]T) rowsFunc, what noun, key func(T) int64, o shop.ListOptions) error {
	if o.Sort != "" && o.Sort != "id" {
		key = nil
	}
	if len(p.Items) == 0 && e.format() == render.Table { // a bare header says nothing; JSON and CSV stay documents
		_, err := fmt.Fprintf(e.Err, "no %s found\n", what.many)
		return err
	}
	if err := e.print(p.Items, rows(p.Items)); err != nil {
		return err
	}
	switch {
	case p.More && key == nil:
		fmt.Fprintf(e.Err, "showing %s; more match: use --limit N or --all\n", what.count(len(p.Items)))
	case p.More:
		fmt.Fprintf(e.Err, "showing %s; more match: use --limit N or --all, or --after %d for the next page\n",
			what.count(len(p.Items)), key(p.Items[len(p.Items)-1]))
	}
	return nil
}

// noun is a list's noun, singular and plural.
type noun struct{ one, many string }

// count says "1 product", "2 products".
func (w noun) count(n int) string { return fmt.Sprintf("%d %s", n, plural(n, w.one, w.many)) }
