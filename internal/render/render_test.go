package render

import (
	"bytes"
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
