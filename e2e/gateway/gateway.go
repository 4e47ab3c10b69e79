// Package gateway emulates Prisma's Postgres tunnel endpoint for tests,
// benchmarks and the local sandbox.
//
// A client opens a WebSocket to /websocket with "Authorization: Bearer
// <API key>"; the key selects a route. Unknown keys get HTTP 401, keys
// without a database 410, and every HTTP answer carries a fresh
// prisma-request-id header, as the real service does. On an accepted
// WebSocket, binary messages carry the Postgres byte stream, split at
// arbitrary points. The gateway reads the client's first packet: a
// CancelRequest is forwarded to the upstream server as is; an SSLRequest or
// GSSENCRequest is answered 'N'; a StartupMessage is answered by the gateway
// itself. Like Prisma's proxy it ignores the client's user name and asks
// for no password: it logs in upstream with the route's own credentials
// (passing the client's other startup parameters along), then tells the
// client AuthenticationOk, the upstream's ParameterStatus values,
// BackendKeyData and ReadyForQuery. From then on it relays bytes both ways:
// each upstream read becomes one binary message, and message payloads are
// written upstream as they arrive. When either side ends, so does the other
// (the WebSocket with close status 1000).
//
// For fault and performance tests the gateway can add latency and cap
// bandwidth (Options), cut sessions after a number of bytes (CutAfter), cut
// all live sessions (KillSessions), refuse new ones (RefuseNew), and count
// what it did (Stats).
package gateway

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Path is the only HTTP path the gateway serves, as the real endpoint.
const Path = "/websocket"

// RequestIDHeader is the response header identifying a request for support.
const RequestIDHeader = "prisma-request-id"

// Options configures a Gateway. The zero value is a plain, fast gateway.
type Options struct {
	// Logf, if set, receives one line per session opened and closed and
	// per rejected request, from several goroutines at once. Keys appear
	// only as a short prefix; passwords never.
	Logf func(format string, args ...any)
	// RefuseReplication answers a startup packet asking for a replication
	// session (the replication parameter) with a FATAL error, as a
	// gateway or pooler that does not carry them may.
	RefuseReplication bool
	// Latency delays every chunk in each direction by this much after the
	// gateway received it, so a round trip gains twice Latency (the
	// gateway's own answers during the startup exchange too). It is a delay
	// line: order is kept and throughput is not reduced (up to 16 MiB in
	// flight per direction and session).
	Latency time.Duration
	// BandwidthBytesPerSec, if positive, caps each session's throughput in
	// each direction (a token bucket).
	BandwidthBytesPerSec int64
}

// Stats counts what a Gateway did since New.
type Stats struct {
	// Accepted counts WebSocket sessions opened.
	Accepted int64
	// Active counts sessions open now.
	Active int64
	// Rejected counts HTTP requests answered with an error status.
	Rejected int64
	// BytesToUpstream counts bytes written to upstream servers, cancel
	// requests included (the StartupMessage is not forwarded).
	BytesToUpstream int64
	// BytesToClient counts WebSocket payload bytes sent to clients, the
	// gateway's own startup answers included.
	BytesToClient int64
}

// Gateway is the emulated endpoint. Use it as an http.Handler, or let
// Start serve it on a listener of its own. Close ends it. All methods are
// safe for concurrent use, also while sessions run.
type Gateway struct {
	opts Options

	mu       sync.Mutex
	routes   map[string]route
	cutAfter int64
	keyCut   map[string]int64
	refuse   int
	sessions map[*session]struct{}
	nextID   int64
	closed   bool
	srv      *http.Server

	// wg counts running sessions and the server goroutine; Close waits.
	wg sync.WaitGroup

	accepted, active, rejected atomic.Int64
	toUpstream, toClient       atomic.Int64
	frozen                     atomic.Bool
}

// route is where a key leads.
type route struct {
	upstreamURL string // empty for a key without a database
}

// New returns a gateway with no routes.
func New(opts Options) *Gateway {
	return &Gateway{
		opts:     opts,
		routes:   make(map[string]route),
		keyCut:   make(map[string]int64),
		sessions: make(map[*session]struct{}),
	}
}

