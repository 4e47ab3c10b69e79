package relay

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeServer speaks just enough of the protocol for the relay: a trusted
// login, transaction status, savepoints, the views' catalog query (three
// views), pg_get_viewdef, and an error for "SELECT fail". It records the
// queries it receives.
type fakeServer struct {
	ln      net.Listener
	oids    []string            // the views; '666' fails
	version string              // server_version, if any, sent at login
	lists   map[string][]string // other catalog queries' keys
	mu      sync.Mutex
	queries []string
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, oids: []string{"101", "102", "103"}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return f
}

func (f *fakeServer) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queries)
}

func (f *fakeServer) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	be := pgproto3.NewBackend(c, c)
	if _, err := be.ReceiveStartupMessage(); err != nil {
		return
	}
	be.Send(&pgproto3.AuthenticationOk{})
	if f.version != "" {
		be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: f.version})
	}
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	status := byte('I')
	for {
		m, err := be.Receive()
		if err != nil {
			return
		}
		q, ok := m.(*pgproto3.Query)
		if !ok {
			return
		}
		f.mu.Lock()
		f.queries = append(f.queries, q.String)
		f.mu.Unlock()
		if keys, ok := f.lists[q.String]; ok && status == 'T' {
			// Answered as the views' catalog query, with these keys.
			status = answer(be, templatesFor(17)[0].list, status, keys)
		} else {
			status = answer(be, q.String, status, f.oids)
		}
		if be.Flush() != nil {
			return
		}
	}
}

// answer sends the fake server's answer to q and returns the new status.
func answer(be *pgproto3.Backend, q string, status byte, oids []string) byte {
	row := func(v string) {
		be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("v"), DataTypeOID: 25, DataTypeSize: -1, TypeModifier: -1}}})
		be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(v)}})
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
	}
	switch {
	case status == 'E' && !strings.HasPrefix(q, "ROLLBACK"):
		be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "25P02", Message: "current transaction is aborted"})
	case q == "BEGIN":
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
		status = 'T'
	case q == "COMMIT" || q == "ROLLBACK":
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte(q)})
		status = 'I'
	case strings.HasPrefix(q, "SAVEPOINT") || strings.HasPrefix(q, "ROLLBACK TO") || strings.HasPrefix(q, "RELEASE"):
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte(strings.Fields(q)[0])})
		status = 'T'
	case q == templatesFor(17)[0].list:
		be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("oid"), DataTypeOID: 26, DataTypeSize: 4, TypeModifier: -1}}})
		for _, oid := range oids {
			be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(oid)}})
		}
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 3")})
	case q == "SELECT fail" || q == viewdef("666"):
		be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "XX000", Message: "fails"})
		if status == 'T' {
			status = 'E'
		}
	case strings.HasPrefix(q, "SELECT pg_catalog.pg_get_viewdef('"):
		row("def of " + q[len("SELECT pg_catalog.pg_get_viewdef('"):][:3])
	default:
		row("answer to " + q)
	}
	be.Send(&pgproto3.ReadyForQuery{TxStatus: status})
	return status
}

func viewdef(oid string) string {
	return "SELECT pg_catalog.pg_get_viewdef('" + oid + "'::pg_catalog.oid) AS viewdef"
}

// exec runs a simple query and returns its one value, or its error.
func exec(t *testing.T, conn *pgconn.PgConn, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := conn.Exec(ctx, q).ReadAll()
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return "error " + pgErr.Code
		}
		t.Fatalf("%s: %v", q, err)
	}
	if len(res) != 1 || len(res[0].Rows) != 1 {
		return res[0].CommandTag.String()
	}
	return string(res[0].Rows[0][0])
}

