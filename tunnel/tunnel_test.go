package tunnel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeGateway is a WebSocket server with the gateway's handshake rules
// (Bearer key, 401/410 with prisma-request-id) and a per-test session body.
type fakeGateway struct {
	t        testing.TB
	srv      *httptest.Server
	key      string
	session  func(ctx context.Context, ws *websocket.Conn)
	closes   chan websocket.StatusCode
	sessions atomic.Int64
}

func newFakeGateway(t testing.TB, session func(ctx context.Context, ws *websocket.Conn)) *fakeGateway {
	g := &fakeGateway{t: t, key: testKey, session: session, closes: make(chan websocket.StatusCode, 100)}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("prisma-request-id", "req-"+r.Header.Get("X-Test"))
		switch r.Header.Get("Authorization") {
		case "Bearer " + g.key:
		case "Bearer " + testKey + "nodb":
			http.Error(w, "gone", http.StatusGone)
			return
		case "Bearer " + testKey + "busy":
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ws.SetReadLimit(-1)
		g.sessions.Add(1)
		g.session(r.Context(), ws)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) url() string {
	return "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/websocket"
}

// echo returns the first message (the startup packet) with a prefix, then
// echoes every message, and records how the client closed.
func (g *fakeGateway) echo(ctx context.Context, ws *websocket.Conn) {
	for first := true; ; first = false {
		typ, msg, err := ws.Read(ctx)
		if err != nil {
			g.closes <- websocket.CloseStatus(err)
			return
		}
		if first {
			msg = append([]byte("startup:"), msg...)
		}
		if err := ws.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

func startTunnel(t testing.TB, cfg Config) *Tunnel {
	t.Helper()
	tun, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tun.Close() })
	return tun
}

func dialTunnel(t *testing.T, tun *Tunnel) net.Conn {
	t.Helper()
	network, addr := "tcp", tun.Addr().String()
	if tun.dir != "" {
		network = "unix"
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

func startupPacket(params ...string) []byte {
	body := binary.BigEndian.AppendUint32(nil, 196608)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...)
}

func request(code uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), code)
}

func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func TestTunnelCarriesBytesAndAnswersEncryptionRequests(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.echo
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url(), NoLocalTLS: true})
	c := dialTunnel(t, tun)

	for _, code := range []uint32{gssencRequestCode, sslRequestCode} {
		write(t, c, request(code))
		if got := readN(t, c, 1); got[0] != 'N' {
			t.Fatalf("answer to request %d = %q, want N", code, got)
		}
	}
	startup := startupPacket("user", "anyone", "database", "postgres")
	write(t, c, startup)
	want := append([]byte("startup:"), startup...)
	if got := readN(t, c, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("gateway's first message = %q, want the startup packet alone", got)
	}
	// Bytes both ways, including chunks shorter than a message header.
	for _, chunk := range [][]byte{{'Q'}, {0, 0}, bytes.Repeat([]byte("x"), 200_000)} {
		write(t, c, chunk)
		if got := readN(t, c, len(chunk)); !bytes.Equal(got, chunk) {
			t.Fatalf("echo of %d bytes differs", len(chunk))
		}
	}
	_ = c.Close()
	if code := <-g.closes; code != websocket.StatusGoingAway {
		t.Fatalf("close code = %d, want 1001", code)
	}
}

func TestTunnelRefusedKeyReachesClientAsPostgresError(t *testing.T) {
	g := newFakeGateway(t, func(context.Context, *websocket.Conn) {})
	tests := []struct {
		key  string
		want string
	}{
		{testKey + "wrong", "the gateway rejected the API key (HTTP 401)"},
		{testKey + "nodb", "environment without a Prisma Postgres database (HTTP 410)"},
		{testKey + "busy", "HTTP 503 Service Unavailable"},
	}
	for _, tt := range tests {
		tun := startTunnel(t, Config{Key: tt.key, Endpoint: g.url(), NoLocalTLS: true})
		c := dialTunnel(t, tun)
		write(t, c, request(sslRequestCode))
		readN(t, c, 1)
		write(t, c, startupPacket("user", "x"))
		fe := pgproto3.NewFrontend(c, c)
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		e, ok := msg.(*pgproto3.ErrorResponse)
		if !ok {
			t.Fatalf("got %T, want ErrorResponse", msg)
		}
		if e.Severity != "FATAL" || !strings.Contains(e.Message, tt.want) || !strings.Contains(e.Message, "request id req-") {
			t.Fatalf("error = %s %q, want FATAL with %q and the request id", e.Severity, e.Message, tt.want)
		}
		if strings.Contains(e.Message, testKey) {
			t.Fatal("the error repeats the key")
		}
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection stays open after a refused handshake")
		}
	}
}

