package cmd

import (
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
	for _, group := range []string{"customer", "product", "cart", "order", "saga", "db"} {
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
