package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	testKey   = "ab12cd34-secret-test-key-0001"
	noDBKey   = "zz99-key-without-database"
	testLimit = 30 * time.Second
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	t.Cleanup(cancel)
	return ctx
}

// dialWS opens a WebSocket to the gateway with key as the bearer token.
func dialWS(ctx context.Context, url, key string) (*websocket.Conn, *http.Response, error) {
	return websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + key}},
	})
}

// query runs sql and returns the first column of the first row.
func query(ctx context.Context, c *pgconn.PgConn, sql string) (string, error) {
	res, err := c.Exec(ctx, sql).ReadAll()
	if err != nil {
		return "", err
	}
	if len(res) == 0 || len(res[0].Rows) == 0 {
		return "", errors.New("no rows")
	}
	return string(res[0].Rows[0][0]), nil
}

func mustQuery(t *testing.T, ctx context.Context, c *pgconn.PgConn, sql string) string {
	t.Helper()
	v, err := query(ctx, c, sql)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return v
}

// waitFor polls cond until it holds or the test's time limit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// splitConn writes every byte as a message of its own.
type splitConn struct{ net.Conn }

func (c splitConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := c.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// rawClient speaks the protocol by hand over a gateway WebSocket.
type rawClient struct {
	ws *websocket.Conn
	nc net.Conn
	fe *pgproto3.Frontend
}

// dialRaw opens a WebSocket to the gateway at url for speaking the
// protocol by hand.
func dialRaw(t *testing.T, ctx context.Context, url, key string) *rawClient {
	t.Helper()
	ws, _, err := dialWS(ctx, url, key)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	// Most tests end the session on purpose (a cut, a kill, a close): this
	// close only makes sure it is gone, and its error would repeat theirs.
	t.Cleanup(func() { _ = nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(testLimit)); err != nil {
		t.Fatal(err)
	}
	return &rawClient{ws: ws, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// write sends p as one binary message.
func (rc *rawClient) write(t *testing.T, p []byte) {
	t.Helper()
	if _, err := rc.nc.Write(p); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// startupAnswer is what a server answered a StartupMessage with.
// (pgproto3 reuses message values, so they are copied out.)
type startupAnswer struct {
	types  []string // the messages' Go types, in order
	params map[string]string
	pid    uint32
	secret []byte
}

// startup sends a StartupMessage and reads the answer up to ReadyForQuery.
func (rc *rawClient) startup(t *testing.T, params map[string]string) startupAnswer {
	t.Helper()
	rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params})
	if err := rc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	a := startupAnswer{params: map[string]string{}}
	for {
		m, err := rc.fe.Receive()
		if err != nil {
			t.Fatalf("receive startup answer: %v", err)
		}
		a.types = append(a.types, fmt.Sprintf("%T", m))
		switch m := m.(type) {
		case *pgproto3.ParameterStatus:
			a.params[m.Name] = m.Value
		case *pgproto3.BackendKeyData:
			a.pid, a.secret = m.ProcessID, bytes.Clone(m.SecretKey)
		case *pgproto3.ReadyForQuery:
			return a
		case *pgproto3.ErrorResponse:
			t.Fatalf("startup failed: %s %s", m.Code, m.Message)
		}
	}
}
