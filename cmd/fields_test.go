package cmd

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// Errors below cmd speak the domain's words: no string literal in
// internal/ names a CLI flag (cmd adds the hints, see fieldFlags). Only
// what is truly no rabbitpay flag is allowed, with its reason.
func TestNoFlagNamesBelowCmd(t *testing.T) {
	notOurFlags := map[string]string{ // file: literal -> why it is allowed
		"localpg/localpg.go: --auth-local=scram-sha-256": "initdb's option",
		"localpg/localpg.go: --auth-host=scram-sha-256":  "initdb's option",
		"localpg/localpg.go: --pwfile=":                  "initdb's option",
		"localpg/localpg.go: --no-locale":                "initdb's option",
		"localpg/localpg.go: --lc-ctype=":                "initdb's option",
		"localpg/localpg.go: --no-instructions":          "initdb's option",
		"localpg/localpg.go: --no-sync":                  "initdb's option",
		"localpg/localpg.go: --bindir":                   "pg_config's option",
		"testdb/failover.go: --auth=scram-sha-256":       "initdb's option",
		"testdb/failover.go: --pwfile=":                  "initdb's option",
		"testdb/failover.go: --no-locale":                "initdb's option",
		"testdb/failover.go: --no-sync":                  "initdb's and pg_basebackup's option",
		"testdb/failover.go: --no-instructions":          "initdb's option",
		"testdb/pgbackrest.go: --auth=scram-sha-256":     "initdb's option",
		"testdb/pgbackrest.go: --pwfile=":                "initdb's option",
		"testdb/pgbackrest.go: --no-locale":              "initdb's option",
		"testdb/pgbackrest.go: --no-sync":                "initdb's option",
		"testdb/pgbackrest.go: --no-instructions":        "initdb's option",
		"testdb/pgbackrest.go: --config=":                "pgBackRest's option",
		"testdb/pgbackrest.go: --stanza=shop":            "pgBackRest's option",
		"localpg/backup.go: --synchronous":               "pg_receivewal's option",
		"localpg/backup.go: choose a new backup dir, or restore that shop with 'rabbitpay db restore --from %s'":                                                                        "a command to run, given whole",
		"localpg/backup.go: backup dir %s holds another shop's backups: a new shop needs a new backup dir (set backup.dir), or restore that shop with 'rabbitpay db restore --from %s'": "a command to run, given whole",
		"localpg/backup.go: the shop in data dir %s is gone (%s, but its cluster is missing): restore it with 'rabbitpay db restore --from %s', ":                                       "a command to run, given whole",
		"localpg/backup.go: data dir %s already holds a shop, and a restore never overwrites one: restore into a new data dir (--data-dir), ":                                           "the global flag, in a sentence db restore says",
	}
	flagLike := regexp.MustCompile(`--[a-z]`)
	var found []string
	err := filepath.WalkDir("../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0) // comments are not parsed: they may name flags
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../internal", path)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !flagLike.MatchString(s) {
				return true
			}
			if _, ok := notOurFlags[filepath.ToSlash(rel)+": "+s]; !ok {
				found = append(found, filepath.ToSlash(rel)+": "+s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("strings below cmd name a flag; say the field instead (shop.InField) and map it in cmd's fieldFlags:\n  %s",
			strings.Join(found, "\n  "))
	}
}

// cmd names the flag of a field the command sets with one, and only then.
func TestFlagHint(t *testing.T) {
	cmd := &cobra.Command{Use: "update"}
	cmd.Flags().String("carrier", "", "")
	carrier := shop.InField("carrier", shop.Invalid("carrier is 101 characters long; the limit is 100"))
	got := withFlagHint(cmd, carrier)
	if got.Error() != "carrier is 101 characters long; the limit is 100 (check --carrier)" || exitCode(got) != ExitUsage || !errors.Is(got, shop.ErrInvalid) {
		t.Errorf("with --carrier: %q, exit %d", got, exitCode(got))
	}
	if got := withFlagHint(&cobra.Command{Use: "import"}, carrier); got.Error() != carrier.Error() {
		t.Errorf("without --carrier: %q", got)
	}
	plain := shop.Invalid("carrier is empty")
	if got := withFlagHint(cmd, plain); got != plain {
		t.Errorf("an error about no field: %q", got)
	}
	for field, flag := range fieldFlags {
		c := &cobra.Command{Use: "x"}
		c.Flags().String(flag, "", "")
		if got := withFlagHint(c, shop.InField(field, errors.New("bad"))).Error(); got != "bad (check --"+flag+")" {
			t.Errorf("field %q: %q", field, got)
		}
	}
}

// A data dir too long for a socket path: the domain's sentence, the flag
// the user typed, exit 2 (bad input).
func TestDataDirErrorNamesTheFlag(t *testing.T) {
	t.Parallel()
	long := "/tmp/" + strings.Repeat("d", 120)
	var out, errb strings.Builder
	code := Run(context.Background(), []string{"--database-url", "", "--data-dir", long, "db", "url"}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != ExitUsage || !strings.HasPrefix(errb.String(), "rabbitpay: data dir \""+long+"\" is too long for a Unix socket path") ||
		!strings.HasSuffix(errb.String(), "choose a shorter one (check --data-dir)\n") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// A data dir that cannot be one is bad input (exit 2), said in one sentence,
// and nothing is made there (issue 27).
func TestBadDataDirIsBadInput(t *testing.T) {
	t.Parallel()
	parent, err := os.MkdirTemp("", "rpbaddir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	os.Chmod(parent, 0o755)
	file := filepath.Join(parent, "file")
	os.WriteFile(file, []byte("x"), 0o600)
	foreign := filepath.Join(parent, "foreign")
	os.Mkdir(foreign, 0o700)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600)
	open := filepath.Join(parent, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	for dir, want := range map[string]string{
		file:                        "is not a directory",
		foreign:                     "which rabbitpay did not make",
		filepath.Join(open, "shop"): "which other users can write to",
	} {
		var out, errb strings.Builder
		code := Run(context.Background(), []string{"--database-url", "", "--data-dir", dir, "product", "list"}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
		if code != ExitUsage || !strings.Contains(errb.String(), want) || strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("data dir %s: exit %d, stderr %q", dir, code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(open, "shop")); err == nil {
		t.Error("a data dir was made inside the open directory")
	}
}
