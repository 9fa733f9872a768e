package cmd

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// These tests stop every command right after its flags are parsed and
// checked (the runF of NewX(e, runF)): no database is opened.

// parsed runs args through the real root with the command args[0] args[1]
// built by newCmd around a runF that keeps the options. It returns them (nil
// when the command refused), the exit code and stderr.
func parsed[T any](t *testing.T, newCmd func(*env, func(*T) error) *cobra.Command, args ...string) (*T, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}}
	root := newRoot(e)
	var got *T
	stub := newCmd(e, func(o *T) error { got = o; return nil })
	group, _, err := root.Find(args[:1])
	if err != nil || group == root {
		t.Fatalf("no command group %q", args[0])
	}
	for _, c := range group.Commands() {
		if c.Name() == stub.Name() {
			group.RemoveCommand(c)
		}
	}
	group.AddCommand(stub)
	code := e.run(context.Background(), root, args)
	return got, code, errb.String()
}

// accepts parses a command line that must be accepted and returns its options.
func accepts[T any](t *testing.T, newCmd func(*env, func(*T) error) *cobra.Command, args ...string) *T {
	t.Helper()
	got, code, stderr := parsed(t, newCmd, args...)
	if code != ExitOK || got == nil {
		t.Fatalf("rabbitpay %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
	}
	return got
}

// refuses parses a command line that must be refused with code and one
// line on stderr holding want, before the command runs.
func refuses[T any](t *testing.T, code int, want string, newCmd func(*env, func(*T) error) *cobra.Command, args ...string) {
	t.Helper()
	got, c, stderr := parsed(t, newCmd, args...)
	if got != nil || c != code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("rabbitpay %s: ran %v, exit %d (want %d), stderr %q (want one line holding %q)",
			strings.Join(args, " "), got != nil, c, code, stderr, want)
	}
}

