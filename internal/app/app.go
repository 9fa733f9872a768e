// Package app holds rabbitpay's use cases. The CLI and the TUI both call them;
// they never touch SQL themselves.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/config"
	"github.com/rabbitpay/rabbitpay/internal/localpg"
	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/saga"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// EmbeddedDatabase is the database rabbitpay uses on its embedded cluster.
const EmbeddedDatabase = "rabbitpay"

// App is the set of use cases over one store.
type App struct {
	// Failpoints make saga steps fail or crash (tests and demos).
	Failpoints saga.Failpoints
	cfg        *config.Config
	// db is the store itself: its lifecycle (migrations, Close) and the
	// sandbox ledger; the use cases go through the fields below.
	db  *postgres.Store
	url string

	// The store as each group of use cases sees it (stores.go): the same
	// *postgres.Store in every field.
	catalogue  catalogueStore
	customers  customerBook
	carts      cartStore
	primary    reads // reads on the primary (reader: the replica's when one is set)
	sagas      sagaStore
	deliveries deliveryStore
	outbox     outbox
	retention  retention
	backups    backupState

	// cluster is the embedded cluster (nil with a database URL).
	cluster *localpg.Cluster
	gw      gateways
	cb      callbacks

	// Warn prints a one-line warning on stderr (the read replica falling
	// back to the primary); nil prints nothing.
	Warn    func(msg string)
	replica *replica // the read URL's store; nil without one
	// migrated is what Open migrated (from, to); nil when the schema was current.
	migrated *[2]int32
}

// Close releases the store, the sandbox ledger's own pool and the callback listener.
func (a *App) Close() {
	a.cb.close()
	a.gw.close()
	a.db.Close()
	if a.replica != nil {
		a.replica.store.Close()
	}
}

// Cluster returns the embedded cluster for cfg, or nil when a URL is configured.
func Cluster(cfg *config.Config) (*localpg.Cluster, error) {
	if cfg.DatabaseURL != "" {
		return nil, nil
	}
	return embedded(cfg)
}

// embedded is the embedded cluster under cfg's data dir, with its backup.
func embedded(cfg *config.Config) (*localpg.Cluster, error) {
	c, err := localpg.New(cfg.DataDir, false)
	if err != nil {
		return c, err
	}
	if cfg.Backup.Dir == "" {
		c.AdoptBackup(cfg.Backup.Keep) // the backup dir the data dir streams into, if any
		return c, nil
	}
	c.Backup, err = localpg.NewBackup(cfg.Backup.Dir, cfg.Backup.Mode, cfg.Backup.Keep)
	return c, err
}

// DatabaseURL is the URL rabbitpay connects to: the configured one, or the
// embedded cluster's.
func DatabaseURL(cfg *config.Config) (string, error) {
	c, err := Cluster(cfg)
	if err != nil || c == nil {
		return cfg.DatabaseURL, err
	}
	return c.URL(EmbeddedDatabase), nil
}

// Open connects to the configured database, starting the embedded cluster and
// applying migrations when needed. The common case costs one round trip.
func Open(ctx context.Context, cfg *config.Config) (*App, error) { return open(ctx, cfg, true, nil) }

// OpenSaying is Open, telling say what it does that takes a while (the
// first base backup) and what it could not do (start the backup stream).
func OpenSaying(ctx context.Context, cfg *config.Config, say func(string)) (*App, error) {
	return open(ctx, cfg, true, say)
}

// OpenExisting connects to a database that is already up and migrated, and
// nothing more: it starts no cluster and applies no migration (for shell
// completion, which must never change anything).
func OpenExisting(ctx context.Context, cfg *config.Config) (*App, error) {
	return open(ctx, cfg, false, nil)
}

