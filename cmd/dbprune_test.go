package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDBPruneFlags(t *testing.T) {
	t.Parallel()
	if p := accepts(t, newDBPruneCmd, "db", "prune", "--older-than", "90d", "--dry-run"); p.Age != 90*24*time.Hour || !p.DryRun {
		t.Errorf("db prune --older-than 90d --dry-run: %+v", *p)
	}
	if p := accepts(t, newDBPruneCmd, "db", "prune", "--older-than", "36h"); p.Age != 36*time.Hour || p.DryRun {
		t.Errorf("db prune --older-than 36h: %+v", *p)
	}
	for _, bad := range []string{"90", "0d", "-1d", "soon", "1y"} {
		refuses(t, ExitUsage, `age "`+bad+`" is not a positive duration with a unit, such as 90d or 720h (check --older-than)`,
			newDBPruneCmd, "db", "prune", "--older-than", bad)
	}
	dir := t.TempDir()
	none := filepath.Join(dir, "none.yaml")
	if err := os.WriteFile(none, []byte("output: table\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuses(t, ExitUsage, "no age to prune by: pass --older-than (such as 90d) or set retention in the config file",
		newDBPruneCmd, "db", "prune", "--config", none)

	// The retention key is the default; --older-than wins over it.
	withRetention := filepath.Join(dir, "retention.yaml")
	if err := os.WriteFile(withRetention, []byte("retention: 30d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p := accepts(t, newDBPruneCmd, "db", "prune", "--config", withRetention); p.Age != 30*24*time.Hour {
		t.Errorf("db prune with retention: 30d: %+v", *p)
	}
	if p := accepts(t, newDBPruneCmd, "db", "prune", "--config", withRetention, "--older-than", "7d"); p.Age != 7*24*time.Hour {
		t.Errorf("db prune --older-than 7d with retention: 30d: %+v", *p)
	}
	badRetention := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badRetention, []byte("retention: 90\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuses(t, ExitUsage, `retention: age "90" is not a positive duration with a unit`, newDBPruneCmd, "db", "prune", "--config", badRetention)
}

// db prune end to end: a dry run counts and changes nothing; the prune prints
// its counts per kind on stdout and plain progress lines on a piped stderr.
func TestDBPruneCommand(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1", "--idempotency-key", "web-1")
	c.ok("order", "place", "--customer", "1", "--method", "NAVER", "--item", "B:1")
	c.ok("notify", "send", "--sink", "file", "--file", filepath.Join(t.TempDir(), "sent.jsonl"))
	c.exec(`UPDATE notification SET sent_at = sent_at - interval '2 days';
		UPDATE idempotency_key SET created_at = created_at - interval '2 days';
		UPDATE payment_call SET at = at - interval '2 days';
		UPDATE saga SET updated_at = updated_at - interval '2 days'`)
	type report struct {
		DryRun bool `json:"dry_run"`
		Counts []struct {
			Kind string `json:"kind"`
			Rows int64  `json:"rows"`
		} `json:"counts"`
	}
	var dry report
	c.json(&dry, "db", "prune", "--older-than", "1d", "--dry-run")
	rows := map[string]int64{}
	for _, k := range dry.Counts {
		rows[k.Kind] = k.Rows
	}
	if !dry.DryRun || len(rows) != 5 || rows["notifications"] < 4 || rows["failed_sagas"] != 0 || rows["idempotency_keys"] != 1 || rows["payment_calls"] < 2 || rows["saga_histories"] != 2 {
		t.Fatalf("dry run: %+v", dry)
	}
	if out := c.ok("notify", "list", "-o", "csv"); strings.Count(out, "\n") != int(rows["notifications"])+1 {
		t.Fatalf("the dry run removed notifications:\n%s", out)
	}
	r := c.run("db", "prune", "--older-than", "1d")
	total := rows["notifications"] + rows["idempotency_keys"] + rows["payment_calls"] + rows["saga_histories"]
	if r.code != 0 || !strings.Contains(r.out, "saga_histories") || !strings.Contains(r.err, fmt.Sprintf("pruning: %d of %d rows removed", total, total)) {
		t.Fatalf("db prune: exit %d\n%s\nstderr %q", r.code, r.out, r.err)
	}
	if out := c.ok("notify", "list", "-o", "csv"); strings.Count(out, "\n") != 1 {
		t.Fatalf("sent notifications left after the prune:\n%s", out)
	}
	if out := c.ok("order", "list", "-o", "csv"); strings.Count(out, "\n") != 3 {
		t.Fatalf("orders after the prune:\n%s", out)
	}
}

// A placement that failed before changing anything leaves a failed saga and
// no idempotency key; db prune removes the saga, and the same key places
// the order once the stock is there (issue 27).
func TestDBPruneRemovesFailedSagas(t *testing.T) {
	c := newCLI(t)
	c.seed()
	stock := c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`)
	place := []string{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1", "--idempotency-key", "fail-1"}
	_, serr, code := rabbitpayProcess([]string{"RABBITPAY_DATABASE_URL=" + c.url, "RABBITPAY_FAILPOINTS=reduce_stock=error"}, place...)
	if code != 1 || !strings.Contains(serr, "nothing was charged and no stock stays reserved") {
		t.Fatalf("placement failing at reduce_stock: exit %d, stderr %q", code, serr)
	}
	if st, s := c.query(`SELECT state FROM saga`), c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'A'`); st != "failed" || s != stock {
		t.Fatalf("saga state %q, stock %s (was %s); want failed and unchanged", st, s, stock)
	}
	c.exec(`UPDATE saga SET updated_at = updated_at - interval '2 days'`)
	var dry struct {
		Counts []struct {
			Kind string `json:"kind"`
			Rows int64  `json:"rows"`
		} `json:"counts"`
	}
	c.json(&dry, "db", "prune", "--older-than", "1d", "--dry-run")
	found := false
	for _, k := range dry.Counts {
		found = found || (k.Kind == "failed_sagas" && k.Rows == 1)
	}
	if !found {
		t.Fatalf("dry run: %+v, want failed_sagas 1", dry)
	}
	c.ok("db", "prune", "--older-than", "1d")
	if n := c.query(`SELECT count(*)::text FROM saga`); n != "0" {
		t.Fatalf("%s sagas left after the prune, want 0", n)
	}
	c.ok(place...)
	if n := c.query(`SELECT count(*)::text FROM orders`); n != "1" {
		t.Fatalf("%s orders after placing again with the key, want 1", n)
	}
}
