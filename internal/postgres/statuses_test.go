package postgres_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/migrations"
)

// No status is decided in SQL: the store's statements and the database
// functions take every order, payment, saga, delivery and refund status from
// shop (as parameters, or written from its constants), so a rule changes in
// Go alone. The schema's migrations keep theirs (types, constraints, partial
// indexes): those are the database's, not rules; so does the generation-1
// signature kept for older binaries (marked "frozen: generation 1").
func TestNoStatusLiteralInTheStore(t *testing.T) {
	words := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			words[v] = true
		}
	}
	for _, s := range shop.SagaStates {
		add(string(s))
	}
	for _, s := range []shop.OrderStatus{shop.OrderCreated, shop.OrderPaid, shop.OrderShipped, shop.OrderCancelled} {
		add(string(s))
	}
	for _, s := range []shop.PaymentStatus{shop.PaymentProgress, shop.PaymentSuccess, shop.PaymentFailed, shop.PaymentCancelled} {
		add(string(s))
	}
	for _, s := range shop.DeliveryStatuses {
		add(string(s))
	}
	for _, s := range []shop.RefundState{shop.RefundRefunding, shop.RefundRefunded, shop.RefundFailed} {
		add(string(s))
	}
	quoted := regexp.MustCompile(`'([A-Za-z_]+)'`)
	check := func(name string, body []byte) {
		for i, line := range strings.Split(string(body), "\n") {
			if strings.HasSuffix(line, "-- frozen: generation 1") { // an older binary's contract, kept for it
				continue
			}
			for _, m := range quoted.FindAllStringSubmatch(line, -1) {
				if words[m[1]] {
					t.Errorf("%s:%d decides status %q in SQL: take it from shop\n\t%s", name, i+1, m[1], strings.TrimSpace(line))
				}
			}
		}
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sources {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		check(name, body)
	}
	functions, err := fs.Glob(migrations.Functions, "functions/*.sql")
	if err != nil || len(functions) == 0 {
		t.Fatalf("no function files: %v", err)
	}
	for _, name := range functions {
		body, err := fs.ReadFile(migrations.Functions, name)
		if err != nil {
			t.Fatal(err)
		}
		check("migrations/"+name, body)
	}
}
