package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

// The schema and post-data sections are many small statements. Through
// pg_restore each costs a round trip, which across a long link is most of
// the section's time (5,000 entries at 50 ms are four minutes). ppg has
// pg_restore write the section's SQL instead, and sends the entries itself,
// pipelined: each entry is one simple-query message, run by the server as
// its own implicit transaction, as pg_restore runs it, so one entry's error
// is that entry's alone, and the round trips grow with the pipeline's
// window, not with the entries.

// sessionOpener is the role of the target's database that the pipelined
// restore sends through.
type sessionOpener interface {
	// Session opens another connection, named app, for pipelined
	// statements.
	Session(ctx context.Context, app string) (Session, error)
}

// Session is a connection of the engine's own for pipelined statements;
// sessionOpener.Session opens one with an application name, and the caller
// closes it. *pgdb.Session is the real one.
type Session interface {
	// Pipeline sends stmts in order, each as its own simple query,
	// without waiting for the answers, and calls done in order as each
	// is answered: err is the server's error for that statement (see
	// pgdb.ServerError), or nil. It returns an error when the connection fails or
	// ctx ends.
	Pipeline(ctx context.Context, stmts []Statement, done func(i int, err error)) error
	// CopyFrom runs sql, a COPY ... FROM STDIN, with its rows read from
	// rows as they come. The error is the server's for the statement (see
	// pgdb.ServerError), or a failure of the connection or of rows.
	CopyFrom(ctx context.Context, sql string, rows io.Reader) error
	Close()
}

// errNoPipeline means a section is restored by pg_restore itself:
// pg_restore's script is not in the form ppg sends.
var errNoPipeline = errors.New("the section cannot be pipelined")

// scripted is one entry of a section to send: the TOC entry, and its SQL
// from pg_restore's script.
type scripted struct {
	entry  pgtools.Entry
	script pgtools.ScriptEntry
}

// script has pg_restore write the SQL of entries (of one section) and
// pairs each of its entries with the TOC's. With a limit (bytes; 0 for
// none), a longer script stops pg_restore and returns errScriptTooLarge.
func (r *restorer) script(ctx context.Context, sec, list string, limit int64) (*pgtools.Script, []scripted, error) {
	pr, pw := io.Pipe()
	parsed := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var s *pgtools.Script
	go func() {
		var err error
		s, err = pgtools.ParseScriptLimit(pr, limit)
		if errors.Is(err, pgtools.ErrScriptTooLarge) {
			stop() // the rest is not wanted
		}
		// Drain what is left, so pg_restore never blocks on a reader
		// that stopped.
		_, _ = io.Copy(io.Discard, pr)
		parsed <- err
	}()
	args := append(restoreFlags[:], "--section="+sec, "--use-list="+list, "--file=-", r.archive)
	err := r.e.tools.Run(runCtx, pgtools.Cmd{Tool: r.tool, Args: args, Stdout: pw})
	_ = pw.CloseWithError(io.EOF)
	perr := <-parsed
	if errors.Is(perr, pgtools.ErrScriptTooLarge) && ctx.Err() == nil {
		return nil, nil, fmt.Errorf("%w: %w", errScriptTooLarge, perr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("write the %s section's SQL with pg_restore: %w", sec, err)
	}
	if perr != nil {
		if errors.Is(perr, pgtools.ErrScript) {
			return nil, nil, fmt.Errorf("%w: %w", errNoPipeline, perr)
		}
		return nil, nil, perr
	}
	byID := map[int]pgtools.Entry{}
	for _, en := range r.toc.Entries {
		byID[en.ID] = en
	}
	out := make([]scripted, 0, len(s.Entries))
	seen := map[int]bool{}
	for _, se := range s.Entries {
		en, ok := byID[se.ID]
		if !ok || seen[se.ID] || (en.Section == pgtools.SectionData) != (sec == sectionData) {
			return nil, nil, fmt.Errorf("%w: the script names entry %d, which the list does not hold", errNoPipeline, se.ID)
		}
		seen[se.ID] = true
		if strings.TrimSpace(se.SQL) == "" {
			continue
		}
		out = append(out, scripted{entry: en, script: se})
	}
	r.translate(sec, out)
	return s, out, nil
}

// pipelined restores a pre-data or post-data section's entries by sending
// their SQL itself. It returns errNoPipeline when it could not start, and
// the caller restores the section with pg_restore.
func (r *restorer) pipelined(ctx context.Context, sec string, entries []pgtools.Entry) error {
	e := r.e
	// The sessions open while pg_restore writes the section's SQL.
	opening := r.openPool(ctx)
	list := e.path(DumpFileName(e.cfg.DumpPrefix, e.state) + "." + sec + ".list")
	err := writeList(list, entries)
	var s *pgtools.Script
	var items []scripted
	if err == nil {
		s, items, err = r.script(ctx, sec, list, 0)
		_ = os.Remove(list)
	}
	pool, oerr := opening()
	if err != nil {
		return err
	}
	if oerr != nil {
		return oerr
	}
	if sec == sectionPreData {
		pool = pool[:1] // in order, on one session
	}
	p := &pipeline{r: r, sec: sec, preamble: s.Preamble, total: len(entries), sessions: pool}
	err = e.watch(ctx, r.dst.DB.Watcher, r.app(), "ppg", nil, nil, func(ctx context.Context, touch func()) error {
		p.touch = touch
		return p.run(ctx, items)
	})
	if err != nil {
		return err
	}
	return p.verdict()
}

// app is the application name of the restore's connections, by which the
// watcher finds them.
func (r *restorer) app() string { return "ppg-restore-" + r.e.state.ID }

// openPool starts opening the restore's own sessions, one a job, those
// not open yet, all at once; the function it returns waits for them. The
// sessions are kept from one section to the next (each pipeline resets
// them first), closed before pg_restore runs jobs of its own, so that the
// restore never holds more connections than the plan allowed, and at the
// step's end.
func (r *restorer) openPool(ctx context.Context) func() ([]Session, error) {
	n := max(r.info.Jobs, 1) - len(r.pool)
	if n <= 0 {
		return func() ([]Session, error) { return r.pool, nil }
	}
	opened := make([]Session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opened[i], errs[i] = r.dst.DB.Session(ctx, r.app())
		}()
	}
	var failed error
	return sync.OnceValues(func() ([]Session, error) {
		wg.Wait()
		for i, ss := range opened {
			switch {
			case errs[i] != nil && failed == nil:
				failed = errs[i]
			case errs[i] == nil:
				r.pool = append(r.pool, ss)
			}
		}
		if failed != nil {
			return nil, r.lost(failed)
		}
		return r.pool, nil
	})
}

