package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/pgtools"
)

// DumpFileName is the dump's file name for a migration with id.
func DumpFileName(id string) string { return "ppg-ea-" + id + ".dump" }

// dumpChanged says why the recorded dump can no longer be used, or "".
func (e *Engine) dumpChanged() string {
	d := e.state.Dump
	if d == nil {
		return "the state file records no dump"
	}
	size, sum, err := fileSHA256(d.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("the dump file %s is missing", d.Path)
	case err != nil:
		return fmt.Sprintf("the dump file %s cannot be read (%v)", d.Path, err)
	case size != d.Size || sum != d.SHA256:
		return fmt.Sprintf("the dump file %s changed since it was written (checksum differs)", d.Path)
	}
	if _, err := readManifest(d.ManifestPath, d.ManifestSHA256); err != nil {
		return err.Error()
	}
	return ""
}

func (e *Engine) dump(ctx context.Context) (string, error) {
	if err := e.ensureTools(ctx); err != nil {
		return "", err
	}
	src, err := e.ensureSource(ctx)
	if err != nil {
		return "", err
	}
	final := e.path(DumpFileName(e.state.ID))
	if _, err := os.Stat(final); err == nil && (e.state.Dump == nil || e.state.Dump.Path != final) {
		return "", withHint(fmt.Errorf("%s already exists and is not this migration's dump", final),
			"move it elsewhere, then run ppg migrate-from-ea again; ppg never overwrites a dump it did not write")
	}
	if e.state.Source != nil {
		if err := checkFreeSpace(e.cfg.Dir, e.state.Source.Size); err != nil {
			return "", err
		}
	}
	e.send(Event{Kind: Warning, Step: StepDump, Text: "writes to the EA database after the dump starts are not migrated: " +
		"stop your application's writes (or put it in maintenance mode) until the migration is done"})

	manifest := strings.TrimSuffix(final, ".dump") + ".manifest.json"
	for {
		summary, redo, err := e.dumpOnce(ctx, src, final, manifest)
		if err != nil || !redo {
			return summary, err
		}
	}
}

// dumpOnce runs pg_dump once. redo asks for another dump (the source was
// written to meanwhile and the user chose to dump again).
func (e *Engine) dumpOnce(ctx context.Context, src *endpoint, final, manifestPath string) (summary string, redo bool, err error) {
	partial := final + ".partial"
	// The dump holds the whole database: create it readable by its owner
	// only; pg_dump truncates and keeps the mode.
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create the dump file: %w", err)
	}
	f.Close()
	os.Chmod(partial, 0o600)
	defer os.Remove(partial) // after a successful rename this is a no-op

	snap, err := beginSnapshot(ctx, src.db, !e.noSnapshot)
	if err != nil {
		return "", false, err
	}
	defer snap.tx.Rollback(context.Background())
	if snap.id == "" {
		e.send(Event{Kind: Warning, Step: StepDump, Text: "the EA database does not allow sharing pg_dump's snapshot (" + snap.why +
			"): row counts are taken separately and may differ if the database is written to meanwhile"})
	}
	tables, err := listTables(ctx, snap.tx.Conn())
	if err != nil {
		return "", false, err
	}

	// Count rows in the snapshot while pg_dump copies them.
	type counted struct {
		m   *Manifest
		err error
	}
	countDone := make(chan counted, 1)
	countCtx, stopCount := context.WithCancel(ctx)
	defer stopCount()
	go func() {
		m, err := takeManifest(countCtx, snap.tx.Conn(), tables)
		countDone <- counted{m, err}
	}()

	progress := newDumpProgress(tables)
	args := []string{"--format=custom", "--verbose", "--no-publications", "--no-subscriptions", "--file=" + partial}
	if snap.id != "" {
		args = append(args, "--snapshot="+snap.id)
	}
	runErr := e.runner.Run(ctx, pgtools.Cmd{
		Tool: e.tools.Dump,
		Args: args,
		Conn: &src.conn,
		OnLine: func(l pgtools.Line) {
			if l.Raw != "" { // inferred table ends have no line of their own
				e.send(Event{Kind: ToolLine, Step: StepDump, Line: l.Raw})
			}
			if progress.line(l) {
				e.send(Event{Kind: Progress, Step: StepDump, Progress: progress.info()})
			}
		},
	})
	if runErr != nil {
		stopCount()
		<-countDone
		if snap.id != "" && snapshotRefused(runErr) && ctx.Err() == nil {
			// A pooler between ppg and the server can hand pg_dump a
			// session of another server process, where the snapshot does
			// not exist: dump again without sharing it.
			e.noSnapshot = true
			e.send(Event{Kind: Warning, Step: StepDump, Text: "pg_dump could not use ppg's snapshot: dumping again without it; row counts are taken separately"})
			return "", true, nil
		}
		return "", false, fmt.Errorf("pg_dump failed: %w", runErr)
	}
	c := <-countDone
	if c.err != nil {
		return "", false, fmt.Errorf("count rows in the dump's snapshot: %w", c.err)
	}
	if err := snap.tx.Commit(ctx); err != nil {
		return "", false, fmt.Errorf("end the snapshot transaction: %w", err)
	}
	m := c.m
	m.Snapshot = snap.id != ""
	m.TakenAt = e.cfg.Now()

	if err := os.Rename(partial, final); err != nil {
		return "", false, fmt.Errorf("rename the dump file: %w", err)
	}
	syncDir(filepath.Dir(final))
	size, sum, err := fileSHA256(final)
	if err != nil {
		return "", false, fmt.Errorf("checksum the dump file: %w", err)
	}
	msum, err := writeManifest(manifestPath, m)
	if err != nil {
		return "", false, err
	}
	e.state.Dump = &DumpInfo{
		Path: final, Size: size, SHA256: sum, FinishedAt: e.cfg.Now(),
		ToolVersion: e.tools.Dump.Version.String(), Snapshot: m.Snapshot,
		ManifestPath: manifestPath, ManifestSHA256: msum, Writes: snap.writes,
	}
	e.manifest = m
	summary = fmt.Sprintf("%s, %s, %d tables, %s rows, sha256 %s", final, FormatBytes(size), len(m.Tables), formatCount(m.TotalRows()), sum[:16])

	// Writes after the snapshot are not in the dump: say so, and offer to
	// dump again.
	if now, err := readWrites(ctx, src.db); err == nil && now > snap.writes {
		q := Question{
			Kind: ConfirmRedump,
			Text: "The EA database was written to during the dump. Dump again?",
			Details: []string{
				fmt.Sprintf("%d rows were inserted, updated or deleted after the dump's snapshot; they are not in the dump.", now-snap.writes),
				"Stop your application's writes first, or they will be missed again.",
			},
		}
		e.send(Event{Kind: Warning, Step: StepDump, Text: q.Details[0]})
		again, err := e.ask.Confirm(ctx, q)
		if err != nil {
			return "", false, err
		}
		if again {
			return "", true, nil
		}
	}
	return summary, false, nil
}

