package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

// targetResetter is the role of the target's database that resuming a
// restore needs: finding what an interrupted run left, and emptying it.
type targetResetter interface {
	// DropUserSchemas drops every user schema, and creates an empty
	// public schema again.
	DropUserSchemas(ctx context.Context) error
	// LargeObjects returns the OIDs of the large objects, in order.
	LargeObjects(ctx context.Context) ([]uint32, error)
	// UnlinkLargeObjects removes the large objects of oids that exist.
	UnlinkLargeObjects(ctx context.Context, oids []uint32) error
	// CountRows returns the exact row count of each table, by qualified
	// name.
	CountRows(ctx context.Context, tables []Table) (map[string]int64, error)
	// Truncate empties one table.
	Truncate(ctx context.Context, t Table) error
	// PostDataObjects returns the keys (see pgdb.PostDataKey) of the
	// post-data objects that exist.
	PostDataObjects(ctx context.Context) (map[string]bool, error)
}

// analyzer is the role of the target's database that the restore's
// ANALYZE needs (it runs on the restore's own sessions).
type analyzer interface {
	// Partitions lists the partitioned tables that are no partition
	// themselves (roots), and every partition below them, by qualified
	// name. ANALYZE of a root gathers the statistics of the whole tree
	// and of each partition in it.
	Partitions(ctx context.Context) (roots []Table, partitions map[string]bool, err error)
}

// Restore sections, in order, with the phase that reports each. The last
// is not pg_restore's: ANALYZE, so that the target's planner has
// statistics from the first query on.
const (
	sectionPreData  = "pre-data"
	sectionData     = "data"
	sectionPostData = "post-data"
	sectionAnalyze  = "analyze"
)

var sections = [...]string{sectionPreData, sectionData, sectionPostData, sectionAnalyze}

var phases = map[string]Phase{
	sectionPreData:  PhaseSchema,
	sectionData:     PhaseData,
	sectionPostData: PhasePostData,
	sectionAnalyze:  PhaseAnalyze,
}

// postDataRetries bounds the reruns of a post-data section that failed
// only because parallel jobs deadlocked (partitioned tables and their
// indexes can): each rerun restores what is missing, one entry at a time.
const postDataRetries = 2

// restoreFlags leave out what must not or cannot move from EA to GA:
// ownership and privileges (GA's roles differ from EA's), publications and
// subscriptions (replication setup of the old database), tablespaces and
// security labels (not available on managed servers).
var restoreFlags = [...]string{
	"--verbose", "--no-owner", "--no-privileges", "--no-publications",
	"--no-subscriptions", "--no-tablespaces", "--no-security-labels",
}

// saveEvery bounds how often the restore's progress is written to the
// state file while tables load.
const saveEvery = 2 * time.Second

// restorer carries one run of the restore step.
type restorer struct {
	e        *Engine
	dst      *Endpoint
	archive  string
	tool     pgtools.Tool
	target   int // target's major version
	toc      *pgtools.TOC
	manifest *Manifest
	info     *RestoreInfo
	// progress of the data section
	sizes     map[string]int64
	total     int64
	doneBytes int64
	done      int
	tables    int
	current   string
	lastSave  time.Time
	// resumed is set while a section restores what an earlier run began:
	// "already exists" is then harmless in a target that was empty.
	resumed bool

	// mu guards the progress below, which the tool's lines and the
	// watcher's polls both update.
	mu sync.Mutex
	// inflight is how far each table being loaded is, in bytes of its
	// size, from the server's view of its COPY.
	inflight map[string]int64
	rows     map[string]int64 // exact row counts, from the manifest
	// entriesDone and entriesTotal count the post-data entries.
	entriesDone, entriesTotal int

	// pool holds the restore's own sessions (see openPool); used marks
	// those that ran a pipeline already.
	pool []Session
	used map[Session]bool
}

