package live

import (
	"context"
	"fmt"
	"strconv"
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

// cutoverPoint returns a source position after every transaction
// committed so far. It commits an empty transaction with an ID, flushed
// (synchronous_commit on for it alone), so the WAL sender reads past the
// point even on a source where nothing else is written.
func cutoverPoint(ctx context.Context, conn *pgx.Conn) (LSN, error) {
	var text string
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT txid_current() IS NOT NULL, pg_current_wal_insert_lsn()::text").Scan(new(bool), &text)
	})
	if err != nil {
		return 0, fmt.Errorf("read the source's position for cutover: %w", err)
	}
	return parseLSN(text)
}

// sequencesSQL lists the user's sequences on the source.
const sequencesSQL = `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1`

// copySequences sets every sequence on the target from the source's
// value, each query pipelined: one round trip to each side.
func copySequences(ctx context.Context, source *pgx.Conn, target *pgconn.PgConn) (int, error) {
	rows, err := source.Query(ctx, sequencesSQL)
	if err != nil {
		return 0, fmt.Errorf("list the source's sequences: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list the source's sequences: %w", err)
	}
	if len(names) == 0 {
		return 0, nil
	}
	batch := &pgx.Batch{}
	for _, n := range names {
		batch.Queue("SELECT last_value::text, is_called FROM " + n)
	}
	values := make([][3]string, len(names))
	br := source.SendBatch(ctx, batch)
	for i := range names {
		var called bool
		if err := br.QueryRow().Scan(&values[i][1], &called); err != nil {
			_ = br.Close()
			return 0, fmt.Errorf("read sequence %s on the source: %w", names[i], err)
		}
		values[i][0], values[i][2] = names[i], strconv.FormatBool(called)
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("read the source's sequences: %w", err)
	}
	tb := &pgconn.Batch{}
	for _, v := range values {
		tb.ExecParams("SELECT setval($1::regclass, $2::bigint, $3::boolean)", [][]byte{[]byte(v[0]), []byte(v[1]), []byte(v[2])}, nil, nil, nil)
	}
	if _, err := target.ExecBatch(ctx, tb).ReadAll(); err != nil {
		return 0, fmt.Errorf("set the sequences on the target: %w", err)
	}
	return len(names), nil
}
