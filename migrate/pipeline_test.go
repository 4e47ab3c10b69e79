package migrate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

func TestSplitPassesLeavesRefreshesAndEventTriggersLast(t *testing.T) {
	item := func(id int, desc string, deps ...int) scripted {
		return scripted{entry: pgtools.Entry{ID: id, Desc: desc}, script: pgtools.ScriptEntry{ID: id, Deps: deps}}
	}
	items := []scripted{
		item(1, "INDEX", 100),
		item(2, "MATERIALIZED VIEW DATA", 101),
		item(3, "EVENT TRIGGER", 102),
		item(4, "COMMENT", 3),
		item(5, "COMMENT", 1),
		item(6, "FK CONSTRAINT", 100),
	}
	main, later := splitPasses(items)
	ids := func(list []scripted) []int {
		var out []int
		for _, it := range list {
			out = append(out, it.entry.ID)
		}
		return out
	}
	if got := ids(main); !slices.Equal(got, []int{1, 5, 6}) {
		t.Errorf("main pass = %v, want [1 5 6]", got)
	}
	if got := ids(later); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("later passes = %v, want [2 3 4] (the comment on the event trigger with it)", got)
	}
}

// newTestPipeline is a pipeline of section sec over one scripted session,
// for a restore of pg_restore 17 into a target of major version target.
func newTestPipeline(t *testing.T, sec string, target int, answer func(Statement) error) (*pipeline, *[]Event) {
	w := newWorld(t)
	e := w.engine(t.TempDir(), bothKeys())
	e.state = NewState(e.cfg.Now())
	var evs []Event
	var mu sync.Mutex
	e.emit = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
	}
	r := &restorer{e: e, tool: testTools[1], target: target, info: &RestoreInfo{}, sizes: map[string]int64{}}
	ss := &scriptedSession{t: t, answer: answer}
	p := &pipeline{r: r, sec: sec, sessions: []Session{ss}, touch: func() {},
		preamble: []string{"SET statement_timeout = 0;", "SET transaction_timeout = 0;"}}
	return p, &evs
}

// The pipeline sends the preamble one statement at a time, then each
// entry as one message, with the session settings an entry needs in the
// same message (or, before a COPY, in one of their own), and the server's
// answer to each entry is that entry's alone.
func TestPipelineSendsEntriesAsScripted(t *testing.T) {
	answer, done := expect(t,
		step{sql: "SET statement_timeout = 0;"},
		// A 16 target does not know transaction_timeout: a warning.
		step{sql: "SET transaction_timeout = 0;", err: serverError("42704", `unrecognized configuration parameter "transaction_timeout"`)},
		step{sql: "CREATE INDEX a_idx ON public.a USING gist (g);", err: serverError("42704", `type "geometry" does not exist`)},
		step{sql: "SET default_table_access_method = heap;\nCREATE INDEX b_idx ON public.b (id);"},
		step{sql: "SET default_table_access_method = heap;\nSET search_path = app;"},
		step{sql: "COPY app.c (id) FROM stdin;", copy: "1\n2\n"},
	)
	p, evs := newTestPipeline(t, sectionPostData, 16, answer)
	p.r.entriesTotal = 3
	if err := p.start(t.Context()); err != nil {
		t.Fatalf("start = %v", err)
	}
	heap := []string{"SET default_table_access_method = heap;"}
	items := []scripted{
		{entry: pgtools.Entry{ID: 201, Desc: "INDEX", Schema: "public", Name: "a_idx"}, script: pgtools.ScriptEntry{ID: 201, SQL: "CREATE INDEX a_idx ON public.a USING gist (g);"}},
		{entry: pgtools.Entry{ID: 202, Desc: "INDEX", Schema: "public", Name: "b_idx"}, script: pgtools.ScriptEntry{ID: 202, SQL: "CREATE INDEX b_idx ON public.b (id);", Settings: heap}},
		{entry: pgtools.Entry{ID: 100, Desc: "TABLE DATA", Schema: "app", Name: "c"}, script: pgtools.ScriptEntry{ID: 100, SQL: "COPY app.c (id) FROM stdin;", Copy: []byte("1\n2\n"), Settings: append(heap, "SET search_path = app;")}},
	}
	if err := p.send(t.Context(), 0, items); err != nil {
		t.Fatalf("send = %v", err)
	}
	done()
	var ee *EntriesError
	if err := p.verdict(); !errors.As(err, &ee) || len(ee.Failures) != 1 || ee.Failures[0] != `INDEX public.a_idx (entry 201): type "geometry" does not exist` {
		t.Errorf("verdict = %v, want entry 201 refused, and only it", err)
	}
	var warned []HarmlessReason
	for _, ev := range *evs {
		if ev.Kind == Warning && ev.Notice != nil && ev.Notice.Code == NoticeHarmlessError {
			warned = append(warned, ev.Notice.Harmless)
		}
	}
	if !slices.Equal(warned, []HarmlessReason{HarmlessTransactionTimeout}) {
		t.Errorf("warnings %v, want transaction_timeout's", warned)
	}
	if p.r.entriesDone != 2 {
		t.Errorf("%d entries done, want the index and the COPY", p.r.entriesDone)
	}
}