func (e *Engine) restore(ctx context.Context) (*Summary, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	dst, err := e.ensureTarget(ctx)
	if err != nil {
		return nil, err
	}
	m, err := e.loadManifest()
	if err != nil {
		return nil, err
	}
	d := e.state.Dump
	h, err := pgtools.ReadArchiveHeader(d.Path)
	if err != nil {
		return nil, fmt.Errorf("read the dump file's header: %w", err)
	}
	tool, err := pgtools.ChooseRestore(e.found, h)
	if err != nil {
		return nil, err
	}
	toc, err := e.tools.ReadTOC(ctx, tool, d.Path)
	if err != nil {
		return nil, fmt.Errorf("read the dump's table of contents: %w", err)
	}
	resolveSchemas(toc, m.Tables)
	target := e.state.Target.ServerVersion / 10000
	notes, err := pgtools.CheckTarget(h, tool.Version, target)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeRestoreNote, Note: n, Count: int64(tool.Version.Major), Of: int64(target)}})
	}
	jobs := e.cfg.Jobs
	if p := e.state.Plan; p != nil && p.Jobs > 0 {
		jobs = min(jobs, p.Jobs) // the target's connections allow no more
	}
	if e.state.Restore == nil {
		e.state.Restore = &RestoreInfo{Jobs: jobs}
	}
	if e.state.Restore.Jobs == 0 {
		// A restore to redo after a reset records no jobs yet.
		e.state.Restore.Jobs = jobs
	}
	r := &restorer{e: e, dst: dst, archive: d.Path, tool: tool, target: target, toc: toc, manifest: m, info: e.state.Restore}
	r.weigh()
	defer r.closePool()
	for _, sec := range sections {
		if slices.Contains(r.info.Sections, sec) {
			continue
		}
		start := e.cfg.Now()
		var err error
		if sec == sectionAnalyze {
			err = r.analyze(ctx)
		} else {
			err = r.section(ctx, sec)
		}
		if err != nil {
			return nil, err
		}
		if sec == sectionAnalyze {
			r.info.AnalyzeSeconds = e.cfg.Now().Sub(start).Seconds()
		}
		r.info.Sections = append(r.info.Sections, sec)
		if err := e.save(); err != nil {
			return nil, err
		}
	}
	e.noticeRowSecurity()
	sum := &RestoreSummary{Tables: len(m.Tables), Jobs: r.info.Jobs, Warnings: len(r.info.Warnings),
		AnalyzeSeconds: r.info.AnalyzeSeconds}
	if p := e.state.Plan; p != nil && len(p.Skip) > 0 {
		sum.Skipped, sum.SkippedFile = p.Skip, r.info.SkippedFile
	}
	return &Summary{Restore: sum}, nil
}

// skipping splits entries into those to restore and those the plan
// leaves out (policies for missing roles, event triggers without a
// superuser).
func (r *restorer) skipping(entries []pgtools.Entry) (keep, skip []pgtools.Entry) {
	p := r.e.state.Plan
	if p == nil || len(p.Skip) == 0 {
		return entries, nil
	}
	for _, en := range entries {
		if slices.ContainsFunc(p.Skip, func(s SkippedObject) bool { return s.Desc == en.Desc && s.Schema == en.Schema && s.Name == en.Name }) {
			skip = append(skip, en)
			continue
		}
		keep = append(keep, en)
	}
	return keep, skip
}

// writeSkipped writes the statements of the skipped entries to the
// skipped-statements file (mode 0600), as pg_restore would have run them.
func (r *restorer) writeSkipped(ctx context.Context, sec string, skip []pgtools.Entry) error {
	e := r.e
	path := e.path(SkippedFileName)
	list := e.path(DumpFileName(e.cfg.DumpPrefix, e.state) + ".skipped.list")
	if err := writeList(list, skip); err != nil {
		return err
	}
	defer func() { _ = os.Remove(list) }()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	args := append(restoreFlags[:], "--section="+sec, "--use-list="+list, "--file="+path, r.archive)
	if err := e.tools.Run(ctx, pgtools.Cmd{Tool: r.tool, Args: args}); err != nil {
		return fmt.Errorf("write the skipped statements to %s: %w", path, err)
	}
	r.info.SkippedFile = path
	return nil
}

