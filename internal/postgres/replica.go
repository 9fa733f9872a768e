package postgres

import (
	"context"
	"time"
)

// ReplayLag reports whether the server is a standby (in recovery) and how far
// its replay is behind: the age of the last transaction replayed while WAL
// received is still waiting to be replayed, zero when everything received is
// replayed (an idle primary writes nothing new, so an old replay timestamp
// alone is no lag).
func (s *Store) ReplayLag(ctx context.Context) (inRecovery bool, lag time.Duration, err error) {
	var seconds float64
	err = s.Pool.QueryRow(ctx, `SELECT pg_is_in_recovery(),
		CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
		ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8`).Scan(&inRecovery, &seconds)
	return inRecovery, time.Duration(seconds * float64(time.Second)), err
}
