package live

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// applier applies source transactions on the target, whole and in commit
// order. Consecutive source transactions that arrive back to back go into
// one target transaction (a group), which records the last one's position:
// each source transaction is still all or nothing, and a link's round trip
// is paid per group, not per source transaction. Statements go in
// pipelined batches.
type applier struct {
	conn      *pgconn.PgConn
	slot      string
	batchSize int

	batch    *pgconn.Batch
	origins  []origin          // where each statement in batch comes from, for errors
	prepared map[string]string // statement text to prepared statement name
	open     bool              // BEGIN sent
	commit   LSN               // the source commit of the transaction being applied
	rows     int64             // rows changed by the source transaction being applied
	run      *insertRun        // consecutive inserts into one table, not yet sent

	// The group: source transactions applied, not yet committed.
	group struct {
		txns, rows int64
		end        LSN
		at         time.Time // the last source transaction's commit time
		since      time.Time // when the group's first transaction ended
	}
}

// insertRun is a run of consecutive inserts of the same columns into one
// table: a long one goes as one COPY, a short one as single inserts.
type insertRun struct {
	st     statement // the first insert: its SQL and COPY
	table  Table
	commit LSN
	rows   [][][]byte
	size   int
}

// Runs: at least copyMin rows go by COPY (below, a COPY's extra round trip
// costs more than it saves); a run is sent at runMaxRows rows or
// runMaxBytes bytes, so memory stays bounded.
const (
	copyMin     = 50
	runMaxRows  = 10000
	runMaxBytes = 1 << 20
)

// origin is the table and source transaction of a queued statement.
type origin struct {
	table  Table
	commit LSN
}

func newApplier(conn *pgconn.PgConn, slot string, batchSize int) *applier {
	return &applier{conn: conn, slot: slot, batchSize: batchSize, batch: &pgconn.Batch{}, prepared: map[string]string{}}
}

// begin starts applying the source transaction that commits at commit.
func (a *applier) begin(commit LSN) {
	a.commit = commit
	a.rows = 0
}

// add queues a statement changing table t, and sends the batch when full.
// Inserts join the current run of inserts.
func (a *applier) add(ctx context.Context, st statement, t Table) error {
	a.rows++
	if st.copy != "" {
		return a.insert(ctx, st, t)
	}
	if err := a.endRun(ctx); err != nil {
		return err
	}
	return a.statement(ctx, st, t)
}

// statement queues one statement, prepared.
func (a *applier) statement(ctx context.Context, st statement, t Table) error {
	a.ensureOpen()
	name, err := a.prepare(ctx, st.sql, t)
	if err != nil {
		return err
	}
	if name == "" {
		a.queue(st.sql, st.params, t)
	} else {
		a.batch.ExecPrepared(name, st.params, nil, nil)
		a.origins = append(a.origins, origin{t, a.commit})
	}
	if len(a.origins) >= a.batchSize {
		return a.flush(ctx)
	}
	return nil
}

// ensureOpen opens the target transaction if it is not open.
func (a *applier) ensureOpen() {
	if !a.open {
		a.queue("BEGIN", nil, Table{})
		a.open = true
	}
}

// insert adds an insert to the run, starting a new run when it goes to
// another table or other columns.
func (a *applier) insert(ctx context.Context, st statement, t Table) error {
	if a.run != nil && a.run.st.sql != st.sql {
		if err := a.endRun(ctx); err != nil {
			return err
		}
	}
	a.ensureOpen()
	if a.run == nil {
		a.run = &insertRun{st: st, table: t, commit: a.commit}
	}
	a.run.rows = append(a.run.rows, st.params)
	for _, p := range st.params {
		a.run.size += len(p) + 1
	}
	if len(a.run.rows) >= runMaxRows || a.run.size >= runMaxBytes {
		return a.endRun(ctx)
	}
	return nil
}

