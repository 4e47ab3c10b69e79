package pgdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pipelineWindow bounds the statements sent and not yet answered: far
// more than a round trip's worth, while a cancelled run leaves little
// queued on the server.
const (
	pipelineWindow = 512
	// pipelineRefill is how much of the window must be free again before
	// a full window takes more statements: they then go out together,
	// many to a write, rather than one a write as each answer comes
	// (across a link every write is a packet, through the gateway a
	// message).
	pipelineRefill = pipelineWindow / 4
	// pipelineFlush is how much is gathered into one write.
	pipelineFlush = 64 << 10
)

// Session opens another connection with the DB's parameters, named app
// (its application_name, by which a Watcher finds it), for pipelined
// statements. The caller closes it.
func (d *DB) Session(ctx context.Context, app string) (*Session, error) {
	cfg := d.conn.Config().Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgconn.ConnectConfig(ctx, &cfg.Config)
	if err != nil {
		return nil, err
	}
	return &Session{conn: conn}, nil
}

// Session is a connection for pipelined statements. It is the pgconn
// layer only: statements go as simple-query messages, and answers are read
// as they come, without pgx's query machinery.
type Session struct{ conn *pgconn.PgConn }

// Close ends the session; after a cancelled Pipeline the connection is in
// an unknown state, and this is all that is left to do with it.
func (s *Session) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = s.conn.Close(ctx)
}

// Pipeline sends stmts in order, each as its own simple query, without
// waiting for the answers, and calls done in order as each is answered:
// err is the server's *pgconn.PgError for that statement (see ServerError),
// or nil. It returns an error when the connection fails or ctx ends.
//
// It writes each text as a simple Query message while a reader
// takes the answers, so that a round trip is paid once per window, not
// once per statement. The server runs each message as its own implicit
// transaction and answers each, error or not, before it reads the next:
// one statement's error touches no other.
//
// A statement with Copy is a COPY ... FROM STDIN: its rows follow the
// query at once, as CopyData messages and a CopyDone. If the COPY fails,
// the server answers with the error and drops the rest of its rows, as the
// protocol says, so a COPY too is pipelined and its error is its own.
func (s *Session) Pipeline(ctx context.Context, stmts []Statement, done func(i int, err error)) error {
	nc := s.conn.Conn()
	w := &pipeWriter{nc: nc}
	w.room = sync.NewCond(&w.mu)
	wrote := make(chan error, 1)
	// Cancelling ends the wait at once; the server is asked to stop the
	// statement it runs (a long CREATE INDEX), and the connection, now in
	// an unknown state, is closed by Close.
	stop := context.AfterFunc(ctx, func() {
		_ = nc.SetDeadline(time.Now())
		cctx, cancel := endCtx()
		defer cancel()
		_ = s.conn.CancelRequest(cctx)
	})
	defer stop()
	go func() { wrote <- w.writeAll(stmts) }()
	fail := func(err error) error {
		w.stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	fe := s.conn.Frontend()
	for i, t := range stmts {
		stmtErr, err := readAnswer(fe, t.Copy != nil)
		if err != nil {
			return fail(err)
		}
		w.answered()
		done(i, stmtErr)
	}
	w.stop()
	if err := <-wrote; err != nil {
		return fmt.Errorf("send statements: %w", err)
	}
	return nil
}

// CopyFrom runs sql, a COPY ... FROM STDIN, with the rows read from rows
// as they come: a round trip for the whole COPY, whatever its size. The
// error is the server's *pgconn.PgError for the statement (see
// ServerError), or a failure of the connection or of rows.
func (s *Session) CopyFrom(ctx context.Context, sql string, rows io.Reader) error {
	_, err := s.conn.CopyFrom(ctx, rows, sql)
	return err
}

// pipeWriter writes a pipeline's messages, gathering them into writes of
// about pipelineFlush bytes, and holding no more than the window's worth
// of statements unanswered.
type pipeWriter struct {
	nc interface{ Write([]byte) (int, error) }
	// mu guards sent and quit; room is signalled when the reader frees
	// enough of the window, or quits.
	mu   sync.Mutex
	room *sync.Cond
	// sent counts the statements sent and not yet answered.
	sent int
	// quit ends a wait for the window: the reader stopped.
	quit bool
	buf  []byte
}

// writeAll writes each statement's messages; it returns early, with nil,
// when the reader quits.
func (w *pipeWriter) writeAll(stmts []Statement) error {
	for _, t := range stmts {
		if ok, err := w.take(); !ok || err != nil {
			return err
		}
		if err := w.statement(t); err != nil {
			return err
		}
	}
	return w.flush()
}

// take waits for room in the window, sending what is gathered first when
// it is full, and then waiting until pipelineRefill statements were
// answered; ok is false when the reader quit meanwhile.
func (w *pipeWriter) take() (ok bool, err error) {
	w.mu.Lock()
	full := w.sent >= pipelineWindow
	w.mu.Unlock()
	if full {
		if err := w.flush(); err != nil {
			return false, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if full {
		for w.sent > pipelineWindow-pipelineRefill && !w.quit {
			w.room.Wait()
		}
	}
	if w.quit {
		return false, nil
	}
	w.sent++
	return true, nil
}

// answered frees the window's place of a statement answered.
func (w *pipeWriter) answered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent--; w.sent <= pipelineWindow-pipelineRefill {
		w.room.Signal()
	}
}

// stop ends the writer's wait for room: the reader is done.
func (w *pipeWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.quit = true
	w.room.Broadcast()
}

// statement gathers one statement: a Query message, and for a COPY its
// rows as CopyData messages and a CopyDone.
func (w *pipeWriter) statement(t Statement) error {
	var err error
	if w.buf, err = (&pgproto3.Query{String: t.SQL}).Encode(w.buf); err != nil {
		return err
	}
	if t.Copy != nil {
		for rows := t.Copy; len(rows) > 0; {
			n := min(len(rows), pipelineFlush)
			if w.buf, err = (&pgproto3.CopyData{Data: rows[:n]}).Encode(w.buf); err != nil {
				return err
			}
			rows = rows[n:]
			if err := w.flushFull(); err != nil {
				return err
			}
		}
		if w.buf, err = (&pgproto3.CopyDone{}).Encode(w.buf); err != nil {
			return err
		}
	}
	return w.flushFull()
}

// flushFull sends what is gathered once it is pipelineFlush or more.
func (w *pipeWriter) flushFull() error {
	if len(w.buf) < pipelineFlush {
		return nil
	}
	return w.flush()
}

// flush sends what is gathered.
func (w *pipeWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.nc.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// readAnswer reads the server's answer to one statement, up to its
// ReadyForQuery: stmtErr is the statement's own error; err a failure of
// the connection, or a statement that would leave it waiting (a COPY
// without rows, a COPY TO).
func readAnswer(fe *pgproto3.Frontend, hasRows bool) (stmtErr, err error) {
	for {
		msg, err := fe.Receive()
		if err != nil {
			return nil, fmt.Errorf("read the server's answer: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			stmtErr = pgconn.ErrorResponseToPgError(m)
		case *pgproto3.ReadyForQuery:
			return stmtErr, nil
		case *pgproto3.CopyInResponse:
			if !hasRows {
				// Its rows are not here: the connection would wait for
				// them.
				return nil, errors.New("a pipelined statement started a COPY without rows")
			}
		case *pgproto3.CopyOutResponse, *pgproto3.CopyBothResponse:
			return nil, errors.New("a pipelined statement started a COPY")
		}
	}
}