func TestOrderFlags(t *testing.T) {
	t.Parallel()
	p := accepts(t, newOrderPlaceCmd, "order", "place", "--customer", "3", "--method", "kakao", "--item", "A-1:2", "--item", "#7:1",
		"--idempotency-key", "k-1", "--approval-token", "-")
	want := placeOptions{env: p.env, CustomerID: 3, Method: shop.Kakao, Items: []shop.ItemRequest{{Ref: mustRef(t, "A-1"), Quantity: 2}, {Ref: mustRef(t, "#7"), Quantity: 1}},
		IdempotencyKey: "k-1", ApprovalToken: "-"}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("order place: %+v, want %+v", *p, want)
	}
	if p := accepts(t, newOrderPlaceCmd, "order", "place", "--customer", "3", "--method", "NAVER"); p.Items != nil || p.Method != shop.Naver {
		t.Errorf("order place from the cart: %+v", *p)
	}
	refuses(t, ExitUsage, "--method is required (see 'rabbitpay order place --help')", newOrderPlaceCmd, "order", "place", "--customer", "3")
	refuses(t, ExitUsage, `"PAYPAL"`, newOrderPlaceCmd, "order", "place", "--customer", "3", "--method", "PAYPAL")
	refuses(t, ExitUsage, "customer id 0 must be positive", newOrderPlaceCmd, "order", "place", "--customer", "0", "--method", "KAKAO")
	refuses(t, ExitUsage, `--customer "x" is not a whole number`, newOrderPlaceCmd, "order", "place", "--customer", "x", "--method", "KAKAO")
	refuses(t, ExitUsage, `--wait "abc" is not a duration`, newSagaRecoverCmd, "saga", "recover", "--wait", "abc")
	refuses(t, ExitUsage, `item "A-1" is not SKU:QTY`, newOrderPlaceCmd, "order", "place", "--customer", "3", "--method", "KAKAO", "--item", "A-1")
	refuses(t, ExitUsage, `unexpected argument "now"`, newOrderPlaceCmd, "order", "place", "now", "--customer", "3", "--method", "KAKAO")

	l := accepts(t, newOrderListCmd, "order", "list", "--customer", "3", "--status", "PAID", "--limit", "5", "--since", "2026-11-01", "--after", "40")
	if l.Filter != (shop.OrderFilter{CustomerID: 3, Status: shop.OrderPaid}) || l.List.Limit != 5 || l.List.After != 40 ||
		!l.List.Since.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local)) {
		t.Errorf("order list: %+v", *l)
	}
	if l := accepts(t, newOrderListCmd, "order", "list"); l.List.Limit != defaultPage {
		t.Errorf("order list as a table shows %d rows, want %d", l.List.Limit, defaultPage)
	}
	if l := accepts(t, newOrderListCmd, "order", "list", "-o", "json"); l.List.Limit != 0 {
		t.Errorf("order list -o json shows %d rows, want all", l.List.Limit)
	}
	refuses(t, ExitUsage, "--limit and --all cannot be used together", newOrderListCmd, "order", "list", "--limit", "5", "--all")
	refuses(t, ExitUsage, "--limit 0 must be at least 1", newOrderListCmd, "order", "list", "--limit", "0")
	refuses(t, ExitUsage, `"lost"`, newOrderListCmd, "order", "list", "--status", "lost")
	refuses(t, ExitUsage, "customer id -2 must be positive", newOrderListCmd, "order", "list", "--customer", "-2")
	refuses(t, ExitUsage, `--until "soon" is not a date`, newOrderListCmd, "order", "list", "--until", "soon")

	r := accepts(t, newOrderRefundCmd, "order", "refund", "17", "--item", "A-1:1", "--item", "B:2", "--reason", "damaged", "--idempotency-key", "r-1")
	if r.OrderID != 17 || !slices.Equal(r.Items, []shop.ItemRequest{{Ref: mustRef(t, "A-1"), Quantity: 1}, {Ref: mustRef(t, "B"), Quantity: 2}}) || r.Reason != "damaged" || r.IdempotencyKey != "r-1" {
		t.Errorf("order refund: %+v", *r)
	}
	refuses(t, ExitUsage, "--item is required", newOrderRefundCmd, "order", "refund", "17")
	refuses(t, ExitUsage, "order id 0 must be positive", newOrderRefundCmd, "order", "refund", "0", "--item", "A:1")
	refuses(t, ExitUsage, "expected one order ID, got 0 arguments", newOrderRefundCmd, "order", "refund", "--item", "A:1")

	if o := accepts(t, newOrderShowCmd, "order", "show", "17"); o.OrderID != 17 {
		t.Errorf("order show: %+v", *o)
	}
	if o := accepts(t, newOrderCancelCmd, "order", "cancel", "18"); o.OrderID != 18 {
		t.Errorf("order cancel: %+v", *o)
	}
	refuses(t, ExitUsage, `order id "x" is not a whole number`, newOrderCancelCmd, "order", "cancel", "x")
}

func TestPayFlags(t *testing.T) {
	t.Parallel()
	l := accepts(t, newPayListCmd, "pay", "list", "--order", "4", "--status", "progress", "--method", "naver")
	if l.Filter != (shop.PaymentFilter{OrderID: 4, Status: shop.PaymentProgress, Method: shop.Naver}) {
		t.Errorf("pay list: %+v", l.Filter)
	}
	refuses(t, ExitUsage, "order id -1 must be positive", newPayListCmd, "pay", "list", "--order", "-1")
	refuses(t, ExitUsage, `"TOSS"`, newPayListCmd, "pay", "list", "--method", "TOSS")

	if s := accepts(t, newPayShowCmd, "pay", "show", "0b5e4c2a-8d1e-4f4b-9a37-2f1d3c5e6a7b"); s.Payment != "0b5e4c2a-8d1e-4f4b-9a37-2f1d3c5e6a7b" {
		t.Errorf("pay show: %+v", *s)
	}
	refuses(t, ExitUsage, "expected one payment id or order UUID, got 2 arguments", newPayShowCmd, "pay", "show", "1", "2")

	if r := accepts(t, newPayReconcileCmd, "pay", "reconcile", "--since", "2026-11-01T09:00:00+09:00"); !r.Since.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("pay reconcile --since: %s", r.Since)
	}
	if r := accepts(t, newPayReconcileCmd, "pay", "reconcile"); time.Since(r.Since) < 7*24*time.Hour-time.Minute || time.Since(r.Since) > 7*24*time.Hour+time.Minute {
		t.Errorf("pay reconcile looks back to %s, want 7 days", r.Since)
	}
	refuses(t, ExitUsage, `--since "last week" is not a date`, newPayReconcileCmd, "pay", "reconcile", "--since", "last week")
}

