package relay

import (
	"net"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"
)

// read takes each expected group in turn and reads the server's messages
// for it. It returns on the session's end, or with the server link's
// failure.
func (s *session) read() error {
	for {
		g, err := s.groups.pop(s.ctx)
		if err != nil {
			return errClientGone
		}
		switch g.kind {
		case forward, endless:
			err = s.readForward(g)
		case fill:
			err = s.readFill(g)
		case collect:
			err = s.readCollect(g)
		case discard:
			err = s.readDiscard(g)
		}
		if err != nil {
			return err
		}
	}
}

// receive reads one message from the server. After the client's Terminate
// or the session's end, the server's close is no failure.
func (s *session) receive() (pgproto3.BackendMessage, error) {
	m, err := s.fe.Receive()
	if err != nil {
		if s.terminated.Load() || s.ctx.Err() != nil {
			return nil, errClientGone
		}
		return nil, upstream("read", err)
	}
	return m, nil
}

// readForward hands the group's messages to the pump in chunks: whenever
// nothing more is buffered from the server (so an answer the client waits
// for is never held back), or chunkBytes are gathered.
func (s *session) readForward(g *group) error {
	defer close(g.out)
	var buf []byte
	for {
		m, err := s.receive()
		if err != nil {
			return err
		}
		if buf, err = m.Encode(buf); err != nil {
			return &ProtocolError{Side: "server", Err: err}
		}
		rfq, end := m.(*pgproto3.ReadyForQuery)
		if end {
			s.status.Store(uint32(rfq.TxStatus))
			if rfq.TxStatus != 'T' {
				s.txEnds.Add(1)
			}
		}
		end = end && g.kind == forward
		if end {
			s.outstanding.Add(-1)
		}
		if end || len(buf) >= chunkBytes || s.fe.ReadBufferLen() == 0 {
			select {
			case g.out <- buf:
			case <-s.ctx.Done():
				return errClientGone
			}
			buf = nil
		}
		if end {
			return nil
		}
	}
}

// readFill reads a prefetched query's answer into its cache entry (a
// COPY TO's data included). An error or an answer over the budget is not
// kept: pg_dump's own query then passes through and meets the server's
// answer itself.
func (s *session) readFill(g *group) error {
	var buf []byte
	keep := true
	for {
		m, err := s.receive()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			if !s.cache.resolve(g.entry, buf, m.TxStatus, keep && m.TxStatus == 'T') {
				s.r.dropped.Add(1)
			}
			return nil
		case *pgproto3.ErrorResponse, *pgproto3.CopyInResponse, *pgproto3.CopyBothResponse:
			keep = false
		}
		if keep {
			if buf, err = m.Encode(buf); err != nil {
				return &ProtocolError{Side: "server", Err: err}
			}
			if int64(len(buf)) > g.entry.within {
				keep, buf = false, nil
			}
		}
	}
}

// readCollect gathers the keys (first column) and estimates (second, if
// any) of each row of a catalog query; none if the query failed.
func (s *session) readCollect(g *group) error {
	var keys []keyed
	failed := false
	for {
		m, err := s.receive()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *pgproto3.DataRow:
			if len(m.Values) > 0 && m.Values[0] != nil {
				k := keyed{key: string(m.Values[0])}
				if len(m.Values) > 1 {
					k.size, _ = strconv.ParseInt(string(m.Values[1]), 10, 64)
				}
				keys = append(keys, k)
			}
		case *pgproto3.ErrorResponse:
			failed = true
		case *pgproto3.ReadyForQuery:
			if failed {
				keys = nil
			}
			g.keys <- keys // buffered: the only send
			return nil
		}
	}
}

// readDiscard reads an answer nobody waits for (the savepoint's).
func (s *session) readDiscard(g *group) error {
	for {
		m, err := s.receive()
		if err != nil {
			return err
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			if g.onDone != nil {
				g.onDone()
			}
			return nil
		}
	}
}

// pump writes the client's answers in the order it asked for them.
func (s *session) pump() error {
	rfq := []byte{'Z', 0, 0, 0, 5, 0}
	for {
		var it item
		var ok bool
		select {
		case it, ok = <-s.items:
			if !ok {
				return errClientGone
			}
		case <-s.ctx.Done():
			return errClientGone
		}
		if it.g == nil {
			// The cached messages, then a ReadyForQuery, in one writev.
			rfq[5] = it.status
			bufs := net.Buffers{it.data, rfq}
			if _, err := bufs.WriteTo(s.client); err != nil {
				return errClientGone
			}
			continue
		}
		if err := s.pumpGroup(it.g); err != nil {
			return err
		}
	}
}

// pumpGroup writes a forwarded group's chunks as they come.
func (s *session) pumpGroup(g *group) error {
	for {
		select {
		case chunk, ok := <-g.out:
			if !ok {
				return nil
			}
			if _, err := s.client.Write(chunk); err != nil {
				return errClientGone
			}
		case <-s.ctx.Done():
			return errClientGone
		}
	}
}
