package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// DefaultEndpoint is Prisma's tunnel gateway.
const DefaultEndpoint = "wss://ppg-tunnel.prisma-data.net/websocket"

// EndpointEnv names the environment variable that overrides the gateway
// address, as in @prisma/ppg-tunnel.
const EndpointEnv = "PPG_WS_URL"

// EndpointFromEnv returns $PPG_WS_URL, or DefaultEndpoint when it is unset.
func EndpointFromEnv() string {
	if v := os.Getenv(EndpointEnv); v != "" {
		return v
	}
	return DefaultEndpoint
}

const (
	// chunkSize bounds one read from the client, and so one binary message,
	// matching the 64 KiB reads of Node's sockets in @prisma/ppg-tunnel.
	chunkSize = 64 << 10
	// startupTimeout bounds how long a new local client may take to send its
	// startup packet.
	startupTimeout = 30 * time.Second
	// dialTimeout bounds the WebSocket handshake with the gateway.
	dialTimeout = 30 * time.Second
	// closeTimeout bounds waiting for the gateway's close frame.
	closeTimeout = 5 * time.Second
	// unixPort is the port in the socket name libpq derives: .s.PGSQL.5432.
	unixPort = 5432
)

// Config describes one tunnel: which database (the key), where the gateway
// is, and where to listen.
type Config struct {
	// Key is the API key sent as a Bearer token; it selects the database.
	Key string
	// Endpoint is the gateway's WebSocket URL; empty means EndpointFromEnv().
	Endpoint string
	// UserAgent is sent in the handshake; empty means "ppg".
	UserAgent string
	// Network is "tcp" (the default) or "unix". A unix tunnel listens on a
	// socket inside a fresh directory of mode 0700, so that no other local
	// user can reach the database through it; see [Tunnel.Host].
	Network string
	// Address is the TCP address to listen on; empty means 127.0.0.1 on a
	// random port. Ignored for "unix".
	Address string
	// Logf, if set, receives one line per connection opened and closed, and
	// per connection error. Lines never contain the key.
	Logf func(format string, args ...any)
	// HTTPClient dials the gateway; nil means http.DefaultClient (which
	// honours HTTPS_PROXY).
	HTTPClient *http.Client
	// NoLocalTLS makes the tunnel answer a client's SSLRequest with 'N', as
	// a server without SSL does. By default it answers 'S' and serves TLS
	// with a certificate made in memory at Start (see localTLSConfig), so
	// that sslmode=require works as well as prefer and disable.
	NoLocalTLS bool
}

// Tunnel is a running local listener. Each accepted connection gets its own
// WebSocket to the gateway. Close it, or cancel the context given to Start,
// to stop it; either closes live connections too.
type Tunnel struct {
	cfg    Config
	ln     net.Listener
	tls    *tls.Config // nil when local TLS is off
	dir    string      // private socket directory of a unix tunnel
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ids    atomic.Int64
	active atomic.Int64
	once   sync.Once
}

// UnixSupported reports whether Start can listen on a Unix socket here and
// pg_dump can connect to it.
func UnixSupported() bool { return runtime.GOOS != "windows" }

// Start listens as cfg says and serves connections in the background until
// ctx is cancelled or Close is called.
func Start(ctx context.Context, cfg Config) (*Tunnel, error) {
	if cfg.Key == "" {
		return nil, errors.New("tunnel: no API key")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = EndpointFromEnv()
	}
	t := &Tunnel{cfg: cfg}
	var err error
	if !cfg.NoLocalTLS {
		if t.tls, err = localTLSConfig(); err != nil {
			return nil, err
		}
	}
	switch cfg.Network {
	case "", "tcp":
		addr := cfg.Address
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		t.ln, err = net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
	case "unix":
		if t.dir, err = PrivateSocketDir("ppg-tunnel-"); err != nil {
			return nil, err
		}
		t.ln, err = net.Listen("unix", filepath.Join(t.dir, ".s.PGSQL."+strconv.Itoa(unixPort)))
		if err != nil {
			_ = os.RemoveAll(t.dir)
			return nil, fmt.Errorf("listen on a unix socket in %s: %w", t.dir, err)
		}
	default:
		return nil, fmt.Errorf("tunnel: unknown network %q", cfg.Network)
	}
	t.ctx, t.cancel = context.WithCancel(ctx)
	t.wg.Add(1)
	go t.accept()
	context.AfterFunc(t.ctx, func() { _ = t.ln.Close() })
	return t, nil
}

