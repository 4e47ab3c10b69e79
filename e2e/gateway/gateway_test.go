//go:build e2e

package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ppg-cli/ppg/e2e/pgserver"
)

func (e *env) dialRaw(t *testing.T, ctx context.Context, key string) *rawClient {
	t.Helper()
	return dialRaw(t, ctx, e.url, key)
}

// env is a PostgreSQL server behind a gateway.
type env struct {
	pg    *pgserver.Server
	gw    *Gateway
	url   string
	mu    sync.Mutex
	lines []string
}

// newEnv starts a server and a gateway routing testKey to it and noDBKey to
// nothing. Both stop at the end of the test.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{pg: pgserver.StartT(t, pgserver.DefaultVersion)}
	opts.Logf = func(format string, args ...any) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.lines = append(e.lines, fmt.Sprintf(format, args...))
	}
	e.gw = New(opts)
	e.gw.AddDatabase(testKey, e.pg.URL("postgres"))
	e.gw.AddKeyWithoutDatabase(noDBKey)
	url, err := e.gw.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.url = url
	t.Cleanup(func() {
		if err := e.gw.Close(); err != nil {
			t.Errorf("close gateway: %v", err)
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", e.log())
		}
	})
	return e
}

func (e *env) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.lines, "\n")
}

// connect logs in through the gateway with pgconn, as any user with no
// password. wrap, if set, wraps the WebSocket's net.Conn.
func (e *env) connect(ctx context.Context, key string, params map[string]string, wrap func(net.Conn) net.Conn) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig("host=127.0.0.1 port=5432 user=whoever dbname=whatever sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) {
		ws, _, err := dialWS(ctx, e.url, key)
		if err != nil {
			return nil, err
		}
		nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
		if wrap != nil {
			nc = wrap(nc)
		}
		return nc, nil
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	return pgconn.ConnectConfig(ctx, cfg)
}

func (e *env) mustConnect(t *testing.T, ctx context.Context) *pgconn.PgConn {
	t.Helper()
	c, err := e.connect(ctx, testKey, nil, nil)
	if err != nil {
		t.Fatalf("connect through gateway: %v", err)
	}
	// Tests cut and kill sessions: a close that cannot say goodbye only
	// frees the connection.
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// direct connects to the server itself, bypassing the gateway.
func (e *env) direct(t *testing.T, ctx context.Context) *pgconn.PgConn {
	t.Helper()
	c, err := pgconn.Connect(ctx, e.pg.URL("postgres"))
	if err != nil {
		t.Fatalf("connect directly: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close direct connection: %v", err)
		}
	})
	return c
}

func TestQueryThroughGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	c, err := e.connect(ctx, testKey, map[string]string{"application_name": "gw-test", "DateStyle": "SQL, DMY"}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if got := mustQuery(t, ctx, c, "select current_user"); got != "postgres" {
		t.Errorf("current_user = %q, want the route's user postgres", got)
	}
	if got := mustQuery(t, ctx, c, "select current_database()"); got != "postgres" {
		t.Errorf("current_database = %q, want the route's database", got)
	}
	if got := mustQuery(t, ctx, c, "show application_name"); got != "gw-test" {
		t.Errorf("application_name = %q, want the client's", got)
	}
	if got := c.ParameterStatus("DateStyle"); got != "SQL, DMY" {
		t.Errorf("ParameterStatus(DateStyle) = %q, want the client's setting", got)
	}
	if c.ParameterStatus("server_version") == "" {
		t.Errorf("no server_version ParameterStatus")
	}
	if got := mustQuery(t, ctx, c, "select pg_backend_pid()"); got != fmt.Sprint(c.PID()) {
		t.Errorf("backend pid %s, BackendKeyData pid %d", got, c.PID())
	}
	// A transaction status other than idle must come through too.
	if _, err := c.Exec(ctx, "begin").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if c.TxStatus() != 'T' {
		t.Errorf("TxStatus = %q in a transaction", c.TxStatus())
	}
	if _, err := c.Exec(ctx, "rollback").ReadAll(); err != nil {
		t.Fatal(err)
	}

	st := e.gw.Stats()
	if st.Accepted != 1 || st.Active != 1 || st.BytesToUpstream == 0 || st.BytesToClient == 0 {
		t.Errorf("Stats = %+v", st)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitFor(t, "the session to end", func() bool { return e.gw.Stats().Active == 0 })

	log := e.log()
	if strings.Contains(log, testKey) || strings.Contains(log, e.pg.Password) {
		t.Errorf("log shows a secret:\n%s", log)
	}
	// pgconn sends Terminate, so either side may be seen closing first.
	for _, want := range []string{"session 1 open: key ab12…", "session 1 closed after"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestRefuseNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	before := e.mustConnect(t, ctx)

	e.gw.RefuseNew(http.StatusServiceUnavailable)
	_, resp, err := dialWS(ctx, e.url, testKey)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get(RequestIDHeader) == "" {
		t.Fatalf("dial while refusing: %v, %+v", err, resp)
	}
	if got := mustQuery(t, ctx, before, "select 1"); got != "1" {
		t.Errorf("live session broken by RefuseNew: %q", got)
	}

	e.gw.RefuseNew(0)
	after := e.mustConnect(t, ctx)
	if got := mustQuery(t, ctx, after, "select 2"); got != "2" {
		t.Errorf("select 2 = %q", got)
	}
}

func TestCutAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	before := e.mustConnect(t, ctx)

	const limit = 100_000
	e.gw.CutAfter(limit)
	cut := e.mustConnect(t, ctx)
	mustQuery(t, ctx, cut, "select 1") // small: under the limit
	if _, err := query(ctx, cut, "select repeat('x', 1000000)"); err == nil {
		t.Fatal("a 1 MB result passed a session cut after 100 kB")
	}
	waitFor(t, "the cut session to end", func() bool { return e.gw.Stats().Active == 1 })

	// Sessions from before CutAfter keep their setting.
	if got := mustQuery(t, ctx, before, "select length(repeat('x', 1000000))"); got != "1000000" {
		t.Errorf("old session: %q", got)
	}
	if _, err := query(ctx, before, "select repeat('x', 1000000)"); err != nil {
		t.Errorf("old session cut: %v", err)
	}

	e.gw.CutAfter(0)
	after := e.mustConnect(t, ctx)
	if _, err := query(ctx, after, "select repeat('x', 1000000)"); err != nil {
		t.Errorf("session after CutAfter(0): %v", err)
	}
	if !strings.Contains(e.log(), "cut after 100000 bytes") {
		t.Errorf("log does not say why the session ended:\n%s", e.log())
	}
}

func TestCutAfterIsExactAndAbrupt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	const limit = 50_000
	e.gw.SetCutAfterForKey(testKey, limit)
	rc := e.dialRaw(t, ctx, testKey)
	rc.startup(t, map[string]string{"user": "x", "database": "y"})

	q, _ := (&pgproto3.Query{String: "select repeat('x', 1000000)"}).Encode(nil)
	if _, err := rc.nc.Write(q); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc.nc)
	if err == nil {
		t.Errorf("the stream ended with a close handshake; want an abrupt end")
	}
	if want := int64(limit - len(q)); n != want {
		t.Errorf("client received %d bytes after its %d-byte query; want %d (cut after %d)", n, len(q), want, limit)
	}

	e.gw.SetCutAfterForKey(testKey, 0)
	c := e.mustConnect(t, ctx)
	if _, err := query(ctx, c, "select repeat('x', 1000000)"); err != nil {
		t.Errorf("after SetCutAfterForKey(key, 0): %v", err)
	}
}

func TestKillSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	var conns []*pgconn.PgConn
	for range 3 {
		conns = append(conns, e.mustConnect(t, ctx))
	}
	if n := e.gw.KillSessions(); n != 3 {
		t.Errorf("KillSessions = %d, want 3", n)
	}
	for i, c := range conns {
		if _, err := query(ctx, c, "select 1"); err == nil {
			t.Errorf("session %d survived KillSessions", i)
		}
	}
	waitFor(t, "sessions to end", func() bool { return e.gw.Stats().Active == 0 })
	c := e.mustConnect(t, ctx)
	if got := mustQuery(t, ctx, c, "select 1"); got != "1" {
		t.Errorf("new session after KillSessions: %q", got)
	}
	// The upstream backends of killed sessions go away too.
	d := e.direct(t, ctx)
	waitFor(t, "killed backends to exit", func() bool {
		n, err := query(ctx, d, "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()")
		return err == nil && n == "1"
	})
}

func TestOneByteMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	c, err := e.connect(ctx, testKey, map[string]string{"application_name": "split"}, func(nc net.Conn) net.Conn { return splitConn{nc} })
	if err != nil {
		t.Fatalf("connect with 1-byte messages: %v", err)
	}
	defer func() {
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if got := mustQuery(t, ctx, c, "select current_setting('application_name') || '!'"); got != "split!" {
		t.Errorf("query = %q", got)
	}
}

