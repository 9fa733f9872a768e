package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/log/v2"
	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/tui"
)

func newCheckoutCmd(e *env) *cobra.Command {
	var customer int64
	var serve string
	var demo bool
	cmd := &cobra.Command{
		Use:   "checkout [--customer C] [--demo] [--serve ADDR]",
		Short: "The interactive checkout: pick a customer, fill the cart, pay, watch the saga",
		Long: `checkout is a full-screen terminal program for the shop counter: pick or register
a customer, browse the catalogue, fill the customer's cart (the same cart 'cart show'
shows), choose a payment method (` + payment.MethodNames(", ") + `) and watch the order saga run step by step. A second tab
(ctrl+o) lists today's orders, with their saga trail, and cancels one.

It needs a terminal: with stdin or stdout not a terminal it refuses (exit 2).
Quitting while a saga runs waits until it has finished or compensated.

--demo opens the database 'rabbitpay demo' made, with its sample catalogue (the
header says "demo shop"); without it checkout always opens the shop's own database.
--serve ADDR serves the checkout over SSH instead, one session per counter, to the
public keys listed in checkout.authorized_keys; the host key is created once as
data_dir/checkout_host_ed25519 (mode 0600).`,
		Example: `  rabbitpay checkout
  rabbitpay checkout --demo --customer 1
  rabbitpay checkout --serve :2222     # then: ssh -p 2222 localhost`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if serve == "" && !(e.isTTY(e.In) && e.isTTY(e.Out)) {
				return usageErr(cmd, "checkout is interactive and needs a terminal, but stdin or stdout is not one")
			}
			if serve != "" {
				if err := checkServeAddr(serve); err != nil {
					return usageErr(cmd, "%v", err)
				}
			}
			if serve != "" && e.cfg.Checkout.AuthorizedKeys == "" {
				return usageErr(cmd, "--serve needs checkout.authorized_keys (RABBITPAY_CHECKOUT_AUTHORIZED_KEYS): the authorized_keys file of the keys that may log in")
			}
			ctx := cmd.Context()
			a, err := e.checkoutApp(ctx, demo)
			if err != nil {
				return err
			}
			mark := ""
			if demo {
				mark = "demo shop"
			}
			running := new(sync.WaitGroup)
			defer running.Wait() // no saga is cut short when the program ends
			if serve != "" {
				return e.serveCheckout(ctx, a, serve, mark, running)
			}
			screen := e.Out // the screen goes to stderr when it is the terminal too, as gum does
			if e.isTTY(e.Err) {
				screen = e.Err
			}
			m := tui.New(tui.Options{Shop: a, Ctx: ctx, CustomerID: customer, Running: running, Mark: mark})
			final, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(e.In), tea.WithOutput(screen)).Run()
			if errors.Is(err, tea.ErrProgramKilled) {
				running.Wait()
				return context.Canceled
			}
			if fm, ok := final.(tui.Model); ok && err == nil && fm.Summary() != "" {
				fmt.Fprintln(e.Out, fm.Summary())
				// ctrl+c stopped a saga: exit as order place does (130, or 3 when not all was undone)
				return &exitError{silent: true, err: fm.Interrupted()}
			}
			return err
		},
		Annotations: runsLong(),
	}
	f := cmd.Flags()
	idVar(f, &customer, "customer", "customer", "start with this customer")
	f.BoolVar(&demo, "demo", false, "use the database 'rabbitpay demo' made")
	f.StringVar(&serve, "serve", "", "serve the checkout over SSH on this address (host:port)")
	return cmd
}

func (e *env) checkoutApp(ctx context.Context, demo bool) (*app.App, error) {
	if !demo {
		// The counter reads its own writes (the stock after a sale, an order
		// just cancelled, a customer just registered): no read replica.
		cfg := *e.cfg
		cfg.DatabaseReadURL = ""
		a, err := app.OpenSaying(ctx, &cfg, func(msg string) { warn(e.Err, []string{msg}) })
		if err == nil {
			if err = a.RequireBackup(ctx); err != nil { // a counter that writes: not while a synchronous backup is down
				a.Close()
				return nil, err
			}
			e.a = a
		}
		return a, err
	}
	a, err := app.OpenDemoDatabase(ctx, e.cfg)
	if err == nil {
		e.a = a
	}
	return a, err
}

// checkServeAddr checks --serve's host:port before anything starts: a
// malformed address, a port out of range, or a flag taken for the address
// (--serve --help) is bad input.
func checkServeAddr(addr string) error {
	if strings.HasPrefix(addr, "-") {
		return fmt.Errorf("--serve needs an address such as :2222 or 127.0.0.1:2222, not %q", addr)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--serve %q is not host:port (such as :2222 or 127.0.0.1:2222)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--serve %q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// serveCheckout serves the checkout over SSH until the context ends: it
// binds first and only then says it serves; it logs every login and
// refusal; on stop it tells each session why it ends.
func (e *env) serveCheckout(ctx context.Context, a *app.App, addr, mark string, running *sync.WaitGroup) error {
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return err
	}
	log.SetLevel(log.FatalLevel) // wish logs every session cut by a shutdown as an error
	logger := log.NewWithOptions(e.Err, log.Options{ReportTimestamp: true, Prefix: "checkout"})
	srv, err := tui.NewServer(tui.ServerOptions{Addr: addr, HostKey: app.CheckoutHostKey(e.cfg),
		AuthorizedKeys: e.cfg.Checkout.AuthorizedKeys, Shop: a, Mark: mark, Running: running, Log: logger})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve the checkout on %s: %w", addr, errors.Unwrap(err))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(e.Err, "serving the checkout over SSH on %s to the keys in %s (ctrl+c stops)\n", ln.Addr(), e.cfg.Checkout.AuthorizedKeys)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(e.Err, "stopping: each session is told, and its saga in flight finishes or compensates first")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	srv.Stop(sctx, "the checkout server is stopping (stopped on the server): this session ends")
	fmt.Fprintln(e.Err, "stopped serving the checkout; waiting for sagas in flight")
	return nil
}