func TestDeliverFlags(t *testing.T) {
	t.Parallel()
	s := accepts(t, newDeliverStartCmd, "deliver", "start", "--order", "1", "--item", "A-1", "--item", "5", "--carrier", "CJ대한통운", "--tracking", "6012")
	if !reflect.DeepEqual(s.Request, shop.DeliveryStart{OrderID: 1, Items: []string{"A-1", "5"}, Carrier: "CJ대한통운", Tracking: "6012"}) {
		t.Errorf("deliver start: %+v", s.Request)
	}
	refuses(t, ExitUsage, "--order is required", newDeliverStartCmd, "deliver", "start")
	refuses(t, ExitUsage, "order id 0 must be positive", newDeliverStartCmd, "deliver", "start", "--order", "0")

	u := accepts(t, newDeliverUpdateCmd, "deliver", "update", "3", "--status", "in_transit", "--carrier", "우체국택배", "--at", "2026-11-27T15:04:05+09:00")
	if u.Change != (shop.DeliveryChange{ID: 3, Status: shop.DeliveryInTransit, Carrier: "우체국택배", At: u.Change.At}) ||
		!u.Change.At.Equal(time.Date(2026, 11, 27, 6, 4, 5, 0, time.UTC)) {
		t.Errorf("deliver update: %+v", u.Change)
	}
	refuses(t, ExitUsage, "--status is required", newDeliverUpdateCmd, "deliver", "update", "3")
	refuses(t, ExitUsage, `--at "yesterday" is not an RFC 3339 time`, newDeliverUpdateCmd, "deliver", "update", "3", "--status", "SHIPPED", "--at", "yesterday")
	refuses(t, ExitUsage, `"LOST"`, newDeliverUpdateCmd, "deliver", "update", "3", "--status", "LOST")
	refuses(t, ExitUsage, "delivery id 0 must be positive", newDeliverUpdateCmd, "deliver", "update", "0", "--status", "SHIPPED")

	l := accepts(t, newDeliverListCmd, "deliver", "list", "--order", "2", "--status", "ready", "--all")
	if l.Filter != (shop.DeliveryFilter{OrderID: 2, Status: shop.DeliveryReady}) || l.List.Limit != 0 {
		t.Errorf("deliver list: %+v", *l)
	}
	refuses(t, ExitUsage, "customer id 0 must be positive", newDeliverListCmd, "deliver", "list", "--customer", "0")

	if d := accepts(t, newDeliverShowCmd, "deliver", "show", "9"); d.DeliveryID != 9 {
		t.Errorf("deliver show: %+v", *d)
	}
	if i := accepts(t, newDeliverImportCmd, "deliver", "import", "today.jsonl"); i.Path != "today.jsonl" || i.Format != shop.CatalogueJSONL {
		t.Errorf("deliver import: %+v", *i)
	}
	if i := accepts(t, newDeliverImportCmd, "deliver", "import", "-"); i.Path != "-" || i.Format != "" {
		t.Errorf("deliver import - (the format is sniffed): %+v", *i)
	}
	refuses(t, ExitUsage, `"xml" is not one of csv, jsonl`, newDeliverImportCmd, "deliver", "import", "today.csv", "--format", "xml")
}

