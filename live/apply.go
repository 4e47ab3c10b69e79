package live

import (
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

	// The group: source transactions applied, not yet committed.
	group struct {
		txns, rows int64
		end        LSN
		at         time.Time
	}
}

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
func (a *applier) add(ctx context.Context, st statement, t Table) error {
	if !a.open {
		a.queue("BEGIN", nil, Table{})
		a.open = true
	}
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
	a.rows++
	if len(a.origins) >= a.batchSize {
		return a.flush(ctx)
	}
	return nil
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