// A preamble statement the target refuses, and that is not harmless,
// fails the session's setup.
func TestPipelineSetupRefused(t *testing.T) {
	answer, done := expect(t,
		step{sql: "SET statement_timeout = 0;", err: serverError("42501", "permission denied to set parameter")},
		step{sql: "SET transaction_timeout = 0;"},
	)
	p, _ := newTestPipeline(t, sectionPreData, 17, answer)
	err := p.start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "set up the restore session (SET statement_timeout = 0;)") {
		t.Errorf("start = %v, want the setup refused", err)
	}
	done()
}

// A data entry answered without error marks its table loaded.
func TestPipelinedDataMarksTablesLoaded(t *testing.T) {
	answer, done := expect(t, step{sql: "COPY public.t (id) FROM stdin;", copy: "7\n"})
	p, _ := newTestPipeline(t, sectionData, 17, answer)
	p.settings = make([]string, 1)
	item := scripted{entry: pgtools.Entry{ID: 100, Desc: "TABLE DATA", Schema: "public", Name: "t"}, script: pgtools.ScriptEntry{ID: 100, SQL: "COPY public.t (id) FROM stdin;", Copy: []byte("7\n")}}
	if err := p.send(t.Context(), 0, []scripted{item}); err != nil {
		t.Fatal(err)
	}
	done()
	if !slices.Equal(p.r.info.Loaded, []int{100}) {
		t.Errorf("loaded %v, want [100]", p.r.info.Loaded)
	}
}

// The engine's restore goes through the pipelined sessions: every
// section's entries are sent by ppg, pg_restore only writes their SQL, and
// every session is closed.
func TestRestoreIsPipelined(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	evs, err := run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := find(evs, Info, StepRestore); len(got) != 0 {
		t.Errorf("info %+v, want none (no fallback to pg_restore)", got[0].Notice)
	}
	if len(w.sessions) == 0 {
		t.Fatal("no pipelined session")
	}
	var copies []string
	for _, s := range w.sessions {
		if !s.closed {
			t.Error("a session was left open")
		}
		for _, st := range s.got {
			if st.Copy != nil {
				copies = append(copies, fmt.Sprintf("%s %d", st.SQL, len(st.Copy)))
			}
		}
	}
	slices.Sort(copies)
	want := []string{"COPY app.empty (id) FROM stdin; 0", "COPY public.orders (id) FROM stdin; 14", "COPY public.users (id) FROM stdin; 6"}
	if !slices.Equal(copies, want) {
		t.Errorf("copies %q, want %q", copies, want)
	}
	if !maps.Equal(w.loaded, w.rows) {
		t.Errorf("target rows %v, want %v", w.loaded, w.rows)
	}
	if len(w.objects) != len(w.tables) {
		t.Errorf("target objects %v, want an index per table", w.objects)
	}
}

