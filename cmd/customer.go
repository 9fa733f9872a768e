package cmd

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newCustomerCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "customer", Short: "Register, look up and change customers",
		Example: "  rabbitpay customer register --name 김토끼 --zip 04524 --line1 \"서울 중구 세종대로 110\"\n  rabbitpay customer list --search 김"}
	c.AddCommand(newCustomerRegisterCmd(e, nil), newCustomerShowCmd(e, nil), newCustomerListCmd(e, nil), newCustomerUpdateCmd(e, nil),
		newAddressCmd(e))
	return c
}

// customerOptions is what register, show and update act on.
type customerOptions struct {
	*env
	Verb          string
	ID            int64              // show, update
	Customer      shop.Customer      // register
	Patch         shop.CustomerPatch // update
	PasswordStdin bool               // register, update: read the password from standard input
}

func newCustomerShowCmd(e *env, runF func(*customerOptions) error) *cobra.Command {
	opts := &customerOptions{env: e, Verb: "show"}
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one customer",
		Example: "  rabbitpay customer show 1 -o json",
		Args:    exactArgs(1, "one customer ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.ID, err = parseID("customer", args[0]); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, customerRun)
		},
	}
}

func newCustomerRegisterCmd(e *env, runF func(*customerOptions) error) *cobra.Command {
	opts := &customerOptions{env: e, Verb: "register"}
	var addr addressFlags
	cmd := &cobra.Command{
		Use:   "register --name N [--phone P] [--email E] [--zip Z --line1 L1 [--line2 L2]] [--password-stdin]",
		Short: "Register a customer",
		Long: `Register a customer. The password is read from standard input with
--password-stdin, or asked for (hidden) when standard input is a terminal; it is
stored only as an argon2id hash. Without either the customer has no password.`,
		Example: `  rabbitpay customer register --name 김토끼 --zip 04524 --line1 "서울 중구 세종대로 110"
  printf '%s' "$PW" | rabbitpay customer register --name 김토끼 --password-stdin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := requireFlags(cmd, "name"); err != nil {
				return err
			}
			if opts.Customer.Address, err = addr.address(cmd); err != nil {
				return err
			}
			if err := opts.Customer.Validate(); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, customerRun)
		},
		Annotations: runsLong(), // it may wait for a password typed at a prompt
	}
	cmd.Flags().StringVar(&opts.Customer.Name, "name", "", "customer name (required)")
	cmd.Flags().StringVar(&opts.Customer.Phone, "phone", "", "phone (010-1234-5678; +82 accepted)")
	cmd.Flags().StringVar(&opts.Customer.Email, "email", "", "email address")
	addr.bind(cmd, "")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func newCustomerUpdateCmd(e *env, runF func(*customerOptions) error) *cobra.Command {
	opts := &customerOptions{env: e, Verb: "update"}
	var name, phone, email string
	var addr addressFlags
	cmd := &cobra.Command{
		Use:   "update ID [--name N] [--phone P] [--email E] [--zip Z] [--line1 L1] [--line2 L2] [--password-stdin]",
		Short: "Change a customer's name, phone, email, default address or password",
		Long: `Change a customer's name, phone, email, default address or password
(--password-stdin). Only what is given changes (--phone "" and --email "" clear them): --zip, --line1 and --line2 each change their part of
the default address (--line2 "" clears line 2); a customer without an address
needs --zip and --line1.`,
		Example: `  rabbitpay customer update 1 --name 김토순
  rabbitpay customer update 1 --zip 06236 --line1 "서울 강남구 테헤란로 152"
  printf '%s' "$PW" | rabbitpay customer update 1 --password-stdin`,
		Args: exactArgs(1, "one customer ID"),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.ID, err = parseID("customer", args[0]); err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				opts.Patch.Name = &name
			}
			for _, f := range []struct {
				flag string
				to   **string
				v    *string
			}{{"zip", &opts.Patch.ZipCode, &addr.zip}, {"line1", &opts.Patch.Line1, &addr.line1}, {"line2", &opts.Patch.Line2, &addr.line2},
				{"phone", &opts.Patch.Phone, &phone}, {"email", &opts.Patch.Email, &email}} {
				if cmd.Flags().Changed(f.flag) {
					*f.to = f.v
				}
			}
			if opts.Patch == (shop.CustomerPatch{}) && !opts.PasswordStdin {
				return usageErr(cmd, "nothing to update: give --name, --phone, --email, --zip, --line1, --line2 or --password-stdin")
			}
			return dispatch(cmd, opts, runF, customerRun)
		},
		Annotations: runsLong(), // it may wait for a password typed at a prompt
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVar(&phone, "phone", "", "new phone (\"\" clears it)")
	cmd.Flags().StringVar(&email, "email", "", "new email address (\"\" clears it)")
	addr.bind(cmd, "new ")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the new password from standard input")
	return cmd
}

func customerRun(ctx context.Context, opts *customerOptions) error {
	pw := ""
	if opts.Verb == "register" || opts.PasswordStdin { // register may also ask at a terminal's prompt
		var err error
		if pw, err = opts.readPassword(opts.PasswordStdin); err != nil {
			return err
		}
	}
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	var cu shop.Customer
	switch opts.Verb {
	case "show":
		cu, err = a.Customer(ctx, opts.ID)
	case "register":
		cu, err = a.RegisterCustomer(ctx, opts.Customer, pw)
	case "update":
		cu, err = a.UpdateCustomer(ctx, opts.ID, opts.Patch, pw)
	}
	if err != nil {
		return err
	}
	return opts.print(cu, customerRows([]shop.Customer{cu}, opts.format() == render.CSV, false))
}

// addressFlags are --zip, --line1 and --line2: a default address, all or none.
type addressFlags struct{ zip, line1, line2 string }

func (a *addressFlags) bind(cmd *cobra.Command, prefix string) {
	cmd.Flags().StringVar(&a.zip, "zip", "", prefix+"postal code of the default address (five digits)")
	cmd.Flags().StringVar(&a.line1, "line1", "", prefix+"address line 1")
	cmd.Flags().StringVar(&a.line2, "line2", "", prefix+"address line 2")
}

// address is the address the flags give, nil when none is given.
func (a *addressFlags) address(cmd *cobra.Command) (*shop.Address, error) {
	if a.zip == "" && a.line1 == "" && a.line2 == "" {
		return nil, nil
	}
	if a.zip == "" || a.line1 == "" {
		return nil, usageErr(cmd, "an address needs both --zip and --line1")
	}
	return &shop.Address{ZipCode: a.zip, Line1: a.line1, Line2: a.line2}, nil
}

// customerListOptions is what `customer list` shows.
type customerListOptions struct {
	*env
	List shop.ListOptions
}

func newCustomerListCmd(e *env, runF func(*customerListOptions) error) *cobra.Command {
	opts := &customerListOptions{env: e}
	var lf *listFlags
	cmd := &cobra.Command{
		Use:     "list [--search TEXT] [--sort id|name] [--limit N | --all] [--after ID]",
		Short:   "List customers, a page at a time",
		Example: "  rabbitpay customer list --search 김\n  rabbitpay customer list --all -o csv",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			return dispatch(cmd, opts, runF, customerListRun)
		},
	}
	lf = addListFlags(cmd, "customers", "name", "id, name")
	return cmd
}

func customerListRun(ctx context.Context, opts *customerListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Customers(ctx, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, func(cs []shop.Customer) rowsFunc { return customerRows(cs, opts.format() == render.CSV, true) }, noun{"customer", "customers"}, func(c shop.Customer) int64 { return c.ID }, opts.List)
}

// readPassword reads the password from stdin (--password-stdin) or a hidden
// prompt on a terminal; otherwise the customer gets no password.
func (e *env) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(e.In, shop.MaxPasswordBytes+2))
		if err != nil {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if pw == "" {
			return "", shop.Invalid("--password-stdin was given but standard input was empty")
		}
		return pw, nil
	}
	in, ok := e.In.(*os.File)
	if !ok || !e.isTTY(in) {
		return "", nil
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(e.Err, prompt)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(e.Err)
		return string(b), err
	}
	pw, err := ask("Password (empty for none): ")
	if err != nil || pw == "" {
		return "", err
	}
	again, err := ask("Repeat password: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", shop.Invalid("the two passwords differ")
	}
	return pw, nil
}

// customerRows lists customers; split adds the address lines apart
// (CSV), mask hides the middle of phone numbers (lists). New columns come
// last, so scripts reading the CSV by position keep working.
func customerRows(cs []shop.Customer, split, mask bool) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(cs))
		for _, c := range cs {
			a := cmp.Or(c.Address, &shop.Address{})
			phone := c.Phone
			if mask {
				phone = shop.MaskPhone(phone)
			}
			row := []string{strconv.FormatInt(c.ID, 10), c.Name, a.ZipCode, strings.TrimSpace(a.Line1 + " " + a.Line2),
				strconv.FormatBool(c.HasPassword), stamp(c.CreatedAt)}
			if split {
				row = append(row, a.Line1, a.Line2)
			}
			rows = append(rows, append(row, phone, c.Email))
		}
		header := []string{"id", "name", "zip_code", "address", "has_password", "created_at"}
		if split {
			header = append(header, "line1", "line2")
		}
		return append(header, "phone", "email"), rows
	}
}
