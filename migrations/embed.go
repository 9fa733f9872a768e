// Package migrations holds rabbitpay's schema: numbered SQL migrations (tern
// format) and the database functions, kept as code.
//
// The NNN_name.sql migrations change tables, types and indexes; one that ran
// on a user's database is never edited. A function is not copied into a
// migration again: each one lives in functions/NAME.sql as CREATE OR REPLACE
// FUNCTION, and `db migrate` (and the automatic migrate) re-applies every
// file after the migrations, under tern's advisory lock, in one transaction,
// whenever the files differ from what the database last got. To change a
// function, edit its file. To remove one, or change its argument types or
// return type, add DROP FUNCTION IF EXISTS for the old signature to
// functions/dropped.sql, which runs first (a trigger function keeps its
// signature). Function files are not tern templates: they run as they are.
package migrations

import "embed"

// FS holds every NNN_name.sql migration.
//
//go:embed *.sql
var FS embed.FS

// Functions holds functions/*.sql: one file per database function, plus
// dropped.sql.
//
//go:embed functions/*.sql
var Functions embed.FS
