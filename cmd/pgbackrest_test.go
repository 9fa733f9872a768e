package cmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// README's pgBackRest configuration, tested: a server archiving with it, a
// full backup, orders, a mistaken UPDATE, then a restore to a time before it
// with --target-action=promote: the shop is as it was, and takes orders.
func TestPgBackRestRestoreToATime(t *testing.T) {
	t.Parallel()
	srv := testdb.StartArchived(t)
	if err := postgres.CreateDatabase(context.Background(), srv.URL("postgres"), "shop"); err != nil {
		t.Fatal(err)
	}
	rp := func(args ...string) string {
		t.Helper()
		out, serr, code := rabbitpayProcess(nil, append([]string{"--database-url", srv.URL("shop")}, args...)...)
		if code != 0 {
			t.Fatalf("rabbitpay %s: exit %d: %s", strings.Join(args, " "), code, serr)
		}
		return out
	}
	rp("product", "register", "--sku", "G-1", "--name", "Guard", "--price", "7000", "--stock", "10")
	rp("customer", "register", "--name", "Ryu")
	rp("order", "place", "--customer", "1", "--item", "G-1:1", "--method", "KAKAO")
	srv.BackRest(t, "backup", "--type=full")
	rp("order", "place", "--customer", "1", "--item", "G-1:2", "--method", "KAKAO")
	time.Sleep(1100 * time.Millisecond)
	before := time.Now()
	time.Sleep(1100 * time.Millisecond)
	if err := postgres.Exec(context.Background(), srv.URL("shop"), "UPDATE product SET price = 1"); err != nil {
		t.Fatal(err)
	}
	rp("order", "place", "--customer", "1", "--item", "G-1:1", "--method", "KAKAO")
	srv.Exec(t, "SELECT pg_switch_wal()") // archive the segment holding the mistake
	srv.BackRest(t, "check")              // waits until that segment is in the repository
	srv.Stop(t)
	srv.MoveAside(t)
	srv.BackRest(t, "restore", "--type=time", "--target="+before.UTC().Format("2006-01-02 15:04:05.000000+00"), "--target-action=promote")
	srv.Start(t)

	var ps []stockRow
	if err := json.Unmarshal([]byte(rp("product", "list", "-o", "json")), &ps); err != nil || len(ps) != 1 || ps[0].Price != 7000 || ps[0].Stock != 7 {
		t.Fatalf("after the restore to before the UPDATE: %+v %v", ps, err)
	}
	var orders []orderRow
	if err := json.Unmarshal([]byte(rp("order", "list", "-o", "json")), &orders); err != nil || len(orders) != 2 {
		t.Fatalf("orders after the restore: %+v %v", orders, err)
	}
	rp("order", "place", "--customer", "1", "--item", "G-1:1", "--method", "KAKAO")
}
