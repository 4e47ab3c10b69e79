package relay

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Dialer opens a connection to the server, ready for the startup message:
// any TLS is already negotiated on it. The relay calls it once per client
// connection (and once per cancel request). A tunnel's dial fits as well as
// DialURL's.
type Dialer func(ctx context.Context) (net.Conn, error)

// sslRequestCode is the protocol's SSLRequest code (1234.5679).
const sslRequestCode = 80877103

// dialTimeout bounds one TCP connect when the URL sets no connect_timeout.
const dialTimeout = 30 * time.Second

// DialURL returns a Dialer for a postgres:// URL (or keyword/value string)
// with libpq's TLS semantics, as pgconn reads them: sslmode disable, allow,
// prefer (the default), require, verify-ca and verify-full; sslrootcert (a
// file, or "system" for the system pool, which implies verify-full);
// sslcert/sslkey; and SNI carrying the host name whenever the host is a
// name, not an address (Prisma Postgres routes direct connections by SNI).
// The URL's user, password and database are not used: the client sends its
// own startup message and authenticates through the relay. Environment
// variables (PGSSLMODE...) apply as they do for libpq.
func DialURL(connString string) (Dialer, error) {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	type target struct {
		network, addr string
		tls           *tls.Config
	}
	first := target{network: "tcp", addr: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), tls: cfg.TLSConfig}
	if isSocket(cfg.Host) {
		first.network, first.addr = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	targets := []target{first}
	for _, fb := range cfg.Fallbacks {
		t := target{network: "tcp", addr: net.JoinHostPort(fb.Host, strconv.Itoa(int(fb.Port))), tls: fb.TLSConfig}
		if isSocket(fb.Host) {
			t.network, t.addr = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", fb.Host, fb.Port)
		}
		targets = append(targets, t)
	}
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = dialTimeout
	}
	return func(ctx context.Context) (net.Conn, error) {
		var errs []error
		for _, t := range targets {
			conn, err := dialOne(ctx, t.network, t.addr, t.tls, timeout)
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
		return nil, &UpstreamError{Op: "connect", Err: errors.Join(errs...)}
	}, nil
}

func isSocket(host string) bool { return len(host) > 0 && host[0] == '/' }

// dialOne connects to addr and, with a TLS configuration, asks for TLS
// and completes the handshake: what libpq does for one host and sslmode.
func dialOne(ctx context.Context, network, addr string, cfg *tls.Config, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if cfg == nil {
		return conn, nil
	}
	tconn, err := startTLS(ctx, conn, cfg, timeout)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("tls with %s: %w", addr, err)
	}
	return tconn, nil
}

// ErrNoTLS is the server's refusal of an SSLRequest when the sslmode
// requires TLS.
var ErrNoTLS = errors.New("the server does not support TLS")

// startTLS sends an SSLRequest on conn and, on 'S', runs the handshake.
func startTLS(ctx context.Context, conn net.Conn, cfg *tls.Config, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	req := make([]byte, 8)
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
	if _, err := conn.Write(req); err != nil {
		return nil, fmt.Errorf("send SSLRequest: %w", err)
	}
	answer := make([]byte, 1)
	if _, err := io.ReadFull(conn, answer); err != nil {
		return nil, fmt.Errorf("read the answer to SSLRequest: %w", err)
	}
	if answer[0] != 'S' {
		return nil, ErrNoTLS
	}
	tconn := tls.Client(conn, cfg)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return tconn, nil
}
