package migrate

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// scriptedSession is a fake Session: each statement that comes in is
// checked against what the test expects, in order, and answered with what
// the test scripted. It holds no SQL engine: the expectations are the
// protocol's messages (a simple query, and a COPY's rows after it).
type scriptedSession struct {
	t *testing.T
	// answer answers one statement: nil, or the server's error for it.
	answer func(st Statement) error
	// broken, when set, fails the session's next Pipeline as a lost
	// connection would, after answering that many statements.
	broken *int

	mu     sync.Mutex
	got    []Statement
	closed bool
}

// step is one expected statement and its scripted answer.
type step struct {
	// sql is the statement's text, or its start when it ends in "…".
	sql string
	// copy is the COPY rows expected after it, if any.
	copy string
	err  error
}

// expect returns an answer function that checks each statement against
// steps, in order, and fails the test on a statement not expected.
func expect(t *testing.T, steps ...step) (func(Statement) error, func()) {
	var mu sync.Mutex
	next := 0
	answer := func(st Statement) error {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(steps) {
			t.Errorf("unexpected statement %q", st.SQL)
			return serverError("42601", "unexpected statement")
		}
		s := steps[next]
		next++
		if want, prefix := strings.CutSuffix(s.sql, "…"); prefix && !strings.HasPrefix(st.SQL, want) || !prefix && st.SQL != s.sql {
			t.Errorf("statement %d = %q, want %q", next, st.SQL, s.sql)
		}
		if string(st.Copy) != s.copy {
			t.Errorf("statement %d's rows = %q, want %q", next, st.Copy, s.copy)
		}
		return s.err
	}
	done := func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if next != len(steps) {
			t.Errorf("%d of %d expected statements sent", next, len(steps))
		}
	}
	return answer, done
}

// serverError is an error as the server sends it for one statement.
func serverError(code, msg string) error {
	return &pgconn.PgError{Severity: "ERROR", Code: code, Message: msg}
}

func (s *scriptedSession) Pipeline(ctx context.Context, stmts []Statement, done func(i int, err error)) error {
	for i, st := range stmts {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			s.t.Error("Pipeline on a closed session")
			return fmt.Errorf("closed session")
		}
		if s.broken != nil {
			if *s.broken == 0 {
				s.mu.Unlock()
				return fmt.Errorf("read the server's answer: unexpected EOF")
			}
			*s.broken--
		}
		s.got = append(s.got, st)
		s.mu.Unlock()
		done(i, s.answer(st))
	}
	return nil
}

// CopyFrom takes the rows, then answers the COPY as Pipeline would.
func (s *scriptedSession) CopyFrom(ctx context.Context, sql string, rows io.Reader) error {
	b, err := io.ReadAll(rows)
	if err != nil {
		return err
	}
	var answer error
	if err := s.Pipeline(ctx, []Statement{{SQL: sql, Copy: b}}, func(_ int, err error) { answer = err }); err != nil {
		return err
	}
	return answer
}

func (s *scriptedSession) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}
