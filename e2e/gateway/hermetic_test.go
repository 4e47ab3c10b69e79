package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgproto3"
)

// These tests run without PostgreSQL: the upstream is a fake server that
// accepts any login and then echoes every byte. gateway_test.go (build tag
// e2e) runs the gateway against real servers.

// fakeUpstream is a Postgres-speaking echo server.
type fakeUpstream struct {
	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
	startup []*pgproto3.StartupMessage
	cancels [][]byte
}

const (
	fakePID    = 4242
	fakeSecret = "\x01\x02\x03\x04"
)

func newFakeUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeUpstream{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer func() { _ = c.Close() }() // closeConns may have closed it first
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		if err := ln.Close(); err != nil {
			t.Errorf("close fake upstream listener: %v", err)
		}
		f.closeConns()
		f.wg.Wait()
	})
	return f
}

// url is what the gateway's route points at.
func (f *fakeUpstream) url() string {
	return fmt.Sprintf("postgres://routeuser:routepw@%s/routedb?sslmode=disable", f.ln.Addr())
}

// closeConns closes every connection, as a dying server would.
func (f *fakeUpstream) closeConns() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.Close() // the ones the gateway ended are closed already
	}
}

func (f *fakeUpstream) serve(c net.Conn) {
	be := pgproto3.NewBackend(c, c)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return
	}
	switch m := msg.(type) {
	case *pgproto3.CancelRequest:
		raw, _ := m.Encode(nil)
		f.mu.Lock()
		f.cancels = append(f.cancels, raw)
		f.mu.Unlock()
		return
	case *pgproto3.StartupMessage:
		f.mu.Lock()
		f.startup = append(f.startup, m)
		f.mu.Unlock()
		be.Send(&pgproto3.AuthenticationCleartextPassword{})
		if err := be.Flush(); err != nil {
			return
		}
		if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
			return // the client sees the connection end
		}
		pw, err := be.Receive()
		if p, ok := pw.(*pgproto3.PasswordMessage); err != nil || !ok || p.Password != "routepw" {
			be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"})
			_ = be.Flush() // the connection ends next either way
			return
		}
		be.Send(&pgproto3.AuthenticationOk{})
		be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "17.0 (fake)"})
		be.Send(&pgproto3.ParameterStatus{Name: "application_name", Value: m.Parameters["application_name"]})
		be.Send(&pgproto3.BackendKeyData{ProcessID: fakePID, SecretKey: []byte(fakeSecret)})
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		if err := be.Flush(); err != nil {
			return
		}
		_, _ = io.Copy(c, c) // echo until either side closes
	}
}

// bareGateway is a gateway routing testKey to a fake upstream.
func bareGateway(t *testing.T, opts Options) (*Gateway, *fakeUpstream, string) {
	t.Helper()
	f := newFakeUpstream(t)
	opts.Logf = t.Logf
	g := New(opts)
	g.AddDatabase(testKey, f.url())
	g.AddKeyWithoutDatabase(noDBKey)
	url, err := g.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("close gateway: %v", err)
		}
	})
	return g, f, url
}

// echo sends p in messages of chunk bytes and reads it back.
func echo(t *testing.T, rc *rawClient, p []byte, chunk int) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		for rest := p; len(rest) > 0; {
			n := min(chunk, len(rest))
			if _, err := rc.nc.Write(rest[:n]); err != nil {
				errc <- err
				return
			}
			rest = rest[n:]
		}
		errc <- nil
	}()
	got := make([]byte, len(p))
	if _, err := io.ReadFull(rc.nc, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, p) {
		t.Fatal("echo differs")
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestHandshakeRejections(t *testing.T) {
	t.Parallel()
	g, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	tests := []struct {
		name   string
		header http.Header
		path   string
		want   int
	}{
		{name: "no header", want: http.StatusUnauthorized},
		{name: "basic auth", header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, want: http.StatusUnauthorized},
		{name: "empty bearer", header: http.Header{"Authorization": {"Bearer "}}, want: http.StatusUnauthorized},
		{name: "unknown key", header: http.Header{"Authorization": {"Bearer nope"}}, want: http.StatusUnauthorized},
		{name: "key without database", header: http.Header{"Authorization": {"Bearer " + noDBKey}}, want: http.StatusGone},
		{name: "wrong path", header: http.Header{"Authorization": {"Bearer " + testKey}}, path: "/other", want: http.StatusNotFound},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := url
			if tt.path != "" {
				u = strings.TrimSuffix(url, Path) + tt.path
			}
			ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: tt.header})
			if err == nil {
				_ = ws.CloseNow() // the test fails on the dial already
				t.Fatal("dial succeeded")
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			id := resp.Header.Get(RequestIDHeader)
			if id == "" || seen[id] {
				t.Errorf("request id %q missing or reused", id)
			}
			seen[id] = true
		})
	}
	if got := g.Stats(); got.Rejected != int64(len(tests)) || got.Accepted != 0 {
		t.Errorf("Stats = %+v, want %d rejected", got, len(tests))
	}

	// The body is short JSON naming the request.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.Replace(url, "ws://", "http://", 1), nil)
	req.Header.Set("Authorization", "Bearer "+noDBKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := resp.Body.Close(); err != nil {
			t.Error(err)
		}
	})
	var body struct{ Error, Message, RequestID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if resp.StatusCode != http.StatusGone || body.RequestID != resp.Header.Get(RequestIDHeader) || body.Message == "" {
		t.Errorf("status %d, body %+v", resp.StatusCode, body)
	}
}

