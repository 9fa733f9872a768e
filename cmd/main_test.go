package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
)

func TestMain(m *testing.M) {
	// A child process started by a crash test runs rabbitpay itself.
	if os.Getenv("RABBITPAY_TEST_RUN_MAIN") == "1" {
		os.Exit(Main())
	}
	os.Exit(testdb.Main(m))
}

// cli runs rabbitpay commands in-process against one test database.
type cli struct {
	t   *testing.T
	url string
}

func newCLI(t *testing.T) *cli {
	t.Parallel()
	return &cli{t: t, url: testdb.New(t)}
}

type result struct {
	out, err string
	code     int
}

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--database-url", c.url}, args...)
	code := Run(context.Background(), full, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return result{out.String(), errb.String(), code}
}

func (c *cli) run(args ...string) result { c.t.Helper(); return c.runIn("", args...) }

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("rabbitpay %s: exit %d, stderr: %s", strings.Join(args, " "), r.code, r.err)
	}
	return r.out
}

// json runs a command with -o json and decodes its stdout into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("rabbitpay %s: stdout is not one JSON value: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a command that must fail with code and one line on stderr naming want.
func (c *cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("rabbitpay %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, code, r.err)
	}
	if lines := strings.Count(strings.TrimRight(r.err, "\n"), "\n") + 1; lines != 1 || !strings.Contains(r.err, want) {
		c.t.Fatalf("rabbitpay %s: stderr %q, want one line containing %q", strings.Join(args, " "), r.err, want)
	}
}