// endRun sends the run of inserts: by COPY when long, after the statements
// queued before it; as single inserts in the batch when short.
func (a *applier) endRun(ctx context.Context) error {
	r := a.run
	if r == nil {
		return nil
	}
	a.run = nil
	if len(r.rows) < copyMin {
		for _, params := range r.rows {
			st := r.st
			st.params = params
			if err := a.statement(ctx, st, r.table); err != nil {
				return err
			}
		}
		return nil
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	buf := make([]byte, 0, r.size+len(r.rows))
	for _, params := range r.rows {
		buf = appendCopyRow(buf, params)
	}
	if _, err := a.conn.CopyFrom(ctx, bytes.NewReader(buf), r.st.copy); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return &ApplyError{Table: r.table, LSN: r.commit, Err: err}
		}
		return err
	}
	return nil
}

// sync sends everything queued: the batch and the run.
func (a *applier) sync(ctx context.Context) error {
	if err := a.endRun(ctx); err != nil {
		return err
	}
	return a.flush(ctx)
}

// maxPrepared bounds the prepared statements a session keeps: each table
// has a few shapes of statement, but a table without a key has one per
// pattern of NULLs in its rows.
const maxPrepared = 1000

// prepare returns the name of a prepared statement for sql, preparing it
// the first time: the target parses and plans each shape of statement
// once, not once per row. It returns "" when the cache is full.
func (a *applier) prepare(ctx context.Context, sql string, t Table) (string, error) {
	if name, ok := a.prepared[sql]; ok {
		return name, nil
	}
	if len(a.prepared) >= maxPrepared {
		return "", nil
	}
	name := "ppg_live_" + strconv.Itoa(len(a.prepared))
	if _, err := a.conn.Prepare(ctx, name, sql, nil); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return "", &ApplyError{Table: t, LSN: a.commit, Err: err}
		}
		return "", err
	}
	a.prepared[sql] = name
	return name, nil
}

func (a *applier) queue(sql string, params [][]byte, t Table) {
	a.batch.ExecParams(sql, params, nil, nil, nil)
	a.origins = append(a.origins, origin{t, a.commit})
}

// flush sends the queued statements and reads their results. A statement
// the target refuses is an *ApplyError naming its table.
func (a *applier) flush(ctx context.Context) error {
	if len(a.origins) == 0 {
		return nil
	}
	results, err := a.conn.ExecBatch(ctx, a.batch).ReadAll()
	origins := a.origins
	a.batch, a.origins = &pgconn.Batch{}, nil
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	o := origin{commit: a.commit}
	for i, r := range results {
		if r.Err != nil && i < len(origins) {
			o = origins[i]
			break
		}
	}
	return &ApplyError{Table: o.table, LSN: o.commit, Err: err}
}

// endTxn ends the source transaction being applied, ending at end: it
// joins the group, committed by commitGroup.
func (a *applier) endTxn(end LSN, at time.Time) {
	if !a.open {
		return // nothing in it for the target
	}
	if a.group.txns == 0 {
		a.group.since = time.Now()
	}
	a.group.txns++
	a.group.rows += a.rows
	a.group.end, a.group.at = end, at
}

// pending reports whether a group waits to be committed.
func (a *applier) pending() bool { return a.group.txns > 0 }

// groupSize is how large a group grows before it is committed even while
// source transactions keep arriving.
func (a *applier) full() bool { return a.group.txns >= 1000 || a.group.rows >= int64(10*a.batchSize) }

// commitGroup commits the group, recording its last transaction's end as
// applied, in the same target transaction. It returns what it committed.
func (a *applier) commitGroup(ctx context.Context) (end LSN, txns, rows int64, err error) {
	if !a.pending() {
		return 0, 0, 0, nil
	}
	if err := a.endRun(ctx); err != nil {
		return 0, 0, 0, err
	}
	g := a.group
	a.queue(positionUpdateSQL, [][]byte{[]byte(g.end.String()), []byte(g.at.UTC().Format(time.RFC3339Nano)), []byte(a.slot)}, Table{})
	a.queue("COMMIT", nil, Table{})
	a.open = false
	a.group.txns, a.group.rows = 0, 0
	if err := a.flush(ctx); err != nil {
		return 0, 0, 0, err
	}
	return g.end, g.txns, g.rows, nil
}
