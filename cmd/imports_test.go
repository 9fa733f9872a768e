package cmd

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cmd is a thin edge: it talks to the use cases in internal/app and the
// domain, never to the store, the saga runner or the database driver.
func TestCmdImportsNoStoreNoRunnerNoDriver(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, banned := range []string{"/internal/postgres", "/internal/saga", "github.com/jackc/"} {
				if strings.Contains(path, banned) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
