package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
)

// snapshotter is the role of the source's database that the dump step
// takes its snapshot from.
type snapshotter interface {
	// Snapshot begins a read-only repeatable-read transaction and, if
	// export, exports its snapshot for pg_dump to share.
	Snapshot(ctx context.Context, export bool) (Snapshot, error)
}

// Snapshot is a read-only transaction whose snapshot pg_dump shares, so
// that ppg's counts match the dump exactly.
type Snapshot interface {
	// ID is the exported snapshot's id; "" when it could not be exported
	// (then Why says why).
	ID() string
	Why() string
	// Writes is the source's write counter when the snapshot was taken.
	Writes() int64
	// Tables lists the tables, as the snapshot sees them.
	Tables(ctx context.Context) ([]Table, error)
	// CountTables counts the rows of tables in the snapshot, and with
	// content hashes them too. Each table it reads stays locked (ACCESS
	// SHARE) until the transaction ends: while pg_dump runs, only tables
	// pg_dump holds may be counted (see countBehindDump).
	CountTables(ctx context.Context, tables []Table, content bool) (TableCounts, error)
	// Manifest counts the rows of tables, sequences and objects in the
	// snapshot, and with content hashes the rows and large objects too.
	// Only the tables it counts stay locked.
	Manifest(ctx context.Context, tables []Table, content bool) (*Manifest, error)
	dumpLocks
	// Commit ends the transaction.
	Commit(ctx context.Context) error
	// Close rolls back a transaction not committed.
	Close()
}

// TableCounts are some tables' rows, and with content their hashes, by
// qualified name.
type TableCounts struct {
	Rows    map[string]int64
	Content map[string]string
}

// dumpLocks is the role of the dump's snapshot that sees which tables
// pg_dump holds, and locks them too without waiting.
type dumpLocks interface {
	// DumpLocks returns the tables (by qualified name) on which the
	// sessions whose application_name is app hold an ACCESS SHARE lock.
	DumpLocks(ctx context.Context, app string) (map[string]bool, error)
	// LockTables locks tables (ACCESS SHARE, to the transaction's end)
	// without waiting: those whose lock would wait come back contended.
	LockTables(ctx context.Context, tables []Table) (locked, contended []Table, err error)
}

// writesCounter is the role of the source's database that tells whether
// it was written to: during the dump, and since.
type writesCounter interface {
	// Writes returns the database's count of rows written (see
	// ServerInfo.Writes).
	Writes(ctx context.Context) (int64, error)
	// TableWrites returns each table's write counter, by qualified name.
	TableWrites(ctx context.Context) (map[string]int64, error)
}

// DumpFileName is the dump's file name for the migration s, whose dumps are
// named with prefix: "ppg-ea" gives ppg-ea-20261202-104233-ID.dump, so that
// the dumps of a migration started over are told apart by their date.
func DumpFileName(prefix string, s *State) string {
	return prefix + "-" + s.CreatedAt.UTC().Format("20060102-150405") + "-" + s.ID + ".dump"
}

// OldDump is a dump file in the working folder.
type OldDump struct {
	Path string
	Size int64
	When time.Time
}

// OldDumps lists the dump files of earlier migrations in dir (named with
// prefix), newest first.
func OldDumps(dir, prefix string) []OldDump {
	matches, _ := filepath.Glob(filepath.Join(dir, prefix+"-*.dump"))
	var out []OldDump
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
			out = append(out, OldDump{Path: m, Size: fi.Size(), When: fi.ModTime()})
		}
	}
	slices.SortFunc(out, func(a, b OldDump) int { return b.When.Compare(a.When) })
	return out
}

// dumpChanged says why the recorded dump can no longer be used, or nil.
func (e *Engine) dumpChanged() *DumpChangedError {
	d := e.state.Dump
	if d == nil {
		return &DumpChangedError{How: DumpMissing}
	}
	size, sum, err := fileSHA256(d.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &DumpChangedError{Path: d.Path, How: DumpMissing}
	case err != nil:
		return &DumpChangedError{Path: d.Path, How: DumpUnreadable, Err: err}
	case size != d.Size || sum != d.SHA256:
		return &DumpChangedError{Path: d.Path, How: DumpModified}
	}
	if _, err := readManifest(d.ManifestPath, d.ManifestSHA256); err != nil {
		return &DumpChangedError{Path: d.ManifestPath, How: ManifestChanged, Err: err}
	}
	return nil
}

