package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

// The test server is a new embedded cluster (the same launcher as the
// user's): its databases classify characters as UTF-8, so pg_trgm finds
// trigrams in Hangul and a Korean search can use the trigram index.
func TestNewClusterIndexesKorean(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(testdb.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctype, ok, err := s.SearchCType(context.Background())
	if err != nil || ctype != localpg.CType || !ok {
		t.Fatalf("new cluster: LC_CTYPE %q, Hangul trigrams %v, %v", ctype, ok, err)
	}
	var n int
	if err := s.Pool.QueryRow(context.Background(), `SELECT cardinality(show_trgm('묘향산'))`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("show_trgm('묘향산') has %d trigrams, want 4: %v", n, err)
	}
}

// A database with LC_CTYPE C (what the embedded cluster used to get) is
// flagged by SearchCType, and scripts/move-ctype.sh, the README's way to
// move it, recreates it with C.UTF-8 keeping its rows and its settings.
func TestMoveCType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := testdb.Direct(t, testdb.Empty(t))
	u, err := url.Parse(direct)
	if err != nil || u.Scheme == "" {
		t.Fatalf("test database URL %q is not a URL: %v", direct, err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_c"
	if err := postgres.Exec(ctx, direct, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`, pgx.Identifier{name}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{name, name + "_c_ctype"} {
			postgres.Exec(context.Background(), direct, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
		}
	})
	u.Path = "/" + name
	cURL := u.String()

	s, err := postgres.Open(cURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if ctype, ok, err := s.SearchCType(ctx); err != nil || ctype != "C" || ok {
		t.Fatalf("C database: LC_CTYPE %q, Hangul trigrams %v, %v", ctype, ok, err)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO product (sku, name, price, stock_quantity) VALUES ('M-1', '묘향산 토끼', 1000, 3)`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	bin, err := localpg.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "move-ctype.sh"), cURL)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Hangul trigrams: yes") {
		t.Fatalf("move-ctype.sh: %v\n%s", err, out)
	}

	s, err = postgres.Open(cURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ctype, ok, err := s.SearchCType(ctx); err != nil || ctype != localpg.CType || !ok {
		t.Fatalf("moved database: LC_CTYPE %q, Hangul trigrams %v, %v", ctype, ok, err)
	}
	ps, err := s.ListProducts(ctx, shop.ListOptions{Search: "묘향산"})
	if err != nil || len(ps.Items) != 1 || ps.Items[0].SKU != "M-1" {
		t.Fatalf("search after the move: %+v %v", ps.Items, err)
	}
	var jit string
	if err := s.Pool.QueryRow(ctx, `SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Errorf("the database's jit setting was not carried over: %q %v", jit, err)
	}
	if from, to, err := s.Migrate(ctx); err != nil || from != to {
		t.Errorf("the moved database is not at its schema version: %d → %d %v", from, to, err)
	}

	// Run again, it finds the database moved and leaves it alone.
	postgres.Exec(ctx, direct, "DROP DATABASE "+pgx.Identifier{name + "_c_ctype"}.Sanitize())
	cmd = exec.Command("bash", filepath.Join("..", "..", "scripts", "move-ctype.sh"), cURL)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err = cmd.CombinedOutput()
	var again bool
	s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name+"_c_ctype").Scan(&again)
	if err != nil || !strings.Contains(string(out), "already has LC_CTYPE "+localpg.CType+": nothing to move") || again {
		t.Fatalf("move-ctype.sh on a moved database: %v, copied again: %v\n%s", err, again, out)
	}
}
