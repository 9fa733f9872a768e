package shop

import "context"

// ImportSummary counts what an import did (or, dry, would do).
type ImportSummary struct {
	Rows      int64 `json:"rows"`
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	DryRun    bool  `json:"dry_run"`
}

// ImportOptions tune one import.
type ImportOptions struct {
	DryRun   bool             // validate and count, write nothing
	Progress func(rows int64) // hears the number of rows read now and then
	// BeforeApply, when set, runs after the rows are staged and compared
	// with the catalogue and before the final statement applies the changes.
	// Tests use it to hold an import's transaction open at that point.
	BeforeApply func(ctx context.Context) error
}
