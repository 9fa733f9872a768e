package tui

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/rabbitpay/rabbitpay/internal/app"
	"github.com/rabbitpay/rabbitpay/internal/shop"
)

func newSigner(t *testing.T) gossh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sshServer serves the checkout on a local port to the key allowed; every
// session's model is published on models.
type sshServer struct {
	addr    string
	hostKey gossh.PublicKey
	models  chan *atomic.Pointer[Model]
	srv     *Server
}

func serve(t *testing.T, s Shop, allowed gossh.PublicKey) *sshServer { return serveWith(t, s, allowed) }

func serveWith(t *testing.T, s Shop, allowed gossh.PublicKey, set ...func(*ServerOptions)) *sshServer {
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, append([]byte("# the counter\n"), gossh.MarshalAuthorizedKey(allowed)...), 0o600); err != nil {
		t.Fatal(err)
	}
	models := make(chan *atomic.Pointer[Model], 8)
	running := new(sync.WaitGroup)
	o := ServerOptions{HostKey: filepath.Join(dir, "host_ed25519"), AuthorizedKeys: keys, Shop: s, Running: running,
		wrap: func(m tea.Model) tea.Model {
			p := probe{m, new(atomic.Pointer[Model])}
			mm := m.(Model)
			p.last.Store(&mm)
			models <- p.last
			return p
		}}
	for _, f := range set {
		f(&o)
	}
	srv, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(o.HostKey)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", fi.Mode(), err)
	}
	pem, _ := os.ReadFile(o.HostKey)
	if _, err := NewServer(o); err != nil { // a second start reuses the key
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(o.HostKey); string(again) != string(pem) {
		t.Fatal("the host key was created again")
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close(); running.Wait() })
	return &sshServer{addr: l.Addr().String(), hostKey: signer.PublicKey(), models: models, srv: srv}
}

func (s *sshServer) dial(key gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", s.addr, &gossh.ClientConfig{User: "counter", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(s.hostKey), Timeout: 30 * time.Second})
}

// counter is one SSH session running the checkout at 80×24.
type counter struct {
	t     *testing.T
	in    io.Writer
	model *atomic.Pointer[Model]
}

func (s *sshServer) open(t *testing.T, key gossh.Signer) *counter {
	t.Helper()
	client, err := s.dial(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	sess.Stdout, sess.Stderr = io.Discard, io.Discard
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return &counter{t: t, in: in, model: <-s.models}
}

func (c *counter) typeIn(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor polls the session's model until cond holds; the bound only stops a broken test.
func (c *counter) waitFor(what string, cond func(Model) bool) Model {
	c.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := c.model.Load(); cond(*m) {
			return *m
		}
	}
	c.t.Fatalf("waiting for %s: the screen is\n%s", what, text(*c.model.Load()))
	return Model{}
}

// Only a key in checkout.authorized_keys gets a session.
func TestSSHAcceptsOnlyAuthorizedKeys(t *testing.T) {
	sh := newShop(t)
	good, bad := newSigner(t), newSigner(t)
	srv := serve(t, sh.a, good.PublicKey())
	if _, err := srv.dial(bad); err == nil {
		t.Fatal("an unknown key got in")
	}
	c := srv.open(t, good)
	c.waitFor("the customers", func(m Model) bool { return len(m.customers.items) == 2 })
}

// Two counters sell the last item at the same moment: exactly one order.
func TestSSHTwoCountersRaceForTheLastItem(t *testing.T) {
	sh := newShop(t)
	key := newSigner(t)
	srv := serve(t, sh.a, key.PublicKey())
	var counters []*counter
	for _, customer := range []string{"1", "2"} {
		c := srv.open(t, key)
		c.waitFor("the customers", func(m Model) bool { return len(m.customers.items) > 0 })
		c.typeIn(customer)
		c.waitFor("the customer", func(m Model) bool { return m.customers.input.Value() == customer && len(m.customers.items) == 1 })
		c.typeIn("\r")
		c.waitFor("the catalogue", func(m Model) bool { return m.screen == scrCatalogue && len(m.catalogue.page.Items) == 4 })
		c.typeIn("LAST")
		c.waitFor("LAST", func(m Model) bool { return len(m.catalogue.page.Items) == 1 })
		c.typeIn("\r")
		c.waitFor("LAST in the cart", func(m Model) bool { return qty(m, "LAST") == 1 })
		c.typeIn("\t")
		c.waitFor("the cart", func(m Model) bool { return m.screen == scrCart && len(m.review.cart.Items) == 1 })
		c.typeIn("\r")
		c.waitFor("the confirmation", func(m Model) bool { return m.screen == scrConfirm })
		counters = append(counters, c)
	}
	for _, c := range counters {
		c.typeIn("y")
	}
	placed := 0
	for _, c := range counters {
		m := c.waitFor("the saga's end", done)
		switch r := m.Result(); {
		case r.Status == app.Placed:
			placed++
		case errors.Is(m.sale.run.err, shop.ErrConflict): // the stock was gone when it looked: refused before its saga
			if m.screen != scrCart || !strings.Contains(m.status, "out of stock") {
				t.Fatalf("the losing counter: screen %v, status %q", m.screen, m.status)
			}
		case r.FailedStep != "reduce_stock" || !r.Compensated: // gone between the look and the reservation
			t.Fatalf("the losing counter: %+v", r)
		}
		if m.Result() != nil && m.Result().Status == app.Placed {
			continue
		}
		// The loser's cart knows the stock is gone: flagged, and pay is
		// refused with a sentence instead of offering the same charge.
		if m.screen == scrSaga {
			c.typeIn("\x1b")
		}
		m = c.waitFor("the flagged cart", func(m Model) bool {
			return m.screen == scrCart && !m.saving() && strings.Contains(text(m), "LAST: out of stock, 1 in the cart")
		})
		if !strings.Contains(text(m), "!1") {
			t.Fatalf("the losing counter's cart has no ! flag:\n%s", text(m))
		}
		c.typeIn("\r")
		c.waitFor("pay refused", func(m Model) bool { return m.screen == scrCart && strings.Contains(m.status, "more than the stock") })
	}
	if placed != 1 {
		t.Fatalf("%d counters placed an order", placed)
	}
	if n := len(sh.orders(1)) + len(sh.orders(2)); n != 1 {
		t.Fatalf("%d orders in the database", n)
	}
	if st := sh.stock("LAST"); st != 0 {
		t.Fatalf("LAST stock %d", st)
	}
}
