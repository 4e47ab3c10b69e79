package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// errClientGone ends a session normally: the client left.
var errClientGone = errors.New("client left")

// savepoint is the name of the relay's savepoint in pg_dump's transaction.
const savepoint = "ppg_relay_prefetch"

// chunkBytes is the most bytes of a forwarded response the reader hands
// over at once.
const chunkBytes = 64 << 10

// A session is one client connection and its server connection. Three
// goroutines share it:
//   - serveClient (the session's own) reads the client's messages and is
//     the only writer to the server. For each message that expects an
//     answer it queues a group (what the server will send back, in the
//     order sent) and an item (what the client must receive, in the order
//     asked).
//   - read is the only reader of the server: it takes each group in turn,
//     forwarding it, filling a cache entry, collecting keys or dropping it.
//   - pump is the only writer to the client: it writes each item in turn,
//     a cached answer or a forwarded group's chunks.
//
// So the client sees exactly the responses to what it sent, in order,
// whatever the relay sent in between.
type session struct {
	r      *Relay
	client net.Conn
	server net.Conn
	be     *pgproto3.Backend
	fe     *pgproto3.Frontend
	cache  *cache
	tpls   []*template

	ctx    context.Context
	cancel context.CancelCauseFunc

	groups fifo
	items  chan item

	// outstanding counts forwarded groups whose ReadyForQuery the reader
	// has not seen; status is the last one's transaction status. With
	// none outstanding, status is what the client saw last.
	outstanding atomic.Int64
	status      atomic.Uint32
	terminated  atomic.Bool
	// txEnds counts forwarded answers that left the client outside a
	// healthy transaction block: prefetched answers belong to the
	// transaction they were fetched in, and are dropped when it ends.
	txEnds   atomic.Uint64
	cacheGen uint64

	// lists holds every template's keys, fetched together at the first
	// prefetch of a transaction (nil until then); triggered marks the
	// templates prefetched since; remaining holds, per template, the keys
	// not prefetched yet.
	lists     map[string][]keyed
	triggered map[string]bool
	remaining map[string][]keyed
	// runs are the catalog queries pinned for this pg_dump and server,
	// runAt where each stands, and runsSent the runs prefetched in this
	// transaction.
	runs        [][]string
	runAt       map[string]runPos
	runsSent    map[int]bool
	transparent bool
	wbuf        []byte
}

// item is one answer the client waits for: cached bytes and a status, or
// a forwarded group's chunks.
type item struct {
	g      *group
	data   []byte
	status byte
}

// keyed is an object's key and the estimated size of its answer (0 when
// unknown).
type keyed struct {
	key  string
	size int64
}

type groupKind int

const (
	forward groupKind = iota // to the client, up to ReadyForQuery
	endless                  // to the client, for the rest of the session
	fill                     // into a cache entry
	collect                  // keys and their estimates, from rows
	discard                  // dropped (savepoint handling)
)

// group is what the server sends for one message that ends with
// ReadyForQuery, and where it goes.
type group struct {
	kind   groupKind
	out    chan []byte  // forward, endless
	entry  *entry       // fill
	keys   chan []keyed // collect
	onDone func()       // discard
}

func newSession(r *Relay, c net.Conn) *session {
	ctx, cancel := context.WithCancelCause(r.ctx)
	return &session{
		r: r, client: c, be: pgproto3.NewBackend(c, c),
		cache: newCache(r.cfg.CacheBytes), tpls: templatesFor(r.cfg.DumpMajor),
		ctx: ctx, cancel: cancel, items: make(chan item, 64),
		groups: fifo{wake: make(chan struct{}, 1)}, triggered: make(map[string]bool),
		remaining: make(map[string][]keyed), runsSent: make(map[int]bool),
	}
}

// run serves the connection to its end and returns its failure, nil for a
// clean end (the client left). The session's end closes both connections,
// which unblocks every goroutine.
func (s *session) run() error {
	stop := context.AfterFunc(s.ctx, func() { _ = s.client.Close() })
	defer stop()
	defer func() {
		if s.server != nil {
			_ = s.server.Close()
		}
	}()
	defer s.cancel(errClientGone)
	defer func() {
		_, peak := s.cache.size()
		for old := s.r.peak.Load(); peak > old && !s.r.peak.CompareAndSwap(old, peak); old = s.r.peak.Load() {
		}
	}()
	ok, err := s.startup()
	if err != nil || !ok {
		return err // the deferred cancel closes both connections
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.cancel(s.read()) }()
	go func() { defer wg.Done(); s.cancel(s.pump()) }()
	s.cancel(s.serveClient())
	wg.Wait()
	if err := context.Cause(s.ctx); !errors.Is(err, errClientGone) && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// startup answers the client's SSL and GSS requests with 'N', relays a
// cancel request, or opens the server connection and relays the startup
// and authentication exchange up to the first ReadyForQuery. ok is false
// when the connection ends there (a cancel request, a refused login).
func (s *session) startup() (ok bool, err error) {
	var startup *pgproto3.StartupMessage
	for startup == nil {
		m, err := s.be.ReceiveStartupMessage()
		if err != nil {
			return false, nil // not a Postgres client, or it left
		}
		switch m := m.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := s.client.Write([]byte{'N'}); err != nil {
				return false, nil
			}
		case *pgproto3.CancelRequest:
			return false, s.relayCancel(m)
		case *pgproto3.StartupMessage:
			startup = m
		}
	}
	server, err := s.r.cfg.Dial(s.ctx)
	if err != nil {
		s.refuse("could not connect to the server through ppg's relay")
		return false, upstream("connect", err)
	}
	s.server = server
	context.AfterFunc(s.ctx, func() { _ = server.Close() })
	s.fe = pgproto3.NewFrontend(server, server)
	if err := s.writeServer(startup); err != nil {
		return false, err
	}
	return s.authenticate()
}

