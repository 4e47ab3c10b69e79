package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	// relayBufSize is the read size of the relay loops: one upstream read
	// becomes one WebSocket message.
	relayBufSize = 64 << 10
	// maxFrameHeader is the longest WebSocket frame header a server sends.
	maxFrameHeader = 14
	// maxInFlight bounds the bytes held by a delay line (Options.Latency).
	maxInFlight = 16 << 20
	// startupTimeout bounds the startup exchange, as PostgreSQL's
	// authentication_timeout does.
	startupTimeout = time.Minute
	// upstreamConnectTimeout bounds the login to the upstream server.
	upstreamConnectTimeout = 30 * time.Second
)

// errCut ends a relay loop when the session was cut on purpose.
var errCut = errors.New("session cut")

// errTextMessage reports a text message, which the protocol does not use.
var errTextMessage = errors.New("text message received; the tunnel protocol uses binary messages only")

// session is one accepted WebSocket and, after the startup exchange, its
// upstream connection.
type session struct {
	g         *Gateway
	id        int64
	ws        *websocket.Conn
	conn      net.Conn // ws's connection
	key       string
	rt        route
	requestID string
	cutAfter  int64 // 0: never cut

	// ctx ends when the session is killed or over; ws calls and the
	// upstream login use it.
	ctx    context.Context
	cancel context.CancelFunc

	carried atomic.Int64 // bytes relayed both ways, for cutAfter
	up      atomic.Int64 // bytes written upstream
	down    atomic.Int64 // bytes sent to the client

	mu         sync.Mutex
	upstream   net.Conn // set once logged in upstream
	killed     bool
	killReason string
}

func newSession(g *Gateway, id int64, ws *websocket.Conn, conn net.Conn, key string, rt route, requestID string, cutAfter int64) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		g:         g,
		id:        id,
		ws:        ws,
		conn:      conn,
		key:       key,
		rt:        rt,
		requestID: requestID,
		cutAfter:  cutAfter,
		ctx:       ctx,
		cancel:    cancel,
	}
}

// run serves the session until it ends and then releases everything.
func (s *session) run() {
	start := time.Now()
	s.g.logf("gateway: session %d open: %s, request %s", s.id, redactKey(s.key), s.requestID)
	reason := s.serve()

	s.mu.Lock()
	if s.killed {
		reason = s.killReason
	}
	s.mu.Unlock()
	s.teardown()
	s.g.logf("gateway: session %d closed after %s: %s; %d bytes to upstream, %d bytes to client",
		s.id, time.Since(start).Round(time.Millisecond), reason, s.up.Load(), s.down.Load())
}

// teardown closes both connections without a close handshake.
func (s *session) teardown() {
	s.cancel()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	_ = s.ws.CloseNow()
	s.mu.Lock()
	up := s.upstream
	s.mu.Unlock()
	if up != nil {
		_ = up.Close()
	}
}

// kill cuts the session abruptly, as if the gateway died: no WebSocket
// close handshake, upstream closed. The first reason given is logged.
func (s *session) kill(reason string) {
	s.mu.Lock()
	if !s.killed {
		s.killed = true
		s.killReason = reason
	}
	s.mu.Unlock()
	s.teardown()
}

// setUpstream records the upstream connection, or closes it and reports
// false if the session was killed meanwhile.
func (s *session) setUpstream(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.killed {
		_ = c.Close()
		return false
	}
	s.upstream = c
	return true
}

// serve runs the startup exchange and the relay, and says why it ended.
func (s *session) serve() string {
	in := &messageReader{ctx: s.ctx, ws: s.ws}
	timer := time.AfterFunc(startupTimeout, func() { s.kill("startup timeout") })
	pkt, err := s.readFirstPacket(in)
	if err != nil {
		timer.Stop()
		return s.clientGone(err, "read startup packet")
	}
	if pkt.Code == cancelRequestCode {
		timer.Stop()
		return s.forwardCancel(pkt)
	}
	upstream, reason := s.login(pkt)
	timer.Stop()
	if upstream == nil {
		return reason
	}
	return s.relay(in, upstream)
}

