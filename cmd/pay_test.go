package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
)

func TestPayCommands(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:3")
	c.ok("order", "place", "--customer", "1", "--method", "NAVER", "--item", "B:1")

	if out := c.ok("pay", "list", "--method", "KAKAO"); !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "3000") || strings.Contains(out, "NAVER") {
		t.Errorf("pay list --method KAKAO:\n%s", out)
	}
	var ps []struct {
		ID       int64  `json:"id"`
		Status   string `json:"status"`
		Amount   int64  `json:"amount"`
		Refunded int64  `json:"refunded_amount"`
	}
	c.json(&ps, "pay", "list")
	if len(ps) != 2 || ps[0].Amount != 2500 || ps[1].Amount != 3000 {
		t.Fatalf("pay list -o json = %+v", ps)
	}
	if out := c.ok("pay", "list", "-o", "csv", "--status", "success"); !strings.HasPrefix(out, "id,order_id,order_uuid,method,status,amount,refunded") || strings.Count(out, "\n") != 3 {
		t.Errorf("pay list -o csv:\n%s", out)
	}

	// A partial refund shows on the payment.
	if out := c.ok("order", "refund", "1", "--item", "A:1", "--reason", "damaged"); !strings.Contains(out, "refunded ₩1,000") {
		t.Errorf("order refund:\n%s", out)
	}
	// order show tells the refund in every format, not only JSON.
	if out := c.ok("order", "show", "1", "-o", "csv"); !strings.Contains(out, "order_price,refunded_quantity,refunded_amount,") || !strings.Contains(out, ",3,1000,1,1000,") {
		t.Errorf("order show -o csv after a refund:\n%s", out)
	}
	if out := c.ok("order", "show", "1"); !strings.Contains(out, "refunded_quantity") || !regexp.MustCompile(`SUCCESS\s+3000\s+1000\b`).MatchString(out) {
		t.Errorf("order show after a refund:\n%s", out)
	}
	var d struct {
		Status   string `json:"status"`
		Refunded int64  `json:"refunded_amount"`
		Calls    []struct {
			Call    string `json:"call"`
			Outcome string `json:"outcome"`
		} `json:"calls"`
		Refunds []struct {
			Amount int64  `json:"amount"`
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"refunds"`
		Order struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	c.json(&d, "pay", "show", "1")
	if d.Status != "SUCCESS" || d.Refunded != 1000 || len(d.Refunds) != 1 || d.Refunds[0].Reason != "damaged" || d.Order.Status != "paid" {
		t.Fatalf("pay show -o json = %+v", d)
	}
	if len(d.Calls) < 2 || d.Calls[0].Call != "approve" || d.Calls[0].Outcome != "SUCCESS" {
		t.Errorf("pay show calls = %+v, want the approve first", d.Calls)
	}
	if out := c.ok("pay", "show", "1"); !strings.Contains(out, "approve") || !strings.Contains(out, "damaged") {
		t.Errorf("pay show table:\n%s", out)
	}
	uuid := c.query(`SELECT order_uuid::text FROM payment WHERE id = 2`)
	if out := c.ok("pay", "show", uuid, "-o", "csv"); !strings.HasPrefix(out, "at,call,outcome,ms,detail") {
		t.Errorf("pay show -o csv:\n%s", out)
	}

	// Reconcile: everything matches, then the provider's record is changed.
	if out := c.ok("pay", "reconcile"); strings.Count(out, "match") != 2 {
		t.Errorf("pay reconcile:\n%s", out)
	}
	c.exec(`UPDATE sandbox_payment SET status = 'CANCELLED', refunded = amount WHERE order_uuid = '` + uuid + `'`)
	before := c.snapshot()
	r := c.run("pay", "reconcile", "-o", "json")
	var rs []struct {
		PaymentID int64  `json:"payment_id"`
		Ours      string `json:"ours"`
		Theirs    string `json:"theirs"`
		Result    string `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.out), &rs); err != nil || r.code != 1 {
		t.Fatalf("pay reconcile with a mismatch: exit %d, %v\n%s\n%s", r.code, err, r.out, r.err)
	}
	if len(rs) != 2 || rs[0].Result != "mismatch" || rs[0].Ours != "SUCCESS" || rs[0].Theirs != "CANCELLED" || rs[1].Result != "match" {
		t.Errorf("reconcile rows = %+v", rs)
	}
	if !strings.Contains(r.err, "1 payment(s) differ from the provider's record") {
		t.Errorf("reconcile stderr = %q", r.err)
	}
	if after := c.snapshot(); after != before || c.query(`SELECT status::text FROM payment WHERE id = 2`) != "SUCCESS" {
		t.Errorf("reconcile changed the database")
	}
}

