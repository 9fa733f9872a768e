package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/payment"
	"github.com/rabbitpay/rabbitpay/internal/render"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newPayCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "pay", Short: "List, show and reconcile payments",
		Example: "  rabbitpay pay list --status PROGRESS\n  rabbitpay pay show 17\n  rabbitpay pay reconcile --since 2026-11-01"}
	c.AddCommand(newPayListCmd(e, nil), newPayShowCmd(e, nil), newPayReconcileCmd(e, nil))
	return c
}

// payShowOptions is the payment `pay show` shows.
type payShowOptions struct {
	*env
	Payment string // a payment id or an order UUID
}

func newPayShowCmd(e *env, runF func(*payShowOptions) error) *cobra.Command {
	opts := &payShowOptions{env: e}
	return &cobra.Command{
		Use:   "show ID|ORDER_UUID",
		Short: "Show a payment: amounts, provider ids, every provider call, refunds, its order",
		Example: `  rabbitpay pay show 17
  rabbitpay pay show 0b5e4c2a-8d1e-4f4b-9a37-2f1d3c5e6a7b -o json`,
		Args: exactArgs(1, "one payment id or order UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Payment = args[0]
			return dispatch(cmd, opts, runF, payShowRun)
		},
	}
}

func payShowRun(ctx context.Context, opts *payShowOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	d, err := a.Payment(ctx, opts.Payment)
	if err != nil {
		return err
	}
	return opts.printPayment(d)
}

// payListOptions is what `pay list` shows.
type payListOptions struct {
	*env
	Filter shop.PaymentFilter
	List   shop.ListOptions
}

func newPayListCmd(e *env, runF func(*payListOptions) error) *cobra.Command {
	opts := &payListOptions{env: e}
	var order int64
	var status, method string
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list [--order ID] [--status S] [--method M] [--since DATE] [--until DATE] [--limit N | --all] [--after ID]",
		Short: "List payments, newest first, a page at a time",
		Example: `  rabbitpay pay list --status PROGRESS
  rabbitpay pay list --method KAKAO --since 2026-11-01 --all -o csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.List, err = lf.options(e, cmd); err != nil {
				return err
			}
			f := &opts.Filter
			if cmd.Flags().Changed("status") {
				if f.Status, err = shop.ParsePaymentStatus(status); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("method") {
				if f.Method, err = payment.ParseMethod(method); err != nil {
					return err
				}
			}
			f.OrderID = order
			return dispatch(cmd, opts, runF, payListRun)
		},
	}
	lf = addListFlags(cmd, "payments", "", "")
	cmd.Flags().StringVar(&lf.since, "since", "", "only payments started at or after this date or time")
	cmd.Flags().StringVar(&lf.until, "until", "", "only payments started before this date or time")
	idVar(cmd.Flags(), &order, "order", "order", "only this order's payment")
	cmd.Flags().StringVar(&status, "status", "", "only payments in this status: PROGRESS, SUCCESS, FAILED, CANCELLED")
	cmd.Flags().StringVar(&method, "method", "", "only this method: "+payment.MethodNames(" or "))
	return cmd
}

func payListRun(ctx context.Context, opts *payListOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	p, err := a.Payments(ctx, opts.Filter, opts.List)
	if err != nil {
		return err
	}
	return printPage(opts.env, p, paymentRows, noun{"payment", "payments"}, func(p shop.Payment) int64 { return p.ID }, opts.List)
}

func paymentRows(ps []shop.Payment) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(ps))
		for _, p := range ps {
			order := ""
			if p.OrderID != nil {
				order = itoa(*p.OrderID)
			}
			rows = append(rows, []string{itoa(p.ID), order, p.OrderUUID, string(p.Method), string(p.Status), itoa(int64(p.Amount)),
				itoa(int64(p.Refunded)), p.ProviderTxID, stamp(p.CreatedAt)})
		}
		return []string{"id", "order_id", "order_uuid", "method", "status", "amount", "refunded", "provider_tx_id", "created_at"}, rows
	}
}

// printPayment shows one payment: JSON as one document; a table as the
// payment, its provider calls, its refunds and its order; CSV as its calls.
func (e *env) printPayment(d shop.PaymentDetail) error {
	calls := rowsFunc(func() ([]string, [][]string) {
		rows := make([][]string, 0, len(d.Calls))
		for _, c := range d.Calls {
			rows = append(rows, []string{c.At.Local().Format("2006-01-02 15:04:05.000"), c.Call, c.Outcome, itoa(c.Duration), c.Detail})
		}
		return []string{"at", "call", "outcome", "ms", "detail"}, rows
	})
	if e.format() != render.Table {
		return e.print(d, calls)
	}
	if err := e.print(d, paymentRows([]shop.Payment{d.Payment})); err != nil {
		return err
	}
	if d.ProviderRef != "" || d.ApprovalURL != "" || d.FailureReason != "" {
		fmt.Fprintf(e.Out, "provider ref: %s\n", orNone(d.ProviderRef))
		if d.ApprovalURL != "" {
			fmt.Fprintf(e.Out, "approval URL (pending): %s\n", d.ApprovalURL)
		}
		if d.FailureReason != "" {
			fmt.Fprintf(e.Out, "failure: %s\n", d.FailureReason)
		}
	}
	if len(d.Calls) == 0 {
		fmt.Fprintln(e.Out, "no provider call recorded")
	} else if err := e.print(d, calls); err != nil {
		return err
	}
	if len(d.Refunds) > 0 {
		rows := make([][]string, 0, len(d.Refunds))
		for _, f := range d.Refunds {
			rows = append(rows, []string{itoa(f.ID), string(f.State), itoa(int64(f.Amount)), lineList(f.Items), f.Reason, f.Error})
		}
		if err := render.WriteTable(e.Out, []string{"refund_id", "state", "amount", "items", "reason", "error"}, rows); err != nil {
			return err
		}
	}
	if d.Order != nil {
		fmt.Fprintf(e.Out, "order %d: %s, %s\n", d.Order.ID, d.Order.Status, d.Order.TotalAmount)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func lineList(lines []shop.Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%s×%d", l.SKU, l.Quantity)
	}
	return strings.Join(parts, ", ")
}

// reconcileOptions is what `pay reconcile` looks at.
type reconcileOptions struct {
	*env
	Since time.Time
}

func newPayReconcileCmd(e *env, runF func(*reconcileOptions) error) *cobra.Command {
	opts := &reconcileOptions{env: e}
	var since string
	cmd := &cobra.Command{
		Use:   "reconcile [--since DATE]",
		Short: "Ask the provider about every payment; settle PROGRESS ones, report mismatches",
		Long: `Reconcile asks the payment provider about every payment started since --since
(default: the last 7 days). A PROGRESS payment is settled: its saga finishes
forward or backward, printed step by step like 'order place'. Every other
payment is compared with the provider's record; a difference (ours SUCCESS,
theirs CANCELLED; another amount; another refunded amount) is printed as a
mismatch row and left as it is for a person to look at.