func TestEncryptionRequestsAnsweredN(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	rc := e.dialRaw(t, ctx, testKey)
	for _, code := range []uint32{sslRequestCode, gssEncRequestCode} {
		// Split mid-length, as a careless client might.
		p := packet(code)
		rc.write(t, p[:3])
		rc.write(t, p[3:])
		var b [1]byte
		if _, err := io.ReadFull(rc.nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("answer to request %d: %q, %v", code, b, err)
		}
	}
	a := rc.startup(t, map[string]string{"user": "nobody", "database": "nothing"})
	if a.types[0] != "*pgproto3.AuthenticationOk" || a.pid == 0 || a.params["server_version"] == "" {
		t.Errorf("startup answer %+v", a)
	}
	// Several messages in one WebSocket message must work too.
	var batch []byte
	batch, _ = (&pgproto3.Query{String: "select 1"}).Encode(batch)
	batch, _ = (&pgproto3.Query{String: "select 2"}).Encode(batch)
	rc.write(t, batch)
	var rows []string
	for ready := 0; ready < 2; {
		m, err := rc.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			rows = append(rows, string(m.Values[0]))
		case *pgproto3.ReadyForQuery:
			ready++
		}
	}
	if strings.Join(rows, ",") != "1,2" {
		t.Errorf("rows = %q", rows)
	}
}

func TestNegotiateProtocolVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	rc := e.dialRaw(t, ctx, testKey)
	rc.write(t, packet(3<<16|2, "user\x00u\x00_pq_.something\x00on\x00\x00"))
	m, err := rc.fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	npv, ok := m.(*pgproto3.NegotiateProtocolVersion)
	if !ok || npv.NewestMinorProtocol != 0 || len(npv.UnrecognizedOptions) != 1 || npv.UnrecognizedOptions[0] != "_pq_.something" {
		t.Fatalf("first answer %#v, want NegotiateProtocolVersion", m)
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

	rc2 := e.dialRaw(t, ctx, testKey)
	rc2.write(t, packet(2<<16, "\x00"))
	m, err = rc2.fe.Receive()
	if er, ok := m.(*pgproto3.ErrorResponse); err != nil || !ok || er.Code != "0A000" || er.Severity != "FATAL" {
		t.Fatalf("answer to protocol 2.0: %#v, %v", m, err)
	}
}

func TestCancelRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	c := e.mustConnect(t, ctx)
	done := make(chan error, 1)
	go func() {
		_, err := query(ctx, c, "select pg_sleep(60)")
		done <- err
	}()
	d := e.direct(t, ctx)
	waitFor(t, "the query to run", func() bool {
		n, err := query(ctx, d, "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'")
		return err == nil && n == "1"
	})
	if err := c.CancelRequest(ctx); err != nil {
		t.Fatalf("CancelRequest: %v", err)
	}
	err := <-done
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("query err = %v, want query_canceled", err)
	}
	if got := mustQuery(t, ctx, c, "select 1"); got != "1" {
		t.Errorf("after cancel: %q", got)
	}
	waitFor(t, "the cancel session's log line", func() bool { return strings.Contains(e.log(), "cancel request forwarded") })
}

func TestUpstreamLoginFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	e.gw.AddDatabase("wrong-password", strings.Replace(e.pg.URL("postgres"), e.pg.Password, "wrong", 1))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	e.gw.AddDatabase("nobody-home", fmt.Sprintf("postgres://postgres:pw@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", closedPort))

	for key, code := range map[string]string{"wrong-password": "28P01", "nobody-home": "08006"} {
		_, err := e.connect(ctx, key, nil, nil)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != code || pgErr.Severity != "FATAL" {
			t.Errorf("%s: err = %v, want FATAL %s", key, err, code)
		}
	}
	if strings.Contains(e.log(), e.pg.Password) {
		t.Errorf("log shows the upstream password")
	}
}

func TestClientCloseEndsUpstream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	d := e.direct(t, ctx)
	rc := e.dialRaw(t, ctx, testKey)
	rc.startup(t, map[string]string{"user": "x", "application_name": "goes-away"})
	// Close as the tunnel does when its local client disconnects.
	if err := rc.ws.Close(websocket.StatusGoingAway, ""); err != nil {
		t.Errorf("close handshake: %v", err)
	}
	waitFor(t, "the upstream backend to exit", func() bool {
		n, err := query(ctx, d, "select count(*) from pg_stat_activity where application_name = 'goes-away'")
		return err == nil && n == "0"
	})
	waitFor(t, "the session to end", func() bool { return e.gw.Stats().Active == 0 })
	if !strings.Contains(e.log(), "client closed the WebSocket (status 1001)") {
		t.Errorf("log:\n%s", e.log())
	}
}

func TestUpstreamCloseClosesWebSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	d := e.direct(t, ctx)
	rc := e.dialRaw(t, ctx, testKey)
	pid := rc.startup(t, map[string]string{"user": "x"}).pid
	mustQuery(t, ctx, d, fmt.Sprintf("select pg_terminate_backend(%d)", pid))
	// The server's FATAL message arrives, then a normal close.
	var got []byte
	for {
		_, b, err := rc.ws.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s != websocket.StatusNormalClosure {
				t.Errorf("WebSocket ended with %v, want status 1000", err)
			}
			break
		}
		got = append(got, b...)
	}
	if !bytes.Contains(got, []byte("57P01")) {
		t.Errorf("the server's termination notice did not come through: %q", got)
	}
}

func TestTextMessageRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	rc := e.dialRaw(t, ctx, testKey)
	rc.startup(t, map[string]string{"user": "x"})
	if err := rc.ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_, _, err := rc.ws.Read(ctx)
	if s := websocket.CloseStatus(err); s != websocket.StatusUnsupportedData {
		t.Errorf("read after a text message: %v, want close status 1003", err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	e := newEnv(t, Options{Latency: latency})
	ctx := testCtx(t)
	c := e.mustConnect(t, ctx)
	for range 3 {
		start := time.Now()
		mustQuery(t, ctx, c, "select 1")
		if rtt := time.Since(start); rtt < 2*latency {
			t.Errorf("round trip took %v, want at least %v", rtt, 2*latency)
		}
	}
	// A delay line, not a throttle: 16 MB in 256+ chunks arrive in about
	// one latency, not one latency per chunk.
	start := time.Now()
	if got := mustQuery(t, ctx, c, "select length(repeat('x', 16000000)) from (select 1) s"); got != "16000000" {
		t.Fatalf("length = %q", got)
	}
	res, err := c.Exec(ctx, "select repeat('x', 16000000)").ReadAll()
	if err != nil || len(res[0].Rows[0][0]) != 16000000 {
		t.Fatalf("16 MB row: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("16 MB took %v with %v latency; the delay line throttles", d, latency)
	}
}

func TestBandwidth(t *testing.T) {
	t.Parallel()
	const rate = 1_000_000
	e := newEnv(t, Options{BandwidthBytesPerSec: rate})
	ctx := testCtx(t)
	c := e.mustConnect(t, ctx)
	start := time.Now()
	res, err := c.Exec(ctx, "select repeat('x', 1000000)").ReadAll()
	if err != nil || len(res[0].Rows[0][0]) != 1000000 {
		t.Fatalf("1 MB row: %v", err)
	}
	if d := time.Since(start); d < 800*time.Millisecond || d > 10*time.Second {
		t.Errorf("1 MB at 1 MB/s took %v", d)
	}
}

func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	const sessions = 20
	errs := make(chan error, sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() (err error) {
				c, err := e.connect(ctx, testKey, nil, nil)
				if err != nil {
					return err
				}
				defer func() {
					if closeErr := c.Close(ctx); err == nil {
						err = closeErr
					}
				}()
				for j := range 10 {
					want := fmt.Sprint(i*100 + j)
					got, err := query(ctx, c, "select "+want+", repeat('y', 100000)")
					if err != nil {
						return err
					}
					if got != want {
						return fmt.Errorf("session %d got %q, want %q", i, got, want)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := e.gw.Stats(); st.Accepted != sessions {
		t.Errorf("Accepted = %d, want %d", st.Accepted, sessions)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ctx := testCtx(t)
	c := e.mustConnect(t, ctx)
	if err := e.gw.Close(); err != nil {
		t.Fatal(err)
	}
	if st := e.gw.Stats(); st.Active != 0 {
		t.Errorf("Active = %d after Close", st.Active)
	}
	if _, err := query(ctx, c, "select 1"); err == nil {
		t.Errorf("session survived Close")
	}
	if _, _, err := dialWS(ctx, e.url, testKey); err == nil {
		t.Errorf("dial after Close succeeded")
	}
	if _, err := e.gw.Start("127.0.0.1:0"); err == nil {
		t.Errorf("Start after Close succeeded")
	}
}

func TestMountedHandler(t *testing.T) {
	t.Parallel()
	pg := pgserver.StartT(t, pgserver.DefaultVersion)
	gw := New(Options{})
	gw.AddDatabase(testKey, pg.URL("postgres"))
	mux := http.NewServeMux()
	mux.Handle(Path, gw)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		// Hijacked connections first: srv.Close waits for them.
		if err := gw.Close(); err != nil {
			t.Errorf("close gateway: %v", err)
		}
		srv.Close()
	})
	e := &env{pg: pg, gw: gw, url: "ws" + strings.TrimPrefix(srv.URL, "http") + Path}
	ctx := testCtx(t)
	c := e.mustConnect(t, ctx)
	if got := mustQuery(t, ctx, c, "select 42"); got != "42" {
		t.Errorf("select 42 = %q", got)
	}
}