func TestCheck(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.echo
	ctx := context.Background()
	if err := Check(ctx, Config{Key: testKey, Endpoint: g.url()}); err != nil {
		t.Fatalf("Check(valid key) = %v", err)
	}
	if code := <-g.closes; code != websocket.StatusNormalClosure {
		t.Fatalf("Check closed with %d, want 1000", code)
	}

	err := Check(ctx, Config{Key: testKey + "wrong", Endpoint: g.url()})
	var he *HandshakeError
	if !errors.As(err, &he) || !he.Invalid() || he.NoDatabase() || !strings.HasPrefix(he.RequestID, "req-") {
		t.Fatalf("Check(wrong key) = %#v, want a 401 HandshakeError with a request id", err)
	}
	err = Check(ctx, Config{Key: testKey + "nodb", Endpoint: g.url()})
	if !errors.As(err, &he) || !he.NoDatabase() {
		t.Fatalf("Check(key without database) = %v, want 410", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "ws://" + ln.Addr().String() + "/websocket"
	_ = ln.Close()
	err = Check(ctx, Config{Key: testKey, Endpoint: closed})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cannot reach the gateway at "+strings.TrimPrefix(strings.TrimSuffix(closed, "/websocket"), "ws://")) {
		t.Fatalf("Check(closed port) = %v, want UnreachableError", err)
	}
}

func TestTunnelGatewayCloseEndsClientConnection(t *testing.T) {
	g := newFakeGateway(t, func(ctx context.Context, ws *websocket.Conn) {
		_, _, _ = ws.Read(ctx) // the startup packet
		_ = ws.Write(ctx, websocket.MessageBinary, []byte("bye"))
		_ = ws.Close(websocket.StatusNormalClosure, "")
	})
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	c := dialTunnel(t, tun)
	write(t, c, startupPacket("user", "x"))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v; want \"bye\" then EOF", got, err)
	}
	// The tunnel keeps serving.
	c2 := dialTunnel(t, tun)
	write(t, c2, startupPacket("user", "y"))
	if got, _ := io.ReadAll(c2); string(got) != "bye" {
		t.Fatalf("second connection read %q", got)
	}
}

func TestTunnelCloseEndsLiveConnections(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.echo
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	c := dialTunnel(t, tun)
	write(t, c, startupPacket("user", "x"))
	readN(t, c, len("startup:")+len(startupPacket("user", "x")))
	if tun.Active() != 1 {
		t.Fatalf("Active() = %d, want 1", tun.Active())
	}
	_ = tun.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("client connection still open after Close")
	}
	if code := <-g.closes; code != websocket.StatusGoingAway {
		t.Fatalf("close code = %d, want 1001", code)
	}
	if _, err := net.Dial("tcp", tun.Addr().String()); err == nil {
		t.Fatal("still listening after Close")
	}
}

func TestTunnelUnixSocketIsPrivate(t *testing.T) {
	if !UnixSupported() {
		t.Skip("no unix sockets for pg_dump on " + runtime.GOOS)
	}
	g := newFakeGateway(t, nil)
	g.session = g.echo
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url(), Network: "unix"})
	info, err := os.Stat(tun.Host())
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory mode = %v, want 0700", info.Mode().Perm())
	}
	if want := filepath.Join(tun.Host(), ".s.PGSQL.5432"); tun.Addr().String() != want || tun.Port() != 5432 {
		t.Fatalf("listening on %s port %d, want %s", tun.Addr(), tun.Port(), want)
	}
	c := dialTunnel(t, tun)
	write(t, c, startupPacket("user", "x"))
	readN(t, c, len("startup:")+len(startupPacket("user", "x")))
	dir := tun.Host()
	_ = tun.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("socket directory left behind: %v", err)
	}
}