// reuse reports whether ss ran a pipeline before, and marks it as having
// run one.
func (r *restorer) reuse(ss Session) bool {
	if r.used == nil {
		r.used = map[Session]bool{}
	}
	used := r.used[ss]
	r.used[ss] = true
	return used
}

// swap puts ns in the pool in place of old, which it closes.
func (r *restorer) swap(old, ns Session) {
	for i, ss := range r.pool {
		if ss == old {
			r.pool[i] = ns
		}
	}
	delete(r.used, old)
	old.Close()
}

// closePool closes the restore's own sessions.
func (r *restorer) closePool() {
	for _, ss := range r.pool {
		ss.Close()
		delete(r.used, ss)
	}
	r.pool = nil
}

// Small tables' data is pipelined too. Through pg_restore each table is a
// COPY of its own, a few round trips each, which across a long link is
// most of the section's time when a database has hundreds of small
// tables. ppg has pg_restore write small tables' rows (and the sequences'
// values and large objects' metadata) as SQL, a batch a session at a time so that memory stays bounded, and
// sends each table as one pipelined COPY. Large tables and the rest stay
// with pg_restore's jobs: their round trips are few against their bytes.
//
// Large objects' contents too: pg_restore writes each with lo_open, a
// lowrite per 16 kB and lo_close, a round trip each, which at 50 ms is
// seconds for a few dozen small objects. A BLOBS entry whose SQL is at
// most dataBatch bytes is sent as one statement; a larger one is left to
// pg_restore, which streams it.
const (
	// smallTable is the largest table (pg_table_size) whose rows ppg
	// sends itself.
	smallTable = 512 << 10
	// dataBatch bounds the SQL of a large objects' entry that ppg sends
	// itself.
	dataBatch = 2 << 20
	// tableBatch bounds the table sizes of one batch: the sessions each
	// hold one at a time.
	tableBatch = 1 << 20
)

// errScriptTooLarge marks a batch whose SQL is longer than its limit:
// pg_restore restores it itself.
var errScriptTooLarge = errors.New("the entry is too large to send as one statement")