// Without a script in the expected form, pg_restore restores each
// section itself, and the run says why.
func TestRestoreWithoutScript(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.noScript = true
	evs, err := run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	notes := find(evs, Info, StepRestore)
	if len(notes) != 3 {
		t.Fatalf("%d notices, want one a section", len(notes))
	}
	for _, n := range notes {
		if n.Notice.Code != NoticeNoPipeline || !strings.Contains(n.Notice.Cause, "no preamble and no entries") {
			t.Errorf("notice %+v", n.Notice)
		}
	}
	for _, s := range w.sessions {
		// Only ANALYZE, which runs on ppg's sessions after the restore.
		if n := len(slices.DeleteFunc(slices.Clone(s.got), func(st Statement) bool { return strings.HasPrefix(st.SQL, "ANALYZE ") })); n != 0 {
			t.Errorf("a session got %d statements", n)
		}
	}
	if w.analyzed != len(w.tables) {
		t.Errorf("ANALYZE ran on %d tables, want %d", w.analyzed, len(w.tables))
	}
	if !maps.Equal(w.loaded, w.rows) {
		t.Errorf("target rows %v, want %v", w.loaded, w.rows)
	}
}

// An entry the target refuses fails the restore, naming it, after the
// rest of its section was sent.
func TestPipelinedEntryRefused(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.refuse = func(st Statement) error {
		if strings.HasPrefix(st.SQL, "CREATE INDEX orders_idx") {
			return serverError("42704", `type "geometry" does not exist`)
		}
		return nil
	}
	_, err := run(t, w, dir, bothKeys())
	var ee *EntriesError
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepRestore || !errors.As(err, &ee) {
		t.Fatalf("Run = %v, want the restore failed on an entry", err)
	}
	if ee.Section != sectionPostData || len(ee.Failures) != 1 || ee.Failures[0] != `INDEX public.orders_idx (entry 201): type "geometry" does not exist` {
		t.Errorf("failures %q", ee.Failures)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.objects[pgdb.PostDataKey("INDEX", "public", "users_idx")] || !w.objects[pgdb.PostDataKey("INDEX", "app", "empty_idx")] {
		t.Errorf("the other indexes were not made: %v", w.objects)
	}
}

// An entry that deadlocked with another session's is sent again.
func TestPipelinedDeadlockIsSentAgain(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	var mu sync.Mutex
	tries := 0
	w.refuse = func(st Statement) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(st.SQL, "CREATE INDEX orders_idx") {
			if tries++; tries == 1 {
				return serverError("40P01", "deadlock detected")
			}
		}
		return nil
	}
	if _, err := run(t, w, dir, bothKeys()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if tries != 2 {
		t.Errorf("the deadlocked index was sent %d times, want 2", tries)
	}
	if !w.objects[pgdb.PostDataKey("INDEX", "public", "orders_idx")] {
		t.Error("the index is missing")
	}
}

// A pipelined session whose connection is lost fails the restore as
// resumable; the retry opens new sessions and finishes.
func TestPipelinedConnectionLostIsRetried(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	// The four sessions open at once, in any order; each is lost after 9
	// statements. The one that restores the schema (preamble 2, tables 3)
	// then sends the data (DISCARD ALL and the preamble 3, a COPY) is lost
	// on its second COPY; the others answer less than 9.
	w.broken = map[int]int{0: 9, 1: 9, 2: 9, 3: 9}
	evs, err := run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("Run = %v, want the retry to finish", err)
	}
	retry := find(evs, Warning, StepRestore)
	if len(retry) != 1 || retry[0].Notice.Code != NoticeRetrying {
		t.Fatalf("warnings %+v, want one retry", retry)
	}
	var lost *ConnectionLostError
	if !errors.As(retry[0].Notice.Err, &lost) || lost.Tool != "ppg" || lost.Side != Target {
		t.Errorf("retry cause %v, want ppg's connection to the target lost", retry[0].Notice.Err)
	}
	if !maps.Equal(w.loaded, w.rows) {
		t.Errorf("target rows %v, want %v", w.loaded, w.rows)
	}
}