// readFirstPacket reads the client's first packet, answering 'N' to
// SSLRequest and GSSENCRequest: TLS is the WebSocket's business.
func (s *session) readFirstPacket(in io.Reader) (*startupPacket, error) {
	for {
		pkt, err := readStartupPacket(in)
		if err != nil {
			return nil, err
		}
		if pkt.Code != sslRequestCode && pkt.Code != gssEncRequestCode {
			return pkt, nil
		}
		if err := s.sleep(2 * s.g.opts.Latency); err != nil {
			return nil, err
		}
		if err := s.writeClient([]byte{'N'}); err != nil {
			return nil, err
		}
	}
}

// forwardCancel sends a CancelRequest to the upstream server as is.
func (s *session) forwardCancel(pkt *startupPacket) string {
	cfg, err := pgconn.ParseConfig(s.rt.upstreamURL)
	if err != nil {
		return fmt.Sprintf("cancel request: parse upstream config: %v", err)
	}
	if err := s.sleep(s.g.opts.Latency); err != nil {
		return "cancel request: " + err.Error()
	}
	network, addr := pgconn.NetworkAddress(cfg.Host, cfg.Port)
	d := net.Dialer{Timeout: upstreamConnectTimeout}
	c, err := d.DialContext(s.ctx, network, addr)
	if err != nil {
		return fmt.Sprintf("cancel request: dial upstream: %v", err)
	}
	defer func() { _ = c.Close() }() // the server closes it first, below
	n, err := c.Write(pkt.Raw)
	s.countUp(n)
	if err != nil {
		return fmt.Sprintf("cancel request: write upstream: %v", err)
	}
	// The server answers a cancel request by closing the connection;
	// waiting for that makes the cancel land before the client hears back.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, c)
	_ = s.ws.Close(websocket.StatusNormalClosure, "")
	return "cancel request forwarded"
}

// login connects upstream with the route's credentials and the client's
// other startup parameters, and answers the client as a server would after
// a successful authentication. On failure it sends the client a FATAL
// ErrorResponse and returns a nil conn and the reason.
func (s *session) login(pkt *startupPacket) (net.Conn, string) {
	if pkt.Code>>16 != 3 {
		msg := fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", pkt.Code>>16, pkt.Code&0xffff)
		s.sendFatal("0A000", msg, "", "")
		return nil, msg
	}
	cfg, err := pgconn.ParseConfig(s.rt.upstreamURL)
	if err != nil {
		s.sendFatal("08006", "gateway emulator: invalid upstream configuration", "", "")
		return nil, fmt.Sprintf("parse upstream config: %v", err)
	}
	// The client speaks 3.0 to us, so the upstream must too.
	cfg.MinProtocolVersion, cfg.MaxProtocolVersion = "3.0", "3.0"
	var unrecognized []string
	for _, p := range pkt.Params {
		switch {
		case p.Name == "user" || p.Name == "database":
			// The route decides who logs in where.
		case p.Name == "replication" && s.g.opts.RefuseReplication:
			s.sendFatal("08004", "gateway emulator: replication connections are not supported", "", "")
			return nil, "replication connection refused"
		case len(p.Name) > 4 && p.Name[:4] == "_pq_":
			unrecognized = append(unrecognized, p.Name)
		default:
			cfg.RuntimeParams[p.Name] = p.Value
		}
	}

	ctx, cancel := context.WithTimeout(s.ctx, upstreamConnectTimeout)
	defer cancel()
	pgConn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			s.sendFatal(pgErr.Code, pgErr.Message, pgErr.Detail, pgErr.Hint)
		} else {
			s.sendFatal("08006", "could not connect to the database server", err.Error(), "")
		}
		return nil, fmt.Sprintf("connect upstream: %v", err)
	}
	if err := pgConn.SyncConn(ctx); err != nil {
		_ = pgConn.Close(ctx)
		s.sendFatal("08006", "could not connect to the database server", err.Error(), "")
		return nil, fmt.Sprintf("sync upstream connection: %v", err)
	}
	hc, err := pgConn.Hijack()
	if err != nil {
		_ = pgConn.Close(ctx)
		s.sendFatal("08006", "could not connect to the database server", err.Error(), "")
		return nil, fmt.Sprintf("hijack upstream connection: %v", err)
	}
	if tc, ok := hc.Conn.(*net.TCPConn); ok {
		// Go's default, but the relay depends on it: no Nagle delays.
		_ = tc.SetNoDelay(true)
	}
	if !s.setUpstream(hc.Conn) {
		return nil, "killed during login"
	}

	reply, err := startupReply(pkt, unrecognized, hc)
	if err != nil {
		return nil, fmt.Sprintf("encode startup reply: %v", err)
	}
	if err := s.sleep(2 * s.g.opts.Latency); err != nil {
		return nil, s.clientGone(err, "startup reply")
	}
	if err := s.writeClient(reply); err != nil {
		return nil, s.clientGone(err, "send startup reply")
	}
	return hc.Conn, ""
}