// authenticate relays the server's authentication requests and the
// client's answers: the client authenticates with the server itself, and
// the relay never holds a password.
func (s *session) authenticate() (bool, error) {
	for {
		m, err := s.fe.Receive()
		if err != nil {
			return false, upstream("read", err)
		}
		if sasl, ok := m.(*pgproto3.AuthenticationSASL); ok {
			sasl.AuthMechanisms = withoutChannelBinding(sasl.AuthMechanisms)
		}
		s.be.Send(m)
		if err := s.be.Flush(); err != nil {
			return false, nil
		}
		var authType uint32
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			s.status.Store(uint32(m.TxStatus))
			return true, nil
		case *pgproto3.ParameterStatus:
			if m.Name == "server_version" {
				s.runs = Runs(s.r.cfg.DumpMajor, serverMajor(m.Value))
				s.runAt = runIndex(s.runs)
			}
			continue
		case *pgproto3.ErrorResponse:
			return false, nil // the server refused; the client has its error
		case *pgproto3.AuthenticationCleartextPassword:
			authType = pgproto3.AuthTypeCleartextPassword
		case *pgproto3.AuthenticationMD5Password:
			authType = pgproto3.AuthTypeMD5Password
		case *pgproto3.AuthenticationSASL:
			authType = pgproto3.AuthTypeSASL
		case *pgproto3.AuthenticationSASLContinue:
			authType = pgproto3.AuthTypeSASLContinue
		case *pgproto3.AuthenticationGSS, *pgproto3.AuthenticationGSSContinue:
			return false, &ProtocolError{Side: "server", Err: errors.New("GSSAPI authentication is not supported through the relay")}
		default:
			continue // AuthenticationOk, SASLFinal, ParameterStatus, BackendKeyData, notices
		}
		if err := s.be.SetAuthType(authType); err != nil {
			return false, &ProtocolError{Side: "server", Err: err}
		}
		answer, err := s.be.Receive()
		if err != nil {
			return false, nil
		}
		if err := s.writeServer(answer); err != nil {
			return false, err
		}
	}
}

// withoutChannelBinding drops the SASL mechanisms that bind to the TLS
// channel (SCRAM-SHA-256-PLUS): the server's channel is the relay's, not
// the client's, and libpq refuses a -PLUS offer over a plain connection as
// a downgrade. The client then uses SCRAM-SHA-256, saying it has no
// channel binding, which the server accepts.
func withoutChannelBinding(mechs []string) []string {
	var keep []string
	for _, m := range mechs {
		if !strings.HasSuffix(m, "-PLUS") {
			keep = append(keep, m)
		}
	}
	return keep
}

// relayCancel passes a cancel request to the server on a new connection:
// the key is the server's, which the client got through the relay.
func (s *session) relayCancel(m *pgproto3.CancelRequest) error {
	conn, err := s.r.cfg.Dial(s.ctx)
	if err != nil {
		return upstream("connect", err)
	}
	defer func() { _ = conn.Close() }()
	buf, err := m.Encode(nil)
	if err != nil {
		return &ProtocolError{Side: "client", Err: err}
	}
	if _, err := conn.Write(buf); err != nil {
		return upstream("write", err)
	}
	_, _ = io.Copy(io.Discard, conn) // the server closes it when done
	return nil
}

// refuse tells the client, as a Postgres error, that the relay could not
// reach the server. The cause stays in the returned error, not on the wire.
func (s *session) refuse(msg string) {
	s.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08001", Message: msg})
	_ = s.be.Flush()
}

// writeServer encodes msgs and writes them to the server at once.
func (s *session) writeServer(msgs ...pgproto3.FrontendMessage) error {
	s.wbuf = s.wbuf[:0]
	for _, m := range msgs {
		var err error
		if s.wbuf, err = m.Encode(s.wbuf); err != nil {
			return &ProtocolError{Side: "client", Err: err}
		}
	}
	if _, err := s.server.Write(s.wbuf); err != nil {
		return upstream("write", err)
	}
	if cap(s.wbuf) > 1<<20 {
		s.wbuf = nil
	}
	return nil
}

// upstream wraps a failure of the server link.
func upstream(op string, err error) error {
	return &UpstreamError{Op: op, Err: err}
}

// fifo is the queue of groups the server will send, in the order the
// requests were written. Unbounded: the writer must never wait for the
// reader, who waits for the server, who waits for the writer's requests.
type fifo struct {
	mu   sync.Mutex
	q    []*group
	wake chan struct{}
}

func (f *fifo) push(gs ...*group) {
	f.mu.Lock()
	f.q = append(f.q, gs...)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fifo) pop(ctx context.Context) (*group, error) {
	for {
		f.mu.Lock()
		if len(f.q) > 0 {
			g := f.q[0]
			f.q[0] = nil
			f.q = f.q[1:]
			f.mu.Unlock()
			return g, nil
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