// dataBatchOf is one batch of a data section that ppg sends itself.
type dataBatchOf struct {
	entries []pgtools.Entry
	// limit bounds the batch's SQL (0: none); a longer batch is left
	// to pg_restore.
	limit int64
}

// pipelinedData loads the small tables and sequence values of a data
// section's entries, and returns the entries left for pg_restore, with an
// *EntriesError if the target refused some of the entries sent. On
// errNoPipeline (a batch's script is not in the expected form) the
// entries not yet sent are left for pg_restore too, with the error.
func (r *restorer) pipelinedData(ctx context.Context, entries []pgtools.Entry) ([]pgtools.Entry, error) {
	batches, rest := r.smallBatches(entries)
	if len(batches) == 0 && !slices.ContainsFunc(rest, func(en pgtools.Entry) bool { return en.Desc == "TABLE DATA" }) {
		return entries, nil
	}
	e := r.e
	p := &pipeline{r: r, sec: sectionData, opening: r.openPool(ctx)}
	defer func() {
		if p.opening != nil {
			_, _ = p.opening() // wait for the sessions, kept in the pool
		}
	}()
	list := e.path(DumpFileName(e.cfg.DumpPrefix, e.state) + "." + sectionData + ".list")
	defer func() {
		_ = os.Remove(list)
		// Those of every session, a killed run's too.
		for i := range max(r.info.Jobs, 1) {
			_ = os.Remove(workerList(list, i))
		}
	}()
	var left []pgtools.Entry
	onActivity := func(a Activity) {
		if r.copying(a) {
			e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sectionData)})
		}
	}
	err := e.watch(ctx, r.dst.DB.Watcher, r.app(), "ppg", onActivity, nil, func(ctx context.Context, touch func()) error {
		p.touch = touch
		if err := p.opened(); err != nil {
			return err
		}
		tables := slices.DeleteFunc(slices.Clone(batches), func(b dataBatchOf) bool { return b.limit > 0 })
		sent, err := p.sendBatches(ctx, list, tables)
		if err != nil {
			left = unsent(rest, tables, sent)
			for _, b := range batches {
				if b.limit > 0 {
					left = append(left, b.entries...)
				}
			}
			return err
		}
		// Large objects' contents after their metadata, in the batches
		// above.
		for _, b := range batches {
			if b.limit == 0 {
				continue
			}
			err := p.sendBatch(ctx, list, b)
			if errors.Is(err, errScriptTooLarge) || errors.Is(err, errNoPipeline) {
				rest = append(rest, b.entries...)
				continue
			}
			if err != nil {
				return err
			}
		}
		rest, err = p.streamTables(ctx, list, rest)
		return err
	})
	if err != nil {
		return left, err
	}
	// Entries the target refused fail the section, after the rest.
	return rest, p.verdict()
}

// workerList is the list file of session i in the data section, whose
// list file is list ("x.data.list": "x.0.data.list").
func workerList(list string, i int) string {
	return fmt.Sprintf("%s.%d.%s.list", strings.TrimSuffix(list, "."+sectionData+".list"), i, sectionData)
}

// unsent is rest and the entries of the batches not sent.
func unsent(rest []pgtools.Entry, batches []dataBatchOf, sent []bool) []pgtools.Entry {
	out := slices.Clone(rest)
	for k, b := range batches {
		if k >= len(sent) || !sent[k] {
			out = append(out, b.entries...)
		}
	}
	return out
}