// analyze runs ANALYZE on the restored tables, partitioned tables and
// materialized views, a batch at a time, with progress: a restored
// database has no statistics, and its first queries would be planned
// blind. A partitioned table is analyzed from its root, which gathers the
// statistics of the whole tree (that queries on it are planned with, and
// autovacuum never gathers) and of each partition, so partitions are not
// analyzed twice. It runs after the post-data section, which refreshes
// the materialized views (pg_dump puts their data there): analyzed
// before, they would have none. A materialized view without data (WITH NO
// DATA) has no data entry and is left alone: ANALYZE would find nothing.
func (r *restorer) analyze(ctx context.Context) error {
	roots, partitions, err := r.dst.DB.Partitions(ctx)
	if err != nil {
		return fmt.Errorf("analyze the restored tables: %w", err)
	}
	tables := make([]Table, 0, len(r.manifest.Tables)+len(roots))
	for _, t := range r.manifest.Tables {
		if !partitions[t.QualifiedName()] {
			tables = append(tables, t.Table)
		}
	}
	tables = append(tables, roots...)
	for _, en := range r.toc.Entries {
		if en.Desc == "MATERIALIZED VIEW DATA" {
			tables = append(tables, Table{Schema: en.Schema, Name: en.Name})
		}
	}
	p := &ProgressInfo{Phase: PhaseAnalyze, TablesTotal: len(tables)}
	r.e.send(Event{Kind: Progress, Step: StepRestore, Progress: p})
	if len(tables) == 0 {
		return nil
	}
	pool, err := r.openPool(ctx)()
	if err != nil {
		return err
	}
	return r.analyzeOn(ctx, pool, tables, p)
}

// analyzeOn runs ANALYZE of tables, pipelined: a statement for each
// large table (its ANALYZE takes the time) and one for each
// pgdb.AnalyzeBatch small ones, dealt to the sessions so that each gets
// about as many bytes of tables, the largest first; each session sends its
// own without waiting for the answers.
func (r *restorer) analyzeOn(ctx context.Context, pool []Session, tables []Table, p *ProgressInfo) error {
	per, sizes := r.analyzeStatements(len(pool), tables)
	var mu sync.Mutex
	var failed error
	var wg sync.WaitGroup
	errs := make([]error, len(pool))
	fresh := make([]Session, len(pool))
	for i, ss := range pool {
		if len(per[i]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answered := 0
			send := func(ss Session) error {
				from := answered
				return ss.Pipeline(ctx, per[i][from:], func(k int, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil && failed == nil {
						failed = err
					}
					answered = from + k + 1
					p.TablesDone += sizes[i][from+k]
					done := *p
					r.e.send(Event{Kind: Progress, Step: StepRestore, Progress: &done})
				})
			}
			errs[i] = send(ss)
			if _, _, server := pgdb.ServerError(errs[i]); errs[i] == nil || server || ctx.Err() != nil {
				return
			}
			// A session kept idle while others worked may have been
			// closed by the server or the link: the rest of its ANALYZE
			// statements go on another.
			ns, err := r.dst.DB.Session(ctx, r.app())
			if err != nil {
				return
			}
			fresh[i] = ns
			errs[i] = send(ns)
		}()
	}
	wg.Wait()
	for i, ns := range fresh {
		if ns != nil {
			r.swap(pool[i], ns)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r.lost(err)
	}
	if failed != nil {
		return fmt.Errorf("analyze the restored tables: %w", failed)
	}
	return nil
}

// analyzeStatements deals the ANALYZE statements of tables to n
// sessions (see analyzeOn): per[i] are session i's, sizes[i] their
// tables' counts.
func (r *restorer) analyzeStatements(n int, tables []Table) (per [][]Statement, sizes [][]int) {
	weight := func(t Table) int64 {
		if b, ok := r.sizes[t.QualifiedName()]; ok {
			return b
		}
		return smallTable // a partitioned table or materialized view
	}
	tables = slices.Clone(tables)
	slices.SortStableFunc(tables, func(a, b Table) int { return cmp.Compare(weight(b), weight(a)) })
	type stmt struct {
		tables []Table
		bytes  int64
	}
	var stmts []stmt
	for _, t := range tables {
		w := weight(t)
		if k := len(stmts) - 1; w < smallTable && k >= 0 && stmts[k].bytes < smallTable && len(stmts[k].tables) < pgdb.AnalyzeBatch {
			stmts[k].tables, stmts[k].bytes = append(stmts[k].tables, t), stmts[k].bytes+w
			continue
		}
		stmts = append(stmts, stmt{tables: []Table{t}, bytes: w})
	}
	per = make([][]Statement, n)
	sizes = make([][]int, n)
	load := make([]int64, n)
	for _, st := range stmts {
		i := slices.Index(load, slices.Min(load))
		load[i] += max(st.bytes, 1)
		per[i] = append(per[i], Statement{SQL: pgdb.AnalyzeSQL(st.tables)})
		sizes[i] = append(sizes[i], len(st.tables))
	}
	return per, sizes
}

// section restores one section, resuming where an earlier run stopped:
// what ppg can pipeline itself first, the rest with pg_restore.
func (r *restorer) section(ctx context.Context, sec string) error {
	entries, err := r.sectionEntries(ctx, sec)
	if err != nil || len(entries) == 0 {
		return err
	}
	rest, refused, err := r.pipelineSection(ctx, sec, entries)
	if err != nil || len(rest) == 0 {
		return err
	}
	// pg_restore's jobs are connections of their own: the plan counted
	// them in place of ppg's sessions, not beside them.
	r.closePool()
	if err := r.restoreWithTool(ctx, sec, rest); err != nil {
		return err
	}
	return refusedErr(refused)
}

// sectionEntries marks sec started and returns the entries it has left
// to restore: after an interrupted run, the target is reset (schema) or
// what is there already is left out (data, post-data). It sends the
// section's first progress.
func (r *restorer) sectionEntries(ctx context.Context, sec string) ([]pgtools.Entry, error) {
	e := r.e
	started := slices.Contains(r.info.StartedSections, sec)
	r.info.markStarted(sec)
	if err := e.save(); err != nil {
		return nil, err
	}
	entries := r.entries(sec)
	var err error
	switch {
	case sec == sectionPreData && started:
		err = r.resetTarget(ctx)
	case sec == sectionData:
		entries, err = r.remainingData(ctx, entries, started)
	case sec == sectionPostData && started:
		entries, err = r.missingPostData(ctx, entries)
	}
	if err != nil {
		return nil, err
	}
	r.resumed = started
	if sec == sectionPostData {
		var skip []pgtools.Entry
		entries, skip = r.skipping(entries)
		if len(skip) > 0 && r.info.SkippedFile == "" {
			if err := r.writeSkipped(ctx, sec, skip); err != nil {
				return nil, err
			}
		}
	}
	if sec != sectionData {
		r.mu.Lock()
		r.entriesDone, r.entriesTotal = 0, len(entries)
		r.mu.Unlock()
	}
	e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sec)})
	return entries, nil
}