// Addr is the listener's address.
func (t *Tunnel) Addr() net.Addr { return t.ln.Addr() }

// Host is what libpq's host parameter must be: the IP address of a TCP
// tunnel, or the socket directory of a unix one.
func (t *Tunnel) Host() string {
	if t.dir != "" {
		return t.dir
	}
	return t.ln.Addr().(*net.TCPAddr).IP.String()
}

// Port is what libpq's port parameter must be.
func (t *Tunnel) Port() int {
	if t.dir != "" {
		return unixPort
	}
	return t.ln.Addr().(*net.TCPAddr).Port
}

// Active returns the number of connections being served.
func (t *Tunnel) Active() int { return int(t.active.Load()) }

// Close stops listening, closes every live connection (a WebSocket gets a
// close frame with code 1001), waits for them to finish and removes a unix
// tunnel's socket directory. It is safe to call more than once.
func (t *Tunnel) Close() error {
	t.once.Do(func() {
		t.cancel()
		t.wg.Wait()
		if t.dir != "" {
			if err := os.RemoveAll(t.dir); err != nil {
				t.logf("remove socket directory: %v", err)
			}
		}
	})
	return nil
}

func (t *Tunnel) logf(format string, args ...any) {
	if t.cfg.Logf != nil {
		t.cfg.Logf(format, args...)
	}
}

func (t *Tunnel) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.logf("tunnel stopped accepting connections: %v", err)
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.serve(c, t.ids.Add(1))
		}()
	}
}

// serve carries one local connection to the gateway and back.
func (t *Tunnel) serve(local net.Conn, id int64) {
	t.active.Add(1)
	defer t.active.Add(-1)
	defer func() { _ = local.Close() }()
	// Shutting the tunnel down closes the local socket (the socket, not a
	// TLS connection that may replace local meanwhile); the copy loops
	// then end the WebSocket in order.
	raw := local
	stop := context.AfterFunc(t.ctx, func() { _ = raw.Close() })
	defer stop()
	if tc, ok := local.(*net.TCPConn); ok {
		// Go disables Nagle's algorithm by default; say so, because a
		// tunnel that batches small packets makes catalogue-heavy work
		// like pg_dump of many tables many times slower.
		_ = tc.SetNoDelay(true)
	}
	start := time.Now()
	from := local.RemoteAddr().String()
	if from == "" || from == "@" {
		from = "local socket"
	}
	t.logf("connection %d opened from %s", id, from)

	// Without the deadline a client that never speaks would hold the
	// connection open for ever: a socket that refuses it is dropped.
	// The deadline covers a TLS handshake too.
	err := local.SetReadDeadline(start.Add(startupTimeout))
	var packet []byte
	if err == nil {
		_, packet, err = negotiate(local, t.upgrade(&local))
	}
	if err == nil {
		err = local.SetReadDeadline(time.Time{})
	}
	if err != nil {
		if t.ctx.Err() == nil && !errors.Is(err, io.EOF) {
			t.logf("connection %d: %v", id, err)
		}
		t.logf("connection %d closed", id)
		return
	}

	ws, err := dial(t.ctx, t.cfg)
	if err != nil {
		if t.ctx.Err() == nil {
			t.logf("connection %d: %v", id, err)
			if !isCancelRequest(packet) {
				_, _ = local.Write(fatalMessage("08001", clientMessage(err), ""))
			}
		}
		t.logf("connection %d closed", id)
		return
	}
	sent, received, err := pump(local, ws, packet)
	if err != nil && t.ctx.Err() == nil {
		t.logf("connection %d: %v", id, err)
	}
	// The log carries the counts; sizes in words are package words' to write.
	t.logf("connection %d closed after %s (%d bytes sent, %d bytes received)", id,
		time.Since(start).Round(time.Millisecond), sent, received)
}

// upgrade returns the upgradeFunc of a local connection, nil when local TLS
// is off. It serves the client's TLS handshake and replaces *local with the
// TLS connection, which pump then carries; closing that sends the client a
// close_notify alert before closing the socket.
func (t *Tunnel) upgrade(local *net.Conn) upgradeFunc {
	if t.tls == nil {
		return nil
	}
	return func(prefix []byte) (io.ReadWriter, error) {
		raw := *local
		if len(prefix) > 0 {
			raw = &prefixConn{Conn: raw, prefix: prefix}
		}
		tc := tls.Server(raw, t.tls)
		if err := tc.Handshake(); err != nil {
			return nil, fmt.Errorf("TLS handshake with the client: %w", err)
		}
		// A client starting TLS directly must choose PostgreSQL by ALPN,
		// as PostgreSQL itself requires, so that no other protocol's
		// client is taken for one of its own.
		if len(prefix) > 0 && tc.ConnectionState().NegotiatedProtocol != alpnPostgres {
			return nil, errors.New("the client started TLS directly without ALPN protocol \"postgresql\"")
		}
		*local = tc
		return tc, nil
	}
}

