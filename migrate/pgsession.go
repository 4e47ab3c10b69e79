package migrate

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

// Session opens a connection of the engine's own with the same
// parameters as the DB's, for pipelined statements (see Session).
func (d pgDB) Session(ctx context.Context, app string) (Session, error) {
	cfg := d.conn.Config().Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgconn.ConnectConfig(ctx, &cfg.Config)
	if err != nil {
		return nil, err
	}
	return &pgSession{conn: conn}, nil
}

type pgSession struct{ conn *pgconn.PgConn }

func (s *pgSession) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = s.conn.Close(ctx)
}

// Pipeline writes each text as a simple Query message while a reader
// takes the answers, so that a round trip is paid once per window, not
// once per statement. The server runs each message as its own implicit
// transaction and answers each, error or not, before it reads the next:
// one statement's error touches no other.
func (s *pgSession) Pipeline(ctx context.Context, texts []string, done func(i int, err error)) error {
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
		for _, t := range texts {
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
			if buf, err = (&pgproto3.Query{String: t}).Encode(buf); err != nil {
				wrote <- err
				return
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
	for i := range texts {
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
			case *pgproto3.CopyInResponse, *pgproto3.CopyOutResponse, *pgproto3.CopyBothResponse:
				// A statement that copies cannot be pipelined.
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