// waitPlateau polls a growing counter until it stops growing, and returns
// its value. Without backpressure the counter never stops short of the total.
func waitPlateau(t *testing.T, n *atomic.Int64, total int64) int64 {
	t.Helper()
	last, since := int64(-1), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		v := n.Load()
		if v >= total {
			return v
		}
		if v != last {
			last, since = v, time.Now()
		} else if time.Since(since) > 500*time.Millisecond {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("counter never settled")
	return 0
}

const (
	flood       = 64 << 20 // what the fast side tries to push
	maxBuffered = 32 << 20 // kernel socket buffers plus the tunnel's own
)

func TestTunnelBackpressureFromSlowClient(t *testing.T) {
	var written atomic.Int64
	g := newFakeGateway(t, func(ctx context.Context, ws *websocket.Conn) {
		_, _, _ = ws.Read(ctx) // the startup packet
		chunk := make([]byte, 64<<10)
		for written.Load() < flood {
			if err := ws.Write(ctx, websocket.MessageBinary, chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	})
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	c := dialTunnel(t, tun)
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	write(t, c, startupPacket("user", "x"))

	v := waitPlateau(t, &written, flood)
	t.Logf("held back after %d MiB", v>>20)
	if v >= maxBuffered {
		t.Fatalf("gateway wrote %d MiB to a client that reads nothing; want < %d MiB", v>>20, maxBuffered>>20)
	}
	// Reading drains everything that was held back.
	if n, err := io.CopyN(io.Discard, c, flood); err != nil || n != flood {
		t.Fatalf("read %d of %d bytes: %v", n, flood, err)
	}
}

func TestTunnelBackpressureFromSlowGateway(t *testing.T) {
	release := make(chan struct{})
	var received atomic.Int64
	g := newFakeGateway(t, func(ctx context.Context, ws *websocket.Conn) {
		<-release
		for {
			_, r, err := ws.Reader(ctx)
			if err != nil {
				return
			}
			n, _ := io.Copy(io.Discard, r)
			received.Add(n)
		}
	})
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	c := dialTunnel(t, tun)
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	var written atomic.Int64
	go func() {
		write(t, c, startupPacket("user", "x"))
		chunk := make([]byte, 64<<10)
		for written.Load() < flood {
			n, err := c.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	v := waitPlateau(t, &written, flood)
	t.Logf("held back after %d MiB", v>>20)
	if v >= maxBuffered {
		t.Fatalf("client wrote %d MiB towards a gateway that reads nothing; want < %d MiB", v>>20, maxBuffered>>20)
	}
	close(release)
	for deadline := time.Now().Add(30 * time.Second); received.Load() < flood+int64(len(startupPacket("user", "x"))); {
		if time.Now().After(deadline) {
			t.Fatalf("gateway received %d of %d bytes", received.Load(), flood)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTunnelManyConnections(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.echo
	tun := startTunnel(t, Config{Key: testKey, Endpoint: g.url()})
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", tun.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			startup := startupPacket("user", fmt.Sprint("u", i))
			write(t, c, startup)
			want := append([]byte("startup:"), startup...)
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
				errs <- fmt.Errorf("connection %d: got %q, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := g.sessions.Load(); got != n {
		t.Fatalf("gateway saw %d sessions, want %d", got, n)
	}
}

func TestTunnelLogsNeverShowKey(t *testing.T) {
	g := newFakeGateway(t, nil)
	g.session = g.echo
	var mu sync.Mutex
	var logs strings.Builder
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&logs, format+"\n", args...)
	}
	for _, key := range []string{testKey, testKey + "wrong"} {
		tun := startTunnel(t, Config{Key: key, Endpoint: g.url(), Logf: logf})
		c := dialTunnel(t, tun)
		write(t, c, startupPacket("user", "x"))
		_, _ = c.Read(make([]byte, 1))
		_ = c.Close()
		_ = tun.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	out := logs.String()
	for _, want := range []string{"connection 1 opened from 127.0.0.1:", "connection 1 closed after", "HTTP 401"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, testKey) {
		t.Fatalf("logs contain the key:\n%s", out)
	}
}

// write sends b to the tunnel's client side; a failed write is a failed test
// (t.Error, so it may run in a goroutine).
func write(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Errorf("write to tunnel: %v", err)
	}
}
