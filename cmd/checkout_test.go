package cmd

import (
	"os"
	"path/filepath"
	"testing"
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
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("checkout:\n  authorized_keys: "+bad+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(2, "line 1 is not a public key", "checkout", "--serve", "127.0.0.1:0", "--config", conf, "--data-dir", dir)
}
