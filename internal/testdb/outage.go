package testdb

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

// Outage takes the database of url (one from New) away as a stopped server
// looks to its clients: it stops taking connections (a connect fails) and
// every session open on it is ended (FATAL, as a shutdown ends them). The
// rest of the shared test server is untouched. The returned func brings it
// back; it runs when t ends too.
func Outage(t testing.TB, url string) (back func()) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(Direct(t, url))
	if err != nil {
		t.Fatalf("testdb.Outage: %v", err)
	}
	db := pgx.Identifier{cfg.Database}.Sanitize()
	ctx := context.Background()
	if err := postgres.Exec(ctx, adminURL, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatalf("testdb.Outage: %v", err)
	}
	if err := postgres.Exec(ctx, adminURL, fmt.Sprintf(
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", cfg.Database)); err != nil {
		t.Fatalf("testdb.Outage: %v", err)
	}
	var once sync.Once
	back = func() {
		once.Do(func() {
			if err := postgres.Exec(context.Background(), adminURL, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true"); err != nil {
				t.Errorf("testdb.Outage: bring it back: %v", err)
			}
		})
	}
	t.Cleanup(back)
	return back
}
