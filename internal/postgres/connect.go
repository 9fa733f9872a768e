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
	"slices"
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
	// "invalid connect_timeout (strconv.ParseInt: parsing "abc": invalid syntax)":
	// the setting and its value, not the library's words.
	if m := strconvText.FindStringSubmatch(s); m != nil {
		s = fmt.Sprintf("%s %q is not a whole number", m[1], m[2])
	}
	return strings.Join(strings.Fields(s), " ")
}

var strconvText = regexp.MustCompile(`^invalid (\w+) \(strconv\.Parse\w+: parsing "(.*)": .*\)$`)

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
// authentication error, or "timed out after 5s". With several hosts (a
// multi-host URL) it names each server tried and why it was not used
// (describeHosts). Other errors are returned as they are.
func DescribeConnectError(err error) error {
	var ce *pgconn.ConnectError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	var already *ConnectError
	if errors.As(err, &already) {
		return err
	}
	msg := "cannot connect to " + target(ce.Config) + ": " + cause(ce)
	if hosts := hostsOf(ce.Config); len(hosts) > 1 {
		msg = describeHosts(ce, hosts)
	}
	// Words around the connect error (a saga step's, a replica's) stay around
	// the sentence; pgx's own text breaks lines and ends at a colon.
	if full := err.Error(); full != ce.Error() {
		msg = strings.Replace(full, ce.Error(), msg, 1)
	}
	return &ConnectError{msg: msg, err: err}
}

// hostPort is one server of a multi-host URL.
type hostPort struct {
	host string
	port uint16
}

// hostsOf lists the distinct servers a configuration names, in order (pgx
// adds a fallback per host for sslmode=prefer's second, plain attempt).
func hostsOf(c *pgconn.Config) []hostPort {
	if c == nil {
		return nil
	}
	hosts := []hostPort{{c.Host, c.Port}}
	for _, f := range c.Fallbacks {
		if h := (hostPort{f.Host, f.Port}); !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// describeHosts says, in one sentence, what happened at each server of a
// multi-host URL: "cannot connect to a writable server: 127.0.0.1:5432
// refused the connection; 127.0.0.1:5433 is a read-only standby". pgx joins
// one error per attempt, each starting "ADDRESS (HOST): " (pgconn's
// perDialConnectError), plus name look-up errors; an authentication error
// ends the attempts, so the servers after it were not tried.
func describeHosts(ce *pgconn.ConnectError, hosts []hostPort) string {
	per := make([][]error, len(hosts))
	for _, a := range leaves(errors.Unwrap(ce)) {
		if k := attemptHost(a, hosts); k >= 0 {
			per[k] = append(per[k], a)
		}
	}
	writable := false
	parts := make([]string, len(hosts))
	for k, h := range hosts {
		name := target(&pgconn.Config{Host: h.host, Port: h.port})
		if len(per[k]) == 0 {
			parts[k] = name + " was not tried"
			continue
		}
		if slices.ContainsFunc(per[k], func(e error) bool {
			return errors.Is(e, pgconn.ErrReadOnlyConnection) || errors.Is(e, pgconn.ErrStandbyConnection)
		}) {
			parts[k], writable = name+" is a read-only standby", true
			continue
		}
		parts[k] = name + " " + hostReason(per[k], ce.Config)
	}
	what := "any of its servers"
	if writable {
		what = "a writable server"
	}
	return "cannot connect to " + what + ": " + strings.Join(parts, "; ")
}

// attemptHost finds the server an attempt's error belongs to, or -1.
func attemptHost(a error, hosts []hostPort) int {
	var de *net.DNSError
	if errors.As(a, &de) {
		for k, h := range hosts {
			if h.host == de.Name {
				return k
			}
		}
	}
	s := a.Error()
	i := strings.Index(s, " (")
	if i < 0 {
		return -1
	}
	addr, rest := s[:i], s[i+2:]
	for k, h := range hosts {
		if !strings.HasPrefix(rest, h.host+"): ") {
			continue
		}
		network, want := pgconn.NetworkAddress(h.host, h.port)
		if addr == want || network == "tcp" && strings.HasSuffix(addr, ":"+strconv.Itoa(int(h.port))) {
			return k
		}
	}
	return -1
}

// hostReason is why one server of several failed, as a predicate:
// "refused the connection", "timed out after 5s", "refused the login: …".
func hostReason(attempts []error, c *pgconn.Config) string {
	for _, a := range attempts {
		var pe *pgconn.PgError
		if errors.As(a, &pe) {
			if strings.HasPrefix(pe.Code, "28") { // invalid_authorization_specification, invalid_password
				return "refused the login: " + pe.Message
			}
			return "answered: " + pe.Message
		}
	}
	for _, a := range attempts {
		if errors.Is(a, syscall.ECONNREFUSED) {
			return "refused the connection"
		}
	}
	why := causeOf(attempts, c)
	if strings.HasPrefix(why, "timed out") || why == "interrupted" {
		return why
	}
	return "failed: " + why
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
func cause(ce *pgconn.ConnectError) string { return causeOf(leaves(errors.Unwrap(ce)), ce.Config) }

func causeOf(attempts []error, c *pgconn.Config) string {
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
				return fmt.Sprintf("looking up host %s timed out%s", de.Name, after(c))
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
			return "timed out" + after(c)
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
