package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newAddressCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "address", Short: "A customer's address book: where orders go",
		Example: "  rabbitpay customer address add --customer 1 --recipient 김토끼 --phone 010-1234-5678 --zip 04524 --line1 \"서울 중구 세종대로 110\"\n  rabbitpay customer address list --customer 1"}
	c.AddCommand(newAddressAddCmd(e, nil), newAddressListCmd(e, nil), newAddressDefaultCmd(e, nil), newAddressRemoveCmd(e, nil))
	return c
}

// addressOptions is what an address book command acts on.
type addressOptions struct {
	*env
	Verb       string
	Address    shop.BookAddress // add
	CustomerID int64            // list
	ID         int64            // default, remove
}

func newAddressAddCmd(e *env, runF func(*addressOptions) error) *cobra.Command {
	opts := &addressOptions{env: e, Verb: "add"}
	a := &opts.Address
	cmd := &cobra.Command{
		Use:   "add --customer C --recipient NAME --phone PHONE --zip ZIP --line1 LINE1 [--line2 LINE2] [--memo MEMO] [--default]",
		Short: "Add an address to a customer's book (the first one is the default)",
		Example: `  rabbitpay customer address add --customer 1 --recipient 김토끼 --phone 010-1234-5678 --zip 04524 --line1 "서울 중구 세종대로 110" --line2 3층 --memo "문 앞에 놓아 주세요"
  rabbitpay customer address add --customer 1 --recipient 김토순 --phone "+82 2 123 4567" --zip 06236 --line1 "서울 강남구 테헤란로 152" --default -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "customer", "recipient", "phone", "zip", "line1"); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, addressRun)
		},
	}
	f := cmd.Flags()
	idVar(f, &a.CustomerID, "customer", "customer", "customer id (required)")
	f.StringVar(&a.Recipient, "recipient", "", "who receives the parcel (required)")
	f.StringVar(&a.Phone, "phone", "", "the recipient's phone: 010-1234-5678, 02-123-4567, +82 … (required)")
	f.StringVar(&a.ZipCode, "zip", "", "postal code, five digits (required)")
	f.StringVar(&a.Line1, "line1", "", "address line 1 (required)")
	f.StringVar(&a.Line2, "line2", "", "address line 2")
	f.StringVar(&a.Memo, "memo", "", "a note for the courier (배송 메모)")
	f.BoolVar(&a.Default, "default", false, "make it the default address")
	return cmd
}

func newAddressListCmd(e *env, runF func(*addressOptions) error) *cobra.Command {
	opts := &addressOptions{env: e, Verb: "list"}
	cmd := &cobra.Command{
		Use:     "list --customer C",
		Short:   "List a customer's address book, the default first (phones masked; -o json whole)",
		Example: "  rabbitpay customer address list --customer 1",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "customer"); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, addressRun)
		},
	}
	idVar(cmd.Flags(), &opts.CustomerID, "customer", "customer", "customer id (required)")
	return cmd
}

func newAddressDefaultCmd(e *env, runF func(*addressOptions) error) *cobra.Command {
	return newAddressIDCmd(&addressOptions{env: e, Verb: "default"}, runF, "Make an address its customer's default")
}

func newAddressRemoveCmd(e *env, runF func(*addressOptions) error) *cobra.Command {
	return newAddressIDCmd(&addressOptions{env: e, Verb: "remove"}, runF, "Remove an address from its customer's book")
}

func newAddressIDCmd(opts *addressOptions, runF func(*addressOptions) error, short string) *cobra.Command {
	return &cobra.Command{
		Use:     opts.Verb + " ID",
		Short:   short,
		Example: fmt.Sprintf("  rabbitpay customer address %s 2", opts.Verb),
		Args:    exactArgs(1, "one address ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.ID, err = parseID("address", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, addressRun)
		},
	}
}

func addressRun(ctx context.Context, opts *addressOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var one shop.BookAddress
	switch opts.Verb {
	case "list":
		as, err := a.Addresses(ctx, opts.CustomerID)
		if err != nil {
			return err
		}
		if len(as) == 0 && opts.format() == render.Table {
			_, err := fmt.Fprintf(opts.Err, "customer %d has no address\n", opts.CustomerID)
			return err
		}
		return opts.print(as, addressRows(as, true))
	case "add":
		one, err = a.AddAddress(ctx, opts.Address)
	case "default":
		one, err = a.SetDefaultAddress(ctx, opts.ID)
	case "remove":
		one, err = a.RemoveAddress(ctx, opts.ID)
		if err == nil && opts.format() == render.Table {
			_, err = fmt.Fprintf(opts.Out, "removed address %d of customer %d (%s, %s %s)\n", one.ID, one.CustomerID, one.Recipient, one.ZipCode, one.Line1)
			return err
		}
	}
	if err != nil {
		return err
	}
	return opts.print(one, addressRows([]shop.BookAddress{one}, false))
}

// addressRows lists addresses; mask hides the middle of phone numbers (lists).
func addressRows(as []shop.BookAddress, mask bool) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(as))
		for _, a := range as {
			phone := a.Phone
			if mask {
				phone = shop.MaskPhone(phone)
			}
			def := ""
			if a.Default {
				def = "default"
			}
			rows = append(rows, []string{itoa(a.ID), itoa(a.CustomerID), a.Recipient, phone, a.ZipCode, a.Line1, a.Line2, a.Memo, def})
		}
		return []string{"id", "customer_id", "recipient", "phone", "zip_code", "line1", "line2", "memo", "default"}, rows
	}
}
