// Package migrations holds rabbitpay's schema as numbered SQL files (tern format).
package migrations

import "embed"

// FS holds every NNN_name.sql migration.
//
//go:embed *.sql
var FS embed.FS
