package render

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// Into a pipe a table is plain columns, aligned by display width: Hangul
// counts two columns.
func TestPlainTableAlignsHangul(t *testing.T) {
	var b bytes.Buffer
	if err := Print(&b, Table, nil, tab{[]string{"sku", "name", "price"}, [][]string{{"A-1", "토끼 인형", "12000"}, {"B", "mug", "9900"}}}); err != nil {
		t.Fatal(err)
	}
	want := "sku  name       price\nA-1  토끼 인형  12000\nB    mug        9900\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
	if strings.ContainsAny(b.String(), "│┌─") {
		t.Fatal("box characters in a pipe")
	}
}

type tab struct {
	h []string
	r [][]string
}

func (t tab) Table() ([]string, [][]string) { return t.h, t.r }

// A boxed table wider than the terminal wraps its widest columns at spaces
// so that every line fits; one that fits is left alone.
func TestFitWrapsToTheTerminal(t *testing.T) {
	header := []string{"id", "kind", "detail"}
	rows := [][]string{{"1", "step", "charged ₩36,000 via KAKAO (Ta6ea553ad38d8136df7) and queued order.placed in the outbox"}}
	h, r, _ := fit(header, rows, 200)
	if r[0][2] != rows[0][2] || h[2] != "detail" {
		t.Fatalf("a table that fits was changed: %q", r)
	}
	for _, width := range []int{40, 60, 80} {
		_, r, _ = fit(header, rows, width)
		budget := width - 3*len(header) - 1
		sum := 0
		for _, c := range r[0] {
			sum += cellWidth(c)
		}
		if sum > budget {
			t.Errorf("width %d: cells take %d columns, more than the %d left by the box", width, sum, budget)
		}
		if got := strings.Join(strings.Fields(r[0][2]), " "); got != rows[0][2] {
			t.Errorf("width %d: wrapping lost text: %q", width, r[0][2])
		}
	}
	_, r, _ = fit(header, [][]string{{"1", "step", "토끼인형토끼인형토끼인형"}}, 24)
	for _, line := range strings.Split(r[0][2], "\n") {
		if cellWidth(line) > minColumn {
			t.Errorf("a long Hangul word was not broken at %d columns: %q", minColumn, r[0][2])
		}
	}
}

// Headers break after an underscore; columns that cannot fit even squeezed
// are left out and named.
func TestFitDropsWhatCannotFit(t *testing.T) {
	header := []string{"order_product_id", "sku", "refunded_quantity", "delivery_status"}
	rows := [][]string{{"1", "A-1", "0", "SHIPPED"}}
	h, r, hidden := fit(header, rows, 40)
	if len(h) != 3 || len(r[0]) != 3 || !slices.Equal(hidden, []string{"delivery_status"}) {
		t.Fatalf("header %q, hidden %q", h, hidden)
	}
	if h[0] != "order_\nproduct_\nid" && h[0] != "order_\nproduct_id" {
		t.Errorf("header not broken after underscores: %q", h[0])
	}
}
