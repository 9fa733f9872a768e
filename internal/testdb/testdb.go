// Package testdb gives every test its own PostgreSQL database, cloned from a
// migrated template on a throwaway cluster started with rabbitpay's own
// launcher (or on the server at RABBITPAY_TEST_DATABASE_URL). It never skips:
// with no database a test fails.
//
// With RABBITPAY_TEST_PGBOUNCER=1 (PoolerEnv) the tests' URLs go through
// PgBouncer in transaction pooling mode, started in front of that server.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

var (
	adminURL string // URL of a maintenance database on the test server
	template string // name of the migrated template database
	counter  atomic.Int64
	pooler   *bouncer // nil unless PoolerEnv is set
	// Cluster is the throwaway cluster, nil when RABBITPAY_TEST_DATABASE_URL is set.
	Cluster *localpg.Cluster
)

// Main starts the test server, builds the template, runs the tests and
// cleans up. Call it from TestMain: os.Exit(testdb.Main(m)).
func Main(m *testing.M) int {
	cleanup, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb: no test database:", err)
		return 1
	}
	code := m.Run()
	cleanup()
	return code
}

func setup() (func(), error) {
	ctx := context.Background()
	template = fmt.Sprintf("rabbitpay_tmpl_%d", os.Getpid())
	withPooler, err := pooled()
	if err != nil {
		return nil, err
	}
	if withPooler {
		if _, err := findPgBouncer(); err != nil {
			return nil, err // before starting a cluster for nothing
		}
	}
	cleanup := func() {}
	if u := os.Getenv("RABBITPAY_TEST_DATABASE_URL"); u != "" {
		adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "rptest-")
		if err != nil {
			return nil, err
		}
		c, err := localpg.New(dir, true)
		if err != nil {
			return nil, err
		}
		if err := c.Ensure(ctx); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		Cluster = c
		adminURL = c.URL("postgres")
		cleanup = func() { c.Stop(); os.RemoveAll(dir) }
	}
	if withPooler {
		var dir string
		if Cluster != nil {
			dir = filepath.Join(Cluster.Dir, "pgbouncer") // beside the cluster's socket, traversable for its user
		} else if dir, err = os.MkdirTemp("", "rpbouncer-"); err != nil {
			cleanup()
			return nil, err
		}
		b, err := startBouncer(ctx, dir, adminURL)
		if err != nil {
			cleanup()
			return nil, err
		}
		pooler = b
		prev := cleanup
		cleanup = func() { b.stop(); os.RemoveAll(dir); prev() }
	}
	if err := postgres.RecreateDatabase(ctx, adminURL, template); err != nil {
		cleanup()
		return nil, err
	}
	store, err := postgres.Open(withDB(adminURL, template), 2)
	if err != nil {
		cleanup()
		return nil, err
	}
	_, _, err = store.Migrate(ctx)
	store.Close()
	if err != nil {
		cleanup()
		return nil, err
	}
	prev := cleanup
	return func() {
		postgres.Exec(ctx, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize())
		prev()
	}, nil
}

// New returns the URL of a fresh, migrated database for t, dropped when t ends.
func New(t testing.TB) string {
	t.Helper()
	return create(t, template)
}

// Empty returns the URL of a fresh database with no schema, for migration tests.
func Empty(t testing.TB) string {
	t.Helper()
	return create(t, "template0")
}

func create(t testing.TB, from string) string {
	if adminURL == "" {
		t.Fatal("testdb: no test server: call testdb.Main from TestMain")
	}
	name := fmt.Sprintf("%s_%d", template, counter.Add(1))
	ctx := context.Background()
	if err := postgres.Exec(ctx, adminURL, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{from}.Sanitize())); err != nil {
		t.Fatalf("testdb: create database from %s: %v", from, err)
	}
	t.Cleanup(func() {
		postgres.Exec(context.Background(), adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	if pooler != nil {
		return pooler.url(name)
	}
	return withDB(adminURL, name)
}

// Pooled reports whether New and Empty return URLs through PgBouncer (PoolerEnv).
func Pooled() bool { return pooler != nil }

// Direct returns a URL of the same database as url (one from New or Empty)
// that goes straight to the server, bypassing PgBouncer: for what a test does
// as an operator (a session-level setting, a server-side check). Without
// PgBouncer it returns url.
func Direct(t testing.TB, url string) string {
	t.Helper()
	if pooler == nil {
		return url
	}
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatalf("testdb.Direct: %v", err)
	}
	return withDB(adminURL, cfg.Database)
}

// withDB returns u with its database replaced by name.
func withDB(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" {
		// key=value form
		return u + " dbname=" + name
	}
	parsed.Path = "/" + name
	return parsed.String()
}
