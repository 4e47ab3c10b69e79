package migrate

import (
	"context"
	"maps"
	"time"
)

// The manifest is counted in the dump's snapshot while pg_dump runs, in a
// transaction of ppg's that ends after pg_dump (pg_dump imports its
// snapshot). Each table the transaction reads stays locked (ACCESS SHARE)
// until then. Were ppg to read a table before pg_dump locks it, an
// application's TRUNCATE of that table (ACCESS EXCLUSIVE) would queue
// behind ppg, and pg_dump's LOCK TABLE behind the TRUNCATE, while ppg
// waits for pg_dump to end: a wait PostgreSQL cannot see as a deadlock,
// that lasts until the application's lock_timeout, or forever. So ppg
// reads a table only once pg_dump holds it (a TRUNCATE then waits for
// pg_dump, which waits for no one): it polls pg_dump's locks, found by
// its application_name. pg_dump locks every table at its start, so one or
// two polls normally see them all. Tables pg_dump is never seen to hold
// (a pooler hides its session) are counted after pg_dump ends, when
// nothing can wait on ppg any more.
//
// A TRUNCATE committed after the snapshot but before pg_dump's lock
// empties the table for pg_dump and ppg alike (TRUNCATE is not MVCC-safe),
// so the counts still agree with the dump. A TRUNCATE that queues behind
// pg_dump's lock before ppg reads that table makes ppg's read wait for
// pg_dump's end and then see the table empty, while the dump holds its
// rows: ppg polls often while pg_dump starts, to keep that window short.

const (
	// lockPollFirst is the pause between polls of pg_dump's locks for
	// lockPollFast after the snapshot, while pg_dump connects and reads
	// the catalogs; then the pause doubles up to lockPollMax.
	lockPollFirst = 10 * time.Millisecond
	lockPollFast  = 5 * time.Second
	lockPollMax   = time.Second
)

// dumpApp is the application_name pg_dump connects with for the migration
// id: the server's view of its sessions and locks is found by it.
func dumpApp(id string) string { return "ppg-dump-" + id }

// counted is the manifest counted in the dump's snapshot.
type counted struct {
	m   *Manifest
	err error
}

// countInSnapshot counts rows (and with content, hashes them) in snap
// while pg_dump, connected as app, runs; dumped is closed when pg_dump
// has ended. The channel receives the one result.
func countInSnapshot(ctx context.Context, snap Snapshot, tables []Table, content bool, app string, dumped <-chan struct{}) <-chan counted {
	done := make(chan counted, 1)
	go func() {
		m, err := countBehindDump(ctx, snap, tables, content, app, dumped)
		done <- counted{m, err}
	}()
	return done
}

// countBehindDump counts each table once pg_dump holds it, the tables
// left once pg_dump has ended, and then the rest of the manifest
// (sequences, objects, large objects).
func countBehindDump(ctx context.Context, snap Snapshot, tables []Table, content bool, app string, dumped <-chan struct{}) (*Manifest, error) {
	c := &behindDump{snap: snap, content: content, app: app, dumped: dumped, rows: map[string]int64{}, hashes: map[string]string{}}
	left, err := c.whileDumping(ctx, tables)
	if err != nil {
		return nil, err
	}
	m, err := snap.Manifest(ctx, left, content)
	if err != nil {
		return nil, err
	}
	for _, t := range m.Tables {
		c.rows[t.QualifiedName()] = t.Rows
	}
	m.Tables = m.Tables[:0]
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: c.rows[t.QualifiedName()]})
	}
	if content {
		maps.Copy(c.hashes, m.Content)
		m.Content = c.hashes
	}
	return m, nil
}

// behindDump counts tables as pg_dump locks them.
type behindDump struct {
	snap    Snapshot
	content bool
	app     string
	dumped  <-chan struct{}
	rows    map[string]int64
	hashes  map[string]string
}

// whileDumping counts the tables as pg_dump is seen to hold them, until
// all are counted or pg_dump has ended, and returns those left.
func (c *behindDump) whileDumping(ctx context.Context, tables []Table) ([]Table, error) {
	left := tables
	start := time.Now()
	pause := lockPollFirst
	for len(left) > 0 {
		select {
		case <-c.dumped:
			return left, nil
		default:
		}
		held, err := c.snap.DumpLocks(ctx, c.app)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// pg_dump's locks cannot be read: count once it has ended.
			return left, c.waitDumped(ctx)
		}
		var ready []Table
		ready, left = splitHeld(left, held)
		if len(ready) > 0 {
			if err := c.count(ctx, ready); err != nil {
				return nil, err
			}
			continue
		}
		if time.Since(start) > lockPollFast {
			pause = min(2*pause, lockPollMax)
		}
		t := time.NewTimer(pause)
		select {
		case <-c.dumped:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, nil
}

// waitDumped waits for pg_dump's end.
func (c *behindDump) waitDumped(ctx context.Context) error {
	select {
	case <-c.dumped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// count counts tables (which pg_dump holds) into c.
func (c *behindDump) count(ctx context.Context, tables []Table) error {
	tc, err := c.snap.CountTables(ctx, tables, c.content)
	if err != nil {
		return err
	}
	maps.Copy(c.rows, tc.Rows)
	maps.Copy(c.hashes, tc.Content)
	return nil
}

// splitHeld splits tables into those held (by qualified name) and the
// others, each in order.
func splitHeld(tables []Table, held map[string]bool) (in, out []Table) {
	for _, t := range tables {
		if held[t.QualifiedName()] {
			in = append(in, t)
		} else {
			out = append(out, t)
		}
	}
	return in, out
}
