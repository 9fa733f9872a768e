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

// functionsTable records the digest of the function files a database last
// got, so a binary whose files differ re-applies them even when no
// migration is pending.
const functionsTable = "schema_functions"

// codeSchemaMoved is raised by the install's guard when the schema is no
// longer at this binary's last migration (a newer rabbitpay migrated it).
const codeSchemaMoved = "RPM01"

// functionsSQL is the SQL that re-creates every database function
// (dropped.sql first, then the other files by name), and its digest. Bodies
// are not checked while they are created, so the files' order does not matter.
var functionsSQL, functionsDigest = func() (string, string) {
	names, err := fs.Glob(migrations.Functions, "functions/*.sql") // sorted by name
	if err != nil {
		panic(err)
	}
	const dropped = "functions/dropped.sql"
	names = append([]string{dropped}, slices.DeleteFunc(names, func(n string) bool { return n == dropped })...)
	var b strings.Builder
	b.WriteString("SET LOCAL check_function_bodies = off;\n")
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
// lock, in one transaction, and records their digest. want is the last
// migration this binary carries: a schema a newer rabbitpay migrated
// meanwhile keeps that binary's functions.
func installFunctions(ctx context.Context, conn *pgx.Conn, want int32) error {
	guard := fmt.Sprintf(`DO $guard$ BEGIN
    IF (SELECT version FROM %s) <> %d THEN
        RAISE EXCEPTION USING ERRCODE = '%s', MESSAGE = 'the schema is no longer at version %d';
    END IF;
END $guard$;
`, versionTable, want, codeSchemaMoved, want)
	record := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %[1]s (digest text NOT NULL);
DELETE FROM %[1]s;
INSERT INTO %[1]s (digest) VALUES ('%[2]s');
`, functionsTable, functionsDigest)
	err := migrate.LockExecTx(ctx, conn, guard+functionsSQL+record)
	if code(err) == codeSchemaMoved {
		return nil
	}
	if err != nil {
		return fmt.Errorf("install database functions: %w", err)
	}
	return nil
}
