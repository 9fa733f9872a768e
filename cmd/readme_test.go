package cmd

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/notify"
)

var expectedExit = regexp.MustCompile(`\(exit (\d+)\)`)

// docPages are README and the pages under docs/ in the order their sh
// blocks run: the operator's path (a cluster, settings, a catalogue, orders,
// their deliveries and notifications, the counter, payments), README's tour
// last. Every page under docs/ must be listed, so none goes untested.
func docPages(t *testing.T) []string {
	pages := []string{"docs/operations.md", "docs/configuration.md", "docs/shop.md", "docs/orders.md", "docs/delivery.md",
		"docs/notifications.md", "docs/saga.md", "docs/checkout.md", "docs/payments.md", "docs/development.md", "README.md"}
	found, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if p := "docs/" + filepath.Base(f); !slices.Contains(pages, p) {
			t.Errorf("%s is not in docPages: its examples would go untested", p)
		}
	}
	return pages
}

// Every command line of the docs' sh blocks (docPages) runs as written, in order, in one
// shell (a variable a line sets is there for the next) on a fresh data dir
// (the embedded default), and must exit as README says: the code its comment
// states ("# (exit 1)"), else 0. So README cannot rot. The shell gets nothing
// README does not set, but rabbitpay on PATH, the data dir, a short saga lease
// (so "saga recover --wait 1m" waits 2s) and, in place of README's receiver
// https://shop.example, a local one that checks every webhook's signature.
// Go and script lines (the tests, benchmarks) are left to CI and the benchmark runs.
func TestReadmeCommandsRun(t *testing.T) {
	t.Parallel()
	var readme []byte
	for _, page := range docPages(t) {
		b, err := os.ReadFile(filepath.Join("..", page))
		if err != nil {
			t.Fatal(err)
		}
		readme = append(readme, b...)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(readme), "\n") {
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in && strings.TrimSpace(l) != "" && !strings.HasPrefix(strings.TrimSpace(l), "#") &&
			!strings.HasPrefix(l, "go ") && !strings.HasPrefix(l, "scripts/"):
			lines = append(lines, l)
		}
	}
	if len(lines) < 30 {
		t.Fatalf("only %d command lines found in README", len(lines))
	}
	bin := t.TempDir()
	wrapper := fmt.Sprintf("#!/bin/sh\nRABBITPAY_TEST_RUN_MAIN=1 exec %q \"$@\"\n", os.Args[0])
	if err := os.WriteFile(filepath.Join(bin, "rabbitpay"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.MkdirTemp("", "rpreadme-") // not under t.TempDir: the cluster's user must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil { // the cluster's unprivileged user passes through it
		t.Fatal(err)
	}
	work := t.TempDir()
	// The webhook README sends to: every delivery's signature is checked, as README's receiver does.
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // README's
	var mu sync.Mutex
	received := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify(secret, r.Header, body, 5*time.Minute); err != nil {
			t.Errorf("webhook %s: %v", r.Header.Get("webhook-id"), err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		received[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer hook.Close()
	var env []string
	for _, kv := range os.Environ() { // nothing of the operator's rabbitpay settings, nor README's variables
		if !strings.HasPrefix(kv, "RABBITPAY_") && !strings.HasPrefix(kv, "PW=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+bin+":"+os.Getenv("PATH"), "RABBITPAY_DATA_DIR="+filepath.Join(data, "rabbitpay"),
		"XDG_CONFIG_HOME="+work, "RABBITPAY_SAGA_LEASE=2s")
	t.Cleanup(func() {
		cmd := exec.Command("sh", "-c", "rabbitpay db stop")
		cmd.Env = env
		cmd.Run()
	})
	// One script: each line, then its exit code on fd 3; a marker before each
	// line's output finds it again.
	var script strings.Builder
	want := make([]int, len(lines))
	for i, l := range lines {
		if m := expectedExit.FindStringSubmatch(l); m != nil {
			want[i], _ = strconv.Atoi(m[1])
		}
		fmt.Fprintf(&script, "printf '\\n@@readme line %d\\n'\n%s\necho \"$?\" >&3\n", i, strings.ReplaceAll(l, "https://shop.example", hook.URL))
	}
	codes, err := os.CreateTemp(t.TempDir(), "codes")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script.String()) // a killed rabbitpay shows as 137, as in a shell
	cmd.Env, cmd.Dir, cmd.Stdin, cmd.ExtraFiles = env, work, strings.NewReader(""), []*os.File{codes}
	out, _ := cmd.CombinedOutput()
	got, err := os.ReadFile(codes.Name())
	if err != nil {
		t.Fatal(err)
	}
	outputs := strings.Split(string(out), "\n@@readme line ")
	exits := strings.Fields(string(got))
	for i, l := range lines {
		if i >= len(exits) {
			t.Fatalf("README line %q did not finish (the shell ended after %d lines)\n%s", l, len(exits), out)
		}
		if code, _ := strconv.Atoi(exits[i]); code != want[i] {
			shown := ""
			if i+1 < len(outputs) {
				shown = outputs[i+1]
			}
			t.Errorf("README line %q: exit %d, want %d\n%s", l, code, want[i], shown)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(received) < 5 {
		t.Fatalf("the webhook received %d notifications", len(received))
	}
	for id, n := range received {
		if n != 1 {
			t.Errorf("the webhook received %s %d times", id, n)
		}
	}
}