func TestFakeRelay(t *testing.T) {
	t.Parallel()
	g, f, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	a := rc.startup(t, map[string]string{"user": "client-user", "database": "client-db", "application_name": "relay-test"})
	if a.pid != fakePID || string(a.secret) != fakeSecret {
		t.Errorf("BackendKeyData = %d/%q, want the upstream's", a.pid, a.secret)
	}
	if a.params["application_name"] != "relay-test" || a.params["server_version"] != "17.0 (fake)" {
		t.Errorf("ParameterStatus = %v", a.params)
	}
	wantTypes := "*pgproto3.AuthenticationOk *pgproto3.ParameterStatus *pgproto3.ParameterStatus *pgproto3.BackendKeyData *pgproto3.ReadyForQuery"
	if got := strings.Join(a.types, " "); got != wantTypes {
		t.Errorf("startup answer %s, want %s", got, wantTypes)
	}
	f.mu.Lock()
	up := f.startup[0].Parameters
	f.mu.Unlock()
	if up["user"] != "routeuser" || up["database"] != "routedb" || up["application_name"] != "relay-test" {
		t.Errorf("upstream startup parameters = %v, want the route's user and database and the client's application_name", up)
	}

	data := randomBytes(3<<20 + 17)
	for _, chunk := range []int{1 << 20, 70_000, 4096, 3} {
		echo(t, rc, data[:min(len(data), chunk*2000)], chunk)
	}
	if st := g.Stats(); st.Accepted != 1 || st.Active != 1 || st.BytesToUpstream < int64(len(data)) || st.BytesToClient < int64(len(data)) {
		t.Errorf("Stats = %+v", st)
	}

	if err := rc.ws.Close(websocket.StatusGoingAway, ""); err != nil {
		t.Errorf("close handshake: %v", err)
	}
	waitFor(t, "the session to end", func() bool { return g.Stats().Active == 0 })
}

func TestFakeOneByteStartup(t *testing.T) {
	t.Parallel()
	_, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	for _, b := range packet(protocolVersion30, "user\x00u\x00\x00") {
		if err := rc.ws.Write(ctx, websocket.MessageBinary, []byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		m, err := rc.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	echo(t, rc, []byte("hello"), 1)
}

func TestFakeCutAfterExact(t *testing.T) {
	t.Parallel()
	g, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	g.CutAfter(10_000)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	// 8000 bytes up in one message, so the echo can only bring 2000 down
	// before the session has carried 10000.
	if _, err := rc.nc.Write(randomBytes(8000)); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc.nc)
	if n != 2000 {
		t.Errorf("received %d bytes, want 2000", n)
	}
	if err == nil {
		t.Errorf("stream ended cleanly; want an abrupt end")
	}
	waitFor(t, "the session to end", func() bool { return g.Stats().Active == 0 })

	g.CutAfter(0)
	rc = dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	echo(t, rc, randomBytes(100_000), 8000)
}

func TestFakeKillSessions(t *testing.T) {
	t.Parallel()
	g, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	var clients []*rawClient
	for range 3 {
		rc := dialRaw(t, ctx, url, testKey)
		rc.startup(t, map[string]string{"user": "u"})
		clients = append(clients, rc)
	}
	if n := g.KillSessions(); n != 3 {
		t.Errorf("KillSessions = %d", n)
	}
	for i, rc := range clients {
		_, _, err := rc.ws.Read(ctx)
		if err == nil || websocket.CloseStatus(err) != -1 {
			t.Errorf("client %d: read after kill: %v; want an abrupt end", i, err)
		}
	}
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	echo(t, rc, []byte("still accepting"), 4)
}

func TestFakeCancelForwarded(t *testing.T) {
	t.Parallel()
	_, f, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	req, _ := (&pgproto3.CancelRequest{ProcessID: fakePID, SecretKey: []byte(fakeSecret)}).Encode(nil)
	if _, err := rc.nc.Write(req); err != nil {
		t.Fatal(err)
	}
	_, _, err := rc.ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after a cancel request: %v, want a normal close", err)
	}
	waitFor(t, "the cancel request upstream", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.cancels) == 1 && bytes.Equal(f.cancels[0], req)
	})
}