Exit codes: 0 everything matches or was settled; 1 mismatches found;
3 a payment could not be settled or compared (the provider did not answer).`,
		Example: `  rabbitpay pay reconcile
  rabbitpay pay reconcile --since 2026-11-01 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			opts.Since = time.Now().AddDate(0, 0, -7)
			if since != "" {
				if opts.Since, err = parseDate(cmd, "since", since); err != nil {
					return err
				}
			}
			return dispatch(cmd, opts, runF, reconcileRun)
		},
		Annotations: runsLong(),
	}
	cmd.Flags().StringVar(&since, "since", "", "payments started at or after this date or time (default: 7 days ago)")
	return cmd
}

func reconcileRun(ctx context.Context, opts *reconcileOptions) error {
	a, err := opts.app(ctx)
	if err != nil {
		return err
	}
	w := opts.stepWriter()
	rs, err := a.Reconcile(ctx, opts.Since, func(uuid string) shop.Observer {
		fmt.Fprintf(w, "payment of order %s is PROGRESS: settling it\n", uuid)
		return opts.stepPrinter()
	})
	if err != nil {
		return err
	}
	if err := opts.print(rs, reconcileRows(rs)); err != nil {
		return err
	}
	return app.ReconcileError(rs)
}

func reconcileRows(rs []app.Reconciled) rowsFunc {
	return func() ([]string, [][]string) {
		rows := make([][]string, 0, len(rs))
		for _, r := range rs {
			rows = append(rows, []string{itoa(r.PaymentID), r.OrderUUID, string(r.Method), string(r.Ours), itoa(int64(r.Amount)),
				itoa(int64(r.Refunded)), r.Theirs, itoa(int64(r.TheirAmount)), itoa(int64(r.TheirRefunded)), r.Result, r.Detail})
		}
		return []string{"payment_id", "order_uuid", "method", "ours", "amount", "refunded", "theirs", "their_amount",
			"their_refunded", "result", "detail"}, rows
	}
}

// approval is where `order place` gets the buyer's approval in live mode:
// --approval-token (a token or redirect URL; "-" reads a line from stdin,
// and the next one when that was no approval), else a prompt when stdin is
// a terminal. The callback listener, when configured, answers too,
// whichever comes first.
func (e *env) approval(token string) app.Approval {
	in := bufio.NewReader(e.In) // one reader: a line asked again follows the last one read
	refused := func(err error) { fmt.Fprintf(e.Err, "  %v\n", err) }
	readLine := func(ctx context.Context, _ string) (string, error) {
		line, err := in.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			if ctx.Err() != nil { // the buyer's callback answered first
				return "", nil
			}
			return "", shop.Invalid("no approval token or redirect URL on stdin: %v", err)
		}
		line = strings.TrimSpace(line)
		// stdin crosses the boundary too: a line that is not text is said,
		// goes no further, and the next line is asked for, as a wrong paste is.
		if err := shop.CheckText("the approval token", line, shop.MaxInputLen); err != nil {
			refused(err)
			return "", nil
		}
		return line, nil
	}
	switch {
	case token == "-":
		return app.Approval{Prompt: readLine, Given: true, Retry: refused}
	case token != "":
		return app.Approval{Token: token, Given: true}
	case e.isTTY(e.In):
		return app.Approval{Prompt: func(ctx context.Context, approvalURL string) (string, error) {
			fmt.Fprint(e.Err, "  paste the approval token or the page's final URL here (or wait for the buyer): ")
			e.prompting.Store(true)
			defer e.prompting.Store(false) // a line typed ends with its own newline
			return readLine(ctx, approvalURL)
		}, Retry: refused}
	}
	return app.Approval{}
}

// showApproval prints where the buyer approves, and a QR code of it when
// stderr is a terminal (the buyer scans it with their phone).
func (e *env) showApproval(approvalURL string) {
	if !e.isTTY(e.Err) {
		return
	}
	q, err := qrcode.New(approvalURL, qrcode.Low)
	if err != nil {
		return
	}
	fmt.Fprint(e.Err, q.ToSmallString(false))
}
