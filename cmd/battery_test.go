package cmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// fullSnapshot is every table a command may change, row by row, with
// updated_at, saga owner tokens and leases: a refusal must leave all of it.
func (c *cli) fullSnapshot() string {
	var parts []string
	for _, table := range []string{"product", "customer", "address", "cart_item", "orders", "order_product", "payment", "order_refund",
		"saga", "idempotency_key", "delivery", "notification", "sandbox_payment"} {
		parts = append(parts, table+"="+c.query(fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM %s t`, table)))
	}
	return strings.Join(parts, " ")
}

// badValues are the values each kind of flag must refuse, and words the
// refusal must say.
var badValues = map[string][]struct{ value, says string }{
	"int":      {{"abc", "is not a whole number"}, {"1.5", "is not a whole number"}, {"99999999999999999999", "out of range"}},
	"int64":    {{"abc", "is not a whole number"}, {"1e3", "is not a whole number"}, {"99999999999999999999", "out of range"}},
	"duration": {{"abc", "is not a duration"}, {"5", "is not a duration"}},
	"bool":     {{"maybe", "is not true or false"}},
	"string":   {{"\xff\xfe", "is not valid UTF-8"}, {"a\x01b", "control character"}},
}

// validRequired are valid values for the flags commands require (the seed's
// customer and product): the flag under test comes after them, and wins.
var validRequired = map[string]string{"customer": "1", "product": "A", "name": "x", "from": "/nonexistent-backup", "order": "1",
	"status": "SHIPPED", "method": "KAKAO", "sku": "Z-9", "price": "1", "stock": "1",
	"recipient": "x", "phone": "010-1234-5678", "zip": "04524", "line1": "x"}

// The bad-input battery: every flag of every command, given a value of the
// wrong shape, and every command that takes an id, given one that is no id,
// exits 2 with one sentence on stderr that names what was wrong, and changes
// nothing in the database (issue 27).
func TestBadInputBattery(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	before := c.fullSnapshot()
	root := newRoot(&env{})
	cases := 0
	check := func(args []string, says ...string) {
		t.Helper()
		cases++
		r := c.run(args...)
		msg := strings.TrimSpace(r.err)
		ok := r.code == ExitUsage && strings.HasPrefix(msg, "rabbitpay: ") && !strings.Contains(msg, "\n")
		for _, s := range says {
			ok = ok && strings.Contains(msg, s)
		}
		if !ok {
			t.Errorf("rabbitpay %q: exit %d, stderr %q; want exit 2 and one line saying %q", args, r.code, r.err, says)
		}
	}
	for _, path := range leaves(root, nil) {
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		// The positional arguments the command needs, so that the flag is what is refused.
		args := append([]string{}, path...)
		if r := c.run(append(args, "--help")...); r.code != 0 {
			t.Fatalf("%v --help: exit %d", path, r.code)
		}
		if needsArg(cmd) {
			args = append(args, "1")
		}
		// And the flags it requires, valid, so that a value check is reached.
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "(required)") {
				v, ok := validRequired[f.Name]
				if !ok {
					t.Fatalf("%v: no valid value known for the required --%s", path, f.Name)
				}
				args = append(args, "--"+f.Name, v)
			}
		})
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			kind := f.Value.Type()
			if kind == "stringArray" || kind == "stringSlice" {
				kind = "string"
			}
			bads := badValues[kind]
			switch {
			case kind == "duration":
				bads = append(bads, struct{ value, says string }{"-5s", ""})
			case strings.HasPrefix(kind, "int"): // no count, id, price or stock is negative; only these may be 0
				bads = append(bads, struct{ value, says string }{"-1", ""})
				if f.Name != "after" && f.Name != "price" && f.Name != "stock" {
					bads = append(bads, struct{ value, says string }{"0", ""})
				}
			}
			for _, bad := range bads {
				check(append(append([]string{}, args...), "--"+f.Name+"="+bad.value), "--"+f.Name, bad.says)
			}
		})
		if needsArg(cmd) && strings.Contains(strings.ToUpper(cmd.Use), " ID") {
			for _, bad := range []string{"0", "abc", "1.5"} {
				check(append(append([]string{}, path...), bad))
			}
			check(append(append([]string{}, path...), "-1"), "-1 is not an id") // pflag would read it as a flag

		}
	}
	for _, flag := range []string{"--output", "--database-url", "--database-read-url", "--data-dir", "--config"} {
		check([]string{"product", "list", flag + "=a\x01b"}, flag)
	}
	if cases < 300 {
		t.Errorf("only %d cases: the battery lost its commands or flags", cases)
	}
	if after := c.fullSnapshot(); after != before {
		t.Fatalf("refused input changed the database:\n%s\n%s", before, after)
	}
	t.Logf("%d bad inputs refused", cases)
}

// needsArg says whether a command takes a positional argument it cannot do
// without (its Use names one outside brackets).
func needsArg(cmd *cobra.Command) bool {
	use := strings.Fields(cmd.Use)
	for _, w := range use[1:] {
		if strings.HasPrefix(w, "[") || strings.HasPrefix(w, "-") {
			break
		}
		if w == strings.ToUpper(w) && w != "|" {
			return true
		}
	}
	return false
}