func TestPayBadInput(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2")
	before := c.snapshot()
	c.fails(2, `payment status "LOST" is not one of PROGRESS, SUCCESS, FAILED, CANCELLED`, "pay", "list", "--status", "LOST")
	c.fails(2, `payment method "PAYPAL" is not one of NAVER, KAKAO`, "pay", "list", "--method", "PAYPAL")
	c.fails(2, `--since "yesterday" is not a date`, "pay", "list", "--since", "yesterday")
	c.fails(2, `--since "2026-13-01" is not a date`, "pay", "reconcile", "--since", "2026-13-01")
	c.fails(2, `no payment has id or order UUID "99"`, "pay", "show", "99")
	c.fails(2, `"nope" is neither a payment id nor an order UUID`, "pay", "show", "nope")
	c.fails(2, "--item is required", "order", "refund", "1")
	c.fails(2, "order 1 has 2 of A left to refund (bought 2, refunded 0), not 3", "order", "refund", "1", "--item", "A:3")
	c.fails(2, "order 1 has no item B", "order", "refund", "1", "--item", "B:1")
	c.fails(2, "no order has id 7", "order", "refund", "7", "--item", "A:1")
	if after := c.snapshot(); after != before {
		t.Fatalf("bad input changed the database:\n%s\n%s", before, after)
	}
}

// liveConfig writes a live-mode config file pointing at the stand-ins.
func liveConfig(t *testing.T, extra string, providers ...standin.Provider) (path, listen string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen = ln.Addr().String()
	ln.Close()
	yaml := standin.Settings(listen, extra+"  http_timeout: 2s\n  approval_timeout: 1m\n", providers...)
	path = filepath.Join(t.TempDir(), "rabbitpay.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, listen
}

// buyerApproves plays the buyer: once a payment's approval URL is committed
// (before rabbitpay shows it), it follows it to the callback listener.
func (c *cli) buyerApproves(n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		conn, err := pgx.Connect(context.Background(), c.url)
		if err != nil {
			done <- err
			return
		}
		defer conn.Close(context.Background())
		seen := map[string]bool{}
		for deadline := time.Now().Add(time.Minute); len(seen) < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				done <- fmt.Errorf("no approval URL appeared, or none could be approved")
				return
			}
			rows, _ := conn.Query(context.Background(), `SELECT approval_url FROM payment WHERE approval_url IS NOT NULL AND status = 'PROGRESS'`)
			urls, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, u := range urls {
				// The URL is committed before rabbitpay shows it and waits
				// for the callback: a buyer this quick may arrive before the
				// listener waits for the order, and tries again, as a buyer
				// reloading the page would.
				if seen[u] {
					continue
				}
				if _, err := standin.Follow(context.Background(), u); err == nil {
					seen[u] = true
				}
			}
		}
		done <- nil
	}()
	return done
}