// pipelineSection sends what it can of the section's entries itself, and
// returns the rest, for pg_restore. refused is the small tables the
// target refused: the large ones are loaded all the same, and then the
// section fails naming them.
func (r *restorer) pipelineSection(ctx context.Context, sec string, entries []pgtools.Entry) (rest []pgtools.Entry, refused *EntriesError, err error) {
	e := r.e
	if sec == sectionData {
		rest, err := r.pipelinedData(ctx, entries)
		switch {
		case errors.Is(err, errNoPipeline):
			e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeNoPipeline, Cause: err.Error()}})
		case errors.As(err, &refused):
		case err != nil:
			return nil, nil, err
		}
		if len(rest) == 0 {
			return nil, nil, refusedErr(refused)
		}
		return rest, refused, nil
	}
	err = r.pipelined(ctx, sec, entries)
	if !errors.Is(err, errNoPipeline) {
		if err == nil {
			r.mu.Lock()
			r.entriesDone = r.entriesTotal
			r.mu.Unlock()
		}
		return nil, nil, err
	}
	// pg_restore restores the section itself, a statement a round trip.
	e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeNoPipeline, Cause: err.Error()}})
	if err := r.untranslatable(sec, err); err != nil {
		return nil, nil, err
	}
	return entries, nil, nil
}

