package tui

import (
	"flag"
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

// updateREADME reports whether -update (golden's flag) was given.
func updateREADME() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// keysTable is the README's table of keys, made from the keymaps: one row
// per screen, its keys as its ? help lists them.
func keysTable(t *testing.T) string {
	m := send(t, New(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24})
	cat := atCatalogue(t, false)
	cartM := withCart(t, send(t, cat, keyMsg("tab")), cart)
	screens := []struct {
		name string
		m    Model
	}{
		{"customers", m},
		{"register", send(t, m, keyMsg("ctrl+n"))},
		{"catalogue", cat},
		{"catalogue, a filter typed", send(t, cat, keyMsg("x"))},
		{"cart", cartM},
		{"the question before a charge", send(t, cartM, keyMsg("enter"))},
		{"waiting for the buyer (live)", atApproval(t, 80, 24)},
		{"abandon?", send(t, atApproval(t, 80, 24), keyMsg("esc"))},
		{"the saga's end", func() Model {
			s := atApproval(t, 80, 24)
			return send(t, s, runDoneMsg{s.sale.run, placedResult(), nil})
		}()},
		{"orders today", send(t, cat, keyMsg("ctrl+o"))},
		{"an order", openOrder(t, order(2), 80, 24)},
	}
	var b strings.Builder
	b.WriteString("| screen | keys |\n|---|---|\n")
	for _, s := range screens {
		var ks []string
		seen := map[string]bool{}
		for _, group := range s.m.keyMap().FullHelp() {
			for _, k := range group {
				item := "`" + k.Help().Key + "` " + k.Help().Desc
				if !seen[item] {
					seen[item], ks = true, append(ks, item)
				}
			}
		}
		b.WriteString("| " + s.name + " | " + strings.Join(ks, " · ") + " |\n")
	}
	return b.String()
}

func placedResult() (r app.PlaceResult) {
	r.Status = app.Placed
	r.Order = &shop.Order{ID: 1, TotalAmount: 28500, Payment: &shop.Payment{Method: shop.Kakao}}
	return r
}

// The checkout page's keys table (docs/checkout.md) is the keymaps' (go test ./internal/tui -run
// TestREADMEKeys -update rewrites it).
func TestREADMEKeys(t *testing.T) {
	const begin, end = "<!-- keys: made by TestREADMEKeys -->\n", "<!-- end of keys -->"
	data, err := os.ReadFile("../../docs/checkout.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("docs/checkout.md has no keys table between %q and %q", begin, end)
	}
	want := keysTable(t)
	if got := readme[i+len(begin) : j]; got != want {
		if updateREADME() {
			if err := os.WriteFile("../../docs/checkout.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("docs/checkout.md's keys table differs from the keymaps; it should be:\n%s", want)
	}
}
