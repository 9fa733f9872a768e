package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// leaves lists every runnable command's path below the root.
func leaves(c *cobra.Command, path []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		p := append(append([]string{}, path...), sub.Name())
		if sub.HasSubCommands() {
			out = append(out, leaves(sub, p)...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// Every command, given an unknown flag or surplus arguments, exits 2 with one
// line on stderr and changes nothing; so does an unknown subcommand of every group.
func TestEveryCommandRefusesBadArgumentsWithExit2(t *testing.T) {
	c := newCLI(t)
	c.seed()
	before := c.snapshot()
	all := leaves(newRoot(&env{}), nil)
	if len(all) < 20 {
		t.Fatalf("only %d commands found", len(all))
	}
	for _, path := range all {
		for _, bad := range [][]string{{"--no-such-flag"}, {"x1", "x2", "x3"}} {
			r := c.run(append(append([]string{}, path...), bad...)...)
			if r.code != ExitUsage || strings.Count(strings.TrimSpace(r.err), "\n") != 0 || !strings.HasPrefix(r.err, "rabbitpay: ") {
				t.Errorf("rabbitpay %s %s: exit %d, stderr %q", strings.Join(path, " "), strings.Join(bad, " "), r.code, r.err)
			}
		}
	}
	for _, group := range []string{"customer", "product", "cart", "order", "deliver", "notify", "saga", "db"} {
		if r := c.run(group, "frobnicate"); r.code != ExitUsage || !strings.Contains(r.err, `unknown command "frobnicate"`) {
			t.Errorf("rabbitpay %s frobnicate: exit %d, %q", group, r.code, r.err)
		}
	}
	if r := c.run("prodct", "list"); r.code != ExitUsage || !strings.Contains(r.err, `did you mean "product"?`) {
		t.Errorf("rabbitpay prodct list: exit %d, %q", r.code, r.err)
	}
	if after := c.snapshot(); after != before {
		t.Fatalf("bad arguments changed the database:\n%s\n%s", before, after)
	}
}

// Shell completion offers flag values and the database's SKUs and customers.
func TestCompletions(t *testing.T) {
	c := newCLI(t)
	c.seed()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"order", "place", "--method", ""}, []string{"NAVER", "KAKAO"}},
		{[]string{"product", "list", "-o", ""}, []string{"table", "json", "csv"}},
		{[]string{"saga", "list", "--state", ""}, []string{"running", "compensating"}},
		{[]string{"product", "show", ""}, []string{"A\t토끼 인형", "B\t당근"}},
		{[]string{"cart", "add", "--customer", "1", "--product", "B"}, []string{"B\t당근"}},
		{[]string{"order", "list", "--customer", ""}, []string{"1\t김토끼"}},
		{[]string{"deliver", "update", "1", "--status", ""}, []string{"SHIPPED", "IN_TRANSIT"}},
		{[]string{"notify", "send", "--sink", ""}, []string{"stdout", "webhook"}},
		{[]string{"notify", "list", "--kind", ""}, []string{"delivery.shipped"}},
	} {
		// The URL goes inside the completed command line: that is what the shell sends.
		args := append([]string{"__complete", tc.args[0], "--database-url", c.url}, tc.args[1:]...)
		var outb, errb bytes.Buffer
		if code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &outb, Err: &errb}); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errb.String())
		}
		out := outb.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("completing %v: %q lacks %q", tc.args, out, w)
			}
		}
	}
}

// Pressing Tab starts no cluster and migrates nothing.
func TestCompletionChangesNothing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "typo")
	var outb, errb bytes.Buffer
	Run(context.Background(), []string{"__complete", "product", "show", "--database-url", "", "--data-dir", dir, ""},
		IO{In: strings.NewReader(""), Out: &outb, Err: &errb})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("completion created %s (%v)", dir, err)
	}
}

// Keyset paging runs in the default order only, and the hint says --after only there.
func TestListPagingRules(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.fails(2, "paging with an 'after' key works in the default order", "product", "list", "--sort", "-id", "--after", "1")
	r := c.run("product", "list", "--sort", "name", "--limit", "1")
	if r.code != 0 || !strings.Contains(r.err, "more match: use --limit N or --all\n") {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	r = c.run("product", "list", "--limit", "1")
	if r.code != 0 || !strings.Contains(r.err, "--after 1 for the next page") {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if r := c.run("product", "list", "--limit", "9223372036854775807", "-o", "json"); r.code != 0 {
		t.Fatalf("a huge --limit: exit %d %s", r.code, r.err)
	}
}

// Every command and every group shows at least one example in --help.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&env{}))
}
