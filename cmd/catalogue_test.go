package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"time"

	"github.com/rabbitpay/rabbitpay/internal/testdb"
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
	if !strings.HasPrefix(exported, "sku,name,price,stock,retired\nA-1,\"토끼, 인형 \"\"특대\"\"\",12000,5,false\n") {
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
				{"sku,name,price,stock\n" + strings.Repeat("S", 100) + ",x,1,1\n", `line 2, column sku: SKU is 100 characters long; the limit is 64: "` + strings.Repeat("S", 40) + `…"`},
				{"sku,name,price,stock\nA," + strings.Repeat("토", 2000) + ",1,1\n", `line 2, column name: name is 6000 bytes long; the limit is 200 characters: "` + strings.Repeat("토", 40) + `…"`},
				{"sku,name,price,stock\nA,x," + strings.Repeat("9", 5000) + ",1\n", `line 2, column price: price "` + strings.Repeat("9", 40) + `…" is out of range`},
				{"sku,name,price,stock\nA,x,1," + strings.Repeat("z", 50) + "\n", `line 2, column stock: stock "` + strings.Repeat("z", 40) + `…" is not a whole number`},
				{"sku,name,price\n", `the header lacks the column "stock"`},
				{"sku,name,price,stock,colour\n", `unknown column "colour"`},
				{"", "the file is empty"},
			}
			for _, tc := range cases {
				r := c.runIn(tc.input, "product", "import", "-")
				if r.code != 2 || !strings.Contains(r.err, tc.want) {
					t.Errorf("input %q: exit %d, stderr %q, want %q", shortText(tc.input), r.code, r.err, tc.want)
				}
			}
			r := c.runIn(`{"sku":"A","name":"x","price":1,"stock":1,"colour":"red"}`+"\n", "product", "import", "-", "--format", "jsonl")
			if r.code != 2 || !strings.Contains(r.err, `line 1, column colour: unknown key; the keys are sku, name, price, stock, retired`) {
				t.Errorf("jsonl unknown key: %d %q", r.code, r.err)
			}
			r = c.runIn(`{"sku":"A","name":"x","price":1,"stock":1}`+"\n"+`{"sku":"`+strings.Repeat("s", 2<<20)+`"}`+"\n", "product", "import", "-", "--format", "jsonl")
			if r.code != 2 || !strings.Contains(r.err, `line 2, column sku: the line is 2097162 bytes long (the limit is 1048576); the value starts "\"`+strings.Repeat("s", 39)+`…"`) {
				t.Errorf("jsonl long line: %d %q", r.code, shortText(r.err))
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
			c.fails(2, "cannot open /no/such/file.csv: no such file or directory", "product", "import", "/no/such/file.csv")
			c.fails(2, `catalogue format "xml"`, "product", "import", "-", "--format", "xml")
			if after := c.ok("product", "list", "-o", "csv"); after != before {
				t.Fatalf("a refused import changed the catalogue:\n%s", after)
			}
		})
	}
}

// repeatReader yields n copies of one byte.
type repeatReader struct {
	n int64
	b byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// importProcess runs `rabbitpay product import -` as a separate process,
// from bin, fed from in, and returns its stderr, exit code and peak
// resident memory: its VmHWM, sampled until it exits. (The rusage max RSS
// would not do: until it execs, the child shares this process's memory and
// counts it.)
func importProcess(t *testing.T, bin, url string, in io.Reader, args ...string) (stderr string, code int, peakRSS int64) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--database-url", url, "product", "import", "-"}, args...)...)
	var errb bytes.Buffer
	cmd.Stdin, cmd.Stderr = in, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("rabbitpay product import: %v", err)
	}
	stop, peak := make(chan struct{}), make(chan int64)
	go func() {
		var max int64
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
				for line := range strings.Lines(string(b)) {
					var kb int64
					if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil && kb*1024 > max {
						max = kb * 1024
					}
				}
			}
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	cmd.Wait()
	close(stop)
	return errb.String(), cmd.ProcessState.ExitCode(), <-peak
}

// buildRabbitpay builds the command as users get it: the memory a test
// measures must not include the race detector's (this test binary may be
// built with -race, which alone takes over 200 MiB).
func buildRabbitpay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rabbitpay")
	build := exec.Command("go", "build", "-o", bin, "github.com/rabbitpay/rabbitpay")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A 150 MB field (and a 150 MB JSON line) is a row error naming its line
