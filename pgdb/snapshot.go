package pgdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Snapshot is a read-only repeatable-read transaction whose snapshot
// pg_dump can share (pg_dump --snapshot), so that what it counts matches
// the dump exactly. The caller commits it, and closes it either way.
type Snapshot struct {
	tx     pgx.Tx
	id     string
	why    string
	writes int64
	// seqs are the sequences' last values, read just before the
	// transaction began (see readSnapshotSequences).
	seqs map[string]int64
	// contentSet is set once the content hashes' settings are in force.
	contentSet bool
}

// readSnapshotSequences reads the sequences' last values for a snapshot
// about to begin, outside its transaction. Sequences are not
// transactional: read now, they are not ahead of what pg_dump reads
// later, which verify relies on. Read inside the transaction, each would
// stay locked to its end (a sequence's lock belongs to the top
// transaction, whatever savepoint took it), and an application's TRUNCATE
// ... RESTART IDENTITY, holding a table pg_dump has not locked yet, would
// wait for ppg while pg_dump waits for the TRUNCATE.
func readSnapshotSequences(ctx context.Context, conn querier) (map[string]int64, error) {
	return readSequences(ctx, conn)
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
	seqs, err := readSnapshotSequences(ctx, d.conn)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{writes: writes, seqs: seqs}
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
// objects too: CountTables and CountRest in one.
func (s *Snapshot) Counts(ctx context.Context, tables []Table, content bool) (*Counts, error) {
	c, err := s.CountTables(ctx, tables, content)
	if err != nil {
		return nil, err
	}
	rest, err := s.CountRest(ctx, content)
	if err != nil {
		return nil, err
	}
	rest.Rows, rest.Content = c.Rows, c.Content
	return rest, nil
}

// CountTables counts the rows of tables in the snapshot, and with content
// hashes them too (Counts.Rows and Counts.Content; the rest is empty). It
// may run while pg_dump runs; each table it reads stays locked (ACCESS
// SHARE) until the transaction ends.
func (s *Snapshot) CountTables(ctx context.Context, tables []Table, content bool) (*Counts, error) {
	var c Counts
	var err error
	if c.Rows, err = countRows(ctx, s.tx, tables); err != nil {
		return nil, err
	}
	if content {
		if err := s.contentSettings(ctx); err != nil {
			return nil, err
		}
		if c.Content, err = contentHashes(ctx, s.tx, tables); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// CountRest reads what the snapshot holds besides the tables' rows:
// objects, large objects and write counters, and with content the large
// objects' hash; and gives the sequences read when the snapshot was taken.
// It keeps no lock on a table or a sequence.
func (s *Snapshot) CountRest(ctx context.Context, content bool) (*Counts, error) {
	var c Counts
	var err error
	c.Sequences = s.seqs
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
		if err := s.contentSettings(ctx); err != nil {
			return nil, err
		}
		if c.LargeObjectsContent, err = largeObjectsHash(ctx, s.tx); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// contentSettings sets, once per transaction, what makes a row's text the
// same on every server (see contentSettings).
func (s *Snapshot) contentSettings(ctx context.Context) error {
	if s.contentSet {
		return nil
	}
	if err := setContentSettings(ctx, s.tx); err != nil {
		return err
	}
	s.contentSet = true
	return nil
}

// LockTables takes an ACCESS SHARE lock on each table, kept to the
// transaction's end, without waiting: a table whose lock would wait
// (another session waits for a stronger lock on it, such as a TRUNCATE
// queued behind pg_dump) is not locked and comes back in contended. Once
// locked, a table's count cannot queue behind such a request and see it
// done.
func (s *Snapshot) LockTables(ctx context.Context, tables []Table) (locked, contended []Table, err error) {
	if len(tables) == 0 {
		return nil, nil, nil
	}
	ok, err := s.lockNoWait(ctx, tables)
	switch {
	case err != nil:
		return nil, nil, err
	case ok:
		return tables, nil, nil
	case len(tables) == 1:
		return nil, tables, nil
	}
	// Some are contended: find which by halves, so that a few contended
	// tables among thousands cost a few round trips each.
	half := len(tables) / 2
	l1, c1, err := s.LockTables(ctx, tables[:half])
	if err != nil {
		return nil, nil, err
	}
	l2, c2, err := s.LockTables(ctx, tables[half:])
	if err != nil {
		return nil, nil, err
	}
	// New slices: l1 and c1 may share tables' array.
	return slices.Concat(l1, l2), slices.Concat(c1, c2), nil
}

// lockNoWait locks tables (LOCK TABLE ... NOWAIT) inside a savepoint,
// which it rolls back when a lock is not available; ok says whether all
// were locked.
func (s *Snapshot) lockNoWait(ctx context.Context, tables []Table) (ok bool, err error) {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = "ONLY " + t.Quoted()
	}
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT ppg_lock`)
	b.Queue(`LOCK TABLE ` + strings.Join(names, ", ") + ` IN ACCESS SHARE MODE NOWAIT`)
	b.Queue(`RELEASE SAVEPOINT ppg_lock`)
	err = s.tx.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		if _, err := s.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT ppg_lock`); err != nil {
			return false, fmt.Errorf("lock tables: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock tables: %w", err)
	}
	return true, nil
}

// dumpLocksSQL lists the tables of this database on which the sessions
// whose application_name is $1 hold a granted ACCESS SHARE lock: pg_dump
// takes one on every table it dumps, at its start, and keeps it to its
// end. pg_locks and pg_stat_activity are live views, but a transaction
// reads the sessions' status once and keeps it (see
// pg_stat_clear_snapshot), so each poll clears that first, inside a
// savepoint, so that a poll that fails leaves the snapshot's transaction
// usable.
const dumpLocksSQL = `SELECT n.nspname, c.relname
	FROM pg_locks l
	JOIN pg_class c ON c.oid = l.relation
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE l.locktype = 'relation' AND l.mode = 'AccessShareLock' AND l.granted
	  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	  AND l.pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = $1)`

// DumpLocks returns the tables (by qualified name) on which the sessions
// whose application_name is app (pg_dump's) hold an ACCESS SHARE lock,
// read from the snapshot's transaction in one round trip. A table pg_dump
// holds can be counted without making a TRUNCATE wait on ppg while
// pg_dump waits on the TRUNCATE. A server that hides other sessions (a
// pooler's) gives none.
func (s *Snapshot) DumpLocks(ctx context.Context, app string) (map[string]bool, error) {
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT ppg_dump_locks`)
	b.Queue(`SELECT pg_stat_clear_snapshot()`)
	locked := map[string]bool{}
	b.Queue(dumpLocksSQL, app).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var schema, name string
			if err := rows.Scan(&schema, &name); err != nil {
				return err
			}
			locked[schema+"."+name] = true
		}
		return rows.Err()
	})
	b.Queue(`RELEASE SAVEPOINT ppg_dump_locks`)
	if err := s.tx.SendBatch(ctx, b).Close(); err != nil {
		if ctx.Err() == nil {
			_, _ = s.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT ppg_dump_locks`)
		}
		return nil, fmt.Errorf("read pg_dump's locks: %w", err)
	}
	return locked, nil
}

// Commit ends the transaction.
func (s *Snapshot) Commit(ctx context.Context) error { return s.tx.Commit(ctx) }

// Close rolls back; after Commit it does nothing.
func (s *Snapshot) Close() {
	ctx, cancel := endCtx()
	defer cancel()
	_ = s.tx.Rollback(ctx)
}