// restoreWithTool restores entries of sec with pg_restore, in parallel
// jobs but for the schema, and restores serially what parallel post-data
// jobs rolled back in a deadlock.
func (r *restorer) restoreWithTool(ctx context.Context, sec string, entries []pgtools.Entry) error {
	e := r.e
	list := e.path(DumpFileName(e.cfg.DumpPrefix, e.state) + "." + sec + ".list")
	if err := writeList(list, entries); err != nil {
		return err
	}
	defer func() { _ = os.Remove(list) }()
	args := append(restoreFlags[:], "--section="+sec, "--use-list="+list)
	jobs := 1
	if sec != sectionPreData {
		// The schema is restored serially: its order matters and it is quick.
		jobs = max(r.info.Jobs, 1)
	}
	// A job is a connection of its own, set up across the link: no more
	// jobs than entries.
	if jobs = min(jobs, len(entries)); jobs > 1 {
		args = append(args, fmt.Sprintf("--jobs=%d", jobs))
	}
	args = append(args, r.archive)
	err := r.run(ctx, sec, args)
	for try := 1; try <= postDataRetries && err != nil && sec == sectionPostData && errors.Is(err, errDeadlock) && ctx.Err() == nil; try++ {
		// The entries that deadlocked were rolled back; what the other
		// jobs made stays. Restore what is missing, serially.
		r.e.send(Event{Kind: Warning, Step: StepRestore, Notice: &Notice{Code: NoticeDeadlockRetry, Count: int64(try), Of: postDataRetries}})
		r.resumed = true
		missing, merr := r.missingPostData(ctx, entries)
		if merr != nil {
			return merr
		}
		if len(missing) == 0 {
			return nil
		}
		if err := writeList(list, missing); err != nil {
			return err
		}
		err = r.run(ctx, sec, append(restoreFlags[:], "--section="+sec, "--use-list="+list, r.archive))
	}
	return err
}

// refusedErr is ee as an error: nil when there is none.
func refusedErr(ee *EntriesError) error {
	if ee == nil {
		return nil
	}
	return ee
}

// errDeadlock marks a restore whose only real errors were deadlocks
// between its parallel jobs.
var errDeadlock = errors.New("deadlock detected between parallel restore jobs")

// run runs pg_restore, turns known-harmless errors into warnings and fails
// on anything else.
func (r *restorer) run(ctx context.Context, sec string, args []string) error {
	e := r.e
	var failures []string
	var warnings int
	conn := r.dst.Conn
	conn.AppName = "ppg-restore-" + e.state.ID
	onActivity := func(a Activity) {
		if sec == sectionData && r.copying(a) {
			e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sec)})
		}
	}
	err := e.watch(ctx, r.dst.DB.Watcher, conn.AppName, "pg_restore", onActivity, nil, func(ctx context.Context, touch func()) error {
		return e.tools.Run(ctx, pgtools.Cmd{
			Tool: r.tool,
			Args: args,
			Conn: &conn,
			OnLine: func(l pgtools.Line) {
				touch()
				r.line(sec, l, &failures, &warnings)
			},
		})
	})
	return r.verdict(sec, err, failures, warnings)
}

// line handles one line of pg_restore's output: errors, known harmless or
// not, and progress.
func (r *restorer) line(sec string, l pgtools.Line, failures *[]string, warnings *int) {
	e := r.e
	if l.Raw != "" {
		e.send(Event{Kind: ToolLine, Step: StepRestore, Line: l.Raw})
	}
	switch l.Kind {
	case pgtools.KindError:
		if why := harmless(l, harmlessContext{restoreMajor: r.tool.Version.Major, targetMajor: r.target,
			ours: r.resumed && e.state.Target != nil && e.state.Target.Empty}); why != "" {
			*warnings++
			r.info.Warnings = append(r.info.Warnings, firstLine(l.Message)+" ("+string(why)+")")
			e.send(Event{Kind: Warning, Step: StepRestore, Notice: &Notice{Code: NoticeHarmlessError, Cause: firstLine(l.Message), Harmless: why}})
			return
		}
		msg := strings.TrimPrefix(firstLine(l.Message), "could not execute query: ")
		*failures = append(*failures, strings.TrimSpace(strings.Replace(msg, "ERROR:  ", "", 1)))
	case pgtools.KindTableDataStarted:
		r.mu.Lock()
		r.current = l.QualifiedName()
		r.mu.Unlock()
		e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sec)})
	case pgtools.KindTableDataFinished:
		if !l.Failed {
			r.loaded(l)
			e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sec)})
		}
	case pgtools.KindItemFinished, pgtools.KindObjectCreated:
		if sec != sectionData {
			r.mu.Lock()
			r.entriesDone = min(r.entriesDone+1, r.entriesTotal)
			r.mu.Unlock()
			e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sec)})
		}
	}
}

