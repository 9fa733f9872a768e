// Package postgres is rabbitpay's store: the pgx pool, transactions,
// repositories, COPY import, error-code mapping and migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/rabbitpay/rabbitpay/internal/shop"
	"github.com/rabbitpay/rabbitpay/migrations"
)

// Store is the database behind every use case. It is safe for concurrent use.
type Store struct {
	Pool *pgxpool.Pool
	// Lease is how long a saga's owner holds it without renewing.
	Lease time.Duration
	// CommitWait bounds a saga write (0: the caller's bound). With a
	// synchronous backup a commit waits for the backup stream's flush: a
	// stream that dies leaves it waiting, so past this it is cut off and its
	// outcome is unknown (the saga is left for recovery).
	CommitWait time.Duration
}

// WriteState is what decides whether the server may be written to now.
type WriteState struct {
	// ReadOnly: a standby, a cluster still recovering, or read-only by setting.
	ReadOnly bool
	// Streaming: the named backup stream is connected and synchronous.
	Streaming bool
	// Connected: the named backup stream is connected at all (catching up, say).
	Connected bool
}

// Stock is a product's stock and whether it is retired, as a placement's
// preflight reads them.
type Stock struct {
	Quantity int64
	Retired  bool
}

// WriteState asks, in one round trip, whether the server takes writes,
// whether the backup stream receiver (an application_name; "" for none) is
// streaming as a synchronous standby, and the stock of the products ids.
func (s *Store) WriteState(ctx context.Context, receiver string, ids []int64) (WriteState, map[int64]Stock, error) {
	var st WriteState
	stock := make(map[int64]Stock, len(ids))
	b := &pgx.Batch{}
	if receiver == "" { // pg_stat_replication reads every backend's status: only when there is a stream to look for
		b.Queue(`SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool`).
			QueryRow(func(row pgx.Row) error { return row.Scan(&st.ReadOnly) })
	} else {
		b.Queue(`SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool,
			COALESCE((SELECT bool_or(state = 'streaming' AND sync_state = 'sync') FROM pg_stat_replication WHERE application_name = $1), false),
			EXISTS (SELECT FROM pg_stat_replication WHERE application_name = $1)`,
			receiver).QueryRow(func(row pgx.Row) error { return row.Scan(&st.ReadOnly, &st.Streaming, &st.Connected) })
	}
	b.Queue(`SELECT id, stock_quantity, retired_at IS NOT NULL FROM product WHERE id = ANY($1)`, ids).Query(func(rows pgx.Rows) error {
		var id int64
		var p Stock
		_, err := pgx.ForEachRow(rows, []any{&id, &p.Quantity, &p.Retired}, func() error { stock[id] = p; return nil })
		return err
	})
	err := s.Pool.SendBatch(ctx, b).Close()
	return st, stock, err
}

