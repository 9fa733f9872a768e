package app

import (
	"context"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// PruneBatch is how many records one prune transaction removes: small enough
// that its locks and its WAL stay short while orders run.
const PruneBatch = 5000

// PruneOptions says what Prune removes and whom it tells.
type PruneOptions struct {
	// Age: records older than this are removed.
	Age time.Duration
	// DryRun counts them and removes nothing.
	DryRun bool
	// BatchSize overrides PruneBatch (tests).
	BatchSize int
	// Progress, when set, hears of every batch: the kind being pruned, the
	// records removed so far (all kinds) and how many there were to remove.
	Progress func(kind string, done, total int64)
}

// PruneResult is what a prune removed (or, in a dry run, would remove):
// records older than Cut, counted by kind.
type PruneResult struct {
	Cut    time.Time         `json:"cut"`
	DryRun bool              `json:"dry_run"`
	Counts []shop.PruneCount `json:"counts"`
}

// Prune removes operational records older than opt.Age — sent and dead
// notifications, idempotency keys, sagas that failed before changing
// anything, provider-call detail, the step histories of finished sagas — in batches of their own transactions, and returns how
// many of each it removed (or, in a dry run, would remove). It never
// removes an order, a payment, a refund or a delivery.
func (a *App) Prune(ctx context.Context, opt PruneOptions) (PruneResult, error) {
	res := PruneResult{DryRun: opt.DryRun}
	var err error
	if res.Cut, err = a.retention.PruneCut(ctx, opt.Age); err != nil {
		return res, err
	}
	var total int64
	for _, kind := range postgres.PruneKinds() {
		n, err := a.retention.CountPrunable(ctx, kind, res.Cut)
		if err != nil {
			return PruneResult{DryRun: opt.DryRun}, err
		}
		res.Counts = append(res.Counts, shop.PruneCount{Kind: kind, Rows: n})
		total += n
	}
	if opt.DryRun {
		return res, nil
	}
	batch := opt.BatchSize
	if batch <= 0 {
		batch = PruneBatch
	}
	var done int64
	counts := res.Counts
	for i := range counts {
		counts[i].Rows = 0 // from here on, what was removed
	}
	for i := range counts {
		for {
			n, err := a.retention.PruneBatch(ctx, counts[i].Kind, res.Cut, batch)
			counts[i].Rows += n
			done += n
			if opt.Progress != nil && n > 0 {
				opt.Progress(counts[i].Kind, done, max(total, done))
			}
			if err != nil {
				return res, err
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return res, nil
}
