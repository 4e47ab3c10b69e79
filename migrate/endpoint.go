package migrate

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Side tells the source database from the target one.
type Side int

// The two sides of a migration.
const (
	Source Side = iota + 1
	Target
)

func (s Side) String() string {
	if s == Source {
		return "source"
	}
	return "target"
}

// MarshalText writes "source" or "target".
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "source" or "target".
func (s *Side) UnmarshalText(b []byte) error {
	switch string(b) {
	case "source":
		*s = Source
	case "target":
		*s = Target
	default:
		return fmt.Errorf("unknown side %q", b)
	}
	return nil
}

// ConnectError wraps a failure to reach a database. Its text never holds
// a key or password.
type ConnectError struct {
	Side Side
	Err  error
	// Auth is set when the server refused the password of a direct URL.
	Auth bool
}

func (e *ConnectError) Error() string { return fmt.Sprintf("connect to the %s: %v", e.Side, e.Err) }
func (e *ConnectError) Unwrap() error { return e.Err }

// connectTimeout bounds opening a connection whose URL sets no
// connect_timeout.
const connectTimeout = 30 * time.Second

// NewOpener returns the real Opener: for an API key it first asks the
// gateway (a 401/410 fails fast with the gateway's answer), then starts a
// private tunnel from the template tcfg (a Unix socket in a 0700 directory
// where the system has them, else TCP on loopback); a direct URL is
// connected to as it is.
func NewOpener(tcfg tunnel.Config) Opener { return opener{tcfg: tcfg} }

type opener struct{ tcfg tunnel.Config }

func (o opener) Open(ctx context.Context, side Side, cred tunnel.Credential) (*Endpoint, error) {
	var conn pgtools.Conn
	var tun *tunnel.Tunnel
	var cfg *pgdb.Config
	var err error
	if cred.Direct() {
		if cfg, err = pgdb.ParseURL(cred.URL); err != nil {
			return nil, &ConnectError{Side: side, Err: err}
		}
		p := cfg.Params()
		conn = pgtools.Conn{
			Host:     p.Host,
			Port:     strconv.Itoa(int(p.Port)),
			User:     p.User,
			Database: p.Database,
			Password: p.Password,
			SSLMode:  sslMode(cred.URL),
		}
		conn.SSLRootCert, conn.SSLCert, conn.SSLKey = sslFiles(cred.URL)
	} else {
		tcfg := o.tcfg
		tcfg.Key = cred.APIKey
		if err := tunnel.Check(ctx, tcfg); err != nil {
			return nil, &ConnectError{Side: side, Err: err}
		}
		if tunnel.UnixSupported() {
			tcfg.Network = "unix"
		}
		tun, err = tunnel.Start(ctx, tcfg)
		if err != nil {
			return nil, &ConnectError{Side: side, Err: err}
		}
		// The gateway accepts any user name and no password, and the
		// database is always "postgres".
		conn = pgtools.Conn{Host: tun.Host(), Port: strconv.Itoa(tun.Port()), User: "postgres", Database: "postgres", Tunnel: true}
		if cfg, err = pgdb.TunnelConfig(tun.Host(), tun.Port()); err != nil {
			_ = tun.Close()
			return nil, &ConnectError{Side: side, Err: err}
		}
	}
	db, err := pgdb.Connect(ctx, cfg, "ppg", connectTimeout)
	if err != nil {
		if tun != nil {
			_ = tun.Close()
		}
		return nil, &ConnectError{Side: side, Err: err, Auth: pgdb.AuthFailed(err)}
	}
	return NewEndpoint(cred, conn, NewDB(db), func() {
		db.Close()
		if tun != nil {
			_ = tun.Close()
		}
	}), nil
}

// sslFiles returns the URL's sslrootcert, sslcert and sslkey parameters,
// "" for those not set: pg_dump and pg_restore need them as ppg's own
// connection has them (a verify-full URL with its own CA would otherwise
// fail in the tool, looking for ~/.postgresql/root.crt).
func sslFiles(raw string) (rootCert, cert, key string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", ""
	}
	q := u.Query()
	return q.Get("sslrootcert"), q.Get("sslcert"), q.Get("sslkey")
}

// sslMode returns the sslmode parameter of a URL, "" when absent.
func sslMode(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Query().Get("sslmode")
}