// pump copies the first packet and then everything else between the local
// connection and the WebSocket until either side ends. Each direction reads
// only after its previous write completed, so memory stays at a few buffers
// per connection whatever the speeds. It returns the bytes sent to and
// received from the gateway, and the first unexpected error.
func pump(local net.Conn, ws *websocket.Conn, first []byte) (sent, received int64, err error) {
	done := make(chan error, 1)
	go func() {
		n, err := gatewayToLocal(ws, local)
		received = n
		_ = local.Close() // the gateway ended: end the client's connection too
		done <- err
	}()

	var upErr error
	if err := ws.WriteMessage(websocket.BinaryMessage, first); err != nil {
		upErr = err
	} else {
		sent = int64(len(first))
		buf := make([]byte, chunkSize)
		for {
			n, rerr := local.Read(buf)
			if n > 0 {
				if werr := ws.WriteMessage(websocket.BinaryMessage, buf[:n]); werr != nil {
					upErr = werr
					break
				}
				sent += int64(n)
			}
			if rerr != nil {
				break // the client left (or was closed at shutdown)
			}
		}
	}
	// 1001 "going away" is what @prisma/ppg-tunnel sends when its client
	// disconnects. The gateway answers with its own close frame, which ends
	// gatewayToLocal; don't wait for it forever.
	_ = ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, "client disconnected"),
		time.Now().Add(closeTimeout))
	var downErr error
	select {
	case downErr = <-done:
	case <-time.After(closeTimeout):
		_ = ws.Close()
		downErr = <-done
	}
	_ = ws.Close()
	if upErr != nil && !isClosed(upErr) {
		return sent, received, fmt.Errorf("send to gateway: %w", upErr)
	}
	if downErr != nil && !isClosed(downErr) {
		return sent, received, fmt.Errorf("receive from gateway: %w", downErr)
	}
	return sent, received, nil
}

// gatewayToLocal writes every binary message from the gateway to the local
// client until the WebSocket ends.
func gatewayToLocal(ws *websocket.Conn, local net.Conn) (int64, error) {
	buf := make([]byte, chunkSize)
	var total int64
	for {
		typ, r, err := ws.NextReader()
		if err != nil {
			return total, err
		}
		if typ != websocket.BinaryMessage {
			continue // text messages are not part of the protocol: skip them
		}
		for {
			n, rerr := r.Read(buf)
			if n > 0 {
				if _, werr := local.Write(buf[:n]); werr != nil {
					return total, nil // the client is gone; the other loop reports it
				}
				total += int64(n)
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return total, rerr
			}
		}
	}
}

// isClosed tells an orderly end of a WebSocket or socket from a failure.
func isClosed(err error) bool {
	return websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, websocket.ErrCloseSent)
}

// dial opens one authenticated WebSocket to the gateway.
func dial(ctx context.Context, cfg Config) (*websocket.Conn, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = EndpointFromEnv()
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "ppg"
	}
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: dialTimeout,
		// Buffers as large as a chunk make each message one frame and one
		// system call: the library's 4 KiB default split every message into
		// many writes, costing a third of the throughput on loopback.
		ReadBufferSize:  chunkSize,
		WriteBufferSize: chunkSize,
	}
	ws, resp, err := d.DialContext(ctx, endpoint, http.Header{
		"Authorization": {"Bearer " + cfg.Key},
		"User-Agent":    {ua},
	})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, &HandshakeError{Status: resp.StatusCode, RequestID: resp.Header.Get("prisma-request-id")}
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{Endpoint: endpoint, Err: err}
	}
	return ws, nil
}

// Check validates cfg.Key against the gateway before any work starts: it
// opens one WebSocket, sees it accepted, and closes it. It returns a
// [*HandshakeError] if the gateway refuses the key and an
// [*UnreachableError] if the gateway cannot be reached.
func Check(ctx context.Context, cfg Config) error {
	ws, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = ws.Close() }()
	_ = ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "key check"), time.Now().Add(closeTimeout))
	// Wait for the gateway's close frame so it sees an orderly end.
	_ = ws.SetReadDeadline(time.Now().Add(closeTimeout))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			return nil
		}
	}
}
