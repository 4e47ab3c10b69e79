package pgdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Snapshot is a read-only repeatable-read transaction whose snapshot
// pg_dump can share (pg_dump --snapshot), so that what it counts matches
// the dump exactly. The caller commits it, and closes it either way.
type Snapshot struct {
	tx     pgx.Tx
	id     string
	why    string
	writes int64
}

// Snapshot begins a read-only repeatable-read transaction and, if export,
// exports its snapshot for pg_dump to share. A server that refuses to
// export (a standby, a pooler) still gives a transaction: ID is then ""
// and Why says why. The DB is busy with the transaction until it ends.
func (d *DB) Snapshot(ctx context.Context, export bool) (*Snapshot, error) {
	writes, err := readWrites(ctx, d.conn)
	if err != nil {
		return nil, fmt.Errorf("read the source's statistics: %w", err)
	}
	s := &Snapshot{writes: writes}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if s.tx, err = d.conn.BeginTx(ctx, opts); err != nil {
		return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
	}
	if !export {
		s.why = "pg_dump could not import it"
		return s, nil
	}
	if err := s.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.id); err != nil {
		// A standby or a pooler can refuse: carry on in a transaction of
		// our own.
		s.why, s.id = err.Error(), ""
		_ = s.tx.Rollback(ctx)
		if s.tx, err = d.conn.BeginTx(ctx, opts); err != nil {
			return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
		}
	}
	return s, nil
}

// ID is the exported snapshot's id; "" when it could not be exported.
func (s *Snapshot) ID() string { return s.id }

// Why says why there is no exported snapshot.
func (s *Snapshot) Why() string { return s.why }

// Writes is the database's write counter when the snapshot was taken.
func (s *Snapshot) Writes() int64 { return s.writes }

// Tables lists the tables, as the snapshot sees them.
func (s *Snapshot) Tables(ctx context.Context) ([]Table, error) { return listTables(ctx, s.tx) }

// Counts counts rows, sequences, objects, large objects and write
// counters in the snapshot, and with content hashes the rows and large
// objects too. It may run while pg_dump runs.
func (s *Snapshot) Counts(ctx context.Context, tables []Table, content bool) (*Counts, error) {
	var c Counts
	var err error
	if c.Rows, err = countRows(ctx, s.tx, tables); err != nil {
		return nil, err
	}
	if c.Sequences, err = readSequences(ctx, s.tx); err != nil {
		return nil, err
	}
	if c.Objects, err = countObjects(ctx, s.tx); err != nil {
		return nil, err
	}
	if c.LargeObjects, err = largeObjectOIDs(ctx, s.tx); err != nil {
		return nil, err
	}
	if c.Writes, err = tableWrites(ctx, s.tx); err != nil {
		return nil, err
	}
	if content {
		if c.Content, err = contentHashes(ctx, s.tx, tables); err != nil {
			return nil, err
		}
		if c.LargeObjectsContent, err = largeObjectsHash(ctx, s.tx); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// Commit ends the transaction.
func (s *Snapshot) Commit(ctx context.Context) error { return s.tx.Commit(ctx) }

// Close rolls back; after Commit it does nothing.
func (s *Snapshot) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = s.tx.Rollback(ctx)
}