// sendBatches sends the batches of small tables, each on one session,
// every session taking the next batch as soon as it is done with one: the
// sessions' batches and pg_restore's writing of the next overlap. sent
// marks the batches sent (a batch whose SQL could not be written, with
// errNoPipeline, is not, nor those after it). After a failure the
// sessions finish the batch they send, and take no other.
func (p *pipeline) sendBatches(ctx context.Context, list string, batches []dataBatchOf) (sent []bool, err error) {
	sent = make([]bool, len(batches))
	var mu sync.Mutex
	next := 0
	var failed error
	// The first batch written sets every session up with its preamble.
	var setUp sync.Once
	var setUpErr error
	begin := func(preamble []string) error {
		setUp.Do(func() {
			p.preamble = preamble
			setUpErr = p.start(ctx)
		})
		return setUpErr
	}
	var wg sync.WaitGroup
	for i := range min(len(p.sessions), len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := workerList(list, i)
			for {
				mu.Lock()
				k := next
				next++
				stop := failed != nil
				mu.Unlock()
				if k >= len(batches) || stop || ctx.Err() != nil {
					return
				}
				err := writeList(own, batches[k].entries)
				var s *pgtools.Script
				var items []scripted
				if err == nil {
					s, items, err = p.r.script(ctx, sectionData, own, 0)
				}
				if err == nil {
					err = begin(s.Preamble)
				}
				if err == nil {
					mu.Lock()
					sent[k] = true
					mu.Unlock()
					p.touch()
					err = p.send(ctx, i, items)
				}
				if err != nil {
					mu.Lock()
					if failed == nil {
						failed = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return sent, failed
	}
	// Entries that deadlocked with another session's were rolled back:
	// send them again, one session, in order.
	if retry := p.takeDeadlocked(); len(retry) > 0 {
		if err := p.send(ctx, 0, retry); err != nil {
			return sent, err
		}
		if again := p.takeDeadlocked(); len(again) > 0 {
			p.fail(again[0], "deadlock detected")
		}
	}
	return sent, nil
}

// sendBatch has pg_restore write the SQL of one batch of a data section
// (through the list file list) and sends it, over the sessions set up.
func (p *pipeline) sendBatch(ctx context.Context, list string, batch dataBatchOf) error {
	if err := writeList(list, batch.entries); err != nil {
		return err
	}
	s, items, err := p.r.script(ctx, sectionData, list, batch.limit)
	if err != nil {
		return err
	}
	p.touch()
	if p.settings == nil {
		p.preamble = s.Preamble
		if err := p.start(ctx); err != nil {
			return err
		}
	}
	for i := range items {
		if items[i].entry.Desc == "BLOBS" {
			items[i].script.SQL = oneTransaction(items[i].script.SQL)
		}
	}
	return p.sendAll(ctx, items)
}

// onLargeObject reports whether en is a comment, privileges or a security
// label on a large object: entries of the data section, though of no
// section of their own.
func onLargeObject(en pgtools.Entry) bool {
	switch en.Desc {
	case "COMMENT", "ACL", "SECURITY LABEL":
		return strings.HasPrefix(en.Name, "LARGE OBJECT ")
	}
	return false
}

// oneTransaction drops the BEGIN and COMMIT that pg_restore puts around
// the statements of a large objects' entry: sent as one message, they run
// in one transaction all the same (lo_open's descriptor lasts until its
// end), and a failure leaves no transaction open on the session.
func oneTransaction(sql string) string {
	sql = strings.TrimSpace(sql)
	if body, ok := strings.CutPrefix(sql, "BEGIN;"); ok {
		if body, ok := strings.CutSuffix(body, "COMMIT;"); ok {
			return strings.TrimSpace(body)
		}
	}
	return sql
}

// smallBatches picks the entries ppg sends itself (small tables'
// data, sequence values, large objects' metadata) in batches of at most
// tableBatch bytes of tables, then each large objects' entry in a batch of
// its own, and returns the rest, for pg_restore.
func (r *restorer) smallBatches(entries []pgtools.Entry) (batches []dataBatchOf, rest []pgtools.Entry) {
	var cur, blobs []pgtools.Entry
	var size int64
	for _, en := range entries {
		b, known := r.sizes[en.QualifiedName()]
		switch {
		case len(cur) > 0 && onLargeObject(en):
			// With the large objects' metadata before it: pg_restore
			// places an entry of no section of its own (a comment) in the
			// section of the listed entry before it, and would leave it
			// out of a list where it came first.
			cur = append(cur, en)
		case en.Desc == "SEQUENCE SET", en.Desc == "BLOB METADATA", en.Desc == "TABLE DATA" && known && b <= smallTable:
			if len(cur) > 0 && size+b > tableBatch {
				batches, cur, size = append(batches, dataBatchOf{entries: cur}), nil, 0
			}
			cur, size = append(cur, en), size+b
		case en.Desc == "BLOBS":
			blobs = append(blobs, en)
		default:
			rest = append(rest, en)
		}
	}
	if len(cur) > 0 {
		batches = append(batches, dataBatchOf{entries: cur})
	}
	for _, en := range blobs {
		batches = append(batches, dataBatchOf{entries: []pgtools.Entry{en}, limit: dataBatch})
	}
	return batches, rest
}

// lost turns a failed connection of the engine's own into the error the
// front ends explain, and that resumes.
func (r *restorer) lost(err error) error {
	if _, _, ok := pgdb.ServerError(err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	return &ConnectionLostError{Tool: "ppg", Side: Target, Tunnel: r.dst.Conn.Tunnel, Cause: err.Error()}
}

// pipeline is one pipelined section's run.
type pipeline struct {
	r        *restorer
	sec      string
	preamble []string
	sessions []Session
	// opening, until the sessions are needed, waits for them to open.
	opening func() ([]Session, error)
	touch   func()
	total   int

	mu       sync.Mutex
	failures []string
	// deadlocked are entries rolled back by a deadlock with another
	// session's, to send again.
	deadlocked []scripted
	seen       map[string]bool // warnings already given, once each
	// settings is what each session has set beyond the preamble.
	settings []string
}

// run sends the items: the schema in order on one session; post-data in
// waves of entries whose dependencies are done, spread over the sessions
// by table.
func (p *pipeline) run(ctx context.Context, items []scripted) error {
	if err := p.start(ctx); err != nil {
		return err
	}
	return p.sendAll(ctx, items)
}

// start sets every session up, all at once.
func (p *pipeline) start(ctx context.Context) error {
	p.settings = make([]string, len(p.sessions))
	reused := make([]bool, len(p.sessions))
	for i, ss := range p.sessions {
		reused[i] = p.r.reuse(ss)
	}
	errs := make([]error, len(p.sessions))
	fresh := make([]Session, len(p.sessions))
	var wg sync.WaitGroup
	for i, ss := range p.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lost *ConnectionLostError
			if errs[i] = p.begin(ctx, ss, reused[i]); !reused[i] || !errors.As(errs[i], &lost) || ctx.Err() != nil {
				return
			}
			// A session kept idle while others worked may have been
			// closed by the server or the link: open another.
			ns, err := p.r.dst.DB.Session(ctx, p.r.app())
			if err != nil {
				errs[i] = p.r.lost(err)
				return
			}
			fresh[i] = ns
			errs[i] = p.begin(ctx, ns, false)
		}()
	}
	wg.Wait()
	for i, ns := range fresh {
		if ns != nil {
			p.r.swap(p.sessions[i], ns)
			p.sessions[i] = ns
			p.r.reuse(ns)
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// opened waits for the sessions the pipeline was opening.
func (p *pipeline) opened() error {
	if p.opening == nil {
		return nil
	}
	var err error
	p.sessions, err = p.opening()
	p.opening = nil
	return err
}

// sendAll sends items over the sessions set up.
func (p *pipeline) sendAll(ctx context.Context, items []scripted) error {
	main, later := splitPasses(items)
	if err := p.sendMain(ctx, main); err != nil {
		return err
	}
	// What pg_restore leaves for its last passes (materialized views'
	// data, event triggers, privileges) comes after everything else, in
	// the script's order, on one session: an event trigger made earlier
	// would fire on the rest of the restore.
	return p.send(ctx, 0, later)
}

// splitPasses separates the entries pg_restore restores in its main pass
// from those it restores after it, keeping the order of each.
// A comment or security label goes with the object it is on.
func splitPasses(items []scripted) (main, later []scripted) {
	inLater := map[int]bool{}
	for _, it := range items {
		switch it.entry.Desc {
		case "ACL", "ACL LANGUAGE", "DEFAULT ACL", "EVENT TRIGGER", "MATERIALIZED VIEW DATA":
			inLater[it.entry.ID] = true
		}
	}
	for _, it := range items {
		if d := it.entry.Desc; d == "COMMENT" || d == "SECURITY LABEL" {
			for _, dep := range it.script.Deps {
				if inLater[dep] {
					inLater[it.entry.ID] = true
				}
			}
		}
		if inLater[it.entry.ID] {
			later = append(later, it)
		} else {
			main = append(main, it)
		}
	}
	return main, later
}

// sendMain sends the main pass: in order on one session, or in waves over
// several.
func (p *pipeline) sendMain(ctx context.Context, items []scripted) error {
	if len(p.sessions) == 1 {
		return p.send(ctx, 0, items)
	}
	for _, wave := range waves(items) {
		groups := spread(wave, len(p.sessions))
		var wg sync.WaitGroup
		errs := make([]error, len(groups))
		for i, g := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = p.send(ctx, i, g)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		// Entries that deadlocked with another session's were rolled
		// back: send them again, one session, in order.
		if retry := p.takeDeadlocked(); len(retry) > 0 {
			if err := p.send(ctx, 0, retry); err != nil {
				return err
			}
			if again := p.takeDeadlocked(); len(again) > 0 {
				p.fail(again[0], "deadlock detected")
			}
		}
	}
	return nil
}

// begin sets a session up as pg_restore's script does, one statement at
// a time: a setting the server does not know (transaction_timeout before
// 17) must not undo the others.
func (p *pipeline) begin(ctx context.Context, ss Session, reused bool) error {
	var failed error
	// A session that ran an earlier section's statements is as new
	// after DISCARD ALL: the settings that section made are gone.
	sql := p.preamble
	if reused {
		sql = append([]string{"DISCARD ALL"}, sql...)
	}
	stmts := make([]Statement, len(sql))
	for i, t := range sql {
		stmts[i] = Statement{SQL: t}
	}
	err := ss.Pipeline(ctx, stmts, func(i int, err error) {
		p.touch()
		if err == nil {
			return
		}
		if !p.harmless(err, sql[i]) && failed == nil {
			failed = fmt.Errorf("set up the restore session (%s): %w", sql[i], err)
		}
	})
	if err != nil {
		return p.r.lost(err)
	}
	return failed
}

// send pipelines items on session i, in order.
func (p *pipeline) send(ctx context.Context, i int, items []scripted) error {
	if len(items) == 0 {
		return nil
	}
	stmts := make([]Statement, 0, len(items))
	sent := make([]scripted, 0, len(items))
	for _, it := range items {
		if set := strings.Join(it.script.Settings, "\n"); set != p.settings[i] {
			// The entry needs session state this session does not have
			// (default_table_access_method, for instance): set it first.
			// A COPY must be a message of its own; other entries take
			// the settings in the same message.
			p.settings[i] = set
			if it.script.Copy != nil {
				stmts = append(stmts, Statement{SQL: set})
				sent = append(sent, scripted{})
			} else {
				stmts = append(stmts, Statement{SQL: set + "\n" + it.script.SQL})
				sent = append(sent, it)
				continue
			}
		}
		stmts = append(stmts, Statement{SQL: it.script.SQL, Copy: it.script.Copy})
		sent = append(sent, it)
	}
	err := p.sessions[i].Pipeline(ctx, stmts, func(k int, err error) {
		if sent[k].entry.ID == 0 {
			// Settings of their own: they fail only as the entry after
			// them would.
			p.touch()
			if err != nil && !p.harmless(err, stmts[k].SQL) {
				p.fail(sent[k+1], errorText(err))
			}
			return
		}
		p.touch()
		p.answered(sent[k], err)
	})
	if err != nil {
		return p.r.lost(err)
	}
	return nil
}

// answered records one entry's answer: done, a harmless error (a
// warning), a deadlock (sent again), or a failure that names the entry.
func (p *pipeline) answered(it scripted, err error) {
	r := p.r
	if err == nil || p.harmless(err, it.script.SQL) {
		if p.sec != sectionData {
			r.mu.Lock()
			r.entriesDone = min(r.entriesDone+1, r.entriesTotal)
			r.mu.Unlock()
		} else if err == nil && it.entry.Desc == "TABLE DATA" {
			r.markLoaded(it.entry)
		}
		r.e.send(Event{Kind: ToolLine, Step: StepRestore, Line: fmt.Sprintf("restored %s %s (entry %d)", it.entry.Desc, it.entry.QualifiedName(), it.entry.ID)})
		r.e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(p.sec)})
		return
	}
	if code, _, _ := pgdb.ServerError(err); code == "40P01" {
		p.mu.Lock()
		p.deadlocked = append(p.deadlocked, it)
		p.mu.Unlock()
		return
	}
	p.fail(it, errorText(err))
}

func (p *pipeline) fail(it scripted, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, fmt.Sprintf("%s %s (entry %d): %s", it.entry.Desc, it.entry.QualifiedName(), it.entry.ID, msg))
}

func (p *pipeline) takeDeadlocked() []scripted {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.deadlocked
	p.deadlocked = nil
	slices.SortFunc(d, func(a, b scripted) int { return a.entry.ID - b.entry.ID })
	return d
}

// harmless reports, and warns once about, an error known to do no harm
// (the same rules as for pg_restore's errors).
func (p *pipeline) harmless(err error, sql string) bool {
	r := p.r
	line := pgtools.Line{Kind: pgtools.KindError, Message: "ERROR:  " + errorText(err), Command: sql}
	why := harmless(line, harmlessContext{restoreMajor: r.tool.Version.Major, targetMajor: r.target,
		ours: r.resumed && r.e.state.Target != nil && r.e.state.Target.Empty})
	if why == "" {
		return false
	}
	msg := errorText(err)
	p.mu.Lock()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	first := !p.seen[msg]
	p.seen[msg] = true
	p.mu.Unlock()
	if first {
		r.mu.Lock()
		r.info.Warnings = append(r.info.Warnings, msg+" ("+string(why)+")")
		r.mu.Unlock()
		r.e.send(Event{Kind: Warning, Step: StepRestore, Notice: &Notice{Code: NoticeHarmlessError, Cause: msg, Harmless: why}})
	}
	return true
}

// verdict is the section's result: every entry done or harmless, or the
// entries that failed, by name.
func (p *pipeline) verdict() error {
	if len(p.failures) == 0 {
		return nil
	}
	return &EntriesError{Section: p.sec, Failures: p.failures}
}

// EntriesError is a restore section in which the target refused entries
// (a CREATE that fails, say). Everything else of the section was
// restored.
type EntriesError struct {
	Section string
	// Failures name each refused entry and the server's error:
	// "FUNCTION public.f() (entry 226): language "plperl" does not exist".
	Failures []string
}

func (e *EntriesError) Error() string {
	return fmt.Sprintf("restore (%s): the target refused %d of its entries: %s", e.Section, len(e.Failures), strings.Join(first(e.Failures, 5), "; "))
}

// errorText is the server's message for a statement, or the error's
// text.
func errorText(err error) string {
	if _, msg, ok := pgdb.ServerError(err); ok {
		return msg
	}
	return err.Error()
}

// waves orders post-data entries for parallel sessions: each wave holds
// the entries whose dependencies inside the section are in earlier waves
// (a foreign key after the primary key it references, an index's ATTACH
// after both indexes), in the section's order.
func waves(items []scripted) [][]scripted {
	level := map[int]int{}
	in := map[int]bool{}
	for _, it := range items {
		in[it.entry.ID] = true
	}
	var out [][]scripted
	// The script is in pg_dump's order, which puts dependencies first;
	// a dependency later in the order (it should not happen) is resolved
	// by repeating until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, it := range items {
			l := 0
			for _, d := range it.script.Deps {
				if in[d] && d != it.entry.ID {
					l = max(l, level[d]+1)
				}
			}
			if l != level[it.entry.ID] && l < len(items) {
				level[it.entry.ID] = l
				changed = true
			}
		}
	}
	for _, it := range items {
		l := level[it.entry.ID]
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], it)
	}
	return out
}

