package shop

import (
	"strings"
	"testing"
)

// FuzzCatalogueReader feeds arbitrary bytes to both formats: no panic, every
// row is either valid (and passes Product.Validate) or reported with a line.
func FuzzCatalogueReader(f *testing.F) {
	for _, seed := range []string{
		"sku,name,price,stock\nA,토끼,1,2\n",
		"stock,price,name,sku\n1,2,\"a,\"\"b\",X\n",
		"sku,name,price,stock\nA,\"x,1,1\n",
		"{\"sku\":\"A\",\"name\":\"x\",\"price\":1,\"stock\":2}\n{\"sku\":1}\n",
		"\xef\xbb\xbfsku,name,price,stock\r\nA,b,-1,99999999999999999999\r\n",
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		format := CatalogueJSONL
		if csv {
			format = CatalogueCSV
		}
		rd, err := NewCatalogueReader(strings.NewReader(string(data)), format)
		if err != nil {
			return
		}
		var good int64
		for {
			row, ok := rd.Next()
			if !ok {
				break
			}
			good++
			if err := row.Product.Validate(); err != nil {
				t.Fatalf("row %d passed the reader but not Validate: %v", row.Line, err)
			}
			if row.Line < 1 {
				t.Fatalf("row with line %d", row.Line)
			}
		}
		if rd.Err() == nil && good+int64(rd.Errors.Total) < rd.Rows {
			t.Fatalf("%d rows read, %d good, %d bad", rd.Rows, good, rd.Errors.Total)
		}
		for _, e := range rd.Errors.Rows {
			if e.Line < 1 || e.Reason == "" {
				t.Fatalf("bad row report %+v", e)
			}
		}
	})
}