func TestFakeUpstreamFailures(t *testing.T) {
	t.Parallel()
	g, f, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	g.AddDatabase("bad-password", strings.Replace(f.url(), "routepw", "nope", 1))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	g.AddDatabase("down", "postgres://u:p@"+down+"/db?sslmode=disable&connect_timeout=5")
	g.AddDatabase("garbled", "postgres://u:p@%zz")

	for key, code := range map[string]string{"bad-password": "28P01", "down": "08006", "garbled": "08006"} {
		rc := dialRaw(t, ctx, url, key)
		rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
		if err := rc.fe.Flush(); err != nil {
			t.Fatalf("%s: send startup: %v", key, err)
		}
		m, err := rc.fe.Receive()
		er, ok := m.(*pgproto3.ErrorResponse)
		if err != nil || !ok || er.Code != code || er.Severity != "FATAL" {
			t.Errorf("%s: %#v, %v; want FATAL %s", key, m, err, code)
			continue
		}
		if strings.Contains(er.Message+er.Detail, "routepw") {
			t.Errorf("%s: error shows the password: %+v", key, er)
		}
		if _, err := rc.fe.Receive(); err == nil {
			t.Errorf("%s: connection still open after FATAL", key)
		}
	}
}

func TestFakeUpstreamGoneClosesWebSocket(t *testing.T) {
	t.Parallel()
	_, f, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	f.closeConns()
	_, _, err := rc.ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("read after the upstream closed: %v, want status 1000", err)
	}
}

func TestFakeLatency(t *testing.T) {
	t.Parallel()
	const latency = 40 * time.Millisecond
	_, _, url := bareGateway(t, Options{Latency: latency})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	for range 3 {
		start := time.Now()
		echo(t, rc, []byte("ping"), 4)
		if rtt := time.Since(start); rtt < 2*latency {
			t.Errorf("round trip %v, want at least %v", rtt, 2*latency)
		}
	}
	// Order is kept and throughput is not throttled: 4 MB in 64 kB messages
	// would take 64 round trips (5 s) if each waited for the latency.
	start := time.Now()
	echo(t, rc, randomBytes(4<<20), 64<<10)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("4 MB took %v", d)
	}
}

func TestFakeBandwidth(t *testing.T) {
	t.Parallel()
	_, _, url := bareGateway(t, Options{BandwidthBytesPerSec: 500_000})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	start := time.Now()
	echo(t, rc, randomBytes(500_000), 64<<10)
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Errorf("500 kB at 500 kB/s took %v", d)
	}
}

func TestFakeTextMessage(t *testing.T) {
	t.Parallel()
	_, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	if err := rc.ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatalf("write a text message: %v", err)
	}
	_, _, err := rc.ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
		t.Errorf("after a text message: %v, want status 1003", err)
	}
}

func TestFakeCloseAndRestart(t *testing.T) {
	t.Parallel()
	g, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	rc := dialRaw(t, ctx, url, testKey)
	rc.startup(t, map[string]string{"user": "u"})
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rc.ws.Read(ctx); err == nil {
		t.Errorf("session survived Close")
	}
	if st := g.Stats(); st.Active != 0 {
		t.Errorf("Active = %d after Close", st.Active)
	}
	if _, err := g.Start("127.0.0.1:0"); err == nil {
		t.Errorf("Start after Close succeeded")
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFakeRequestBody(t *testing.T) {
	t.Parallel()
	_, _, url := bareGateway(t, Options{})
	ctx := testCtx(t)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.Replace(url, "ws://", "http://", 1), nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	// A plain GET with a good key is not an upgrade.
	if resp.StatusCode < 400 || resp.Header.Get(RequestIDHeader) == "" {
		t.Errorf("plain GET: %d, request id %q", resp.StatusCode, resp.Header.Get(RequestIDHeader))
	}
}
