package cmd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifyFollow starts `notify send --sink webhook --follow` against a
// webhook nobody listens on.
func notifyFollow(t *testing.T, ctx context.Context, c *cli, out *strings.Builder, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"notify", "send", "--sink", "webhook", "--follow"}, extra...)...)
	cmd.Env = append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1", "RABBITPAY_DATABASE_URL="+c.url,
		"RABBITPAY_NOTIFY_WEBHOOK_URL=http://127.0.0.1:9/hooks", "RABBITPAY_NOTIFY_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// README's `notify send --follow --limit 1` ends after one attempt even when
// the receiver is down (exit 1: it was not delivered), and a --follow
// service stopped by SIGTERM exits 0 with what it could not deliver left
// in the outbox (issue 27).
func TestNotifyFollowEnds(t *testing.T) {
	c := newCLI(t)
	c.seed()
	c.ok("order", "place", "--customer", "1", "--method", "KAKAO", "--item", "A:1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var out strings.Builder
	err := notifyFollow(t, ctx, c, &out, "--limit", "1").Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Count(out.String(), "attempt 1 failed") != 1 {
		t.Fatalf("--follow --limit 1 against a receiver that is down: %v\n%s", err, out.String())
	}

	out.Reset()
	cmd := notifyFollow(t, ctx, c, &out)
	for c.query(`SELECT count(*)::text FROM notification WHERE attempts > 0`) != "2" { // both tried once: it is now waiting
		if ctx.Err() != nil {
			t.Fatalf("the follower never tried the second notification:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("--follow after SIGTERM: %v\n%s", err, out.String())
	}
	if n := c.query(`SELECT count(*)::text FROM notification WHERE sent_at IS NULL`); n != "2" {
		t.Fatalf("%s notifications left in the outbox, want 2", n)
	}
}