func TestNotifyFlags(t *testing.T) {
	t.Parallel()
	l := accepts(t, newNotifyListCmd, "notify", "list", "--pending", "--customer", "2", "--kind", "order_placed")
	if l.Filter != (shop.NotificationFilter{Pending: true, CustomerID: 2, Kind: shop.NotifyOrderPlaced}) { // the name from before event types is read as order.placed
		t.Errorf("notify list: %+v", l.Filter)
	}
	refuses(t, ExitUsage, "--pending and --dead cannot be used together", newNotifyListCmd, "notify", "list", "--pending", "--dead")
	refuses(t, ExitUsage, `"carrier_pigeon"`, newNotifyListCmd, "notify", "list", "--kind", "carrier_pigeon")

	s := accepts(t, newNotifySendCmd, "notify", "send")
	if s.Sink != "stdout" || s.File != "" || s.Limit != 0 || s.Follow {
		t.Errorf("notify send by default: %+v", *s)
	}
	s = accepts(t, newNotifySendCmd, "notify", "send", "--sink", "file", "--file", "outbox.jsonl", "--limit", "100", "--follow")
	if s.Sink != "file" || s.File != "outbox.jsonl" || s.Limit != 100 || !s.Follow {
		t.Errorf("notify send to a file: %+v", *s)
	}
	refuses(t, ExitUsage, "--file PATH goes with --sink file", newNotifySendCmd, "notify", "send", "--sink", "file")
	refuses(t, ExitUsage, "--file PATH goes with --sink file", newNotifySendCmd, "notify", "send", "--file", "x.jsonl")
	refuses(t, ExitUsage, `sink "sms" is not one of stdout, file, webhook`, newNotifySendCmd, "notify", "send", "--sink", "sms")
	refuses(t, ExitUsage, "--limit 0 must be at least 1", newNotifySendCmd, "notify", "send", "--limit", "0")

	if r := accepts(t, newNotifyRetryCmd, "notify", "retry", "12"); r.NotificationID != 12 || r.Dead {
		t.Errorf("notify retry 12: %+v", *r)
	}
	if r := accepts(t, newNotifyRetryCmd, "notify", "retry", "--dead"); r.NotificationID != 0 || !r.Dead {
		t.Errorf("notify retry --dead: %+v", *r)
	}
	refuses(t, ExitUsage, "expected one notification ID, or --dead", newNotifyRetryCmd, "notify", "retry")
	refuses(t, ExitUsage, `unexpected argument "12"`, newNotifyRetryCmd, "notify", "retry", "12", "--dead")
}

func TestSagaAndDBFlags(t *testing.T) {
	t.Parallel()
	if l := accepts(t, newSagaListCmd, "saga", "list", "--state", "running", "--limit", "3"); l.Filter.State != shop.SagaRunning || l.List.Limit != 3 {
		t.Errorf("saga list: %+v", *l)
	}
	refuses(t, ExitUsage, `"lost"`, newSagaListCmd, "saga", "list", "--state", "lost")
	if s := accepts(t, newSagaShowCmd, "saga", "show", "17"); s.Saga != "17" {
		t.Errorf("saga show: %+v", *s)
	}
	if r := accepts(t, newSagaRecoverCmd, "saga", "recover", "--wait", "1m"); r.Wait != time.Minute {
		t.Errorf("saga recover: %+v", *r)
	}
	refuses(t, ExitUsage, `--wait "soon" is not a duration`, newSagaRecoverCmd, "saga", "recover", "--wait", "soon")
	accepts(t, newDBStatusCmd, "db", "status")
	refuses(t, ExitUsage, `unexpected argument "now"`, newDBStopCmd, "db", "stop", "now")
}

// Each long-running command says so itself: command_timeout leaves it
// alone and bounds every other command.
func TestLongRunningCommandsMarkThemselves(t *testing.T) {
	t.Parallel()
	var long []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Annotations[longRunning] != "" {
			long = append(long, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&env{}))
	slices.Sort(long)
	want := []string{"rabbitpay checkout", "rabbitpay customer register", "rabbitpay customer update", "rabbitpay db backup", "rabbitpay db init", "rabbitpay db migrate",
		"rabbitpay db prune", "rabbitpay db restore", "rabbitpay db start", "rabbitpay db stop", "rabbitpay deliver import", "rabbitpay demo", "rabbitpay notify send",
		"rabbitpay order cancel", "rabbitpay order place", "rabbitpay order refund", "rabbitpay pay reconcile",
		"rabbitpay product export", "rabbitpay product import", "rabbitpay saga recover"}
	if !slices.Equal(long, want) {
		t.Errorf("long-running commands:\n%v\nwant\n%v", long, want)
	}
	if r := accepts(t, newSagaRecoverCmd, "saga", "recover"); r.bounded != nil {
		t.Errorf("saga recover runs under command_timeout")
	}
	if l := accepts(t, newSagaListCmd, "saga", "list"); l.bounded == nil {
		t.Errorf("saga list runs without command_timeout")
	}
}

