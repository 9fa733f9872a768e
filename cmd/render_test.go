package cmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// These tests render a given result: no database.

// renderEnv is an invocation writing format to buffers.
func renderEnv(format string) (e *env, out, errb *bytes.Buffer) {
	out, errb = &bytes.Buffer{}, &bytes.Buffer{}
	return &env{IO: IO{In: strings.NewReader(""), Out: out, Err: errb}, cfg: &config.Config{Output: format}}, out, errb
}

// csvRecords parses a CSV document: its header and its rows.
func csvRecords(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, s)
	}
	return recs
}

var testOrder = shop.Order{ID: 7, OrderUUID: "6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55", CustomerID: 3, CustomerName: "김토끼", Status: shop.OrderPaid, TotalAmount: 25000,
	CreatedAt: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC),
	Items:     []shop.OrderItem{{ID: 11, SKU: "A-1", Quantity: 2, OrderPrice: 12000, DeliveryStatus: "SHIPPED"}, {ID: 12, SKU: "B", Quantity: 1, OrderPrice: 1000}},
	Payment:   &shop.Payment{ID: 5, Method: shop.Kakao, Status: shop.PaymentSuccess, Amount: 25000}}

func TestRenderPlacement(t *testing.T) {
	e, out, errb := renderEnv("table")
	if err := e.reportPlacement(app.PlaceResult{Status: app.Placed, OrderUUID: testOrder.OrderUUID, Order: &testOrder}); err != nil {
		t.Fatal(err)
	}
	if want := "order 7 placed: " + shop.Won(25000).String() + " paid with KAKAO (saga " + testOrder.OrderUUID + ")\n"; out.String() != want || errb.Len() != 0 {
		t.Errorf("placed: stdout %q, stderr %q; want stdout %q", out, errb, want)
	}

	e, out, errb = renderEnv("table")
	err := e.reportPlacement(app.PlaceResult{Status: app.Failed, OrderUUID: "u-1", FailedStep: "create_order", Error: "lost\nconnection",
		Incomplete: true})
	if exitCode(err) != ExitIncomplete || out.Len() != 0 ||
		errb.String() != "order failed at create_order: lost; it is NOT fully compensated: run 'rabbitpay saga recover' (see 'rabbitpay saga show u-1')\n" {
		t.Errorf("incomplete: exit %d, stdout %q, stderr %q", exitCode(err), out, errb)
	}
	var ee *exitError
	if !errors.As(err, &ee) || !ee.silent {
		t.Errorf("incomplete: the failure is said twice")
	}

	e, out, _ = renderEnv("json")
	err = e.reportPlacement(app.PlaceResult{Status: app.Failed, OrderUUID: "u-2", FailedStep: "payment", Error: "declined", Compensated: true})
	var doc struct {
		FailedStep  string `json:"failed_step"`
		Compensated bool   `json:"compensated"`
	}
	if json.Unmarshal(out.Bytes(), &doc) != nil || doc.FailedStep != "payment" || !doc.Compensated || exitCode(err) != ExitFailure {
		t.Errorf("failed -o json: exit %d, %s", exitCode(err), out)
	}
}