// BackupHolds waits up to wait until the WAL receiver named application has
// flushed all the WAL written when it was called, and says whether it did.
func (s *Store) BackupHolds(ctx context.Context, application string, wait time.Duration) (bool, error) {
	var target string
	if err := s.Pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		return false, err
	}
	for deadline := time.Now().Add(wait); ; {
		var ok bool
		err := s.Pool.QueryRow(ctx, `SELECT COALESCE(bool_or(flush_lsn >= $2::pg_lsn), false) FROM pg_stat_replication
			WHERE application_name = $1`, application, target).Scan(&ok)
		if err != nil || ok || time.Now().After(deadline) {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Receiver is a WAL receiver as the primary sees it.
type Receiver struct {
	State, SyncState string
	// LagBytes is the WAL written but not yet flushed by the receiver.
	LagBytes int64
}

// SlotRetained is how much WAL the server keeps for the replication slot
// (what its reader has not yet confirmed), 0 when there is no such slot.
func (s *Store) SlotRetained(ctx context.Context, slot string) (int64, error) {
	var n int64
	err := s.Pool.QueryRow(ctx, `SELECT COALESCE((SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
		FROM pg_replication_slots WHERE slot_name = $1), 0)`, slot).Scan(&n)
	return n, err
}

// ReceiverState returns the receiver named application, or nil when none is connected.
func (s *Store) ReceiverState(ctx context.Context, application string) (*Receiver, error) {
	var r Receiver
	err := s.Pool.QueryRow(ctx, `SELECT state, sync_state, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn), 0)::bigint
		FROM pg_stat_replication WHERE application_name = $1 ORDER BY backend_start DESC LIMIT 1`, application).Scan(&r.State, &r.SyncState, &r.LagBytes)
	if IsNoRows(err) {
		return nil, nil
	}
	return &r, err
}

// OrderCount returns how many orders the shop holds and when the newest was placed.
func (s *Store) OrderCount(ctx context.Context) (n int64, newest *time.Time, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT count(*), max(created_at) FROM orders`).Scan(&n, &newest)
	return n, newest, err
}

// Open creates a pool for url. It does not connect until the first query.
func Open(url string, maxConns int32, opts ...Option) (*Store, error) {
	pool, err := openPool(url, maxConns, "rabbitpay", opts)
	if err != nil {
		return nil, err
	}
	return &Store{Pool: pool}, nil
}

// openPool opens a pool of at most maxConns connections to url, named
// application (application_name).
func openPool(url string, maxConns int32, application string, opts []Option) (*pgxpool.Pool, error) {
	if err := CheckURL(url); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, shop.Invalid("database URL is not valid: %s", parseErrorText(err))
	}
	configurePool(cfg, url, opts) // connect timeout; the embedded cluster's passfile beats PGPASSWORD
	cfg.MaxConns = maxConns
	cfg.ConnConfig.RuntimeParams["application_name"] = application
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// Close releases every connection.
func (s *Store) Close() { s.Pool.Close() }

const versionTable = "schema_version"

// SchemaCurrent reports whether every migration has been applied and the
// database functions are this binary's. Its query is
// also the first round trip of a command, so connection errors surface here.
func (s *Store) SchemaCurrent(ctx context.Context) (bool, error) {
	want, err := migrationCount()
	if err != nil {
		return false, err
	}
	var have int32
	var generation *int32
	err = s.Pool.QueryRow(ctx, "SELECT version, (SELECT generation FROM "+functionsTable+") FROM "+versionTable).Scan(&have, &generation)
	if code(err) == codeUndefinedTable { // a new database, or one no rabbitpay has installed functions in
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// A newer rabbitpay's schema, or functions, are current too: they stay.
	return have > want || have == want && generation != nil && *generation >= migrations.FunctionsGeneration, nil
}

// Migrate applies pending migrations under tern's advisory lock, so concurrent
// processes cannot collide, then re-applies the database functions
// (migrations/functions) the same way.
func (s *Store) Migrate(ctx context.Context) (from, to int32, err error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return 0, 0, err
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, 0, err
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, err
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	if to, err = m.GetCurrentVersion(ctx); err != nil {
		return from, to, err
	}
	want, err := migrationCount()
	if err == nil && to == want {
		err = installFunctions(ctx, conn.Conn(), want)
	}
	return from, to, err
}

func migrationCount() (int32, error) {
	names, err := migrate.FindMigrations(migrations.FS)
	return int32(len(names)), err
}

// CreateDatabase creates database name on the server at adminURL unless it exists.
func CreateDatabase(ctx context.Context, adminURL, name string) error {
	err := Exec(ctx, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	// duplicate_database, or a concurrent CREATE DATABASE of the same name winning the race
	if c := code(err); c == codeDuplicateDB || c == codeUniqueViolation {
		return nil
	}
	return err
}

// IsConnectError reports whether err means the server could not be reached.
func IsConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// IsBareConnectError reports whether err is a connect error with no words
// of its own around it (only %w wrapping, if any).
func IsBareConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) && err.Error() == ce.Error()
}

// IsMissingDatabase reports whether err means the database does not exist.
func IsMissingDatabase(err error) bool { return code(err) == codeInvalidCatalog }

// Tx runs fn in a transaction and returns Commit's error too.
func (s *Store) Tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// RecreateDatabase drops database name (closing its sessions) and creates it empty.
func RecreateDatabase(ctx context.Context, adminURL, name string) error {
	id := pgx.Identifier{name}.Sanitize()
	if err := Exec(ctx, adminURL, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return err
	}
	return Exec(ctx, adminURL, "CREATE DATABASE "+id)
}

// SchemaVersion returns the number of the last applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int32, error) {
	var v int32
	err := s.Pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&v)
	return v, err
}

// SearchCType returns the database's LC_CTYPE and whether pg_trgm finds
// trigrams in Hangul under it: when it does not (LC_CTYPE C), a Korean
// --search cannot use the trigram indexes and reads the whole table.
func (s *Store) SearchCType(ctx context.Context) (ctype string, hangul bool, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT datctype, cardinality(show_trgm('한글')) > 0 FROM pg_database
		WHERE datname = current_database()`).Scan(&ctype, &hangul)
	return ctype, hangul, err
}

// Exec runs one statement on a short-lived connection to url.
func Exec(ctx context.Context, url, sql string) error {
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// BehindPooler reports whether url sets a query mode other than pgx's
// default statement cache, which is what a URL through a transaction pooler
// needs: migrations (tern's session advisory lock) are not safe there.
func BehindPooler(url string) bool {
	cfg, err := pgx.ParseConfig(url)
	return err == nil && cfg.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement
}

// SchemaTarget is the number of the last migration this binary carries.
func SchemaTarget() (int32, error) { return migrationCount() }
