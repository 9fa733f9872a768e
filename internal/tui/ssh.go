package tui

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"
)

// ServerOptions configure the checkout served over SSH.
type ServerOptions struct {
	Addr string
	// HostKey is the server's private key file, created (mode 0600) when missing.
	HostKey string
	// AuthorizedKeys is an OpenSSH authorized_keys file, read at every login.
	AuthorizedKeys string
	Shop           Shop
	// Running counts the sagas of every session (see Options.Running).
	Running *sync.WaitGroup
	wrap    func(tea.Model) tea.Model // tests watch each session's model
}

// NewServer returns an SSH server giving each session its own checkout
// model over one shared Shop; only the authorized keys get in.
func NewServer(o ServerOptions) (*ssh.Server, error) {
	if o.AuthorizedKeys == "" {
		return nil, errors.New("checkout.authorized_keys is not set: name an authorized_keys file of the public keys that may log in")
	}
	if _, err := authorizedKeys(o.AuthorizedKeys); err != nil {
		return nil, err
	}
	hostKey, err := ensureHostKey(o.HostKey)
	if err != nil {
		return nil, err
	}
	return wish.NewServer(
		wish.WithAddress(o.Addr),
		wish.WithHostKeyPEM(hostKey),
		wish.WithPublicKeyAuth(func(_ ssh.Context, key ssh.PublicKey) bool {
			keys, err := authorizedKeys(o.AuthorizedKeys)
			if err != nil {
				return false
			}
			for _, k := range keys {
				if ssh.KeysEqual(key, k) {
					return true
				}
			}
			return false
		}),
		wish.WithMiddleware(
			bm.Middleware(func(sess ssh.Session) (tea.Model, []tea.ProgramOption) {
				var m tea.Model = New(Options{Shop: o.Shop, Ctx: sess.Context(), Running: o.Running})
				if o.wrap != nil {
					m = o.wrap(m)
				}
				// The session ends with its connection: the server's
				// process signals are not the session's to handle.
				return m, []tea.ProgramOption{tea.WithoutSignalHandler()}
			}),
			activeterm.Middleware(),
		),
	)
}

// authorizedKeys reads an authorized_keys file; a line it cannot read is an error.
func authorizedKeys(path string) ([]ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkout.authorized_keys: %w", err)
	}
	var keys []ssh.PublicKey
	for n, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(l)
		if err != nil {
			return nil, fmt.Errorf("checkout.authorized_keys %s line %d is not a public key: %v", path, n+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ensureHostKey returns the host key at path, creating an Ed25519 key there
// (mode 0600) the first time. A key others can read is refused.
func ensureHostKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("SSH host key %s can be read by other users (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
		}
		return data, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "rabbitpay checkout host key")
	if err != nil {
		return nil, err
	}
	data = pem.EncodeToMemory(block)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot create the SSH host key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	return data, f.Close()
}
