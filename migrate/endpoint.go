package migrate

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Side tells the source (EA) database from the target (GA) one.
type Side int

// The two sides of a migration.
const (
	Source Side = iota + 1
	Target
)

func (s Side) String() string {
	if s == Source {
		return "EA database"
	}
	return "GA database"
}

// endpoint is one open database: a tunnel when the credential is an API
// key, the parameters the tools connect with, and a pgx connection for the
// engine's own queries. Close releases all three.
type endpoint struct {
	cred tunnel.Credential
	tun  *tunnel.Tunnel
	// conn is what pg_dump and pg_restore connect with.
	conn pgtools.Conn
	// db is the engine's own connection.
	db *pgx.Conn
}

// ConnectError wraps a failure to reach a database with what it means for
// the user. Its text never holds a key or password.
type ConnectError struct {
	Side Side
	Err  error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect to the %s: %v", e.Side, e.Err) }
func (e *ConnectError) Unwrap() error { return e.Err }

// openEndpoint checks the credential and connects. For an API key it first
// asks the gateway (a 401/410 fails fast with a clear message), then starts
// a private tunnel: a Unix socket in a 0700 directory where the system has
// them, else TCP on loopback.
func openEndpoint(ctx context.Context, side Side, cred tunnel.Credential, tcfg tunnel.Config) (*endpoint, error) {
	ep := &endpoint{cred: cred}
	var pgxConfig *pgx.ConnConfig
	var err error
	if cred.Direct() {
		pgxConfig, err = pgx.ParseConfig(cred.URL)
		if err != nil {
			return nil, &ConnectError{Side: side, Err: errors.New("the URL is not a valid connection URL")}
		}
		ep.conn = pgtools.Conn{
			Host:     pgxConfig.Host,
			Port:     strconv.Itoa(int(pgxConfig.Port)),
			User:     pgxConfig.User,
			Database: pgxConfig.Database,
			Password: pgxConfig.Password,
			SSLMode:  sslMode(cred.URL),
		}
	} else {
		tcfg.Key = cred.APIKey
		if err := tunnel.Check(ctx, tcfg); err != nil {
			return nil, &ConnectError{Side: side, Err: err}
		}
		if tunnel.UnixSupported() {
			tcfg.Network = "unix"
		}
		ep.tun, err = tunnel.Start(ctx, tcfg)
		if err != nil {
			return nil, &ConnectError{Side: side, Err: err}
		}
		// The gateway accepts any user name and no password, and the
		// database is always "postgres".
		ep.conn = pgtools.Conn{Host: ep.tun.Host(), Port: strconv.Itoa(ep.tun.Port()), User: "postgres", Database: "postgres", Tunnel: true}
		pgxConfig, err = pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", ep.tun.Host(), ep.tun.Port()))
		if err != nil {
			ep.Close()
			return nil, &ConnectError{Side: side, Err: err}
		}
	}
	pgxConfig.RuntimeParams["application_name"] = "ppg"
	ep.db, err = pgx.ConnectConfig(ctx, pgxConfig)
	if err != nil {
		ep.Close()
		return nil, &ConnectError{Side: side, Err: err}
	}
	return ep, nil
}

// sslMode returns the sslmode parameter of a URL, "" when absent.
func sslMode(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Query().Get("sslmode")
}

// Close ends the connection and the tunnel.
func (ep *endpoint) Close() {
	if ep == nil {
		return
	}
	if ep.db != nil {
		ep.db.Close(context.Background())
	}
	if ep.tun != nil {
		ep.tun.Close()
	}
}
