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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rabbitpay/rabbitpay/internal/notify"
)

var expectedExit = regexp.MustCompile(`\(exit (\d+)\)`)

// Every command line of README's sh blocks runs, in order, on a fresh data
// dir (the embedded default), with the exit code README promises (0 unless a
// comment says "(exit N)"), so README cannot rot. Go and script lines (the
// tests, benchmarks) are left to CI and the benchmark runs.
func TestReadmeCommandsRun(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
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
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
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
	env := append(os.Environ(), "RABBITPAY_NOTIFY_WEBHOOK_URL="+hook.URL+"/hooks/rabbitpay", "RABBITPAY_NOTIFY_WEBHOOK_SECRET="+secret, "PATH="+bin+":"+os.Getenv("PATH"), "RABBITPAY_DATA_DIR="+filepath.Join(data, "rabbitpay"),
		"RABBITPAY_DATABASE_URL=", "XDG_CONFIG_HOME="+work, "PW=토끼의 비밀번호", "RABBITPAY_SAGA_LEASE=2s", "RABBITPAY_FAILPOINTS=")
	t.Cleanup(func() {
		cmd := exec.Command("sh", "-c", "rabbitpay db stop")
		cmd.Env = env
		cmd.Run()
	})
	for _, l := range lines {
		want := 0
		if m := expectedExit.FindStringSubmatch(l); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		cmd := exec.Command("bash", "-c", l+"\nexit $?") // not exec: a killed rabbitpay shows as 137, as in a shell
		cmd.Env, cmd.Dir, cmd.Stdin = env, work, strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != want {
			t.Fatalf("README line %q: exit %d, want %d\n%s", l, got, want, out)
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
