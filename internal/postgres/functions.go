package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/rabbitpay/rabbitpay/migrations"
)

// functionsTable records the generation (migrations.FunctionsGeneration)
// and digest of the function files a database last got, so a binary with a
// newer generation re-applies them even when no migration is pending.
const functionsTable = "schema_functions"

// codeSchemaMoved is raised by the install's guard when the schema is no
// longer at this binary's last migration (a newer rabbitpay migrated it).
const codeSchemaMoved = "RPM01"

// functionsSQL is the SQL that re-creates every database function
// (dropped.sql first, then the other files by name), and its digest.
var functionsSQL, FunctionsDigest = func() (string, string) {
	names, err := fs.Glob(migrations.Functions, "functions/*.sql") // sorted by name
	if err != nil {
		panic(err)
	}
	const dropped = "functions/dropped.sql"
	names = append([]string{dropped}, slices.DeleteFunc(names, func(n string) bool { return n == dropped })...)
	var b strings.Builder
	for _, n := range names {
		body, err := fs.ReadFile(migrations.Functions, n)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(&b, "-- %s\n%s\n", n, body)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return b.String(), hex.EncodeToString(sum[:])
}()

// installFunctions re-applies every database function under tern's advisory
// lock, in one transaction, and records their generation and digest. want
// is the last migration this binary carries: a schema a newer rabbitpay
// migrated meanwhile, or whose functions are of a newer generation, keeps
// that binary's functions (never a downgrade).
func installFunctions(ctx context.Context, conn *pgx.Conn, want int32) error {
	guard := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %[1]s (generation integer NOT NULL, digest text NOT NULL);
DO $guard$ BEGIN
    IF (SELECT version FROM %[2]s) <> %[3]d OR EXISTS (SELECT FROM %[1]s WHERE generation > %[4]d) THEN
        RAISE EXCEPTION USING ERRCODE = '%[5]s', MESSAGE = 'the schema is no longer at version %[3]d';
    END IF;
END $guard$;
`, functionsTable, versionTable, want, migrations.FunctionsGeneration, codeSchemaMoved)
	record := fmt.Sprintf(`DELETE FROM %[1]s;
INSERT INTO %[1]s (generation, digest) VALUES (%[2]d, '%[3]s');
`, functionsTable, migrations.FunctionsGeneration, FunctionsDigest)
	err := migrate.LockExecTx(ctx, conn, guard+functionsSQL+record)
	if code(err) == codeSchemaMoved {
		return nil
	}
	if err != nil {
		return fmt.Errorf("install database functions: %w", err)
	}
	return nil
}