func open(ctx context.Context, cfg *config.Config, prepare bool, say func(string)) (*App, error) {
	if say == nil {
		say = func(string) {}
	}
	cluster, err := Cluster(cfg)
	if err != nil {
		return nil, err
	}
	url := cfg.DatabaseURL
	if cluster != nil {
		url = cluster.URL(EmbeddedDatabase)
	}
	store, err := postgres.Open(url, cfg.MaxConns, postgres.ConnectTimeout(cfg.ConnectTimeout))
	if err != nil {
		return nil, err
	}
	store.Lease = cfg.Saga.Lease
	if cfg.Saga.Lease <= 0 || cfg.Payment.Timeout <= 0 { // a Config built by hand, not by config.Load
		c := *cfg
		c.Saga.Lease = cmp.Or(c.Saga.Lease, config.DefaultLease)
		c.Payment.Timeout = cmp.Or(c.Payment.Timeout, config.DefaultPaymentTimeout)
		cfg, store.Lease = &c, c.Saga.Lease
	}
	a := &App{cfg: cfg, db: store, url: url, cluster: cluster}
	a.wire(store)
	if cluster != nil && cluster.Backup != nil && cluster.Backup.Sync {
		// A commit waits for the backup stream: never past this.
		store.CommitWait = cfg.Backup.Wait
	}
	if cfg.DatabaseReadURL != "" {
		rs, err := postgres.Open(cfg.DatabaseReadURL, cfg.MaxConns, postgres.ConnectTimeout(cfg.ConnectTimeout))
		if err != nil {
			store.Close()
			return nil, shop.InField("database read URL", err)
		}
		a.replica = &replica{store: rs}
	}
	if a.Failpoints, err = a.parseFailpoints(cfg.Failpoints); err != nil {
		a.Close()
		return nil, err
	}
	if !prepare {
		if a.replica != nil && a.replica.usable(ctx) == nil { // its schema was just checked
			return a, nil
		}
		if current, err := a.db.SchemaCurrent(ctx); err != nil || !current {
			a.Close()
			return nil, fmt.Errorf("the database is not up or not migrated")
		}
		return a, nil
	}
	// Starting the cluster (initdb on a first run) and migrating run to their
	// end even if the command gives up: cut short, they leave a broken cluster
	// or roll back a long migration (an index on a large catalogue) every time.
	prepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareTimeout)
	defer cancel()
	if cluster != nil && !cluster.Private() {
		// New, an older rabbitpay's trusting cluster, or dirs opened since: fix them before connecting.
		if err := cluster.Ensure(prepCtx); err != nil {
			a.Close()
			return nil, err
		}
	}
	current, err := store.SchemaCurrent(ctx)
	if err != nil && cluster != nil && (postgres.IsConnectError(err) || postgres.IsMissingDatabase(err)) {
		if err = cluster.Ensure(prepCtx); err == nil {
			if err = postgres.CreateDatabase(prepCtx, cluster.URL("postgres"), EmbeddedDatabase); err == nil {
				current, err = store.SchemaCurrent(prepCtx)
			}
		}
	}
	if err != nil && a.replica != nil && postgres.IsConnectError(err) && a.replica.usable(ctx) == nil {
		// The primary is down and the replica answers: reads go on from it;
		// whatever needs the primary fails with its connect error.
		return a, nil
	}
	if err != nil {
		a.Close()
		return nil, describeConnectError(err, cluster != nil)
	}
	if !current && postgres.BehindPooler(url) {
		a.Close()
		return nil, fmt.Errorf("the database schema is behind this version of rabbitpay and the URL goes through a pooler " +
			"(default_query_exec_mode is set), where migrations are not safe: run 'rabbitpay db migrate' with the direct URL first")
	}
	if !current {
		from, to, err := store.Migrate(prepCtx)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.migrated = &[2]int32{from, to}
	}
	if cluster != nil {
		cluster.Remember()
		if err := cluster.EnsureStream(prepCtx, say); err != nil {
			if errors.Is(err, shop.ErrInvalid) { // a backup dir that belongs to another shop
				a.Close()
				return nil, err
			}
			// Reads go on; in synchronous mode placements are refused (checkWritable).
			say("the backup stream is not running: " + err.Error())
		}
	}
	return a, nil
}

// prepareTimeout bounds starting the embedded cluster and migrating.
const prepareTimeout = 30 * time.Minute

// DescribeError gives a connect error met after the database was opened
// (the primary gone while a read URL answered) the same one sentence as
// Open's. An error that wraps one with words of its own (a saga's unknown
// outcome) keeps them.
func DescribeError(cfg *config.Config, err error) error {
	if !postgres.IsBareConnectError(err) {
		return postgres.DescribeConnectError(err) // a no-op on anything but a connect error
	}
	return describeConnectError(err, cfg == nil || cfg.DatabaseURL == "")
}

func describeConnectError(err error, embedded bool) error {
	if postgres.IsConnectError(err) && !embedded {
		return shop.InField("database URL", postgres.DescribeConnectError(err))
	}
	return postgres.DescribeConnectError(err)
}

// SearchCType returns the database's LC_CTYPE and whether a Korean search
// can use the trigram indexes under it.
func (a *App) SearchCType(ctx context.Context) (string, bool, error) { return a.db.SearchCType(ctx) }

// ServerRefused reports whether err (from Open) is the server itself refusing
// the connection, a wrong password say: the server is up, rabbitpay is not let in.
func ServerRefused(err error) bool { return postgres.ServerRefused(err) }

// Unreachable reports whether err (from Open) is a connection that reached
// no server: nothing listens there, or nothing answered in time.
func Unreachable(err error) bool { return postgres.IsConnectError(err) && !postgres.ServerRefused(err) }

// SchemaVersion returns the number of the last applied migration.
func (a *App) SchemaVersion(ctx context.Context) (int32, error) { return a.db.SchemaVersion(ctx) }

// Migrate applies pending migrations and returns the versions before and after.
// What Open itself migrated counts: `db migrate` on a fresh database says
// it migrated from 0, not that it found the schema current.
func (a *App) Migrate(ctx context.Context) (from, to int32, err error) {
	from, to, err = a.db.Migrate(ctx)
	if a.migrated != nil && err == nil {
		from = a.migrated[0]
	}
	return from, to, err
}

// CheckURL refuses a database URL that is no PostgreSQL one (mysql://).
func CheckURL(url string) error { return postgres.CheckURL(url) }
