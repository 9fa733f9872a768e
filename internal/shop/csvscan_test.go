package shop

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"
	"testing"
)

// scanAll reads every record with the bounded scanner.
func scanAll(t *testing.T, in string, size int) (recs [][]string, lines []int, quoteErr bool) {
	s := newCSVScanner(bufio.NewReaderSize(strings.NewReader(in), size), 1<<20)
	for {
		more, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
		if s.quoteErr {
			quoteErr = true
			continue
		}
		rec := make([]string, s.nfields)
		for i := range rec {
			rec[i], _ = s.field(i)
		}
		recs, lines = append(recs, rec), append(lines, s.start)
	}
}

// FuzzCSVScanner checks the bounded scanner against encoding/csv: on input
// encoding/csv reads without error, both give the same records and lines,
// whatever the buffer size (so records cross buffer boundaries).
func FuzzCSVScanner(f *testing.F) {
	for _, seed := range []string{
		"a,b\n1,2\n", "a,\"b\nc\",d\r\n\r\n\n\"x\"\"y\",\n", "a\r\nb\r", "\"\"\n,\n", "a,b\rc\n", "x\n\n\ny", ",,\n",
		"a,\"b\"\"\r\nc\"\n",
	} {
		f.Add(seed, 16)
	}
	f.Fuzz(func(t *testing.T, in string, size int) {
		size = 16 + (size&0xff)%64
		want := csv.NewReader(strings.NewReader(in))
		want.FieldsPerRecord = -1
		var recs [][]string
		var lines []int
		for {
			rec, err := want.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // compare only what encoding/csv accepts
			}
			l, _ := want.FieldPos(0)
			for j := range rec { // the scanner keeps the start of a long field
				rec[j] = rec[j][:min(len(rec[j]), MaxFieldBytes)]
			}
			recs, lines = append(recs, rec), append(lines, l)
		}
		got, gotLines, quoteErr := scanAll(t, in, size)
		if quoteErr || len(got) != len(recs) {
			t.Fatalf("%s: got %d records (quote error %v), want %d", Echo(in), len(got), quoteErr, len(recs))
		}
		for i := range recs {
			if strings.Join(got[i], "\x00") != strings.Join(recs[i], "\x00") || gotLines[i] != lines[i] {
				t.Fatalf("%s: record %d: got %s at line %d, want %s at line %d", Echo(in), i,
					Echo(strings.Join(got[i], "|")), gotLines[i], Echo(strings.Join(recs[i], "|")), lines[i])
			}
		}
	})
}

func TestCSVScannerBoundsFields(t *testing.T) {
	long := strings.Repeat("x", 10*MaxFieldBytes)
	in := "a,\"" + long + "\"\"" + long + "\",b\n" + long + ",c,d\n"
	s := newCSVScanner(bufio.NewReaderSize(strings.NewReader(in), 16), 3)
	s.next()
	if f, cut := s.field(1); !cut || len(f) != MaxFieldBytes || s.fields[1].n != int64(2*len(long)+1) || s.nfields != 3 {
		t.Fatalf("quoted long field: cut %v, kept %d, size %d", cut, len(f), s.fields[1].n)
	}
	s.next()
	if f, cut := s.field(0); !cut || len(f) != MaxFieldBytes || s.start != 2 {
		t.Fatalf("unquoted long field: cut %v, kept %d, line %d", cut, len(f), s.start)
	}
}

func TestEcho(t *testing.T) {
	if got := Echo(strings.Repeat("토", 50)); got != `"`+strings.Repeat("토", 40)+`…"` {
		t.Fatalf("Echo: %s", got)
	}
	if got := Echo("short"); got != `"short"` {
		t.Fatalf("Echo: %s", got)
	}
}