// startupReply encodes what a server sends after accepting a startup
// message: NegotiateProtocolVersion if the client asked for more than 3.0,
// AuthenticationOk, ParameterStatus for each upstream parameter,
// BackendKeyData (the upstream's, so cancel requests reach it) and
// ReadyForQuery.
func startupReply(pkt *startupPacket, unrecognized []string, hc *pgconn.HijackedConn) ([]byte, error) {
	var msgs []pgproto3.BackendMessage
	if pkt.Code != protocolVersion30 || len(unrecognized) > 0 {
		msgs = append(msgs, &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	msgs = append(msgs, &pgproto3.AuthenticationOk{})
	names := make([]string, 0, len(hc.ParameterStatuses))
	for name := range hc.ParameterStatuses {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		msgs = append(msgs, &pgproto3.ParameterStatus{Name: name, Value: hc.ParameterStatuses[name]})
	}
	msgs = append(msgs,
		&pgproto3.BackendKeyData{ProcessID: hc.PID, SecretKey: hc.SecretKey},
		&pgproto3.ReadyForQuery{TxStatus: hc.TxStatus},
	)
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			return nil, fmt.Errorf("encode %T: %w", m, err)
		}
	}
	return buf, nil
}

// sendFatal sends the client a FATAL ErrorResponse and closes the
// WebSocket normally.
func (s *session) sendFatal(code, message, detail, hint string) {
	msg := &pgproto3.ErrorResponse{
		Severity:            "FATAL",
		SeverityUnlocalized: "FATAL",
		Code:                code,
		Message:             message,
		Detail:              detail,
		Hint:                hint,
	}
	if buf, err := msg.Encode(nil); err == nil {
		_ = s.writeClient(buf)
	}
	_ = s.ws.Close(websocket.StatusNormalClosure, "")
}

// relay copies bytes both ways until either side ends, then ends the
// other: a client that goes away gets its upstream connection closed, an
// upstream that goes away gets the WebSocket closed with status 1000.
func (s *session) relay(in *messageReader, upstream net.Conn) string {
	var wg sync.WaitGroup
	var downErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		downErr = s.pump(upstream.Read, s.writeClient)
		// Let the client read what was sent, then close.
		_ = s.ws.Close(websocket.StatusNormalClosure, "")
	}()
	upErr := s.pump(in.Read, func(p []byte) error {
		n, err := upstream.Write(p)
		s.countUp(n)
		return err
	})
	if errors.Is(upErr, errTextMessage) {
		_ = s.ws.Close(websocket.StatusUnsupportedData, "binary messages only")
	}
	_ = upstream.Close()
	wg.Wait()

	// Whichever side ended first: an upstream EOF makes the gateway close
	// the WebSocket, which the client then acknowledges.
	switch status := websocket.CloseStatus(upErr); {
	case errors.Is(downErr, io.EOF):
		return "upstream closed the connection"
	case status != -1:
		return fmt.Sprintf("client closed the WebSocket (status %d)", status)
	case errors.Is(upErr, errTextMessage):
		return upErr.Error()
	default:
		return fmt.Sprintf("client: %v; upstream: %v", upErr, downErr)
	}
}

