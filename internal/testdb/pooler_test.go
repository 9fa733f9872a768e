package testdb

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

var ctx = context.Background()

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// withoutParams drops the pooler settings from a URL: what a client that
// ignores the README would use.
func withoutParams(url string) string {
	return strings.Replace(url, "&"+PoolerURLParams, "", 1)
}

// Without the switch URLs go straight to the server; with it they go through
// a transaction pooler: several clients share one server session.
func TestURLsGoThroughThePoolerOnlyWhenAsked(t *testing.T) {
	url := New(t)
	direct := connect(t, Direct(t, url))
	if !Pooled() {
		if Direct(t, url) != url {
			t.Fatalf("without %s, Direct(%q) = %q", PoolerEnv, url, Direct(t, url))
		}
		return
	}
	if Direct(t, url) == url {
		t.Fatalf("with %s, Direct returns the pooled URL %q", PoolerEnv, url)
	}
	for range 4 {
		if _, err := connect(t, url).Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	var sessions int
	if err := direct.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions != 1 {
		t.Fatalf("4 clients through the pooler use %d server sessions, want 1", sessions)
	}
}

// What a client meets behind PgBouncer 1.18 in transaction mode, as the
// README tells it: pgx's default statement cache collides, exec mode needs
// JSON as a string, unknown startup parameters are refused, and a session
// advisory lock can outlive its unlock.
func TestWhatThePoolerRefuses(t *testing.T) {
	if !Pooled() {
		return // these are facts about the pooler; the run with PoolerEnv=1 checks them
	}
	url := New(t)

	t.Run("default statement cache", func(t *testing.T) {
		a, b := connect(t, withoutParams(url)), connect(t, withoutParams(url))
		var n int
		if err := a.QueryRow(ctx, "SELECT $1::int", 1).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// b lands on the server session where a prepared the same statement name.
		err := b.QueryRow(ctx, "SELECT $1::int", 1).Scan(&n)
		if c := pgCode(err); c != "42P05" && c != "26000" {
			t.Fatalf("second client's cached statement through the pooler: %v, want 42P05 or 26000", err)
		}
	})

	t.Run("exec mode and jsonb parameters", func(t *testing.T) {
		c := connect(t, url)
		type line struct {
			SKU      string `json:"sku"`
			Quantity int64  `json:"quantity"`
		}
		lines := []line{{"A", 2}}
		var got string
		err := c.QueryRow(ctx, "SELECT $1::jsonb ->> 0", lines).Scan(&got)
		if err == nil || !strings.Contains(err.Error(), "cannot find encode plan") {
			t.Fatalf("a slice of structs as a jsonb parameter in exec mode: %v, want no encode plan", err)
		}
		raw, _ := json.Marshal(lines)
		// []byte is sent as bytea text (\x…), which is not JSON.
		if err := c.QueryRow(ctx, "SELECT ($1::jsonb -> 0 ->> 'quantity')", raw).Scan(&got); pgCode(err) != "22P02" {
			t.Fatalf("JSON as []byte in exec mode: %v, want invalid_text_representation", err)
		}
		if err := c.QueryRow(ctx, "SELECT ($1::jsonb -> 0 ->> 'quantity')", string(raw)).Scan(&got); err != nil || got != "2" {
			t.Fatalf("JSON as a string in exec mode: %q, %v", got, err)
		}
	})

	t.Run("startup parameters", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["application_name"] = "rabbitpay"
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatalf("application_name as a startup parameter: %v", err)
		}
		c.Close(ctx)
		cfg.RuntimeParams["synchronous_commit"] = "on"
		if c, err := pgx.ConnectConfig(ctx, cfg); err == nil || !strings.Contains(err.Error(), "unsupported startup parameter") {
			if c != nil {
				c.Close(ctx)
			}
			t.Fatalf("synchronous_commit as a startup parameter: %v, want unsupported", err)
		}
	})

	t.Run("session advisory lock outlives its unlock", func(t *testing.T) {
		const key = 424242
		migrator, other := connect(t, url), connect(t, url)
		direct := connect(t, Direct(t, url))
		if _, err := migrator.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			t.Fatal(err)
		}
		// Another client's transaction takes the idle server session that holds the lock…
		tx, err := other.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		// …so the unlock runs on another one, owns nothing there, and says so only with a WARNING.
		var unlocked bool
		if err := migrator.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		var free bool
		if err := direct.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&free); err != nil {
			t.Fatal(err)
		}
		if unlocked || free {
			t.Fatalf("unlock returned %v, lock free afterwards %v: want false, false (held by an idle pooled session)", unlocked, free)
		}
	})
}

// The cost of each pgx query mode, straight to the server and through the
// pooler, on a primary-key look-up and a one-row insert with a jsonb column:
//
//	RABBITPAY_TEST_PGBOUNCER=1 go test -run '^$' -bench QueryExecMode ./internal/testdb
func BenchmarkQueryExecMode(b *testing.B) {
	url := New(b)
	setup := connect(b, Direct(b, url))
	if _, err := setup.Exec(ctx, `INSERT INTO product (sku, name, price, stock_quantity)
		SELECT 'S' || i, 'product ' || i, 1000 * i, 10 FROM generate_series(1, 100) i;
		CREATE TABLE bench_saga (id bigint GENERATED ALWAYS AS IDENTITY, order_uuid uuid, items jsonb)`); err != nil {
		b.Fatal(err)
	}
	items, _ := json.Marshal([]map[string]any{{"product_id": 1, "sku": "S1", "quantity": 2, "price": 1000}})
	routes := []struct{ name, url string }{{"direct", withoutParams(Direct(b, url))}}
	if Pooled() {
		routes = append(routes, struct{ name, url string }{"pgbouncer", withoutParams(url)})
	}
	for _, route := range routes {
		for _, mode := range []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"} {
			if route.name == "pgbouncer" && mode == "cache_statement" {
				continue // fails: see TestWhatThePoolerRefuses
			}
			b.Run(route.name+"/"+mode+"/select", func(b *testing.B) {
				c := connect(b, route.url+"&default_query_exec_mode="+mode)
				var sku, name string
				var price, stock int64
				for i := 0; b.Loop(); i++ {
					if err := c.QueryRow(ctx, `SELECT sku, name, price, stock_quantity FROM product WHERE id = $1`,
						int64(i%100+1)).Scan(&sku, &name, &price, &stock); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(route.name+"/"+mode+"/insert", func(b *testing.B) {
				c := connect(b, route.url+"&default_query_exec_mode="+mode)
				for b.Loop() {
					if _, err := c.Exec(ctx, `INSERT INTO bench_saga (order_uuid, items) VALUES (gen_random_uuid(), $1)`,
						string(items)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
