package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// flagLimits are the flags whose values have a tighter limit than
// shop.MaxInputLen. Fields with rules of their own (SKU, names, carrier)
// are checked again, in the domain's words, by the use case.
var flagLimits = map[string]int{
	"reason":          shop.MaxReasonLen,
	"idempotency-key": shop.MaxIdempotencyKeyLen,
}

// checkInput is the boundary every string from outside crosses before a
// command runs: each string flag given, each argument and each RABBITPAY_*
// variable of the environment must be valid UTF-8 with no control
// character, within its length limit (shop.CheckText). Run once, from the
// root's PersistentPreRunE, for every command.
func checkInput(cmd *cobra.Command, args []string, environ []string) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		limit := shop.MaxInputLen
		if l, ok := flagLimits[f.Name]; ok {
			limit = l
		}
		for _, v := range flagStrings(f) {
			if e := shop.CheckText("--"+f.Name, v, limit); e != nil {
				err = usageErr(cmd, "%v", e)
				return
			}
		}
	})
	if err != nil {
		return err
	}
	for i, a := range args {
		if e := shop.CheckText(fmt.Sprintf("argument %d", i+1), a, shop.MaxInputLen); e != nil {
			return usageErr(cmd, "%v", e)
		}
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "RABBITPAY_") {
			continue
		}
		if e := shop.CheckText("environment variable "+name, value, shop.MaxInputLen); e != nil {
			return &exitError{code: ExitUsage, err: e}
		}
	}
	return nil
}

// flagStrings are the text values of a string flag (none for a number or a
// switch: pflag parsed those already).
func flagStrings(f *pflag.Flag) []string {
	switch f.Value.Type() {
	case "string":
		return []string{f.Value.String()}
	case "stringArray", "stringSlice":
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			return sv.GetSlice()
		}
	}
	return nil
}