// Live mode from the command line, for both providers, and no configured
// secret in any output: tables, JSON, errors, warnings.
func TestLiveModeCLIAndSecrets(t *testing.T) {
	c := newCLI(t)
	c.seed()
	k, n := standin.NewKakao(t), standin.NewNaver(t)
	cfg, _ := liveConfig(t, "", k, n)
	var outputs []string
	run := func(args ...string) result {
		r := c.run(append([]string{"--config", cfg}, args...)...)
		outputs = append(outputs, r.out, r.err)
		return r
	}
	buyer := c.buyerApproves(2)
	for _, m := range []string{"KAKAO", "NAVER"} {
		r := run("order", "place", "--customer", "1", "--method", m, "--item", "A:1")
		if r.code != 0 || !strings.Contains(r.out, "approval") || !strings.Contains(r.out, "approve at http") {
			t.Fatalf("live %s order: exit %d\n%s\n%s", m, r.code, r.out, r.err)
		}
	}
	if err := <-buyer; err != nil {
		t.Fatal(err)
	}
	if got := c.query(`SELECT string_agg(status::text, ',' ORDER BY id) FROM payment`); got != "SUCCESS,SUCCESS" {
		t.Fatalf("payments = %s", got)
	}
	run("pay", "list", "-o", "json")
	run("pay", "show", "1")
	run("pay", "reconcile")
	run("order", "cancel", "2")
	run("db", "status", "-o", "json")
	// A provider refusing (as for a wrong key) and a bad setting.
	k.Next("ready", standin.Refuse(401, "-401", "invalid secret key"))
	if r := run("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1"); r.code != 1 || !strings.Contains(r.err, "invalid secret key") {
		t.Errorf("a refused ready: exit %d\n%s", r.code, r.err)
	}
	bad, _ := liveConfig(t, "  timeout: 1ms\n", k, n)
	r := c.run("--config", bad, "pay", "list")
	outputs = append(outputs, r.out, r.err)
	if r.code != 2 {
		t.Errorf("a bad payment setting: exit %d, %s", r.code, r.err)
	}
	for _, secret := range []string{standin.KakaoSecretKey, standin.NaverClientSecret} {
		for _, o := range outputs {
			if strings.Contains(o, secret) {
				t.Fatalf("a configured secret was printed:\n%s", o)
			}
		}
	}
	if probs := append(k.Problems(), n.Problems()...); len(probs) > 0 {
		t.Errorf("requests the providers would refuse: %v", probs)
	}
}

// `order place --approval-token -`: a line Kakao Pay refuses as a pg_token
// is said on stderr and the next line is read; the buyer's own redirect
// then places the order, charged once.
func TestApprovalFromStdinRefusedTokenAskedAgain(t *testing.T) {
	c := newCLI(t)
	c.seed()
	k := standin.NewKakao(t)
	cfg, _ := liveConfig(t, "", k)
	// A line not shaped like a pg_token is refused without being sent; one
	// that is, Kakao refuses while the payment waits: asked again.
	code, out, errb := placeApprovedOnStdin(t, c, cfg, "not-the-pg-token\ndeadbeefdeadbeefdead\n")
	if code != 0 || !strings.Contains(errb, `"not-the-pg-token" is not a Kakao Pay approval`) ||
		!strings.Contains(errb, "the provider did not accept that approval token: Kakao Pay answered invalid pg_token (code -2)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errb)
	}
	if got := c.query(`SELECT status::text || ' ' || amount FROM payment`); got != "SUCCESS 1000" {
		t.Fatalf("payment %s", got)
	}
	if n := k.Count("approve"); n != 2 {
		t.Errorf("%d approve calls, want 2: the misshapen line was sent", n)
	}
	if probs := k.Problems(); len(probs) > 0 {
		t.Fatalf("requests Kakao would refuse: %v", probs)
	}
}

// placeApprovedOnStdin runs `order place --approval-token -` for one A
// (Kakao, live config cfg) whose stdin gets first, once the approval page
// is out, then the buyer's redirect after following it: as a buyer who
// approves while something else is pasted first. It returns the exit
// code, stdout and stderr.
func placeApprovedOnStdin(t *testing.T, c *cli, cfg, first string) (int, string, string) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		conn, err := pgx.Connect(context.Background(), c.url)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer conn.Close(context.Background())
		var u string
		for deadline := time.Now().Add(time.Minute); u == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			_ = conn.QueryRow(context.Background(), `SELECT coalesce(max(approval_url), '') FROM payment WHERE status = 'PROGRESS'`).Scan(&u)
		}
		back, err := standin.Redirect(context.Background(), u)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		fmt.Fprintf(pw, "%s%s\n", first, back)
		pw.Close()
	}()
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"--database-url", c.url, "--config", cfg, "order", "place", "--customer", "1",
		"--method", "KAKAO", "--item", "A:1", "--approval-token", "-"}, IO{In: pr, Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}
