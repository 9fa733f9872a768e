package testdb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
)

// Outage takes the database of url (one from New) away as a stopped server
// looks to its clients: it stops taking connections (a connect fails) and
// every session open on it is ended (FATAL, as a shutdown ends them). The
// rest of the shared test server is untouched. The returned func brings it
// back and returns once it answers through url again; it runs when t ends
// too. Through PgBouncer a query during the outage waits for a server
// connection (query_wait_timeout) instead of failing at once.
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
				return
			}
			// Back means answering through url: PgBouncer refuses logins
			// for server_login_retry after failed ones. The bound only stops
			// a broken test.
			var err error
			for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if err = postgres.Exec(context.Background(), url, "SELECT 1"); err == nil {
					return
				}
			}
			t.Errorf("testdb.Outage: the database does not answer after it was brought back: %v", err)
		})
	}
	t.Cleanup(back)
	return back
}
