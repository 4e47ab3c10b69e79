package migrate

import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
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
// pg_dump's lock before ppg reads the table would make ppg's read queue
// behind it, until pg_dump's end, and then see the table empty while the
// dump holds its rows. So ppg locks the tables pg_dump holds without
// waiting (LOCK TABLE ... NOWAIT) before it counts them; a table it
// cannot lock so (contended) is tried again at the next poll, and if it is
// still contended when pg_dump ends, its rows are counted in the dump file
// (countInDump).

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

// counted is the manifest counted in the dump's snapshot; fromDump are
// the tables it could not count there, to count in the dump file.
type counted struct {
	m        *Manifest
	fromDump []Table
	err      error
}

// countInSnapshot counts rows (and with content, hashes them) in snap
// while pg_dump, connected as app, runs; dumped is closed when pg_dump
// has ended. The channel receives the one result.
func countInSnapshot(ctx context.Context, snap Snapshot, tables []Table, content bool, app string, dumped <-chan struct{}) <-chan counted {
	done := make(chan counted, 1)
	go func() {
		m, fromDump, err := countBehindDump(ctx, snap, tables, content, app, dumped)
		done <- counted{m, fromDump, err}
	}()
	return done
}

// countBehindDump reads the sequences, objects and large objects at once,
// then counts each table once pg_dump holds it, and the tables left once
// pg_dump has ended, but for those it found contended (see whileDumping):
// it returns them, to count in the dump file.
func countBehindDump(ctx context.Context, snap Snapshot, tables []Table, content bool, app string, dumped <-chan struct{}) (*Manifest, []Table, error) {
	// Sequences are not transactional: read before pg_dump reads them,
	// they are never ahead of the dump's, which verify relies on (a
	// target ahead of the manifest is forgiven, not one behind). Reading
	// them keeps no lock.
	m, err := snap.Manifest(ctx, nil, content)
	if err != nil {
		return nil, nil, err
	}
	c := &behindDump{snap: snap, content: content, app: app, dumped: dumped,
		rows: map[string]int64{}, hashes: map[string]string{}, contended: map[string]bool{}}
	left, err := c.whileDumping(ctx, tables)
	if err != nil {
		return nil, nil, err
	}
	var now, fromDump []Table
	for _, t := range left {
		if c.contended[t.QualifiedName()] {
			fromDump = append(fromDump, t)
		} else {
			now = append(now, t)
		}
	}
	if len(now) > 0 {
		if err := c.count(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	m.Tables = m.Tables[:0]
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: c.rows[t.QualifiedName()]})
	}
	if content {
		m.Content = c.hashes
	}
	return m, fromDump, nil
}

// behindDump counts tables as pg_dump locks them.
type behindDump struct {
	snap    Snapshot
	content bool
	app     string
	dumped  <-chan struct{}
	rows    map[string]int64
	hashes  map[string]string
	// contended are the tables pg_dump held but ppg could not lock
	// without waiting when it last tried.
	contended map[string]bool
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
		locked, contended, err := c.snap.LockTables(ctx, ready)
		if err != nil {
			return nil, err
		}
		left = append(left, contended...)
		for _, t := range contended {
			c.contended[t.QualifiedName()] = true
		}
		if len(locked) > 0 {
			for _, t := range locked {
				delete(c.contended, t.QualifiedName())
			}
			if err := c.count(ctx, locked); err != nil {
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

// countInDump counts the rows of tables (pg_dump held them, but ppg could
// not lock them without waiting) in the dump file at archive, into m: the
// rows pg_restore writes for each one's data. Their content hashes cannot
// be read there: m.FromDump names them, and verify compares their counts
// only.
func (e *Engine) countInDump(ctx context.Context, archive string, m *Manifest, tables []Table) error {
	if len(tables) == 0 {
		return nil
	}
	h, err := pgtools.ReadArchiveHeader(archive)
	if err != nil {
		return fmt.Errorf("read the dump file's header: %w", err)
	}
	restore, err := pgtools.ChooseRestore(e.found, h)
	if err != nil {
		return err
	}
	toc, err := e.tools.ReadTOC(ctx, restore, archive)
	if err != nil {
		return fmt.Errorf("read the dump's table of contents: %w", err)
	}
	resolveSchemas(toc, m.Tables)
	rows := map[string]int64{}
	for _, t := range tables {
		qn := t.QualifiedName()
		n, err := e.rowsInDump(ctx, restore, archive, toc, qn)
		if err != nil {
			return fmt.Errorf("count the rows of %s in the dump file: %w", qn, err)
		}
		rows[qn] = n
		m.FromDump = append(m.FromDump, qn)
	}
	for i := range m.Tables {
		if n, ok := rows[m.Tables[i].QualifiedName()]; ok {
			m.Tables[i].Rows = n
		}
	}
	return nil
}

// rowsInDump counts the rows of the table qn's data entry in the archive.
func (e *Engine) rowsInDump(ctx context.Context, restore pgtools.Tool, archive string, toc *pgtools.TOC, qn string) (int64, error) {
	var entries []pgtools.Entry
	for _, en := range toc.Entries {
		if en.Desc == "TABLE DATA" && en.QualifiedName() == qn {
			entries = append(entries, en)
		}
	}
	if len(entries) == 0 {
		return 0, nil
	}
	list, err := os.CreateTemp(e.cfg.Dir, "ppg-count-*.list")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.Remove(list.Name()) }()
	err = pgtools.WriteList(list, entries)
	if cerr := list.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	var c copyRows
	args := []string{"--data-only", "--use-list=" + list.Name(), "--file=-", archive}
	if err := e.tools.Run(ctx, pgtools.Cmd{Tool: restore, Args: args, Stdout: &c}); err != nil {
		return 0, err
	}
	return c.rows, nil
}

// copyRows counts the rows of the COPY statements in a restore script: the
// lines between a line that starts with "COPY " and the line "\.".
type copyRows struct {
	in   bool   // inside a COPY's rows
	head []byte // the current line's first bytes
	n    int    // the current line's length
	rows int64
}

func (c *copyRows) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			c.endLine()
			continue
		}
		if len(c.head) < 5 {
			c.head = append(c.head, b)
		}
		c.n++
	}
	return len(p), nil
}

func (c *copyRows) endLine() {
	switch {
	case c.in && c.n == 2 && string(c.head) == `\.`:
		c.in = false
	case c.in:
		c.rows++
	case string(c.head) == "COPY ":
		c.in = true
	}
	c.head, c.n = c.head[:0], 0
}