func TestRenderOrders(t *testing.T) {
	e, out, _ := renderEnv("csv")
	if err := e.print([]shop.Order{testOrder}, orderRows([]shop.Order{testOrder})); err != nil {
		t.Fatal(err)
	}
	recs := csvRecords(t, out.String())
	if len(recs) != 2 || strings.Join(recs[0], ",") != "id,order_uuid,customer_id,status,total_amount,created_at,delivery,customer" ||
		recs[1][7] != testOrder.CustomerName || recs[1][0] != "7" || recs[1][3] != "paid" || recs[1][4] != "25000" || recs[1][6] != "A-1:SHIPPED B:-" {
		t.Errorf("order list -o csv:\n%s", out)
	}

	e, out, _ = renderEnv("table")
	if err := e.printCancel(7, app.CancelResult{OrderID: 7, AlreadyCancelled: true, Order: &testOrder}); err != nil || out.String() != "order 7 was already cancelled; nothing changed\n" {
		t.Errorf("cancel again: %v %q", err, out)
	}
	e, out, _ = renderEnv("json")
	if err := e.printCancel(7, app.CancelResult{OrderID: 7, Order: &testOrder}); err != nil || !strings.Contains(out.String(), `"already_cancelled": false`) {
		t.Errorf("cancel -o json: %v %s", err, out)
	}

	e, out, _ = renderEnv("table")
	res := app.RefundResult{Order: &testOrder, Refund: shop.Refund{ID: 2, Amount: 12000, Items: []shop.Line{{SKU: "A-1", Quantity: 1}}}}
	if err := e.printRefund(7, res); err != nil || out.String() != "order 7: refunded "+shop.Won(12000).String()+" for A-1×1; stock returned; the order is paid\n" {
		t.Errorf("refund: %v %q", err, out)
	}
}

func TestRenderPaymentsDeliveriesSagas(t *testing.T) {
	e, out, _ := renderEnv("json")
	if err := e.print([]shop.Payment{*testOrder.Payment}, paymentRows([]shop.Payment{*testOrder.Payment})); err != nil {
		t.Fatal(err)
	}
	var ps []map[string]any
	if json.Unmarshal(out.Bytes(), &ps) != nil || len(ps) != 1 || ps[0]["method"] != "KAKAO" || ps[0]["amount"] != 25000.0 {
		t.Errorf("pay list -o json:\n%s", out)
	}

	e, out, _ = renderEnv("csv")
	d := shop.Delivery{ID: 1, OrderID: 7, OrderProductID: 11, SKU: "A-1", Name: "토끼 인형", Quantity: 2, Status: shop.DeliveryShipped, Carrier: "CJ대한통운",
		TrackingNumber: "6012", History: []shop.DeliveryEvent{{Status: shop.DeliveryReady}, {Status: shop.DeliveryShipped, Carrier: "CJ대한통운"}}}
	if err := e.printDelivery(d); err != nil {
		t.Fatal(err)
	}
	if recs := csvRecords(t, out.String()); len(recs) != 3 || recs[0][1] != "status" || recs[2][1] != "SHIPPED" || recs[2][2] != "CJ대한통운" {
		t.Errorf("deliver show -o csv is the history:\n%s", out)
	}
	e, out, _ = renderEnv("table")
	if err := e.print([]shop.Delivery{d}, deliveryRows([]shop.Delivery{d})); err != nil || !strings.Contains(out.String(), "CJ대한통운") || !strings.Contains(out.String(), "토끼 인형") {
		t.Errorf("deliver list: %v\n%s", err, out)
	}

	e, out, _ = renderEnv("csv")
	out7 := int64(7)
	r := shop.SagaRecord{OrderUUID: "u-1", State: shop.SagaCompleted, CustomerID: 3, Method: shop.Naver, TotalAmount: 25000, OrderID: &out7,
		History: []shop.SagaEvent{{Kind: shop.EventStep, Name: "reduce_stock", Outcome: shop.OutcomeOK}, {Kind: shop.EventStep, Name: "payment", Outcome: shop.OutcomeOK}}}
	if err := e.printSaga(r); err != nil {
		t.Fatal(err)
	}
	if recs := csvRecords(t, out.String()); len(recs) != 3 || recs[2][2] != "payment" || recs[2][3] != string(shop.OutcomeOK) {
		t.Errorf("saga show -o csv is the trail:\n%s", out)
	}
	e, out, _ = renderEnv("csv")
	rec := []app.Recovered{{OrderUUID: "u-2", From: shop.SagaRunning, To: shop.SagaCompensated, Action: "refunded"}}
	if err := e.print(rec, recoveredRows(rec)); err != nil {
		t.Fatal(err)
	}
	if recs := csvRecords(t, out.String()); len(recs) != 2 || strings.Join(recs[1], ",") != "u-2,running,compensated,refunded," {
		t.Errorf("saga recover -o csv:\n%s", out)
	}
}

