package tui

import (
	"bytes"
	"context"
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
	"charm.land/log/v2"
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
	// Mark is every session's header mark (Options.Mark).
	Mark string
	// Running counts the sagas of every session (see Options.Running).
	Running *sync.WaitGroup
	// Log hears each login and each refused key (nil: nobody).
	Log  *log.Logger
	wrap func(tea.Model) tea.Model // tests watch each session's model
}

// Server is the checkout served over SSH: one checkout model per session
// over one shared Shop; only the authorized keys get in.
type Server struct {
	*ssh.Server
	mu       sync.Mutex
	programs map[*tea.Program]bool
	goodbye  string // why the sessions end, once Stop was called
}

// stoppingMsg tells a session the server stops: it quits as q does (a
// saga in flight finishes or compensates first).
type stoppingMsg struct{ reason string }

// NewServer returns the SSH server.
func NewServer(o ServerOptions) (*Server, error) {
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
	logf := func(refused bool, msg string, kv ...any) {
		switch {
		case o.Log == nil:
		case refused:
			o.Log.Warn(msg, kv...)
		default:
			o.Log.Info(msg, kv...)
		}
	}
	srv := &Server{programs: map[*tea.Program]bool{}}
	srv.Server, err = wish.NewServer(
		wish.WithAddress(o.Addr),
		wish.WithHostKeyPEM(hostKey),
		wish.WithPublicKeyAuth(func(ctx ssh.Context, key ssh.PublicKey) bool {
			who := []any{"user", ctx.User(), "key", gossh.FingerprintSHA256(key), "addr", ctx.RemoteAddr().String()}
			keys, err := authorizedKeys(o.AuthorizedKeys)
			if err != nil {
				logf(true, "login refused: "+err.Error(), who...)
				return false
			}
			for _, k := range keys {
				if ssh.KeysEqual(key, k) {
					logf(false, "login", who...)
					return true
				}
			}
			logf(true, "login refused: the key is not in checkout.authorized_keys", who...)
			return false
		}),
		wish.WithMiddleware(
			func(next ssh.Handler) ssh.Handler { // runs once the session's checkout has ended
				return func(sess ssh.Session) {
					srv.mu.Lock()
					bye := srv.goodbye
					srv.mu.Unlock()
					if bye != "" {
						fmt.Fprintf(sess, "%s\r\n", bye)
					}
					logf(false, "session ended", "user", sess.User(), "addr", sess.RemoteAddr().String())
					next(sess)
				}
			},
			bm.MiddlewareWithProgramHandler(func(sess ssh.Session) *tea.Program {
				var m tea.Model = New(Options{Shop: o.Shop, Ctx: sess.Context(), Running: o.Running, Mark: o.Mark})
				if o.wrap != nil {
					m = o.wrap(m)
				}
				// The session ends with its connection: the server's
				// process signals are not the session's to handle.
				p := tea.NewProgram(m, append(bm.MakeOptions(sess), tea.WithoutSignalHandler())...)
				srv.mu.Lock()
				defer srv.mu.Unlock()
				if srv.goodbye != "" {
					return nil // stopping: no new checkout
				}
				srv.programs[p] = true
				go func() { <-sess.Context().Done(); srv.mu.Lock(); delete(srv.programs, p); srv.mu.Unlock() }()
				return p
			}),
			activeterm.Middleware(),
		),
	)
	return srv, err
}

// Stop tells every session why it ends (each quits as q does: a saga in
// flight finishes or compensates first, then the reason is printed under
// its screen), waits for them until ctx ends, then shuts the server down.
func (s *Server) Stop(ctx context.Context, reason string) error {
	s.mu.Lock()
	s.goodbye = reason
	for p := range s.programs {
		p.Send(stoppingMsg{reason})
	}
	s.mu.Unlock()
	err := s.Shutdown(ctx)
	if err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		s.Close()
	}
	return err
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
		if err != nil { // the library's words ("illegal base64 data at input byte 4") say nothing here
			return nil, fmt.Errorf("checkout.authorized_keys %s line %d is not a public key: write one key a line as ssh-keygen prints it (ssh-ed25519 AAAA… comment)", path, n+1)
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
