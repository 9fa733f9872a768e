package tui

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

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

// authorizedKeys reads an authorized_keys file; a line it cannot read, a
// line with options (from=, expiry-time=, restrict…: the checkout would not
// honour them) and a file with no key at all are errors.
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
		k, _, options, _, err := ssh.ParseAuthorizedKey(l)
		if err != nil {
			return nil, fmt.Errorf("checkout.authorized_keys %s line %d is not a public key: %v", path, n+1, err)
		}
		if len(options) > 0 {
			return nil, fmt.Errorf("checkout.authorized_keys %s line %d has options (%s), which the checkout does not honour: list the bare key",
				path, n+1, strings.Join(options, ","))
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("checkout.authorized_keys %s lists no public key: nobody could log in", path)
	}
	return keys, nil
}

// ensureHostKey returns the host key at path, creating an Ed25519 key there
// (mode 0600) the first time. The key is written to a temporary file and
// linked into place, so a crash never leaves an empty key and, of two
// servers starting together, the second reads the first's key. An existing
// key must be a regular file (not a symlink) owned by the effective user
// that nobody else can read or write.
func ensureHostKey(path string) ([]byte, error) {
	for range 3 {
		data, err := readHostKey(path)
		if !errors.Is(err, os.ErrNotExist) {
			return data, err
		}
		if data, err = newHostKey(); err != nil {
			return nil, err
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
		if err != nil {
			return nil, fmt.Errorf("cannot create the SSH host key: %w", err)
		}
		_, err = tmp.Write(data)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(tmp.Name(), path)
		}
		os.Remove(tmp.Name())
		switch {
		case err == nil:
			return data, nil
		case errors.Is(err, os.ErrExist): // another server made it meanwhile: read it
			continue
		}
		return nil, fmt.Errorf("cannot create the SSH host key: %w", err)
	}
	return nil, fmt.Errorf("SSH host key %s: cannot create or read it", path)
}

// readHostKey reads an existing host key, refusing one that is not a
// regular file owned by the effective user with mode 0600 (or 0400).
func readHostKey(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("SSH host key %s is not a regular file (%s): remove it, or point data_dir elsewhere", path, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("SSH host key: %w", err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("SSH host key %s is not a regular file", path)
	case ok && int(st.Uid) != os.Geteuid():
		return nil, fmt.Errorf("SSH host key %s belongs to user %d, not to this one (%d)", path, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&^0o600 != 0:
		return nil, fmt.Errorf("SSH host key %s has mode %04o; it must be 0600: run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if _, err := gossh.ParsePrivateKey(data); err != nil {
		return nil, fmt.Errorf("SSH host key %s is not a private key (%v): remove it and a new one is made", path, err)
	}
	return data, nil
}

func newHostKey() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "rabbitpay checkout host key")
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(block), nil
}
