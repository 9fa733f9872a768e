package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// fieldFlags maps the fields that errors below cmd name (shop.FieldError, in
// the domain's words) to the flags that set them: the one place where the
// domain's words meet the command line's.
var fieldFlags = map[string]string{
	"carrier":         "carrier",
	"tracking number": "tracking",
	"delivery time":   "at",
	"approval token":  "approval-token",
	"items":           "item",
	"database URL":    "database-url",
	"data dir":        "data-dir",
	"retention":       "older-than",
	"restore source":  "from",
	"restore time":    "to",
	"price":           "price",
	"stock":           "stock",
	"quantity":        "qty",
	"phone":           "phone",
	"email":           "email",

	"database read URL": "database-read-url",
}

// withFlagHint adds "(check --flag)" to an error about a field the command
// that ran sets with a flag; other errors (a file's column, a screen's
// field) stay as they are.
func withFlagHint(cmd *cobra.Command, err error) error {
	var fe *shop.FieldError
	if cmd == nil || !errors.As(err, &fe) {
		return err
	}
	name, ok := fieldFlags[fe.Field]
	if !ok || cmd.Flags().Lookup(name) == nil {
		return err
	}
	return fmt.Errorf("%w (check --%s)", err, name)
}
