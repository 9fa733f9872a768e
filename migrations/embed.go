// Package migrations holds rabbitpay's schema: numbered SQL migrations (tern
// format) and the database functions, kept as code.
//
// The NNN_name.sql migrations change tables, types and indexes; one that ran
// on a user's database is never edited. A function is not copied into a
// migration again: each one lives in functions/NAME.sql as CREATE OR REPLACE
// FUNCTION, and `db migrate` (and the automatic migrate) re-applies every
// file after the migrations, under tern's advisory lock, in one transaction,
// whenever the database holds an older FunctionsGeneration. To change a
// function, edit its file and bump FunctionsGeneration (a test pins the
// files' digest to it, so a forgotten bump fails the build's tests). To remove one, or change its argument types or
// return type, add DROP FUNCTION IF EXISTS for the old signature to
// functions/dropped.sql, which runs first (a trigger function keeps its
// signature). Function files are not tern templates: they run as they are.
package migrations

import "embed"

// FS holds every NNN_name.sql migration.
//
//go:embed *.sql
var FS embed.FS

// FunctionsGeneration numbers the set of function files. A database records
// the generation it last got; a binary installs its files only over an
// older one, so two versions of rabbitpay on one database never take turns
// re-installing, and an older one never puts back older bodies.
const FunctionsGeneration = 2

// Functions holds functions/*.sql: one file per database function, plus
// dropped.sql.
//
//go:embed functions/*.sql
var Functions embed.FS