// verdict turns pg_restore's end into the section's result.
func (r *restorer) verdict(sec string, err error, failures []string, warnings int) error {
	if err == nil {
		return nil
	}
	var ee *pgtools.ExitError
	if errors.As(err, &ee) && !ee.Canceled && ee.Signal == "" && len(failures) == 0 && ee.ErrorsIgnored > 0 && ee.ErrorsIgnored <= warnings {
		return nil // every error was a known harmless one
	}
	if lost := connectionLost(failures, err); lost != nil {
		lost.Side, lost.Tunnel = Target, r.dst.Conn.Tunnel
		return lost
	}
	if len(failures) > 0 && allDeadlocks(failures) {
		return fmt.Errorf("pg_restore (%s): %w: %s", sec, errDeadlock, strings.Join(first(failures, 3), "; "))
	}
	if len(failures) > 0 {
		return fmt.Errorf("pg_restore (%s) reported %d errors: %s: %w", sec, len(failures), strings.Join(first(failures, 5), "; "), err)
	}
	return fmt.Errorf("pg_restore (%s) failed: %w", sec, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// loaded records a table whose data finished loading. Parallel runs name
// the entry by id ("finished item 3349 TABLE DATA customers"), serial runs
// by qualified name: find the TOC entry either way.
func (r *restorer) loaded(l pgtools.Line) {
	var entry *pgtools.Entry
	for i, en := range r.toc.Entries {
		if en.Desc == "TABLE DATA" && (l.EntryID != 0 && en.ID == l.EntryID || l.EntryID == 0 && en.QualifiedName() == l.QualifiedName()) {
			entry = &r.toc.Entries[i]
			break
		}
	}
	if entry != nil {
		r.markLoaded(*entry)
	}
}

// markLoaded records the data entry as loaded, and saves the state now
// and then. Pipelined sessions call it concurrently.
func (r *restorer) markLoaded(entry pgtools.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.info.Loaded, entry.ID) {
		return
	}
	r.info.Loaded = append(r.info.Loaded, entry.ID)
	qn := entry.QualifiedName()
	r.done++
	r.doneBytes += r.sizes[qn]
	delete(r.inflight, qn)
	if r.current == qn || r.done >= r.tables {
		r.current = ""
	}
	if now := r.e.cfg.Now(); now.Sub(r.lastSave) >= saveEvery {
		r.lastSave = now
		// A failed save here is caught by the next one, at the section's
		// end; until then the loaded tables are also found by counting.
		_ = r.e.save()
	}
}

func (r *restorer) progress(sec string) *ProgressInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &ProgressInfo{
		Phase: phases[sec], TablesDone: r.done, TablesTotal: r.tables,
		BytesDone: r.doneBytes, BytesTotal: r.total, Current: r.current,
		Warnings: len(r.info.Warnings),
	}
	if sec == sectionData {
		for _, b := range r.inflight {
			p.BytesDone += b
		}
	}
	if sec != sectionData {
		p.EntriesDone, p.EntriesTotal = r.entriesDone, r.entriesTotal
	}
	return p
}

// copying records how far the tables being loaded are, and reports whether
// that moved.
func (r *restorer) copying(a Activity) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := map[string]int64{}
	for _, s := range a.Sessions {
		if s.Table == "" {
			continue
		}
		now[s.Table] = fraction(s, r.rows[s.Table], r.sizes[s.Table])
	}
	changed := len(now) != len(r.inflight)
	for t, b := range now {
		changed = changed || r.inflight[t] != b
	}
	r.inflight = now
	return changed
}