// snapshot is a read-only repeatable-read transaction on the source whose
// snapshot pg_dump shares, so that the row counts match the dump exactly.
type snapshot struct {
	tx     pgx.Tx
	id     string
	why    string // why there is no shared snapshot, when id is empty
	writes int64
}

func beginSnapshot(ctx context.Context, conn *pgx.Conn, export bool) (*snapshot, error) {
	writes, err := readWrites(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("read the EA database's statistics: %w", err)
	}
	s := &snapshot{writes: writes}
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if s.tx, err = conn.BeginTx(ctx, opts); err != nil {
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
		s.tx.Rollback(ctx)
		if s.tx, err = conn.BeginTx(ctx, opts); err != nil {
			return nil, fmt.Errorf("begin the snapshot transaction: %w", err)
		}
	}
	return s, nil
}

// takeManifest counts rows, sequences and objects in conn's transaction.
func takeManifest(ctx context.Context, conn *pgx.Conn, tables []Table) (*Manifest, error) {
	counts, err := countRows(ctx, conn, tables)
	if err != nil {
		return nil, err
	}
	seqs, err := readSequences(ctx, conn)
	if err != nil {
		return nil, err
	}
	objs, err := countObjects(ctx, conn)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Version: 1, Sequences: seqs, Objects: objs}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: counts[t.QualifiedName()]})
	}
	return m, nil
}

// dumpProgress turns pg_dump's "dumping contents of table" lines into
// progress weighted by table size.
type dumpProgress struct {
	sizes      map[string]int64
	total      int64
	tables     int
	done       int
	doneBytes  int64
	current    string
	lastUpdate time.Time
}

func newDumpProgress(tables []Table) *dumpProgress {
	p := &dumpProgress{sizes: make(map[string]int64, len(tables)), tables: len(tables)}
	for _, t := range tables {
		p.sizes[t.QualifiedName()] = t.Bytes
		p.total += t.Bytes
	}
	return p
}

// line updates the progress with one line and reports whether it moved.
func (p *dumpProgress) line(l pgtools.Line) bool {
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
	}
	return false
}

func (p *dumpProgress) finishCurrent() {
	if p.current == "" {
		return
	}
	p.done++
	p.doneBytes += p.sizes[p.current]
	p.current = ""
}

func (p *dumpProgress) info() *ProgressInfo {
	return &ProgressInfo{
		TablesDone: p.done, TablesTotal: p.tables,
		BytesDone: p.doneBytes, BytesTotal: p.total, Current: p.current,
	}
}

func (e *Engine) checkArchive(ctx context.Context) (string, error) {
	if err := e.ensureTools(ctx); err != nil {
		return "", err
	}
	d := e.state.Dump
	if reason := e.dumpChanged(); reason != "" {
		e.reset(StepDump)
		return "", withHint(errors.New(reason), "run ppg migrate-from-ea again to dump again")
	}
	h, err := pgtools.ReadArchiveHeader(d.Path)
	if err != nil {
		return "", fmt.Errorf("read the dump file's header: %w", err)
	}
	restore, err := pgtools.ChooseRestore(e.found, h)
	if err != nil {
		return "", err
	}
	e.tools.Restore = restore
	toc, err := e.runner.ReadTOC(ctx, restore, d.Path)
	if err != nil {
		return "", fmt.Errorf("read the dump's table of contents: %w", err)
	}
	m, err := e.loadManifest()
	if err != nil {
		return "", err
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
		return "", fmt.Errorf("the dump has no data for %d tables that hold rows: %s", len(missing), strings.Join(first(missing, 10), ", "))
	}
	d.TOCEntries, d.DataEntries = len(toc.Entries), len(dataEntries)
	return fmt.Sprintf("%d entries, data of %d tables, written by pg_dump %s from PostgreSQL %s; read with %s",
		len(toc.Entries), len(dataEntries), h.DumpedBy, h.DumpedFrom, restore), nil
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