func (e *Engine) dump(ctx context.Context) (*Summary, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	src, err := e.ensureSource(ctx)
	if err != nil {
		return nil, err
	}
	final := e.path(DumpFileName(e.cfg.DumpPrefix, e.state))
	if _, err := os.Stat(final); err == nil && (e.state.Dump == nil || e.state.Dump.Path != final) {
		return nil, &FileExistsError{Path: final, Migration: true}
	}
	if e.state.Source != nil {
		var previous int64
		if e.state.Dump != nil {
			previous = e.state.Dump.Size
		}
		est, warn, err := checkFreeSpace(e.cfg.Dir, e.state.Source.DataBytes, previous)
		if err != nil {
			return nil, err
		}
		if warn {
			e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeLowDiskSpace, Path: est.Dir, Count: est.Free, Of: est.Estimate}})
		}
	}
	if !e.isLive() {
		e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeWritesNotMigrated}})
	}

	manifest := strings.TrimSuffix(final, ".dump") + ".manifest.json"
	for {
		d, redo, err := e.dumpOnce(ctx, src, final, manifest)
		if err != nil || !redo {
			if err != nil {
				return nil, err
			}
			return &Summary{Dump: d}, nil
		}
	}
}

// dumpOnce runs pg_dump once. redo asks for another dump (the source was
// written to meanwhile and the user chose to dump again).
func (e *Engine) dumpOnce(ctx context.Context, src *Endpoint, final, manifestPath string) (dump *DumpInfo, redo bool, err error) {
	partial := final + ".partial"
	if err := createPrivate(partial); err != nil {
		return nil, false, fmt.Errorf("create the dump file: %w", err)
	}
	defer func() { _ = os.Remove(partial) }() // after a successful rename this is a no-op

	// The moment and the write counters are read just before the
	// snapshot: a write committed meanwhile counts as after it, never the
	// other way round.
	snapAt := e.cfg.Now()
	base, err := src.DB.TableWrites(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read the source's statistics: %w", err)
	}
	snap, release, err := e.takeSnapshot(ctx, src)
	if err != nil {
		return nil, false, err
	}
	defer release()
	defer snap.Close()
	if snap.ID() == "" {
		e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeNoSharedSnapshot, Cause: snap.Why()}})
	}
	tables, err := snap.Tables(ctx)
	if err != nil {
		return nil, false, err
	}

	// Count rows in the snapshot while pg_dump copies them, each table
	// once pg_dump holds it (see countBehindDump).
	countCtx, stopCount := context.WithCancel(ctx)
	defer stopCount()
	dumped := make(chan struct{})
	counted := countInSnapshot(countCtx, snap, tables, e.cfg.VerifyContent, dumpApp(e.state.ID), dumped)
	runErr := e.runDump(ctx, src, snap, tables, partial)
	close(dumped)
	if runErr != nil {
		stopCount()
		<-counted
		return e.dumpFailed(ctx, src, snap, runErr)
	}
	c := <-counted
	if c.err != nil {
		return nil, false, fmt.Errorf("count rows in the dump's snapshot: %w", c.err)
	}
	if err := snap.Commit(ctx); err != nil {
		return nil, false, fmt.Errorf("end the snapshot transaction: %w", err)
	}
	m := c.m
	if err := e.countInDump(ctx, partial, m, c.fromDump); err != nil {
		return nil, false, err
	}
	m.Snapshot = snap.ID() != ""
	m.TakenAt, m.Writes = snapAt, base
	if err := e.keepDump(partial, final, manifestPath, m, snap.Writes(), snapAt); err != nil {
		return nil, false, err
	}
	// Writes after the snapshot are not in the dump: the rule decides
	// now, before anything is restored.
	if redo, err := e.afterDump(ctx, src, base); err != nil || redo {
		return nil, redo, err
	}
	return e.state.Dump, false, nil
}

