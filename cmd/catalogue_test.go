package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type importSummary struct {
	Rows, Inserted, Updated, Unchanged int64
	DryRun                             bool `json:"dry_run"`
}

func (c *cli) importJSON(stdin string, args ...string) importSummary {
	c.t.Helper()
	r := c.runIn(stdin, append(append([]string{"product", "import"}, args...), "-o", "json")...)
	var s importSummary
	if r.code != 0 || json.Unmarshal([]byte(r.out), &s) != nil {
		c.t.Fatalf("import %v: exit %d, stdout %s, stderr %s", args, r.code, r.out, r.err)
	}
	return s
}

func TestImportUpsertAndRoundTrip(t *testing.T) {
	c := newCLI(t)
	file := filepath.Join(t.TempDir(), "catalogue.csv")
	os.WriteFile(file, []byte("price,sku,stock,name\n12000,A-1,5,\"토끼, 인형 \"\"특대\"\"\"\n500,B-2,50,당근\n"), 0o600)
	if s := c.importJSON("", file); s.Inserted != 2 || s.Rows != 2 {
		t.Fatalf("first import: %+v", s)
	}
	var p productJSON
	c.json(&p, "product", "show", "A-1")
	if p.Name != `토끼, 인형 "특대"` || p.Price != 12000 || p.StockQuantity != 5 {
		t.Fatalf("imported product: %+v", p)
	}
	// Upsert from stdin: one new, one changed, one unchanged.
	s := c.importJSON("sku,name,price,stock\nA-1,\"토끼, 인형 \"\"특대\"\"\",12000,5\nB-2,당근,600,50\nC-3,무,300,1\n", "-")
	if s.Inserted != 1 || s.Updated != 1 || s.Unchanged != 1 {
		t.Fatalf("upsert: %+v", s)
	}
	// export -> import changes nothing.
	exported := c.ok("product", "export")
	if !strings.HasPrefix(exported, "sku,name,price,stock\nA-1,\"토끼, 인형 \"\"특대\"\"\",12000,5\n") {
		t.Fatalf("export:\n%s", exported)
	}
	if s := c.importJSON(exported, "-"); s.Unchanged != 3 || s.Inserted+s.Updated != 0 {
		t.Fatalf("export -> import: %+v", s)
	}
	out := filepath.Join(t.TempDir(), "out.csv")
	c.ok("product", "export", out)
	if b, _ := os.ReadFile(out); string(b) != exported {
		t.Fatalf("export to file differs:\n%s", b)
	}
}

func TestImportJSONLinesAndDryRun(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "A-1", "--name", "토끼", "--price", "100", "--stock", "1")
	before := c.ok("product", "list", "-o", "csv")
	jsonl := `{"sku":"A-1","name":"큰 토끼","price":150,"stock":2}` + "\n\n" + `{"sku":"N-1","name":"새 상품","price":0,"stock":0}` + "\n"
	s := c.importJSON(jsonl, "-", "--format", "jsonl", "--dry-run")
	if !s.DryRun || s.Inserted != 1 || s.Updated != 1 {
		t.Fatalf("dry run: %+v", s)
	}
	if after := c.ok("product", "list", "-o", "csv"); after != before {
		t.Fatalf("--dry-run wrote:\n%s", after)
	}
	file := filepath.Join(t.TempDir(), "new.jsonl")
	os.WriteFile(file, []byte(jsonl), 0o600)
	if s := c.importJSON("", file); s.Inserted != 1 || s.Updated != 1 || s.DryRun {
		t.Fatalf("jsonl by extension: %+v", s)
	}
	var p productJSON
	c.json(&p, "product", "show", "A-1")
	if p.Name != "큰 토끼" || p.Price != 150 {
		t.Fatalf("updated product: %+v", p)
	}
}

func TestImportBadRowsChangeNothing(t *testing.T) {
	for _, empty := range []bool{true, false} { // the first-load path and the upsert path
		t.Run(fmt.Sprintf("empty=%v", empty), func(t *testing.T) {
			c := newCLI(t)
			if !empty {
				c.ok("product", "register", "--sku", "KEEP", "--name", "그대로", "--price", "100", "--stock", "1")
			}
			before := c.ok("product", "list", "-o", "csv")
			cases := []struct{ input, want string }{
				{"sku,name,price,stock\nA,x,-5,1\n", "line 2, column price: price -5 is negative"},
				{"sku,name,price,stock\nA,x,5,-1\n", "line 2, column stock: stock -1 is negative"},
				{"sku,name,price,stock\nA,x,abc,1\n", `line 2, column price: price "abc" is not a whole number`},
				{"sku,name,price,stock\nA,x,99999999999999999999,1\n", "column price: price \"99999999999999999999\" is out of range"},
				{"sku,name,price,stock\nA,,5,1\n", "line 2, column name: name must not be empty"},
				{"sku,name,price,stock\n,x,5,1\n", "line 2, column sku: SKU must not be empty"},
				{"sku,name,price,stock\nA," + strings.Repeat("토", 201) + ",5,1\n", "line 2, column name: name is 201 characters long; the limit is 200"},
				{"sku,name,price,stock\nA,\xff\xfe,5,1\n", "line 2, column name: name is not valid UTF-8"},
				{"sku,name,price,stock\nA,x,5\n", "line 2: wrong number of fields"},
				{"sku,name,price,stock\nOK,fine,1,1\nA,\"x,5,1\n", "line 3: unbalanced or stray quote"},
				{"sku,name,price,stock\nA,x,1,1\nB,y,1,1\nA,z,2,2\n", `line 4, column sku: SKU "A" repeats line 2`},
				{"sku,name,price\n", `the header lacks the column "stock"`},
				{"sku,name,price,stock,colour\n", `unknown column "colour"`},
				{"", "the file is empty"},
			}
			for _, tc := range cases {
				r := c.runIn(tc.input, "product", "import", "-")
				if r.code != 2 || !strings.Contains(r.err, tc.want) {
					t.Errorf("input %q: exit %d, stderr %q, want %q", tc.input, r.code, r.err, tc.want)
				}
			}
			r := c.runIn(`{"sku":"A","name":"x","price":1,"stock":1,"colour":"red"}`+"\n", "product", "import", "-", "--format", "jsonl")
			if r.code != 2 || !strings.Contains(r.err, `line 1: not valid JSON: json: unknown field "colour"`) {
				t.Errorf("jsonl unknown key: %d %q", r.code, r.err)
			}
			// Many bad rows: the first 20 are listed, then a count.
			var b strings.Builder
			b.WriteString("sku,name,price,stock\n")
			for i := range 25 {
				fmt.Fprintf(&b, "S%d,x,-%d,1\n", i, i+1)
			}
			r = c.runIn(b.String(), "product", "import", "-")
			if r.code != 2 || !strings.HasPrefix(r.err, "rabbitpay: import refused: 25 bad rows; nothing was changed\n") ||
				strings.Count(r.err, "column price") != 20 || !strings.Contains(r.err, "… and 5 more bad rows") {
				t.Errorf("25 bad rows: %q", r.err)
			}
			c.fails(1, "cannot open /no/such/file.csv: no such file or directory", "product", "import", "/no/such/file.csv")
			c.fails(2, `import format "xml"`, "product", "import", "-", "--format", "xml")
			if after := c.ok("product", "list", "-o", "csv"); after != before {
				t.Fatalf("a refused import changed the catalogue:\n%s", after)
			}
		})
	}
}
