package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgpassfile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultConnectTimeout bounds connecting (name lookup, TCP/socket, TLS,
// authentication) when the URL and PGCONNECT_TIMEOUT set no connect_timeout.
const DefaultConnectTimeout = 5 * time.Second

// Option tunes Open.
type Option func(*options)

type options struct{ connectTimeout time.Duration }

// ConnectTimeout sets the connect timeout used when the URL sets none; zero
// or less keeps DefaultConnectTimeout.
func ConnectTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.connectTimeout = d
		}
	}
}

// configurePool applies rabbitpay's connection defaults to a parsed pool config.
func configurePool(cfg *pgxpool.Config, url string, opts []Option) {
	o := options{connectTimeout: DefaultConnectTimeout}
	for _, f := range opts {
		f(&o)
	}
	configureConn(cfg.ConnConfig, url, o.connectTimeout)
	if pf, explicit := passfile(url); pf != "" && (explicit || cfg.ConnConfig.Password == "") {
		// libpq reads the password file at each connection; pgx reads it
		// once, when the URL is parsed. Read it again for every new
		// connection, so a password written after the pool was made (the
		// embedded cluster's first start) is used.
		cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			usePassfile(cc, pf, explicit)
			return nil
		}
	}
}

// usePassfile sets the connection's password from a password file. A
// passfile the URL names itself is preferred to a password from the
// PGPASSWORD environment variable (meant for the operator's other servers:
// the embedded cluster's URL names its own password file); a password in the
// URL always wins.
func usePassfile(cc *pgx.ConnConfig, pf string, explicit bool) {
	fromEnv := cc.Password != "" && cc.Password == os.Getenv("PGPASSWORD")
	if cc.Password == "" || explicit && fromEnv {
		if pw := passwordFrom(pf, &cc.Config); pw != "" {
			cc.Password = pw
		}
	}
}

// configureConn sets the connect timeout when the URL sets none (an explicit
// connect_timeout=0, waiting forever as in libpq, is kept), and bounds the
// host name lookup by it too.
func configureConn(cc *pgx.ConnConfig, url string, timeout time.Duration) {
	if cc.ConnectTimeout == 0 && !connectTimeoutSet.MatchString(url) {
		cc.ConnectTimeout = timeout
	}
	if d := cc.ConnectTimeout; d > 0 {
		lookup := cc.LookupFunc
		cc.LookupFunc = func(ctx context.Context, host string) ([]string, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return lookup(ctx, host)
		}
	}
}

var connectTimeoutSet = regexp.MustCompile(`(?:^|[?&\s])connect_timeout\s*=`)

// connect opens one connection to url with the same defaults as Open.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	if err := CheckURL(url); err != nil {
		return nil, err
	}
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL is not valid: %s", parseErrorText(err))
	}
	configureConn(cc, url, DefaultConnectTimeout)
	if pf, explicit := passfile(url); explicit {
		usePassfile(cc, pf, explicit)
	}
	return pgx.ConnectConfig(ctx, cc)
}

// passfile returns the passfile a connection string names (explicit), else PGPASSFILE.
func passfile(url string) (path string, explicit bool) {
	if u, err := neturl.Parse(url); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if pf := u.Query().Get("passfile"); pf != "" {
			return pf, true
		}
	} else if m := kvPassfile.FindStringSubmatch(url); m != nil {
		return strings.Trim(m[1], "'"), true
	}
	return os.Getenv("PGPASSFILE"), false
}

var kvPassfile = regexp.MustCompile(`(?:^|\s)passfile\s*=\s*('[^']*'|\S+)`)

// passwordFrom looks the connection's password up in a pgpass file, as pgconn does.
func passwordFrom(path string, c *pgconn.Config) string {
	pf, err := pgpassfile.ReadPassfile(path)
	if err != nil {
		return ""
	}
	host := c.Host
	if network, _ := pgconn.NetworkAddress(c.Host, c.Port); network == "unix" {
		host = "localhost"
	}
	return pf.FindPassword(host, strconv.Itoa(int(c.Port)), c.Database, c.User)
}

// parseErrorText is the reason a connection string did not parse, without
// the string itself (which may hold a password).
func parseErrorText(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "cannot parse `") {
		if i := strings.Index(s, "`: "); i >= 0 {
			s = s[i+3:]
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// ConnectError is a failed connection described in one sentence:
// "cannot connect to HOST:PORT: CAUSE". It unwraps to pgx's error.
type ConnectError struct {
	msg string
	err error
}

func (e *ConnectError) Error() string { return e.msg }
func (e *ConnectError) Unwrap() error { return e.err }

// DescribeConnectError turns a pgconn.ConnectError (a multi-line message that
// starts "failed to connect to `user=… database=…`:") into one sentence that
// keeps the cause: connection refused, an unknown host, the server's
// authentication error, or "timed out after 5s". Other errors are returned as they are.
func DescribeConnectError(err error) error {
	var ce *pgconn.ConnectError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	var already *ConnectError
	if errors.As(err, &already) {
		return err
	}
	return &ConnectError{msg: "cannot connect to " + target(ce.Config) + ": " + cause(ce), err: err}
}

func target(c *pgconn.Config) string {
	if c == nil {
		return "the database"
	}
	if network, addr := pgconn.NetworkAddress(c.Host, c.Port); network == "unix" {
		return "the server on socket " + filepath.Clean(addr)
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// cause picks the most telling reason among the attempts (with sslmode=prefer
// pgx tries TLS, then plain): the server's own error, then a failed name
// look-up, a timeout, a system error, else the last attempt's innermost error.
func cause(ce *pgconn.ConnectError) string {
	attempts := leaves(errors.Unwrap(ce))
	for _, a := range attempts {
		var pe *pgconn.PgError
		if errors.As(a, &pe) {
			return pe.Message
		}
	}
	for _, a := range attempts {
		var de *net.DNSError
		if errors.As(a, &de) {
			if de.IsNotFound {
				return "unknown host " + de.Name
			}
			if de.IsTimeout {
				return fmt.Sprintf("looking up host %s timed out%s", de.Name, after(ce.Config))
			}
			return fmt.Sprintf("cannot look up host %s: %s", de.Name, de.Err)
		}
	}
	for _, a := range attempts {
		if errors.Is(a, context.Canceled) {
			return "interrupted"
		}
		var ne net.Error
		if errors.Is(a, context.DeadlineExceeded) || errors.As(a, &ne) && ne.Timeout() {
			return "timed out" + after(ce.Config)
		}
	}
	for _, a := range attempts {
		var errno syscall.Errno
		if errors.As(a, &errno) {
			if errno == syscall.ENOENT {
				return "no server is listening there (no such socket)"
			}
			return errno.Error()
		}
	}
	if len(attempts) == 0 {
		return "unknown error"
	}
	last := attempts[len(attempts)-1]
	for errors.Unwrap(last) != nil {
		last = errors.Unwrap(last)
	}
	return strings.Join(strings.Fields(last.Error()), " ")
}

func after(c *pgconn.Config) string {
	if c == nil || c.ConnectTimeout <= 0 {
		return ""
	}
	return " after " + c.ConnectTimeout.String()
}

// leaves flattens joined errors (one per connection attempt).
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	if w := errors.Unwrap(err); w != nil {
		if _, ok := w.(interface{ Unwrap() []error }); ok {
			return leaves(w)
		}
	}
	return []error{err}
}
