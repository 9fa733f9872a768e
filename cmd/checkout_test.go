package cmd

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"
)

// Without a terminal the checkout says so in one sentence and exits 2; so do
// --serve without authorized keys and a bad authorized_keys file.
func TestCheckoutRefusesWithoutATerminalOrKeys(t *testing.T) {
	c := newCLI(t)
	c.fails(2, "checkout is interactive and needs a terminal", "checkout")
	c.fails(2, "customer id 0 must be positive", "checkout", "--customer", "0")
	c.fails(2, "--serve needs checkout.authorized_keys", "checkout", "--serve", "127.0.0.1:0")
	dir := t.TempDir()
	bad, conf := filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "rabbitpay.yaml")
	if err := os.WriteFile(bad, []byte("ssh-ed25519 AAAA!!not-base64 clerk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("checkout:\n  authorized_keys: "+bad+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(2, "line 1 is not a public key: write one key a line as ssh-keygen prints it", "checkout", "--serve", "127.0.0.1:0", "--config", conf, "--data-dir", dir)
}

// --serve binds before it says it serves: an address in use is one error
// line and no "serving".
func TestCheckoutServeBindsFirst(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keys, conf := filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "rabbitpay.yaml")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("checkout:\n  authorized_keys: "+keys+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	c.fails(1, "cannot serve the checkout on "+busy.Addr().String()+": bind: address already in use",
		"checkout", "--serve", busy.Addr().String(), "--config", conf, "--data-dir", dir)
}

// The checkout on a real terminal (a pty), as a separate process: it sells,
// the order is in the database, q ends it with exit 0 and the screen is put back.
func TestCheckoutOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("customer", "register", "--name", "김토끼")
	c.ok("product", "register", "--sku", "ZEBRA-1", "--name", "얼룩말", "--price", "7000", "--stock", "3")
	cmd := exec.Command(os.Args[0], "--database-url", c.url, "checkout", "--customer", "1")
	cmd.Env = append(os.Environ(), "RABBITPAY_TEST_RUN_MAIN=1", "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// until polls cond; the bound only stops a broken test.
	until := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("waiting for %s; the terminal got %q", what, screen.String())
			}
		}
	}
	shows := func(s string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(screen.String(), s) }
	}
	until("the catalogue", shows("ZEBRA-1"))
	tty.WriteString("\r")
	until("the cart", func() bool { return c.query(`SELECT count(*)::text FROM cart_item`) == "1" })
	tty.WriteString("\t")
	until("the review", shows("Review"))
	tty.WriteString("\r")
	until("the question", shows("Charge"))
	tty.WriteString("y")
	until("the order", func() bool { return c.query(`SELECT count(*)::text FROM orders WHERE status = 'paid'`) == "1" })
	until("the end of the saga", shows("placed"))
	tty.WriteString("q")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if got := c.query(`SELECT stock_quantity::text FROM product WHERE sku = 'ZEBRA-1'`); got != "2" {
		t.Fatalf("stock %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(screen.String(), "\x1b[?1049l") {
		t.Fatal("the alternate screen was not left")
	}
}