// pump copies from read to write until either fails, applying the
// session's bandwidth cap, latency and cut. It returns the first error.
func (s *session) pump(read func([]byte) (int, error), write func([]byte) error) error {
	bucket := newTokenBucket(s.g.opts.BandwidthBytesPerSec)
	size := relayBufSize
	if bucket != nil {
		// Smaller chunks make a smoother cap.
		size = min(size, max(int(s.g.opts.BandwidthBytesPerSec/50), 1024))
	}
	buf := make([]byte, size)
	if s.g.opts.Latency > 0 {
		return s.pumpDelayed(buf, bucket, read, write)
	}
	for {
		n, err := read(buf)
		if n > 0 {
			if werr := bucket.wait(s.ctx, n); werr != nil {
				return werr
			}
			if werr := s.deliver(write, buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}

// pumpDelayed is pump through a delay line: each chunk is written Latency
// after it was read, by a second goroutine, so reading goes on meanwhile.
func (s *session) pumpDelayed(buf []byte, bucket *tokenBucket, read func([]byte) (int, error), write func([]byte) error) error {
	line := newDelayLine(maxInFlight)
	stop := context.AfterFunc(s.ctx, line.fail)
	defer stop()
	werrc := make(chan error, 1)
	go func() {
		werrc <- s.drain(line, write)
	}()
	var rerr error
	for {
		n, err := read(buf)
		if n > 0 {
			if werr := bucket.wait(s.ctx, n); werr != nil {
				rerr = werr
				break
			}
			chunk := make([]byte, n)
			copy(chunk, buf[:n])
			if !line.push(chunk, time.Now().Add(s.g.opts.Latency)) {
				break // the writer failed; it reports why
			}
		}
		if err != nil {
			rerr = err
			break
		}
	}
	line.closeInput()
	if werr := <-werrc; werr != nil {
		return werr
	}
	return rerr
}

// drain writes the delay line's chunks when they are due, until the line
// is closed and empty or a write fails.
func (s *session) drain(line *delayLine, write func([]byte) error) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c, ok := line.pop()
		if !ok {
			return s.ctx.Err()
		}
		if d := time.Until(c.due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-s.ctx.Done():
				line.fail()
				return s.ctx.Err()
			}
		}
		if err := s.deliver(write, c.data); err != nil {
			line.fail()
			return err
		}
	}
}

// deliver writes p, unless that takes the session past its cut: then it
// writes only the bytes up to the cut and kills the session.
func (s *session) deliver(write func([]byte) error, p []byte) error {
	for s.g.frozen.Load() {
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if s.cutAfter <= 0 {
		return write(p)
	}
	total := s.carried.Add(int64(len(p)))
	if total < s.cutAfter {
		return write(p)
	}
	if keep := int64(len(p)) - (total - s.cutAfter); keep > 0 {
		_ = write(p[:keep])
	}
	s.kill(fmt.Sprintf("cut after %d bytes", s.cutAfter))
	return errCut
}

// writeClient sends p as one binary message.
func (s *session) writeClient(p []byte) error {
	if err := s.ws.Write(s.ctx, websocket.MessageBinary, p); err != nil {
		return err
	}
	s.down.Add(int64(len(p)))
	s.g.toClient.Add(int64(len(p)))
	return nil
}

func (s *session) countUp(n int) {
	s.up.Add(int64(n))
	s.g.toUpstream.Add(int64(n))
}

// sleep waits for d or until the session ends.
func (s *session) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// clientGone describes why the startup exchange ended early.
func (s *session) clientGone(err error, doing string) string {
	if status := websocket.CloseStatus(err); status != -1 {
		return fmt.Sprintf("client closed the WebSocket (status %d) during %s", status, doing)
	}
	return fmt.Sprintf("%s: %v", doing, err)
}

// messageReader reads the payloads of consecutive binary messages as one
// byte stream: Postgres messages may be split across WebSocket messages
// anywhere, and one WebSocket message may hold several.
type messageReader struct {
	ctx context.Context
	ws  *websocket.Conn
	cur io.Reader // the message being read; nil between messages
}

// Read implements io.Reader. It fails on a text message.
func (m *messageReader) Read(p []byte) (int, error) {
	for {
		if m.cur == nil {
			typ, r, err := m.ws.Reader(m.ctx)
			if err != nil {
				return 0, err
			}
			if typ != websocket.MessageBinary {
				return 0, errTextMessage
			}
			m.cur = r
		}
		n, err := m.cur.Read(p)
		if errors.Is(err, io.EOF) {
			m.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}
