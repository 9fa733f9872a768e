package cmd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

// README's "Moving to a server", step by step: dump the embedded cluster
// (pg_dump -Fc of db url), restore it into another cluster (pg_restore
// --no-owner), point --database-url at it. rabbitpay finds its schema
// current there (migrations' version, functions and their digest came
// along), places an order, and saga recover finishes a saga the dump caught
// in flight.
func TestMoveFromEmbeddedToServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin, err := localpg.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	parent, err := os.MkdirTemp("", "rpmove-") // the cluster's unprivileged user must reach it (as root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	os.Chmod(parent, 0o755)
	dir := filepath.Join(parent, "data")
	embedded, err := localpg.New(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { embedded.Stop() })
	env := []string{"RABBITPAY_DATA_DIR=" + dir, "RABBITPAY_SAGA_LEASE=1s"}
	must := func(env []string, args ...string) string {
		t.Helper()
		out, serr, code := rabbitpayProcess(env, args...)
		if code != 0 {
			t.Fatalf("rabbitpay %s: exit %d\n%s%s", strings.Join(args, " "), code, out, serr)
		}
		return out
	}
	must(env, "customer", "register", "--name", "김토끼")
	must(env, "product", "register", "--sku", "CARROT", "--name", "당근", "--price", "1500", "--stock", "10")
	must(env, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "CARROT:2")
	// A placement killed after the charge: its saga is running when the dump is taken.
	crash := append(env, "RABBITPAY_FAILPOINTS=after_payment=crash")
	if _, serr, code := rabbitpayProcess(crash, "order", "place", "--customer", "1", "--method", "NAVER", "--item", "CARROT:1"); code == 0 {
		t.Fatalf("the crash failpoint did not crash: %s", serr)
	}
	url := strings.TrimSpace(must(env, "db", "url"))

	dump := filepath.Join(parent, "rabbitpay.dump")
	if out, err := exec.Command(filepath.Join(bin, "pg_dump"), "-Fc", "-f", dump, url).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	must(env, "db", "stop") // from here on only the server holds the shop

	server, stop, err := localpg.StartTemp(ctx, "rpserver-", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if err := postgres.CreateDatabase(ctx, server.URL("postgres"), "shop"); err != nil {
		t.Fatal(err)
	}
	serverURL := server.URL("shop")
	if out, err := exec.Command(filepath.Join(bin, "pg_restore"), "--no-owner", "--exit-on-error", "-d", serverURL, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	// The schema is current as it arrived: opening it without preparing
	// (no migration, no function install) succeeds only then.
	a, err := app.OpenExisting(ctx, &config.Config{DatabaseURL: serverURL, MaxConns: 2})
	if err != nil {
		t.Fatalf("the restored schema is not current: %v", err)
	}
	a.Close()
	onServer := []string{"RABBITPAY_SAGA_LEASE=1s"}
	var st dbStatus
	if out := must(onServer, "--database-url", serverURL, "db", "status", "-o", "json"); json.Unmarshal([]byte(out), &st) != nil ||
		st.Mode != "external" || st.SchemaVersion == nil || *st.SchemaVersion != st.SchemaTarget {
		t.Fatalf("db status on the server: %s", out)
	}

	must(onServer, "--database-url", serverURL, "order", "place", "--customer", "1", "--method", "KAKAO", "--item", "CARROT:3")
	out := must(onServer, "--database-url", serverURL, "saga", "recover", "--wait", "30s", "-o", "json")
	var rec []struct{ From, To string }
	if json.Unmarshal([]byte(out), &rec) != nil || len(rec) != 1 || rec[0].From != "running" || rec[0].To != "completed" {
		t.Fatalf("saga recover on the server: %s", out)
	}
	var orders []struct{ Status string }
	if out := must(onServer, "--database-url", serverURL, "order", "list", "-o", "json"); json.Unmarshal([]byte(out), &orders) != nil || len(orders) != 3 {
		t.Fatalf("orders on the server: %s", out)
	}
	var p productJSON
	if out := must(onServer, "--database-url", serverURL, "product", "show", "CARROT", "-o", "json"); json.Unmarshal([]byte(out), &p) != nil || p.StockQuantity != 4 {
		t.Fatalf("stock on the server (10 - 2 - 1 - 3 = 4): %s", out)
	}
}