func TestRenderNotifySend(t *testing.T) {
	e, out, errb := renderEnv("table")
	o := &notifySendOptions{env: e, Sink: "webhook"}
	err := o.printSent(shop.SendSummary{Sent: 3, Failed: 1, Waiting: 1})
	if out.String() != "sent 3 notifications\n" || errb.Len() != 0 {
		t.Errorf("notify send to a webhook reports on stdout: %q, stderr %q", out, errb)
	}
	if exitCode(err) != ExitFailure || err.Error() != "1 notification was not delivered (1 failed attempt, 0 dead): see 'rabbitpay notify list --pending' and '--dead'" {
		t.Errorf("one left: exit %d, %v", exitCode(err), err)
	}

	e, out, errb = renderEnv("table")
	o = &notifySendOptions{env: e, Sink: "stdout"} // stdout carries the notifications themselves
	o.printAttempt(o.sendLog(), shop.SendAttempt{N: shop.Notification{ID: 4, Kind: "order_placed", Attempts: 4}, Err: errors.New("refused"), Dead: true})
	if err := o.printSent(shop.SendSummary{Sent: 1}); err != nil || out.Len() != 0 ||
		errb.String() != "  ✗ ntf_4 order_placed: attempt 5 failed: refused; it is dead now\nsent 1 notification\n" {
		t.Errorf("notify send to stdout: %v, stdout %q, stderr %q", err, out, errb)
	}

	e, out, _ = renderEnv("json")
	o = &notifySendOptions{env: e, Sink: "file"}
	var sum struct {
		Sent   int `json:"sent"`
		Failed int `json:"failed_attempts"`
	}
	if err := o.printSent(shop.SendSummary{Sent: 2, Failed: 3}); err != nil || json.Unmarshal(out.Bytes(), &sum) != nil || sum.Sent != 2 || sum.Failed != 3 {
		t.Errorf("notify send -o json: %v %s", err, out)
	}
}

func TestRenderDBStatus(t *testing.T) {
	e, out, _ := renderEnv("json")
	if err := e.printDBStatus(dbStatus{Mode: "embedded", DataDir: "/d", Initialized: true, URL: "postgres://x", SchemaTarget: 9}); err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if json.Unmarshal(out.Bytes(), &st) != nil || st["schema_version"] != nil || st["schema_target"] != 9.0 || st["running"] != false {
		t.Errorf("db status -o json, stopped:\n%s", out)
	}
	e, out, _ = renderEnv("csv")
	v := int32(9)
	indexed := true
	if err := e.printDBStatus(dbStatus{Mode: "external", Initialized: true, Running: true, URL: "postgres://x", SchemaVersion: &v, SchemaTarget: 9,
		CType: "C.UTF-8", KoreanSearchIndexed: &indexed}); err != nil {
		t.Fatal(err)
	}
	if recs := csvRecords(t, out.String()); len(recs) != 2 || strings.Join(recs[1], ",") != "external,,true,true,postgres://x,9,9,,,C.UTF-8,indexed,,,," {
		t.Errorf("db status -o csv:\n%s", out)
	}
	e, out, _ = renderEnv("csv")
	lag, standby := 0.5, true
	if err := e.printDBStatus(dbStatus{Mode: "external", Initialized: true, Running: true, URL: "postgres://x", SchemaVersion: &v, SchemaTarget: 9,
		ReadURL: "postgres://r", ReadInRecovery: &standby, ReplayLagSeconds: &lag}); err != nil {
		t.Fatal(err)
	}
	if recs := csvRecords(t, out.String()); len(recs) != 2 || recs[1][7] != "postgres://r" || recs[1][8] != "standby, replay lag 0.5s" {
		t.Errorf("db status -o csv with a read URL:\n%s", out)
	}
}
