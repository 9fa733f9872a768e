package cmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// One rule for names that match nothing: an unknown id, SKU or UUID is bad
// input, exit 2, whichever command it is given to, and changes nothing.
func TestUnknownNamesAreBadInputEverywhere(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:2")
	before := c.snapshot()
	for _, args := range [][]string{
		{"order", "show", "999"},
		{"pay", "show", "999"},
		{"customer", "show", "999"},
		{"deliver", "show", "999"},
		{"order", "cancel", "999"},
		{"order", "refund", "999", "--item", "A:1"},
		{"order", "place", "--customer", "1", "--method", "KAKAO", "--item", "nope:1"},
		{"order", "refund", "1", "--item", "nope:1"},
		{"order", "place", "--customer", "999", "--method", "KAKAO", "--item", "A:1"},
		{"cart", "add", "--customer", "1", "--product", "nope"},
		{"cart", "remove", "--customer", "1", "--product", "B"},
		{"product", "update", "nope", "--price", "1"},
		{"notify", "retry", "999"},
		{"saga", "show", "6f1c2e7a-3b9d-4c51-9f0e-2a7d1c8b4e55"},
	} {
		if r := c.run(args...); r.code != ExitUsage || strings.Count(strings.TrimRight(r.err, "\n"), "\n") != 0 {
			t.Errorf("rabbitpay %s: exit %d, want %d; stderr %q", strings.Join(args, " "), r.code, ExitUsage, r.err)
		}
	}
	if after := c.snapshot(); after != before {
		t.Fatalf("unknown names changed the database:\n%s\n%s", before, after)
	}
}

// The exit-code table is written twice, in the root help and in README: both
// say what exitKinds decides about names that match nothing.
func TestExitCodeTableIsDocumented(t *testing.T) {
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"--help"}, IO{In: &bytes.Buffer{}, Out: &out, Err: &out}); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	help := strings.Join(strings.Fields(out.String()), " ")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(readme)), " ")
	for _, want := range []string{"1 failed or refused", "2 bad input: flags, arguments, values, files, an unknown command, an id, SKU or UUID that matches nothing", "3 something is unfinished", "130 interrupted"} {
		if !strings.Contains(help, want) {
			t.Errorf("root help does not say %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"**1** failed or refused", "**2** bad input", "an id, SKU or UUID that matches nothing", "**3** something is left unfinished", "**130** interrupted"} {
		if !strings.Contains(doc, want) {
			t.Errorf("README's exit codes do not say %q", want)
		}
	}
}