// createPrivate creates (or empties) the file at path, readable by its
// owner only: the dump holds the whole database, and pg_dump truncates it
// and keeps the mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// runDump runs pg_dump into partial in snap's snapshot, sending its lines
// and progress.
func (e *Engine) runDump(ctx context.Context, src *Endpoint, snap Snapshot, tables []Table, partial string) error {
	progress := newDumpProgress(tables)
	args := []string{"--format=custom", "--verbose", "--no-publications", "--no-subscriptions", "--file=" + partial}
	if snap.ID() != "" {
		args = append(args, "--snapshot="+snap.ID())
	}
	rl, err := e.startDumpRelay(src)
	if err != nil {
		return err
	}
	defer rl.close()
	conn := rl.conn(src.Conn)
	conn.AppName = dumpApp(e.state.ID)
	onActivity := func(a Activity) {
		if progress.copying(a) {
			e.send(Event{Kind: Progress, Step: StepDump, Progress: progress.info()})
		}
	}
	written := func() int64 {
		fi, err := os.Stat(partial)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	return rl.failed(e.watch(ctx, src.DB.Watcher, conn.AppName, "pg_dump", onActivity, written, func(ctx context.Context, touch func()) error {
		return e.tools.Run(ctx, pgtools.Cmd{
			Tool: e.pick.Dump,
			Args: args,
			Conn: &conn,
			OnLine: func(l pgtools.Line) {
				touch()
				if l.Raw != "" { // inferred table ends have no line of their own
					e.send(Event{Kind: ToolLine, Step: StepDump, Line: l.Raw})
				}
				if progress.line(l) {
					e.send(Event{Kind: Progress, Step: StepDump, Progress: progress.info()})
				}
			},
		})
	}), src)
}

// dumpFailed classifies pg_dump's failure; redo when the dump can run
// again without sharing the snapshot.
func (e *Engine) dumpFailed(ctx context.Context, src *Endpoint, snap Snapshot, runErr error) (dump *DumpInfo, redo bool, err error) {
	if snap.ID() != "" && snapshotRefused(runErr) && ctx.Err() == nil {
		// A pooler between ppg and the server can hand pg_dump a
		// session of another server process, where the snapshot does
		// not exist: dump again without sharing it.
		e.noSnapshot = true
		e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeSnapshotRefused}})
		return nil, true, nil
	}
	if lost := dumpConnectionLost(runErr); lost != nil {
		lost.Side, lost.Tunnel = Source, src.Conn.Tunnel
		return nil, false, lost
	}
	if full := diskFull(runErr, e.cfg.Dir); full != nil {
		return nil, false, full
	}
	return nil, false, fmt.Errorf("pg_dump failed: %w", runErr)
}

// keepDump renames the finished dump into place, writes its manifest m
// beside it, and records both in the state.
func (e *Engine) keepDump(partial, final, manifestPath string, m *Manifest, writes int64, snapAt time.Time) error {
	if err := os.Rename(partial, final); err != nil {
		return fmt.Errorf("rename the dump file: %w", err)
	}
	syncDir(filepath.Dir(final))
	size, sum, err := fileSHA256(final)
	if err != nil {
		return fmt.Errorf("checksum the dump file: %w", err)
	}
	msum, err := writeManifest(manifestPath, m)
	if err != nil {
		return err
	}
	e.state.Dump = &DumpInfo{
		Path: final, Size: size, SHA256: sum, FinishedAt: e.cfg.Now(), SnapshotAt: snapAt,
		ToolVersion: e.pick.Dump.Version.String(), Snapshot: m.Snapshot,
		ManifestPath: manifestPath, ManifestSHA256: msum, Writes: writes,
		Tables: len(m.Tables), Rows: m.TotalRows(),
	}
	e.manifest = m
	return nil
}

// dumpProgress turns pg_dump's "dumping contents of table" lines into
// progress weighted by table size.
type dumpProgress struct {
	mu        sync.Mutex // the tool's lines and the watcher's polls both update it
	sizes     map[string]int64
	rows      map[string]int64 // estimated rows (reltuples), -1 unknown
	total     int64
	tables    int
	done      int
	doneBytes int64
	current   string
	// partial is how far the current table's COPY is, in bytes of the
	// table's size.
	partial int64
}

func newDumpProgress(tables []Table) *dumpProgress {
	p := &dumpProgress{sizes: make(map[string]int64, len(tables)), rows: make(map[string]int64, len(tables)), tables: len(tables)}
	for _, t := range tables {
		p.sizes[t.QualifiedName()] = t.Bytes
		p.rows[t.QualifiedName()] = t.EstimatedRows
		p.total += t.Bytes
	}
	return p
}

// copying updates the progress inside the current table from the
// server's view of the COPY, and reports whether it moved.
func (p *dumpProgress) copying(a Activity) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range a.Sessions {
		if s.Table == "" || s.Table != p.current {
			continue
		}
		part := fraction(s, p.rows[s.Table], p.sizes[s.Table])
		if part != p.partial {
			p.partial = part
			return true
		}
	}
	return false
}

// fraction estimates how many of a table's size bytes a COPY has done:
// by rows when the row count is known (exact counts on restore, the
// planner's estimate on dump), else by the COPY's bytes.
func fraction(s SessionActivity, rows, size int64) int64 {
	var f float64
	switch {
	case rows > 0:
		f = float64(s.Tuples) / float64(rows)
	case size > 0:
		f = float64(s.Bytes) / float64(size)
	}
	// Never claim the table done before its end is seen.
	return int64(min(f, 0.99) * float64(size))
}