// and column, echoes only the start of the value, and the process stays
// within the documented 100 MiB whatever the input's size.
func TestImportHugeFieldStaysBounded(t *testing.T) {
	c := newCLI(t)
	bin := buildRabbitpay(t)
	c.ok("product", "register", "--sku", "KEEP", "--name", "그대로", "--price", "100", "--stock", "1")
	before := c.ok("product", "list", "-o", "csv")
	const size = 150 << 20
	cases := []struct {
		name   string
		in     io.Reader
		format string
		want   string
	}{
		{"csv unquoted name", io.MultiReader(strings.NewReader("sku,name,price,stock\nOK,fine,1,1\nBIG,"),
			&repeatReader{size, 'x'}, strings.NewReader(",1,1\nOK2,fine,1,1\n")), "csv",
			`line 3, column name: name is 157286400 bytes long; the limit is 200 characters: "` + strings.Repeat("x", 40) + `…"`},
		{"csv quoted field over many lines", io.MultiReader(strings.NewReader("sku,name,price,stock\n\""),
			&repeatReader{size, '\n'}, strings.NewReader("\",x,1,1\n")), "csv",
			`line 2, column sku: SKU is 157286400 bytes long; the limit is 64 characters: "` + strings.Repeat(`\n`, 40) + `…"`},
		{"csv one field, no separator", io.MultiReader(strings.NewReader("sku,name,price,stock\n"), &repeatReader{size, 'y'}), "csv",
			"line 2: wrong number of fields: 1, the header has 4"},
		{"json line", io.MultiReader(strings.NewReader(`{"sku":"BIG","name":"`), &repeatReader{size, 'z'}, strings.NewReader(`","price":1,"stock":1}`+"\n")), "jsonl",
			`line 1, column name: the line is 157286443 bytes long (the limit is 1048576); the value starts "\"` + strings.Repeat("z", 39) + `…"`},
	}
	for _, tc := range cases {
		stderr, code, rss := importProcess(t, bin, c.url, tc.in, "--format", tc.format)
		t.Logf("%s: peak RSS %d MiB", tc.name, rss>>20)
		if code != 2 || !strings.Contains(stderr, tc.want) || len(stderr) > 1000 {
			t.Errorf("%s: exit %d, stderr (%d bytes) %s, want %q", tc.name, code, len(stderr), shortText(stderr), tc.want)
		}
		if rss > 100<<20 {
			t.Errorf("%s: peak RSS %d MiB, over the documented 100 MiB", tc.name, rss>>20)
		}
	}
	if after := c.ok("product", "list", "-o", "csv"); after != before {
		t.Fatalf("a refused import changed the catalogue:\n%s", after)
	}
}

func shortText(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// A SKU the file repeats far apart is reported with both lines on the
// first-load path too (where rows go straight into product chunk by chunk),
// and nothing is loaded.
func TestImportRepeatAcrossChunks(t *testing.T) {
	c := newCLI(t)
	var b strings.Builder
	b.WriteString("sku,name,price,stock\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "S-%d,상품,1,1\n", i)
	}
	b.WriteString("S-1,again,1,1\nS-39999,again,1,1\nT,x,-1,1\n")
	r := c.runIn(b.String(), "product", "import", "-")
	want := "rabbitpay: import refused: 3 bad rows; nothing was changed\n" +
		"  line 40002, column sku: SKU \"S-1\" repeats line 3\n" +
		"  line 40003, column sku: SKU \"S-39999\" repeats line 40001\n" +
		"  line 40004, column price: price -1 is negative\n"
	if r.code != 2 || r.err != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.err, want)
	}
	if out := c.ok("product", "list", "-o", "csv"); strings.Count(out, "\n") > 1 {
		t.Fatalf("a refused first load left products:\n%s", shortText(out))
	}
	// The same file without the repeats loads, with ids from 1 and the
	// identity sequence moved past them.
	file := b.String()
	file = file[:strings.Index(file, "S-1,again")]
	if s := c.importJSON(file, "-"); s.Inserted != 40000 {
		t.Fatalf("first load: %+v", s)
	}
	var p productJSON
	c.json(&p, "product", "show", "S-0")
	c.ok("product", "register", "--sku", "AFTER", "--name", "다음", "--price", "1", "--stock", "1")
	var q productJSON
	c.json(&q, "product", "show", "AFTER")
	if p.ID < 1 || q.ID <= p.ID+39999 {
		t.Fatalf("ids: first %d, registered after the load %d", p.ID, q.ID)
	}
}

