package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// replica is the read URL's store (database_read_url), checked on first use
// and again every replicaRecheck, so a long-lived process (checkout --serve)
// stops reading from a replica that went away and comes back to one that
// returned.
type replica struct {
	store *postgres.Store
	mu    sync.Mutex
	at    time.Time // when it was last checked
	err   error     // why it cannot be used; nil when it can
	warn  sync.Once
}

// replicaRecheck is how long one check of the replica holds.
const replicaRecheck = 15 * time.Second

// usable reports whether the replica answers and carries this rabbitpay's
// schema (a replica behind a migration just applied on the primary does not).
// The check has its own short deadline: a caller's cancelled context does not
// make the replica unusable.
func (r *replica) usable(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < replicaRecheck {
		return r.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	current, err := r.store.SchemaCurrent(ctx)
	switch {
	case err != nil:
		r.err = postgres.DescribeConnectError(err)
	case !current:
		r.err = errors.New("its schema is not this rabbitpay's (it may be behind a migration)")
	default:
		r.err = nil
	}
	r.at = time.Now()
	return r.err
}

// reader is the store for reads that need not see their own writes (lists,
// shows, exports, completions): the read replica when one is configured and
// usable, else the primary, with one warning. The one place reads are routed.
func (a *App) reader(ctx context.Context) reads {
	if a.replica == nil {
		return a.primary
	}
	if err := a.replica.usable(ctx); err != nil {
		a.replica.warn.Do(func() {
			if a.Warn != nil {
				a.Warn("the read replica (database_read_url) cannot be used: " + err.Error() + "; reading from the primary")
			}
		})
		return a.primary
	}
	return a.replica.store
}

// show reads one thing through reader. A replica that has no such thing may
// only be behind a write just made (an order placed a moment ago), so the
// primary is asked too; when the primary cannot answer, the error says so
// instead of "not found", which only the primary can know.
func show[T any](ctx context.Context, a *App, get func(reads) (T, error)) (T, error) {
	s := a.reader(ctx)
	v, err := get(s)
	if s != a.primary && errors.Is(err, shop.ErrNotFound) {
		// The replica may lag: only the primary can say the record is not there.
		pv, perr := get(a.primary)
		if perr != nil && !errors.Is(perr, shop.ErrNotFound) {
			return pv, fmt.Errorf("the read replica says %v, and the primary, which may have it, could not be asked: %w", err, perr)
		}
		return pv, perr
	}
	return v, err
}

// ReplicaStatus is what `db status` says about the read URL.
type ReplicaStatus struct {
	// Error is why the replica cannot be used ("" when it can).
	Error string
	// InRecovery is true for a standby (a promoted one, or a primary, is false).
	InRecovery bool
	// ReplayLag is how far the replica's replayed data is behind what it
	// received (zero when caught up).
	ReplayLag time.Duration
}

// ReadReplica reports on the read URL, or nil when none is configured.
func (a *App) ReadReplica(ctx context.Context) *ReplicaStatus {
	if a.replica == nil {
		return nil
	}
	if err := a.replica.usable(ctx); err != nil {
		return &ReplicaStatus{Error: err.Error()}
	}
	inRecovery, lag, err := a.replica.store.ReplayLag(ctx)
	if err != nil {
		return &ReplicaStatus{Error: postgres.DescribeConnectError(err).Error()}
	}
	return &ReplicaStatus{InRecovery: inRecovery, ReplayLag: lag}
}
