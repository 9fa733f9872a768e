package cmd

import (
	"strings"
	"testing"
)

// A list's words are right: "1 product" (not "1 products"), and --search
// says what it matches on each list (customers have no SKU).
func TestListWords(t *testing.T) {
	c := newCLI(t)
	c.seed()
	if r := c.run("product", "list", "--limit", "1"); r.code != 0 || !strings.HasPrefix(r.err, "showing 1 product; more match") {
		t.Errorf("product list --limit 1: exit %d, stderr %q", r.code, r.err)
	}
	if r := c.run("product", "list", "--limit", "1", "--sort", "-price"); r.code != 0 || r.err != "showing 1 product; more match: use --limit N or --all\n" {
		t.Errorf("sorted product list --limit 1: exit %d, stderr %q", r.code, r.err)
	}
	if out := c.ok("customer", "list", "--help"); strings.Contains(out, "SKU") || !strings.Contains(out, "only rows whose name contains") {
		t.Errorf("customer list --help on --search:\n%s", out)
	}
	if out := c.ok("product", "list", "--help"); !strings.Contains(out, "only rows whose name or SKU contains") {
		t.Errorf("product list --help on --search:\n%s", out)
	}
	for n, want := range map[int]string{0: "0 products", 1: "1 product", 2: "2 products"} {
		if got := (noun{"product", "products"}).count(n); got != want {
			t.Errorf("count(%d) of products = %q, want %q", n, got, want)
		}
	}
	if got := (noun{"delivery", "deliveries"}).count(1); got != "1 delivery" {
		t.Errorf("count(1) of deliveries = %q", got)
	}
}

// The root help's line for order names every order subcommand.
func TestRootHelpNamesEveryOrderCommand(t *testing.T) {
	root := newRoot(&env{})
	for _, c := range root.Commands() {
		if c.Name() != "order" {
			continue
		}
		for _, sub := range c.Commands() {
			if !strings.Contains(strings.ToLower(c.Short), sub.Name()) {
				t.Errorf("order's help line %q does not name %q", c.Short, sub.Name())
			}
		}
	}
}