// A large objects' entry is sent without pg_restore's BEGIN and COMMIT:
// one message is one transaction all the same.
func TestOneTransaction(t *testing.T) {
	in := "BEGIN;\n\nSELECT pg_catalog.lo_open('16484', 131072);\nSELECT pg_catalog.lowrite(0, '\\x68656c6c6f');\nSELECT pg_catalog.lo_close(0);\n\nCOMMIT;"
	want := "SELECT pg_catalog.lo_open('16484', 131072);\nSELECT pg_catalog.lowrite(0, '\\x68656c6c6f');\nSELECT pg_catalog.lo_close(0);"
	if got := oneTransaction(in); got != want {
		t.Errorf("oneTransaction = %q, want %q", got, want)
	}
	if got := oneTransaction("SELECT 1;"); got != "SELECT 1;" {
		t.Errorf("without BEGIN and COMMIT: %q", got)
	}
}

// A large object's comment goes in the batch of the metadata before it,
// never first in a list; the large objects' contents get a batch of their
// own, with a limit; a large table is left out.
func TestSmallBatchesLargeObjects(t *testing.T) {
	r := &restorer{sizes: map[string]int64{"public.small": 100, "public.large": smallTable + 1}}
	entries := []pgtools.Entry{
		{ID: 1, Desc: "TABLE DATA", Schema: "public", Name: "small"},
		{ID: 2, Desc: "TABLE DATA", Schema: "public", Name: "large"},
		{ID: 3, Desc: "BLOB METADATA", Name: "16566..16568"},
		{ID: 4, Desc: "COMMENT", Name: "LARGE OBJECT 16568"},
		{ID: 5, Desc: "BLOBS", Name: "16566..16568"},
	}
	batches, rest := r.smallBatches(entries)
	if len(batches) != 2 || len(rest) != 1 || rest[0].ID != 2 {
		t.Fatalf("batches %+v, rest %+v", batches, rest)
	}
	var ids []int
	for _, en := range batches[0].entries {
		ids = append(ids, en.ID)
	}
	if !slices.Equal(ids, []int{1, 3, 4}) || batches[0].limit != 0 {
		t.Errorf("first batch %v (limit %d), want [1 3 4] without a limit", ids, batches[0].limit)
	}
	if b := batches[1]; len(b.entries) != 1 || b.entries[0].ID != 5 || b.limit != dataBatch {
		t.Errorf("second batch %+v, want the BLOBS entry alone, limited", b)
	}
}

// The sessions' list files end as the section's does: a killed run's are
// known as its own.
func TestWorkerList(t *testing.T) {
	if got := workerList("/w/ppg-ea-1.dump.data.list", 2); got != "/w/ppg-ea-1.dump.2.data.list" {
		t.Errorf("workerList = %q", got)
	}
}

// A session kept from an earlier section that the server or the link
// closed meanwhile is replaced when the next section sets the sessions
// up: the new one gets the preamble (no DISCARD ALL), and takes its place
// in the pool.
func TestPipelineReplacesALostKeptSession(t *testing.T) {
	p, _ := newTestPipeline(t, sectionPostData, 17, func(Statement) error { return nil })
	w := newWorld(t)
	p.r.dst = &Endpoint{DB: &fakeDB{w: w, side: Target}}
	dead := 0
	old := &scriptedSession{t: t, answer: func(Statement) error { return nil }, broken: &dead}
	p.r.pool = []Session{old}
	p.sessions = p.r.pool
	p.r.reuse(old) // it served an earlier section
	if err := p.start(t.Context()); err != nil {
		t.Fatalf("start = %v, want the lost session replaced", err)
	}
	if len(w.sessions) != 1 || p.sessions[0] != w.sessions[0] || p.r.pool[0] != w.sessions[0] {
		t.Fatalf("sessions %v, pool %v: want the new session in both", p.sessions, p.r.pool)
	}
	if !old.closed {
		t.Error("the lost session was not closed")
	}
	var got []string
	for _, st := range w.sessions[0].got {
		got = append(got, st.SQL)
	}
	if !slices.Equal(got, p.preamble) {
		t.Errorf("the new session got %q, want the preamble %q", got, p.preamble)
	}
}