// weigh sets the data section's totals: its tables, weighted by their size
// on the source.
func (r *restorer) weigh() {
	r.sizes = map[string]int64{}
	r.rows = r.manifest.Rows()
	for _, t := range r.manifest.Tables {
		r.sizes[t.QualifiedName()] = t.Bytes
	}
	for _, en := range r.entries(sectionData) {
		if en.Desc == "TABLE DATA" {
			r.tables++
			r.total += r.sizes[en.QualifiedName()]
		}
	}
	if slices.Contains(r.info.Sections, sectionData) {
		r.done, r.doneBytes = r.tables, r.total
	}
}

// entries returns the TOC entries of a section, in archive order.
func (r *restorer) entries(sec string) []pgtools.Entry {
	var want pgtools.Section
	switch sec {
	case sectionPreData:
		want = pgtools.SectionPreData
	case sectionData:
		want = pgtools.SectionData
	default:
		want = pgtools.SectionPostData
	}
	var out []pgtools.Entry
	for _, en := range r.toc.Entries {
		if en.Section == want {
			out = append(out, en)
		}
	}
	return out
}

// resetTarget empties a target that an interrupted schema restore left
// half done, so the schema can be restored again from the start. It is only
// done to a target that was empty when the migration first saw it: the
// objects in it can only be the migration's own.
func (r *restorer) resetTarget(ctx context.Context) error {
	if !r.e.state.Target.Empty {
		return &ResetError{}
	}
	r.e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeTargetReset}})
	if err := r.dst.DB.DropUserSchemas(ctx); err != nil {
		return fmt.Errorf("reset the target: %w", err)
	}
	// Large objects live outside schemas: remove the ones the interrupted
	// restore loaded (the source's OIDs; the target held none before).
	if _, err := r.unlinkOurLargeObjects(ctx); err != nil {
		return fmt.Errorf("reset the target: %w", err)
	}
	return nil
}

// unlinkOurLargeObjects removes the target's large objects whose OIDs are
// the source's, and returns how many there were.
func (r *restorer) unlinkOurLargeObjects(ctx context.Context) (int, error) {
	if len(r.manifest.LargeObjects) == 0 {
		return 0, nil
	}
	have, err := r.dst.DB.LargeObjects(ctx)
	if err != nil {
		return 0, err
	}
	ours := oidsIn(have, r.manifest.LargeObjects)
	if len(ours) == 0 {
		return 0, nil
	}
	return len(ours), r.dst.DB.UnlinkLargeObjects(ctx, ours)
}

// remainingData returns the data entries still to load. On a resumed
// restore, a table whose row count already matches the dump's is done; a
// table holding some rows but not all is emptied and loaded again. (A COPY
// is one statement: an interrupted one leaves no rows, so "some but not
// all" only arises when something else wrote to the table.)
func (r *restorer) remainingData(ctx context.Context, entries []pgtools.Entry, resumed bool) ([]pgtools.Entry, error) {
	if !resumed {
		return entries, nil
	}
	rows := r.manifest.Rows()
	var tables []Table
	for _, en := range entries {
		if en.Desc == "TABLE DATA" {
			tables = append(tables, Table{Schema: en.Schema, Name: en.Name})
		}
	}
	have, err := r.dst.DB.CountRows(ctx, tables)
	if err != nil {
		return nil, fmt.Errorf("check which tables are loaded: %w", err)
	}
	var remaining []pgtools.Entry
	var emptied []string
	for _, en := range entries {
		if en.Desc != "TABLE DATA" {
			remaining = append(remaining, en) // sequence values and the like are set again
			continue
		}
		qn := en.QualifiedName()
		want, n := rows[qn], have[qn]
		if n == want && (want > 0 || slices.Contains(r.info.Loaded, en.ID)) {
			r.done++
			r.doneBytes += r.sizes[qn]
			if !slices.Contains(r.info.Loaded, en.ID) {
				r.info.Loaded = append(r.info.Loaded, en.ID)
			}
			continue
		}
		if n > 0 {
			t := Table{Schema: en.Schema, Name: en.Name}
			if err := r.dst.DB.Truncate(ctx, t); err != nil {
				return nil, fmt.Errorf("empty the partly loaded table %s: %w", qn, err)
			}
			emptied = append(emptied, qn)
		}
		r.info.Loaded = slices.DeleteFunc(r.info.Loaded, func(id int) bool { return id == en.ID })
		remaining = append(remaining, en)
	}
	// pg_dump 17 puts large objects' metadata (lo_create) in the data
	// section: replaying it over what the interrupted run created fails
	// on every resume. Remove those large objects, and load them again.
	if slices.ContainsFunc(remaining, func(en pgtools.Entry) bool { return en.Desc == "BLOB METADATA" }) {
		n, err := r.unlinkOurLargeObjects(ctx)
		if err != nil {
			return nil, fmt.Errorf("remove the partly loaded large objects: %w", err)
		}
		if n > 0 {
			r.e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeLargeObjectsReloaded, Count: int64(n)}})
		}
	}
	r.e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeDataResumed, Count: int64(r.done), Of: int64(r.tables)}})
	if len(emptied) > 0 {
		r.e.send(Event{Kind: Warning, Step: StepRestore, Notice: &Notice{Code: NoticeTablesEmptied, Names: emptied}})
	}
	return remaining, r.e.save()
}

