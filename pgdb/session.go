package pgdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pipelineWindow bounds the statements sent and not yet answered: far
// more than a round trip's worth, while a cancelled run leaves little
// queued on the server.
const (
	pipelineWindow = 512
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
	fe := s.conn.Frontend()
	window := make(chan struct{}, pipelineWindow)
	quit := make(chan struct{})
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
	go func() {
		var buf []byte
		for _, t := range stmts {
			select {
			case window <- struct{}{}:
			default:
				// The window is full: send what is gathered, then wait.
				if len(buf) > 0 {
					if _, err := nc.Write(buf); err != nil {
						wrote <- err
						return
					}
					buf = buf[:0]
				}
				select {
				case window <- struct{}{}:
				case <-quit:
					wrote <- nil
					return
				}
			}
			var err error
			if buf, err = (&pgproto3.Query{String: t.SQL}).Encode(buf); err != nil {
				wrote <- err
				return
			}
			if t.Copy != nil {
				for rows := t.Copy; len(rows) > 0; {
					n := min(len(rows), pipelineFlush)
					if buf, err = (&pgproto3.CopyData{Data: rows[:n]}).Encode(buf); err != nil {
						wrote <- err
						return
					}
					rows = rows[n:]
					if len(buf) >= pipelineFlush {
						if _, err := nc.Write(buf); err != nil {
							wrote <- err
							return
						}
						buf = buf[:0]
					}
				}
				if buf, err = (&pgproto3.CopyDone{}).Encode(buf); err != nil {
					wrote <- err
					return
				}
			}
			if len(buf) >= pipelineFlush {
				if _, err := nc.Write(buf); err != nil {
					wrote <- err
					return
				}
				buf = buf[:0]
			}
		}
		if len(buf) > 0 {
			if _, err := nc.Write(buf); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	fail := func(err error) error {
		close(quit)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	for i, t := range stmts {
		var stmtErr error
	answer:
		for {
			msg, err := fe.Receive()
			if err != nil {
				return fail(fmt.Errorf("read the server's answer: %w", err))
			}
			switch m := msg.(type) {
			case *pgproto3.ErrorResponse:
				stmtErr = pgconn.ErrorResponseToPgError(m)
			case *pgproto3.ReadyForQuery:
				break answer
			case *pgproto3.CopyInResponse:
				if t.Copy == nil {
					// Its rows are not here: the connection would wait
					// for them.
					return fail(errors.New("a pipelined statement started a COPY without rows"))
				}
			case *pgproto3.CopyOutResponse, *pgproto3.CopyBothResponse:
				return fail(errors.New("a pipelined statement started a COPY"))
			}
		}
		<-window
		done(i, stmtErr)
	}
	close(quit)
	if err := <-wrote; err != nil {
		return fmt.Errorf("send statements: %w", err)
	}
	return nil
}