// line updates the progress with one line and reports whether it moved.
func (p *dumpProgress) line(l pgtools.Line) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch l.Kind {
	case pgtools.KindTableDataStarted:
		p.finishCurrent()
		p.current = l.QualifiedName()
		return true
	case pgtools.KindTableDataFinished:
		if l.QualifiedName() == p.current {
			p.finishCurrent()
			return true
		}
	default:
		// Other lines neither start nor end a table's data.
	}
	return false
}

func (p *dumpProgress) finishCurrent() {
	if p.current == "" {
		return
	}
	p.done++
	p.doneBytes += p.sizes[p.current]
	p.current, p.partial = "", 0
}

func (p *dumpProgress) info() *ProgressInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &ProgressInfo{
		Phase: PhaseDump, TablesDone: p.done, TablesTotal: p.tables,
		BytesDone: p.doneBytes + p.partial, BytesTotal: p.total, Current: p.current,
	}
}

func (e *Engine) checkArchive(ctx context.Context) (*Summary, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	d := e.state.Dump
	if changed := e.dumpChanged(); changed != nil {
		e.reset(StepDump)
		return nil, changed
	}
	h, err := pgtools.ReadArchiveHeader(d.Path)
	if err != nil {
		return nil, fmt.Errorf("read the dump file's header: %w", err)
	}
	restore, err := pgtools.ChooseRestore(e.found, h)
	if err != nil {
		return nil, err
	}
	e.pick.Restore = restore
	toc, err := e.tools.ReadTOC(ctx, restore, d.Path)
	if err != nil {
		return nil, fmt.Errorf("read the dump's table of contents: %w", err)
	}
	m, err := e.loadManifest()
	if err != nil {
		return nil, err
	}
	resolveSchemas(toc, m.Tables)
	dataEntries := map[string]bool{}
	for _, en := range toc.Entries {
		if en.Desc == "TABLE DATA" {
			dataEntries[en.QualifiedName()] = true
		}
	}
	var missing []string
	for _, t := range m.Tables {
		if t.Rows > 0 && !dataEntries[t.QualifiedName()] {
			missing = append(missing, t.QualifiedName())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the dump has no data for %d tables that hold rows: %s", len(missing), strings.Join(first(missing, 10), ", "))
	}
	d.TOCEntries, d.DataEntries = len(toc.Entries), len(dataEntries)
	return &Summary{Archive: &ArchiveInfo{
		Entries: len(toc.Entries), DataEntries: len(dataEntries),
		DumpedBy: h.DumpedBy.String(), DumpedFrom: h.DumpedFrom.String(), Restore: restore,
	}}, nil
}

func (e *Engine) loadManifest() (*Manifest, error) {
	if e.manifest != nil {
		return e.manifest, nil
	}
	d := e.state.Dump
	if d == nil {
		return nil, errors.New("the state file records no dump")
	}
	m, err := readManifest(d.ManifestPath, d.ManifestSHA256)
	if err != nil {
		return nil, err
	}
	e.manifest = m
	return m, nil
}

// resolveSchemas corrects the entries of schemas whose names hold spaces.
// `pg_restore --list` does not quote names, so pgtools takes the schema to
// be the first word ("Mixed Case" "Order Items" reads as "Mixed" and "Case
// Order Items"); the manifest knows the source's schemas that hold tables,
// which are the ones whose entries the engine looks up by name.
func resolveSchemas(toc *pgtools.TOC, tables []TableCount) {
	var spaced []string
	for _, t := range tables {
		if strings.Contains(t.Schema, " ") && !slices.Contains(spaced, t.Schema) {
			spaced = append(spaced, t.Schema)
		}
	}
	// Longest first, so that "a b c" wins over "a b".
	slices.SortFunc(spaced, func(a, b string) int { return len(b) - len(a) })
	for i := range toc.Entries {
		en := &toc.Entries[i]
		if en.Schema == "" {
			continue
		}
		full := en.Schema + " " + en.Name
		for _, s := range spaced {
			if name, ok := strings.CutPrefix(full, s+" "); ok && name != "" {
				en.Schema, en.Name = s, name
				break
			}
		}
	}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// snapshotRefused reports whether pg_dump failed to import the exported
// snapshot ("invalid snapshot identifier", "could not import the requested
// snapshot").
func snapshotRefused(err error) bool {
	var ee *pgtools.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	for _, l := range ee.StderrTail {
		if strings.Contains(l, "snapshot") && (strings.Contains(l, "invalid") || strings.Contains(l, "could not import")) {
			return true
		}
	}
	return false
}
