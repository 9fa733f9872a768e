package localpg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With no server binaries anywhere, starting says what to install and how to
// use a server instead, in one sentence.
func TestNoBinariesSaysWhatToDo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("RABBITPAY_PG_BIN", "")
	saved := searchGlobs
	searchGlobs = nil
	defer func() { searchGlobs = saved }()

	c, err := New(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ensure(context.Background())
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("Ensure = %v, want ErrNoBinaries", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "apt install postgresql") || !strings.Contains(msg, "set a database URL") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}
}

func TestFindsTheRealBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatalf("this machine has PostgreSQL, yet: %v", err)
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
			t.Fatalf("bin dir %q lacks %s", dir, b)
		}
	}
}
