package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CutoverReport is what a cutover did and how long it took.
type CutoverReport struct {
	// Requested is when Cutover was called; Point the source position
	// read then: everything committed before it is on the target.
	Requested time.Time
	Point     LSN
	// CaughtUp is from the request until everything before Point was
	// applied; Took until the sequences were set too: the downtime the
	// stream adds, from the request to "the application can use the
	// target".
	CaughtUp, Took time.Duration
	// Sequences is how many sequences were set from the source's values.
	Sequences int
}

type cutoverRequest struct {
	at    time.Time
	point LSN // 0 until read from the source
	reply chan cutoverResult
}

type cutoverResult struct {
	report *CutoverReport
	err    error
}

// Cutover asks the running stream to cut over and waits until it has:
// the application's writes must have stopped. It reads the source's
// current position, waits until everything before it is applied, sets
// every sequence on the target from the source's value, and makes Run
// return nil. The slot and the publication stay: Drop them next. If ctx
// ends first, the stream goes on and the cutover may still happen; if Run
// ends first, the error wraps ErrStopped.
func (s *Stream) Cutover(ctx context.Context) (*CutoverReport, error) {
	req := &cutoverRequest{at: time.Now(), reply: make(chan cutoverResult, 1)}
	select {
	case s.cutover <- req:
	case <-s.done:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.report, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cutoverPointSQL commits an empty transaction with an ID, flushed
// (synchronous_commit on for it alone), and reads the position: one
// round trip, as one simple query.
const cutoverPointSQL = `BEGIN; SET LOCAL synchronous_commit = on;
SELECT txid_current() IS NOT NULL, pg_current_wal_insert_lsn()::text; COMMIT`

// cutoverPoint returns a source position after every transaction
// committed so far. The transaction it commits has an ID, so the WAL
// sender reads past the point even on a source where nothing else is
// written.
func cutoverPoint(ctx context.Context, conn *pgx.Conn) (LSN, error) {
	res, err := conn.PgConn().Exec(ctx, cutoverPointSQL).ReadAll()
	if err == nil && (len(res) != 4 || len(res[2].Rows) != 1 || len(res[2].Rows[0]) != 2) {
		err = fmt.Errorf("unexpected answer: %d results", len(res))
	}
	if err != nil {
		return 0, fmt.Errorf("read the source's position for cutover: %w", err)
	}
	return parseLSN(string(res[2].Rows[0][1]))
}

// sequencesSQL lists the user's sequences on the source.
const sequencesSQL = `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1`

// sequenceBatch is how many sequences one statement reads.
const sequenceBatch = 500

// setSequencesSQL sets every sequence of three arrays (names, values,
// is_called) in one statement.
const setSequencesSQL = `SELECT count(setval(n::regclass, v, c)) FROM unnest($1::text[], $2::bigint[], $3::boolean[]) AS s(n, v, c)`

// copySequences sets every sequence on the target from the source's
// value in three round trips, whatever their number: one lists them on
// the source, one reads them all (UNION ALLs), one sets them all.
func copySequences(ctx context.Context, source *pgx.Conn, target *pgconn.PgConn) (int, error) {
	res, err := source.PgConn().Exec(ctx, sequencesSQL).ReadAll()
	if err != nil {
		return 0, fmt.Errorf("list the source's sequences: %w", err)
	}
	var names []string
	for _, r := range res[0].Rows {
		names = append(names, string(r[0]))
	}
	if len(names) == 0 {
		return 0, nil
	}
	// One query of statements of sequenceBatch sequences each: one round
	// trip, and no statement of thousands of branches to plan.
	var read strings.Builder
	for i, n := range names {
		switch {
		case i == 0:
		case i%sequenceBatch == 0:
			read.WriteString(";\n")
		default:
			read.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&read, "SELECT %d, last_value::text, is_called::text FROM %s", i, n)
	}
	res, err = source.PgConn().Exec(ctx, read.String()).ReadAll()
	if err != nil {
		return 0, fmt.Errorf("read the source's sequences: %w", err)
	}
	values, called := make([]string, len(names)), make([]string, len(names))
	seen := 0
	for _, rs := range res {
		for _, r := range rs.Rows {
			i, err := strconv.Atoi(string(r[0]))
			if err != nil || i < 0 || i >= len(names) || len(r) != 3 {
				return 0, fmt.Errorf("read the source's sequences: row %q", r[0])
			}
			values[i], called[i] = string(r[1]), string(r[2])
			seen++
		}
	}
	if seen != len(names) {
		return 0, fmt.Errorf("read the source's sequences: %d values for %d sequences", seen, len(names))
	}
	args := [][]byte{[]byte(textArray(names)), []byte(textArray(values)), []byte(textArray(called))}
	if err := target.ExecParams(ctx, setSequencesSQL, args, nil, nil, nil).Read().Err; err != nil {
		return 0, fmt.Errorf("set the sequences on the target: %w", err)
	}
	return len(names), nil
}

// textArray is the text form of a one-dimensional array of the strings,
// each quoted.
func textArray(v []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, s := range v {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}