// Export picks CSV or JSON Lines by extension or --format, and each round
// trips through import unchanged; JSON Lines on standard input needs no --format.
func TestExportImportRoundTripBothFormats(t *testing.T) {
	c := newCLI(t)
	c.ok("product", "register", "--sku", "A-1", "--name", `토끼 "인형", 큰 것`, "--price", "12000", "--stock", "5")
	c.ok("product", "register", "--sku", "B-2", "--name", `back\slash`, "--price", "0", "--stock", "0")
	dir := t.TempDir()
	for _, name := range []string{"out.csv", "out.jsonl"} {
		path := filepath.Join(dir, name)
		c.ok("product", "export", path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".jsonl") != strings.HasPrefix(string(data), "{") {
			t.Fatalf("%s holds:\n%s", name, data)
		}
		var sum struct{ Rows, Unchanged int64 }
		c.json(&sum, "product", "import", path, "--dry-run")
		if sum.Rows != 2 || sum.Unchanged != 2 {
			t.Fatalf("re-importing %s: %+v\n%s", name, sum, data)
		}
		r := c.runIn(string(data), "product", "import", "-", "--dry-run", "-o", "json")
		if r.code != 0 || !strings.Contains(r.out, `"unchanged": 2`) {
			t.Fatalf("%s through stdin without --format: exit %d %s %s", name, r.code, r.out, r.err)
		}
	}
	if out := c.ok("product", "export", "--format", "jsonl"); !strings.Contains(out, `"name" : "back\\slash"`) && !strings.Contains(out, `"name": "back\\slash"`) {
		t.Fatalf("jsonl export: %s", out)
	}
}

// A retired product keeps its state through export and import, in both
// formats; the retired column is optional, and an empty value keeps the state.
func TestRetiredStateRoundTrips(t *testing.T) {
	c := newCLI(t)
	first := &cli{t: t, url: testdb.New(t)} // a first load into an empty catalogue takes the state too
	if s := first.importJSON("sku,name,price,stock,retired\nZ,단종,1,1,true\nY,현역,1,1,false\n", "-"); s.Inserted != 2 {
		t.Fatalf("%+v", s)
	}
	if got := first.query(`SELECT string_agg(sku || '=' || (retired_at IS NOT NULL), ',' ORDER BY sku) FROM product`); got != "Y=false,Z=true" {
		t.Fatalf("after a first load: %s", got)
	}
	c.ok("product", "register", "--sku", "A", "--name", "토끼", "--price", "1000", "--stock", "5")
	c.ok("product", "register", "--sku", "B", "--name", "당근", "--price", "500", "--stock", "5")
	c.ok("product", "retire", "B")
	dir := t.TempDir()
	for _, name := range []string{"out.csv", "out.jsonl"} {
		path := filepath.Join(dir, name)
		c.ok("product", "export", path)
		data, _ := os.ReadFile(path)
		if !strings.Contains(string(data), "B,당근,500,5,true") && !strings.Contains(string(data), `"retired" : true`) && !strings.Contains(string(data), `"retired": true`) {
			t.Fatalf("%s lacks B's retired state:\n%s", name, data)
		}
		c.ok("product", "restore", "B")
		if s := c.importJSON(string(data), path); s.Updated != 1 || s.Unchanged != 1 {
			t.Fatalf("importing %s: %+v", name, s)
		}
		if got := c.query(`SELECT string_agg(sku || '=' || (retired_at IS NOT NULL), ',' ORDER BY sku) FROM product`); got != "A=false,B=true" {
			t.Fatalf("after importing %s: %s", name, got)
		}
	}
	// No retired column, or an empty value: the state stays.
	if s := c.importJSON("sku,name,price,stock\nB,당근,500,5\n", "-"); s.Unchanged != 1 {
		t.Fatalf("%+v", s)
	}
	if s := c.importJSON("sku,name,price,stock,retired\nB,당근,500,5,\nA,토끼,1000,5,true\n", "-"); s.Updated != 1 || s.Unchanged != 1 {
		t.Fatalf("%+v", s)
	}
	if got := c.query(`SELECT string_agg(sku || '=' || (retired_at IS NOT NULL), ',' ORDER BY sku) FROM product`); got != "A=true,B=true" {
		t.Fatalf("after the last import: %s", got)
	}
	if r := c.runIn("sku,name,price,stock,retired\nA,토끼,1000,5,maybe\n", "product", "import", "-"); r.code != 2 ||
		!strings.Contains(r.err, `retired "maybe" is not true, false or empty`) {
		t.Fatalf("a bad retired value: exit %d %q", r.code, r.err)
	}
}