// mustRef reads a product reference as the commands do.
func mustRef(t *testing.T, s string) shop.ProductRef {
	t.Helper()
	r, err := shop.ParseProductRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// customer, product and cart have the same shape as the other groups: the
// flags become options, checked before anything runs.
func TestCustomerProductCartFlags(t *testing.T) {
	t.Parallel()
	r := accepts(t, newCustomerRegisterCmd, "customer", "register", "--name", "김토끼", "--zip", "04524", "--line1", "서울", "--password-stdin")
	if r.Customer.Name != "김토끼" || r.Customer.Address == nil || r.Customer.Address.ZipCode != "04524" || !r.PasswordStdin {
		t.Errorf("customer register: %+v", *r)
	}
	refuses(t, ExitUsage, "an address needs both --zip and --line1", newCustomerRegisterCmd, "customer", "register", "--name", "x", "--zip", "04524")
	if u := accepts(t, newCustomerUpdateCmd, "customer", "update", "3", "--line2", ""); u.ID != 3 || u.Patch.Line2 == nil || *u.Patch.Line2 != "" {
		t.Errorf("customer update: %+v", *u)
	}
	refuses(t, ExitUsage, "nothing to update", newCustomerUpdateCmd, "customer", "update", "3")
	refuses(t, ExitUsage, "customer id 0 must be positive", newCustomerShowCmd, "customer", "show", "0")

	if p := accepts(t, newProductRegisterCmd, "product", "register", "--sku", "A-1", "--name", "토끼", "--price", "12000", "--stock", "5"); p.Product.SKU != "A-1" ||
		p.Product.Price != 12000 || p.Product.StockQuantity != 5 {
		t.Errorf("product register: %+v", *p)
	}
	refuses(t, ExitUsage, "--stock is required", newProductRegisterCmd, "product", "register", "--sku", "A-1", "--name", "x", "--price", "1")
	if u := accepts(t, newProductUpdateCmd, "product", "update", "A-1", "--stock", "0"); u.Ref != "A-1" || u.Patch.Stock == nil || *u.Patch.Stock != 0 || u.Patch.Price != nil {
		t.Errorf("product update: %+v", *u)
	}
	if d := accepts(t, newProductDeleteCmd, "product", "delete", "#3"); d.Verb != "delete" || d.Ref != "#3" {
		t.Errorf("product delete: %+v", *d)
	}
	if l := accepts(t, newProductListCmd, "product", "list", "--in-stock", "--search", "토끼"); !l.List.InStock || l.List.Search != "토끼" {
		t.Errorf("product list: %+v", *l)
	}
	if i := accepts(t, newProductImportCmd, "product", "import", "new.jsonl", "--dry-run"); i.Format != shop.CatalogueJSONL || !i.DryRun {
		t.Errorf("product import: %+v", *i)
	}
	if x := accepts(t, newProductExportCmd, "product", "export"); x.Path != "-" {
		t.Errorf("product export: %+v", *x)
	}

	if c := accepts(t, newCartAddCmd, "cart", "add", "--customer", "2", "--product", "B-2", "--qty", "3"); c.CustomerID != 2 || c.Product != "B-2" || c.Qty != 3 {
		t.Errorf("cart add: %+v", *c)
	}
	refuses(t, ExitUsage, "--product is required", newCartRemoveCmd, "cart", "remove", "--customer", "2")
	refuses(t, ExitUsage, "--customer: customer id 0 must be positive", newCartShowCmd, "cart", "show", "--customer", "0")
}