// relayTo starts a relay in front of srv and connects a client to it.
func relayTo(t *testing.T, srv *fakeServer, mu *sync.Mutex, events *[]Event) (*Relay, *pgconn.PgConn) {
	t.Helper()
	r, err := Listen("tcp", "127.0.0.1:0", Config{
		Dial: func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", srv.ln.Addr().String())
		},
		DumpMajor: 17,
		Observe: func(ev Event) {
			mu.Lock()
			*events = append(*events, ev)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, "postgres://x@"+r.Addr().String()+"/db?sslmode=prefer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	return r, conn
}

// An error in a prefetched query does not reach the client's transaction:
// the rest of the batch is not kept and passes through when asked, and the
// failing query, when the client asks it, fails for the client alone.
func TestRelayBatchErrorPassesThrough(t *testing.T) {
	srv := startFakeServer(t)
	srv.oids = []string{"101", "666", "102", "103"}
	var mu sync.Mutex
	var events []Event
	r, conn := relayTo(t, srv, &mu, &events)
	for _, s := range []struct{ q, want string }{
		{"BEGIN", "BEGIN"},
		{viewdef("101"), "def of 101"},
		{viewdef("102"), "def of 102"},
		{viewdef("103"), "def of 103"},
		{"SELECT still", "answer to SELECT still"},
		{viewdef("666"), "error XX000"},
	} {
		if got := exec(t, conn, s.q); got != s.want {
			t.Fatalf("%s: got %q, want %q", s.q, got, s.want)
		}
	}
	if st := r.Stats(); st.Hits != 0 || st.Dropped != 3 || st.Misses != 3 {
		t.Errorf("stats %+v: want 3 dropped and 3 misses, no hits", st)
	}
}

func TestRelayPrefetchesInTheTransaction(t *testing.T) {
	srv := startFakeServer(t)
	var mu sync.Mutex
	var events []Event
	r, conn := relayTo(t, srv, &mu, &events)

	// Outside a transaction nothing is prefetched.
	if got := exec(t, conn, viewdef("101")); got != "def of 101" {
		t.Fatalf("got %q", got)
	}
	steps := []struct{ q, want string }{
		{"BEGIN", "BEGIN"},
		{viewdef("102"), "def of 102"}, // the trigger
		{"SELECT other", "answer to SELECT other"},
		{viewdef("103"), "def of 103"}, // from the cache
		{viewdef("101"), "def of 101"}, // from the cache
		{viewdef("101"), "def of 101"}, // taken already: from the server
		{"SELECT fail", "error XX000"},
		{"ROLLBACK", "ROLLBACK"},
		{"BEGIN", "BEGIN"},
		{viewdef("103"), "def of 103"}, // a new transaction: a new prefetch
	}
	for _, s := range steps {
		if got := exec(t, conn, s.q); got != s.want {
			t.Fatalf("%s: got %q, want %q", s.q, got, s.want)
		}
	}
	waitEvents(t, &mu, &events, "viewdef", 2) // the server answered both batches
	got := srv.received()
	wantViewdefs := map[string]int{viewdef("101"): 4, viewdef("102"): 2, viewdef("103"): 2}
	for q, n := range wantViewdefs {
		if c := count(got, q); c != n {
			t.Errorf("the server ran %s %d times, want %d; it received:\n%s", q, c, n, strings.Join(got, "\n"))
		}
	}
	// Each prefetch (the first of a transaction): a savepoint, a rollback
	// to it after each template's catalog query and after the batch, a
	// release.
	lists := len(templatesFor(17))
	for q, n := range map[string]int{"SAVEPOINT " + savepoint: 2, "ROLLBACK TO SAVEPOINT " + savepoint: 2 * (lists + 1), "RELEASE SAVEPOINT " + savepoint: 2} {
		if c := count(got, q); c != n {
			t.Errorf("the server ran %s %d times, want %d", q, c, n)
		}
	}
	if st := r.Stats(); st.Hits != 2 || st.Prefetched != 4 {
		t.Errorf("stats %+v: want 2 hits of 4 prefetched", st)
	}
}

func count(qs []string, q string) int {
	n := 0
	for _, x := range qs {
		if x == q {
			n++
		}
	}
	return n
}

// waitEvents waits until n PrefetchDone events of batches named name
// arrived.
func waitEvents(t *testing.T, mu *sync.Mutex, events *[]Event, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		done := 0
		for _, ev := range *events {
			if ev.Kind == PrefetchDone && ev.Template == name {
				done++
			}
		}
		mu.Unlock()
		if done >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d PrefetchDone events, want %d", done, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A server that goes away in the middle of a session fails the client's
// connection at once, and the relay reports a retryable UpstreamError.
func TestRelayServerGoneIsUpstreamError(t *testing.T) {
	srv := startFakeServer(t)
	var serverConn net.Conn
	var mu sync.Mutex
	r, err := Listen("tcp", "127.0.0.1:0", Config{DumpMajor: 17, Dial: func(ctx context.Context) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.ln.Addr().String())
		mu.Lock()
		serverConn = c
		mu.Unlock()
		return c, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, "postgres://x@"+r.Addr().String()+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	exec(t, conn, "BEGIN")
	mu.Lock()
	_ = serverConn.Close()
	mu.Unlock()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(qctx, viewdef("101")).ReadAll(); err == nil || qctx.Err() != nil {
		t.Fatalf("query after the server left: %v (context: %v)", err, qctx.Err())
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var up *UpstreamError
	if !errors.As(r.Err(), &up) || !up.Retryable() {
		t.Fatalf("relay error %v, want an UpstreamError", r.Err())
	}
}

// Close cuts the sessions under way and returns once they ended.
func TestRelayCloseCutsSessions(t *testing.T) {
	srv := startFakeServer(t)
	var mu sync.Mutex
	var events []Event
	r, conn := relayTo(t, srv, &mu, &events)
	exec(t, conn, "BEGIN")
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "SELECT 1").ReadAll(); err == nil || ctx.Err() != nil {
		t.Fatalf("a query after Close: %v (context: %v)", err, ctx.Err())
	}
	if err := r.Err(); err != nil {
		t.Errorf("a session cut by Close reported %v", err)
	}
}