// AddDatabase routes key to the Postgres server at upstreamURL, a URL or
// keyword/value string as pgconn.ParseConfig takes, carrying the gateway's
// own credentials (for example pgserver.Server.URL). It replaces an
// existing route for key. The URL is parsed when a session starts; if that
// fails the client gets a FATAL error.
func (g *Gateway) AddDatabase(key, upstreamURL string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.routes[key] = route{upstreamURL: upstreamURL}
}

// AddKeyWithoutDatabase makes key valid but without a database: upgrade
// requests with it get HTTP 410, as for an environment without Prisma
// Postgres.
func (g *Gateway) AddKeyWithoutDatabase(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.routes[key] = route{}
}

// CutAfter makes sessions that start after the call end abruptly once they
// have relayed n bytes in total, both directions together, counting from
// after the startup exchange: the bytes up to n are delivered, then the
// client's connection and the upstream one are closed without a WebSocket
// close handshake, as if the gateway died. CutAfter(0) turns this off for
// later sessions. Sessions already running keep the setting they started
// with.
func (g *Gateway) CutAfter(n int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cutAfter = max(n, 0)
}

// SetCutAfterForKey is CutAfter for sessions with key only; it takes
// precedence over CutAfter. n == 0 removes the key's own setting.
func (g *Gateway) SetCutAfterForKey(key string, n int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n <= 0 {
		delete(g.keyCut, key)
		return
	}
	g.keyCut[key] = n
}

// KillSessions abruptly ends every live session, as CutAfter does, and
// returns how many it ended. New sessions are still accepted.
func (g *Gateway) KillSessions() int {
	g.mu.Lock()
	live := make([]*session, 0, len(g.sessions))
	for s := range g.sessions {
		live = append(live, s)
	}
	g.mu.Unlock()
	for _, s := range live {
		s.kill("killed")
	}
	return len(live)
}

// Freeze makes every session, live or new, stop relaying bytes in both
// directions without closing anything, as a link that hangs does, until
// Freeze(false).
func (g *Gateway) Freeze(on bool) { g.frozen.Store(on) }

// RefuseNew answers new upgrade requests with HTTP status (for example
// 503) until RefuseNew(0). Live sessions are not affected.
func (g *Gateway) RefuseNew(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refuse = status
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Accepted:        g.accepted.Load(),
		Active:          g.active.Load(),
		Rejected:        g.rejected.Load(),
		BytesToUpstream: g.toUpstream.Load(),
		BytesToClient:   g.toClient.Load(),
	}
}

// Start serves the gateway on a new listener at addr (tests use
// "127.0.0.1:0") and returns the WebSocket URL to give clients, such as
// ws://127.0.0.1:PORT/websocket. It can be called once; Close stops the
// server.
func (g *Gateway) Start(addr string) (wsURL string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return "", errors.New("start gateway: closed")
	}
	if g.srv != nil {
		return "", errors.New("start gateway: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("start gateway: %w", err)
	}
	errorLog := log.New(io.Discard, "", 0)
	if g.opts.Logf != nil {
		errorLog = log.New(logfWriter(g.opts.Logf), "gateway: ", 0)
	}
	g.srv = &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          errorLog,
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		// Serve returns http.ErrServerClosed once Close shuts it down.
		_ = g.srv.Serve(ln)
	}()
	return "ws://" + ln.Addr().String() + Path, nil
}

// Close stops the listener started by Start, if any, abruptly ends all
// sessions, refuses later requests with 503 and waits until all session
// goroutines have ended. It is safe to call more than once.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	srv := g.srv
	g.mu.Unlock()

	var err error
	if srv != nil {
		// Close does not touch hijacked connections: the sessions.
		err = srv.Close()
	}
	g.KillSessions()
	g.wg.Wait()
	if err != nil {
		return fmt.Errorf("close gateway: %w", err)
	}
	return nil
}