// missingPostData drops, from a resumed post-data section, the indexes,
// constraints and triggers that the interrupted run already created.
func (r *restorer) missingPostData(ctx context.Context, entries []pgtools.Entry) ([]pgtools.Entry, error) {
	existing, err := r.dst.DB.PostDataObjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("check which indexes and constraints exist: %w", err)
	}
	var out []pgtools.Entry
	skipped := 0
	for _, en := range entries {
		desc := en.Desc
		if desc == "FK CONSTRAINT" || desc == "CHECK CONSTRAINT" {
			desc = "CONSTRAINT"
		}
		if existing[pgdb.PostDataKey(desc, en.Schema, en.Name)] {
			skipped++
			continue
		}
		out = append(out, en)
	}
	r.e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticePostDataResumed, Count: int64(skipped), Of: int64(len(out))}})
	return out, nil
}

func writeList(path string, entries []pgtools.Entry) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write the restore list: %w", err)
	}
	if err := pgtools.WriteList(f, entries); err != nil {
		_ = f.Close()
		return fmt.Errorf("write the restore list: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the restore list: %w", err)
	}
	return nil
}

func (ri *RestoreInfo) markStarted(sec string) {
	if !slices.Contains(ri.StartedSections, sec) {
		ri.StartedSections = append(ri.StartedSections, sec)
	}
}

// ConnectionLostError is a tool whose connection to a database broke
// mid-run: through the gateway's tunnel, or directly. It is transient: the
// step resumes where it stopped.
type ConnectionLostError struct {
	Tool string
	Side Side
	// Tunnel is set when the connection went through the gateway's tunnel.
	Tunnel bool
	// Cause is the tool's own message.
	Cause string
}

func (e *ConnectionLostError) Error() string {
	if e.Tunnel {
		return fmt.Sprintf("%s lost its connection to the %s through the gateway: %s", e.Tool, e.Side, e.Cause)
	}
	return fmt.Sprintf("%s lost its connection to the %s: %s", e.Tool, e.Side, e.Cause)
}

// lostMarkers are what libpq and the server say when a connection breaks.
var lostMarkers = [...]string{
	"server closed the connection unexpectedly",
	"terminating connection",
	"connection to server was lost",
	"no connection to the server",
	"could not receive data from server",
	"could not send data to server",
	"SSL SYSCALL error",
	"SSL connection has been closed unexpectedly",
	"connection to server at",
	"connection to server on socket",
}

// connectionLost returns a *ConnectionLostError when a tool's failure is a
// broken connection (one lost connection during a parallel restore makes
// every later item fail too: they are not separate errors).
func connectionLost(failures []string, err error) *ConnectionLostError {
	var ee *pgtools.ExitError
	if !errors.As(err, &ee) || ee.Canceled {
		return nil
	}
	lines := append(append([]string(nil), failures...), ee.StderrTail...)
	for _, l := range lines {
		for _, m := range lostMarkers {
			if strings.Contains(l, m) {
				return &ConnectionLostError{Tool: ee.Tool, Cause: strings.TrimSpace(l)}
			}
		}
	}
	return nil
}

// allDeadlocks reports whether every failure is a deadlock.
func allDeadlocks(failures []string) bool {
	for _, f := range failures {
		if !strings.Contains(f, "deadlock detected") {
			return false
		}
	}
	return true
}
