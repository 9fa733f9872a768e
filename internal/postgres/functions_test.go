package postgres_test

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/postgres"
	"github.com/rabbitpay/rabbitpay/internal/testdb"
	"github.com/rabbitpay/rabbitpay/migrations"
)

// functionDefs returns the definition of every function in schema public
// that no extension owns, by signature.
func functionDefs(t *testing.T, s *postgres.Store) map[string]string {
	t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)
		FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
		AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	defs := map[string]string{}
	for rows.Next() {
		var sig, def string
		if err := rows.Scan(&sig, &def); err != nil {
			t.Fatal(err)
		}
		defs[sig] = def
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return defs
}

// The database functions are code: after migrating a fresh database every
// file in migrations/functions is installed (and nothing dropped.sql names),
// migrating again changes nothing, two processes migrating at once both
// succeed, and a database whose functions differ from the files (an older
// rabbitpay's, or edited by hand) is not current until migrate re-applies them.
func TestFunctionsInstalledAfterMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Direct(t, testdb.Empty(t))
	store, err := postgres.Open(url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = store.Migrate(ctx) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("two migrates at once: %v, %v", errs[0], errs[1])
	}
	if current, err := store.SchemaCurrent(ctx); err != nil || !current {
		t.Fatalf("after migrate: current %v, %v", current, err)
	}

	defs := functionDefs(t, store)
	files, err := fs.Glob(migrations.Functions, "functions/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("function files: %v %v", files, err)
	}
	names := map[string]bool{}
	for sig := range defs {
		names[sig[:strings.IndexByte(sig, '(')]] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".sql")
		if name != "dropped" && !names[name] {
			t.Errorf("function %s (%s) is not installed; installed: %v", name, f, names)
		}
		delete(names, name)
	}
	if len(names) != 0 {
		t.Errorf("functions with no file (dropped.sql should drop them): %v", names)
	}

	from, to, err := store.Migrate(ctx)
	if err != nil || from != to {
		t.Fatalf("migrating again: %d → %d, %v", from, to, err)
	}
	again := functionDefs(t, store)
	if len(again) != len(defs) {
		t.Fatalf("migrating again changed the functions: %d, then %d", len(defs), len(again))
	}
	for sig, def := range defs {
		if again[sig] != def {
			t.Errorf("migrating again changed %s:\n%s\n---\n%s", sig, def, again[sig])
		}
	}

	// An older rabbitpay's functions (an older generation) make the schema
	// not current, and migrate puts the files' back.
	const fence = "saga_fence(uuid,bigint,interval)"
	older := `CREATE OR REPLACE FUNCTION saga_fence(saga_uuid uuid, token bigint, lease interval) RETURNS void
		LANGUAGE sql AS $$ SELECT $$`
	if _, err := store.Pool.Exec(ctx, older+`; UPDATE schema_functions SET generation = generation - 1, digest = 'an older rabbitpay'`); err != nil {
		t.Fatal(err)
	}
	if current, err := store.SchemaCurrent(ctx); err != nil || current {
		t.Fatalf("with an older binary's functions: current %v, %v", current, err)
	}
	if _, _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if current, err := store.SchemaCurrent(ctx); err != nil || !current {
		t.Fatalf("after re-applying: current %v, %v", current, err)
	}
	if got := functionDefs(t, store)[fence]; got != defs[fence] {
		t.Fatalf("%s after re-applying:\n%s", fence, got)
	}

	// A newer rabbitpay's functions (a newer generation) are current for this
	// binary, and its migrate leaves them: two versions never take turns.
	newer := strings.Replace(older, "SELECT $$", "SELECT /* newer */ $$", 1)
	if _, err := store.Pool.Exec(ctx, newer+`; UPDATE schema_functions SET generation = generation + 1, digest = 'a newer rabbitpay'`); err != nil {
		t.Fatal(err)
	}
	if current, err := store.SchemaCurrent(ctx); err != nil || !current {
		t.Fatalf("with a newer binary's functions: current %v, %v", current, err)
	}
	if _, _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := functionDefs(t, store)[fence]; !strings.Contains(got, "newer") {
		t.Fatalf("an older binary's migrate put back its %s:\n%s", fence, got)
	}
}

// The function files' digest is pinned to their generation: changing a file
// without bumping migrations.FunctionsGeneration would leave databases with
// the old bodies (they would count as current), so it fails here.
func TestFunctionsGenerationBumped(t *testing.T) {
	pinned := map[int]string{
		1: "a1be3aa4e42deba443c7a6ab4770c9eba45d010a08b6bff44b8eedbe162aad2f",
		2: "0d521596e70d13456c56082b0260352c7c073078724db380e2c4d2123974546b",
	}
	if got := pinned[migrations.FunctionsGeneration]; got != postgres.FunctionsDigest {
		t.Fatalf("the function files changed (digest %s) but migrations.FunctionsGeneration is still %d: bump it and pin the new digest here",
			postgres.FunctionsDigest, migrations.FunctionsGeneration)
	}
}
