package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra/doc"
)

var updateDocs = flag.Bool("update", false, "write the generated command reference and man pages again")

// The command reference (docs/cli, markdown) and the man pages (man/) are
// generated from the commands themselves; this test fails when they are
// stale. `go test ./cmd -run TestCLIReference -update` writes them again.
func TestCLIReference(t *testing.T) {
	gen := t.TempDir()
	md, man := filepath.Join(gen, "cli"), filepath.Join(gen, "man")
	for _, d := range []string{md, man} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := newRoot(&env{})
	root.DisableAutoGenTag = true // no generation date: the files change only when the commands do
	if err := doc.GenMarkdownTree(root, md); err != nil {
		t.Fatal(err)
	}
	// A fixed date (cobra would write today's, and the pages would never be current).
	date := time.Date(2026, time.December, 7, 0, 0, 0, 0, time.UTC)
	header := &doc.GenManHeader{Title: "RABBITPAY", Section: "1", Source: "rabbitpay", Manual: "rabbitpay manual", Date: &date}
	if err := doc.GenManTree(root, header, man); err != nil {
		t.Fatal(err)
	}
	for dir, committed := range map[string]string{md: "../docs/cli", man: "../man"} {
		if *updateDocs {
			os.RemoveAll(committed)
			if err := os.CopyFS(committed, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, _ := filepath.Glob(filepath.Join(dir, "*"))
		have, _ := filepath.Glob(filepath.Join(committed, "*"))
		if len(want) != len(have) {
			t.Errorf("%s holds %d files, the commands make %d: run go test ./cmd -run TestCLIReference -update", committed, len(have), len(want))
		}
		for _, f := range want {
			w, _ := os.ReadFile(f)
			h, err := os.ReadFile(filepath.Join(committed, filepath.Base(f)))
			if err != nil || !bytes.Equal(w, h) {
				t.Errorf("%s/%s is stale: run go test ./cmd -run TestCLIReference -update", committed, filepath.Base(f))
			}
		}
	}
}
