package pgdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config is how to reach a database: parsed from a connection URL, or
// made for a local tunnel.
type Config struct{ c *pgx.ConnConfig }

// Params are the connection parameters a Config holds, for tools that
// connect with them (pg_dump, pg_restore).
type Params struct {
	Host     string
	Port     uint16
	User     string
	Database string
	Password string
}

// ParseURL reads a connection URL (or libpq keyword/value string). Its
// error never holds the URL: a URL can hold a password.
func ParseURL(raw string) (*Config, error) {
	c, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, errors.New("the URL is not a valid connection URL")
	}
	return &Config{c: c}, nil
}

// TunnelConfig is the Config of a tunnel listening on host and port (a
// directory for a Unix socket): Prisma's gateway takes any user name and
// no password, the database is always "postgres", and TLS is the
// WebSocket's, so the local link negotiates none.
func TunnelConfig(host string, port int) (*Config, error) {
	c, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", host, port))
	if err != nil {
		return nil, fmt.Errorf("tunnel connection parameters: %w", err)
	}
	return &Config{c: c}, nil
}

// Params returns the parameters of the first host.
func (c *Config) Params() Params {
	return Params{Host: c.c.Host, Port: c.c.Port, User: c.c.User, Database: c.c.Database, Password: c.c.Password}
}

// Connect opens a DB named app (its application_name). A config without
// connect_timeout waits at most timeout: a link that hangs without closing
// must fail the connection, not hang the run. The caller closes the DB.
func Connect(ctx context.Context, cfg *Config, app string, timeout time.Duration) (*DB, error) {
	c := cfg.c.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams["application_name"] = app
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = timeout
	}
	conn, err := pgx.ConnectConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return &DB{conn: conn}, nil
}

// ServerError reports whether err holds an error the server sent for a
// statement (*pgconn.PgError), with its SQLSTATE code and primary message:
// the statement failed, the connection did not. An error while connecting
// is not one, even when the server (or a tunnel standing in for it) sent
// it: the connection failed.
func ServerError(err error) (code, message string, ok bool) {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "", "", false
	}
	return pgError(err)
}

// AuthFailed reports whether err is the server refusing the password
// (28P01) or the role (28000) while connecting.
func AuthFailed(err error) bool {
	code, _, ok := pgError(err)
	return ok && (code == "28P01" || code == "28000")
}

func pgError(err error) (code, message string, ok bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return "", "", false
	}
	return pe.Code, pe.Message, true
}
