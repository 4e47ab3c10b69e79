package migrate

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/relay"
	"github.com/ppg-cli/ppg/tunnel"
)

// relayPort is the port in the name of the relay's Unix socket
// (.s.PGSQL.5432), which pg_dump reaches with host=DIR port=5432.
const relayPort = "5432"

// dumpRelay is a relay (package relay) between pg_dump and the source,
// which hides pg_dump's per-object round trips: for a direct URL it dials
// the server itself, with TLS and SNI as the URL's sslmode says; behind an
// API key it dials the endpoint's private tunnel, which opens one
// authenticated WebSocket to the gateway per connection. pg_dump
// authenticates through it with the server: the relay holds no password.
type dumpRelay struct {
	r   *relay.Relay
	dir string // the private folder of the Unix socket; "" on TCP
}

// startDumpRelay starts the relay for src, or returns nil when it is
// switched off (Config.NoRelay) or src is neither a direct URL nor behind
// a tunnel.
func (e *Engine) startDumpRelay(src *Endpoint) (*dumpRelay, error) {
	if e.cfg.NoRelay {
		return nil, nil
	}
	var target string
	switch {
	case src.Cred.Direct():
		target = src.Cred.URL
	case src.Conn.Tunnel:
		// The tunnel's local hop is plain: TLS lives on its WebSocket.
		target = "host=" + quoteConnValue(src.Conn.Host) + " port=" + quoteConnValue(src.Conn.Port) + " sslmode=disable"
	default:
		return nil, nil
	}
	dial, err := relay.DialURL(target)
	if err != nil {
		return nil, fmt.Errorf("start the relay in front of pg_dump: %w", err)
	}
	cfg := relay.Config{Dial: dial, DumpMajor: e.pick.Dump.Version.Major}
	if !tunnel.UnixSupported() {
		r, err := relay.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			return nil, fmt.Errorf("start the relay in front of pg_dump: %w", err)
		}
		return &dumpRelay{r: r}, nil
	}
	dir, err := tunnel.PrivateSocketDir("ppg-relay-")
	if err != nil {
		return nil, fmt.Errorf("start the relay in front of pg_dump: %w", err)
	}
	r, err := relay.Listen("unix", filepath.Join(dir, ".s.PGSQL."+relayPort), cfg)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start the relay in front of pg_dump: %w", err)
	}
	return &dumpRelay{r: r, dir: dir}, nil
}

// conn is what pg_dump connects with through the relay: its socket, with
// the local hop plain (the relay answers SSLRequest with 'N'), and the
// source's user, database and password, which pass through to the server.
func (d *dumpRelay) conn(c pgtools.Conn) pgtools.Conn {
	if d == nil {
		return c
	}
	if d.dir != "" {
		c.Host, c.Port = d.dir, relayPort
	} else {
		addr := d.r.Addr().(*net.TCPAddr)
		c.Host, c.Port = addr.IP.String(), fmt.Sprint(addr.Port)
	}
	// The relay holds the TLS upstream; the local hop carries none.
	c.SSLMode, c.SSLRootCert, c.SSLCert, c.SSLKey = "disable", "", "", ""
	return c
}

// close stops the relay and removes its folder.
func (d *dumpRelay) close() {
	if d == nil {
		return
	}
	_ = d.r.Close()
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// failed turns pg_dump's failure runErr into a lost connection when the
// relay's link to the server broke: pg_dump cannot resume a connection,
// so the step is retried whole, as after any other lost connection. The
// cause is pg_dump's own line when it printed one, else the link's error.
func (d *dumpRelay) failed(runErr error, src *Endpoint) error {
	if d == nil || runErr == nil {
		return runErr
	}
	var (
		up    *relay.UpstreamError
		ee    *pgtools.ExitError
		stall *StalledError
	)
	switch {
	case errors.As(runErr, &ee) && ee.Canceled, errors.As(runErr, &stall):
		return runErr // stopped, or stalled: not the link's doing
	case !errors.As(d.r.Err(), &up):
		return runErr
	}
	lost := connectionLost(nil, runErr)
	if lost == nil {
		lost = &ConnectionLostError{Tool: "pg_dump", Cause: up.Error()}
	}
	lost.Side, lost.Tunnel = Source, src.Conn.Tunnel
	return lost
}

// dumpConnectionLost is the lost connection behind pg_dump's failure: the
// relay's (see dumpRelay.failed), or one pg_dump's last lines tell.
func dumpConnectionLost(runErr error) *ConnectionLostError {
	var lost *ConnectionLostError
	if errors.As(runErr, &lost) {
		return lost
	}
	return connectionLost(nil, runErr)
}

// quoteConnValue quotes a value of a keyword/value connection string, as
// libpq reads them: in single quotes, with backslash and quote escaped.
func quoteConnValue(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "'" + strings.ReplaceAll(v, `'`, `\'`) + "'"
}
