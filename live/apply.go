package live

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// applier applies one source transaction at a time as one target
// transaction, sending its statements in pipelined batches, and records
// the source position in the same transaction.
type applier struct {
	conn      *pgconn.PgConn
	slot      string
	batchSize int

	batch    *pgconn.Batch
	tables   []Table           // the table of each statement in batch, for errors
	prepared map[string]string // statement text to prepared statement name
	open     bool              // BEGIN sent
	commit   LSN               // the source commit of the transaction being applied
	rows     int64             // rows changed by the open transaction
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
		a.tables = append(a.tables, t)
	}
	a.rows++
	if len(a.tables) >= a.batchSize {
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
	a.tables = append(a.tables, t)
}

// flush sends the queued statements and reads their results. A statement
// the target refuses is an *ApplyError naming its table.
func (a *applier) flush(ctx context.Context) error {
	if len(a.tables) == 0 {
		return nil
	}
	results, err := a.conn.ExecBatch(ctx, a.batch).ReadAll()
	tables := a.tables
	a.batch, a.tables = &pgconn.Batch{}, nil
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	t := Table{}
	for i, r := range results {
		if r.Err != nil && i < len(tables) {
			t = tables[i]
			break
		}
	}
	return &ApplyError{Table: t, LSN: a.commit, Err: err}
}

// end commits the target transaction, recording end (the end of the
// source's commit record) as applied. A transaction with no change for
// the target writes nothing. It returns the rows the transaction changed.
func (a *applier) end(ctx context.Context, end LSN, commitTime time.Time) (int64, error) {
	if !a.open {
		return 0, nil
	}
	a.queue(positionUpdateSQL, [][]byte{[]byte(end.String()), []byte(commitTime.UTC().Format(time.RFC3339Nano)), []byte(a.slot)}, Table{})
	a.queue("COMMIT", nil, Table{})
	a.open = false
	if err := a.flush(ctx); err != nil {
		return 0, err
	}
	return a.rows, nil
}