// spread splits a wave over n sessions. Entries on the same table go to
// the same session, in order: two sessions altering one table would
// wait on each other's locks. Tables are spread so that the sessions get
// about as many entries each.
func spread(wave []scripted, n int) [][]scripted {
	byTable := map[int][]scripted{}
	var order []int
	for _, it := range wave {
		k := tableOf(it)
		if _, ok := byTable[k]; !ok {
			order = append(order, k)
		}
		byTable[k] = append(byTable[k], it)
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(byTable[b]) - len(byTable[a]) })
	out := make([][]scripted, n)
	for _, k := range order {
		least := 0
		for i := range out {
			if len(out[i]) < len(out[least]) {
				least = i
			}
		}
		out[least] = append(out[least], byTable[k]...)
	}
	// Keep the section's order within each session.
	pos := make(map[int]int, len(wave))
	for i, it := range wave {
		pos[it.entry.ID] = i
	}
	for _, g := range out {
		slices.SortFunc(g, func(a, b scripted) int { return pos[a.entry.ID] - pos[b.entry.ID] })
	}
	return out
}

// tableOf is the key an entry is grouped by: the first entry it depends
// on (its table, for an index, constraint, trigger or policy; for a
// foreign key, the key it references), or itself.
func tableOf(it scripted) int {
	for _, d := range it.script.Deps {
		if d != it.entry.ID {
			return -d
		}
	}
	return it.entry.ID
}
