package postgres

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rabbitpay/rabbitpay/internal/shop"
)

var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// CheckURL refuses a connection string of another database (mysql://…),
// which pgx would otherwise try to read as key=value settings and report as
// "failed to parse as keyword/value". It names only the scheme, never the URL.
func CheckURL(url string) error {
	m := urlScheme.FindStringSubmatch(strings.TrimSpace(url))
	if m == nil {
		return nil
	}
	if s := strings.ToLower(m[1]); s == "postgres" || s == "postgresql" {
		return nil
	}
	return shop.InField("database URL", shop.Invalid("the database URL is a %s:// URL: rabbitpay speaks only PostgreSQL, "+
		"so give a postgres:// or postgresql:// URL, or key=value settings (host=… dbname=…)", m[1]))
}

// ServerRefused reports whether err is a connection the server itself
// refused (a wrong password, an unknown role or database): the server is up.
func ServerRefused(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	return errors.As(err, &ce) && errors.As(err, &pe)
}