// ServeHTTP implements http.Handler: it authenticates the upgrade request,
// accepts the WebSocket and runs the session until it ends.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set(RequestIDHeader, requestID)
	if r.URL.Path != Path {
		g.reject(w, http.StatusNotFound, "NotFound", "not found", requestID, "")
		return
	}
	key, ok := bearerKey(r.Header.Get("Authorization"))

	g.mu.Lock()
	refuse, closed := g.refuse, g.closed
	rt, known := g.routes[key]
	g.mu.Unlock()

	switch {
	case closed:
		g.reject(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the gateway is shutting down", requestID, key)
		return
	case refuse != 0:
		g.reject(w, refuse, http.StatusText(refuse), "refused by the gateway emulator", requestID, key)
		return
	case !ok:
		g.reject(w, http.StatusUnauthorized, "Unauthorized", "missing or malformed Authorization header, want Bearer <API key>", requestID, "")
		return
	case !known:
		g.reject(w, http.StatusUnauthorized, "Unauthorized", "invalid API key", requestID, key)
		return
	case rt.upstreamURL == "":
		g.reject(w, http.StatusGone, "Gone", "this environment has no Prisma Postgres database", requestID, key)
		return
	}

	hw := &hijackWriter{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
		// Clients are tools, not browsers; there is no origin to check.
		InsecureSkipVerify: true,
	})
	if err != nil {
		// Accept has answered the request.
		g.rejected.Add(1)
		g.logf("gateway: request %s %s: not a WebSocket upgrade: %v", requestID, redactKey(key), err)
		return
	}
	// Clients send chunks of any size as one message each.
	ws.SetReadLimit(-1)

	s, ok := g.register(ws, hw.conn, key, rt, requestID)
	if !ok {
		_ = ws.CloseNow() // the gateway is closing: the client only needs the connection gone
		return
	}
	defer g.unregister(s)
	s.run()
}

// register adds a session unless the gateway is closed.
func (g *Gateway) register(ws *websocket.Conn, conn net.Conn, key string, rt route, requestID string) (*session, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false
	}
	cut := g.cutAfter
	if n, ok := g.keyCut[key]; ok {
		cut = n
	}
	g.nextID++
	s := newSession(g, g.nextID, ws, conn, key, rt, requestID, cut)
	g.sessions[s] = struct{}{}
	// Add under mu, before Close can see closed and Wait.
	g.wg.Add(1)
	g.accepted.Add(1)
	g.active.Add(1)
	return s, true
}

func (g *Gateway) unregister(s *session) {
	g.mu.Lock()
	delete(g.sessions, s)
	g.mu.Unlock()
	g.active.Add(-1)
	g.wg.Done()
}

// reject answers a request with an error status and a short JSON body.
func (g *Gateway) reject(w http.ResponseWriter, status int, errName, message, requestID, key string) {
	g.rejected.Add(1)
	g.logf("gateway: request %s %s: HTTP %d: %s", requestID, redactKey(key), status, message)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := fmt.Fprintf(w, "{\"error\":%q,\"message\":%q,\"requestId\":%q}\n", errName, message, requestID); err != nil {
		g.logf("gateway: request %s: write the error body: %v", requestID, err)
	}
}

func (g *Gateway) logf(format string, args ...any) {
	if g.opts.Logf != nil {
		g.opts.Logf(format, args...)
	}
}

// bearerKey extracts the API key from an Authorization header value.
func bearerKey(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t") {
		return "", false
	}
	return key, true
}

// redactKey shows at most a short prefix of key, never all of it.
func redactKey(key string) string {
	if key == "" {
		return "key -"
	}
	n := min(4, len(key)/3)
	return "key " + key[:n] + "…"
}

// newRequestID returns a random UUID-shaped request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// logfWriter adapts Logf to the io.Writer a log.Logger needs.
type logfWriter func(format string, args ...any)

func (f logfWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// hijackWriter is the http.ResponseWriter given to websocket.Accept. It
// keeps the hijacked connection, so that a session can be cut at once
// (websocket.Conn.CloseNow waits while a close handshake is under way),
// and gives Accept a write buffer that holds a whole relayed message and
// its frame header, so that each message goes out in one write system call
// (with net/http's 4 KiB buffer a 64 KiB message takes two).
type hijackWriter struct {
	http.ResponseWriter
	conn net.Conn // set by Hijack
}

// Hijack implements http.Hijacker.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The buffer holds the 101 response that Accept wrote.
	if err := brw.Writer.Flush(); err != nil {
		_ = nc.Close() // the connection is broken already: the flush error says how
		return nil, nil, fmt.Errorf("flush upgrade response: %w", err)
	}
	w.conn = nc
	return nc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(nc, relayBufSize+maxFrameHeader)), nil
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *hijackWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}
