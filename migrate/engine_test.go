package migrate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// These tests run the engine against fakes of its seams (Finder, Tools,
// Opener, DB): hermetic, fast, and able to fail any step on demand. The
// e2e tests run the same engine against real servers and tools.

const (
	sourceKey = "source-api-key-0123456789abcdef"
	targetKey = "target-api-key-0123456789abcdef"
)

var testTools = []pgtools.Tool{
	{Name: "pg_dump", Path: "/pg/bin/pg_dump", Version: pgtools.Version{Major: 17, Minor: 2}},
	{Name: "pg_restore", Path: "/pg/bin/pg_restore", Version: pgtools.Version{Major: 17, Minor: 2}},
}

type fakeFinder struct{ err error }

func (f fakeFinder) Find(context.Context) ([]pgtools.Tool, error) { return testTools, f.err }

// world is the fake outside: a source and a target database and the tools
// that move data between them.
type world struct {
	t  *testing.T
	mu sync.Mutex
	// source
	tables  []Table
	rows    map[string]int64
	writes  int64
	version int
	// target: what the fake pg_restore loaded
	loaded   map[string]int64
	schema   bool // pre-data restored
	objects  map[string]bool
	dumps    int
	restores []string // sections, in order
	// fail, if set, decides whether a tool run fails (before it does
	// anything); cmd is "pg_dump" or "pg_restore SECTION".
	fail func(cmd string) error
	// opens counts Open calls by side.
	opens map[Side]int
	// analyzed counts the tables ANALYZE was run on.
	analyzed int
	// tableWrites are the source's write counters by table.
	tableWrites map[string]int64
	// hang names a tool run ("pg_dump") that moves nothing until it is
	// stopped, as over a link that hangs without closing.
	hang string
	// extensions and policies are the source's, for the plan.
	extensions []string
	policies   []PolicyRoles
	// noScript makes pg_restore --file=- write nothing, so that each
	// section goes through pg_restore itself, as when its script is not
	// in the form ppg sends.
	noScript bool
	// refuse, if set, decides whether the target refuses a pipelined
	// statement (its error), before it is applied.
	refuse func(st Statement) error
	// sessions are the pipelined sessions opened on the target.
	sessions []*scriptedSession
	// broken maps the index of a session (in the order opened) to the
	// statements it answers before its connection is lost.
	broken map[int]int
}

func newWorld(t *testing.T) *world {
	return &world{
		t: t, version: 160004,
		tables:  []Table{{Schema: "public", Name: "users", Bytes: 100}, {Schema: "public", Name: "orders", Bytes: 900}, {Schema: "app", Name: "empty", Bytes: 8}},
		rows:    map[string]int64{"public.users": 3, "public.orders": 7, "app.empty": 0},
		loaded:  map[string]int64{},
		objects: map[string]bool{},
		opens:   map[Side]int{},
	}
}

func (w *world) engine(dir string, p Prompter) *Engine {
	return New(Config{Dir: dir, DumpPrefix: "ppg-test", Finder: fakeFinder{}, Tools: w, Opener: w,
		Backoff: func(int) time.Duration { return 0 },
		Now:     func() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) }}, p)
}

// Opener

func (w *world) Open(_ context.Context, side Side, cred tunnel.Credential) (*Endpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.opens[side]++
	switch cred.APIKey {
	case sourceKey:
		return NewEndpoint(cred, pgtools.Conn{Host: "/tmp/src"}, &fakeDB{w: w, side: Source}, nil), nil
	case targetKey:
		return NewEndpoint(cred, pgtools.Conn{Host: "/tmp/dst"}, &fakeDB{w: w, side: Target}, nil), nil
	}
	return nil, &ConnectError{Side: side, Err: &tunnel.HandshakeError{Status: 401}}
}

// Tools

func (w *world) Run(ctx context.Context, c pgtools.Cmd) error {
	if err := ctx.Err(); err != nil {
		return &pgtools.ExitError{Tool: c.Tool.Name, Canceled: true, Code: -1}
	}
	name := c.Tool.Name
	section := ""
	for _, a := range c.Args {
		if s, ok := strings.CutPrefix(a, "--section="); ok {
			section = s
			name += " " + s
		}
	}
	if w.fail != nil {
		if err := w.fail(name); err != nil {
			return err
		}
	}
	// Without scripts, the hang is pg_restore's own, not its script's.
	if name == w.hang && !(w.noScript && slices.Contains(c.Args, "--file=-")) {
		<-ctx.Done()
		return &pgtools.ExitError{Tool: c.Tool.Name, Canceled: true, Code: -1}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch c.Tool.Name {
	case "pg_dump":
		w.dumps++
		for _, a := range c.Args {
			if f, ok := strings.CutPrefix(a, "--file="); ok {
				data, err := os.ReadFile("../pgtools/testdata/ea-17.dump")
				if err != nil {
					return err
				}
				data = append(data, fmt.Sprintf("dump %d", w.dumps)...)
				return os.WriteFile(f, data, 0o600)
			}
		}
		return errors.New("pg_dump without --file")
	case "pg_restore":
		w.restores = append(w.restores, section)
		ids := w.listIDs(c.Args)
		if slices.Contains(c.Args, "--file=-") {
			if w.noScript {
				return nil
			}
			return w.writeScript(c.Stdout, section, ids)
		}
		switch section {
		case sectionPreData:
			w.schema = true
		case sectionData:
			for _, t := range w.tables {
				if ids[w.dataID(t)] {
					w.loaded[t.QualifiedName()] = w.rows[t.QualifiedName()]
					if c.OnLine != nil {
						c.OnLine(pgtools.Line{Kind: pgtools.KindTableDataFinished, Schema: t.Schema, Name: t.Name, EntryID: w.dataID(t)})
					}
				}
			}
		case sectionPostData:
			for _, t := range w.tables {
				if ids[w.indexID(t)] {
					w.objects[pgdb.PostDataKey("INDEX", t.Schema, t.Name+"_idx")] = true
				}
			}
		}
	}
	return nil
}

// listIDs reads the ids of the --use-list file the engine wrote.
func (w *world) listIDs(args []string) map[int]bool {
	ids := map[int]bool{}
	for _, a := range args {
		if f, ok := strings.CutPrefix(a, "--use-list="); ok {
			file, err := os.Open(f)
			if err != nil {
				w.t.Errorf("the list file: %v", err)
				return ids
			}
			defer func() { _ = file.Close() }()
			sc := bufio.NewScanner(file)
			for sc.Scan() {
				if en, err := pgtools.ParseTOCLine(sc.Text()); err == nil {
					ids[en.ID] = true
				}
			}
		}
	}
	return ids
}

// writeScript writes the SQL of a section's listed entries as pg_restore
// --verbose --file=- does: a preamble, then each entry under its header.
func (w *world) writeScript(out io.Writer, section string, ids map[int]bool) error {
	var b strings.Builder
	b.WriteString("SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n")
	entry := func(id int, deps, name, sql string) {
		fmt.Fprintf(&b, "--\n-- TOC entry %d (class 1259 OID %d)\n", id, 16000+id)
		if deps != "" {
			fmt.Fprintf(&b, "-- Dependencies: %s\n", deps)
		}
		fmt.Fprintf(&b, "-- %s; Schema: public; Owner: -\n--\n\n%s\n\n", name, sql)
	}
	for i, t := range w.tables {
		switch {
		case section == sectionPreData && ids[10+i]:
			entry(10+i, "", "Name: "+t.Name+"; Type: TABLE", fmt.Sprintf("CREATE TABLE %s (id integer);", t.QualifiedName()))
		case section == sectionData && ids[w.dataID(t)]:
			rows := strings.Repeat("1\n", int(w.rows[t.QualifiedName()]))
			entry(w.dataID(t), "", "Data for Name: "+t.Name+"; Type: TABLE DATA", fmt.Sprintf("COPY %s (id) FROM stdin;\n%s\\.", t.QualifiedName(), rows))
		case section == sectionPostData && ids[w.indexID(t)]:
			entry(w.indexID(t), fmt.Sprint(10+i), "Name: "+t.Name+"_idx; Type: INDEX", fmt.Sprintf("CREATE INDEX %s_idx ON %s (id);", t.Name, t.QualifiedName()))
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// apply runs a pipelined statement on the fake target.
func (w *world) apply(st Statement) error {
	if w.refuse != nil {
		if err := w.refuse(st); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var schema, name, table string
	switch {
	case strings.HasPrefix(st.SQL, "SET "), st.SQL == "DISCARD ALL":
	case strings.HasPrefix(st.SQL, "ANALYZE "):
		w.analyzed += strings.Count(st.SQL, ",") + 1
	case strings.HasPrefix(st.SQL, "CREATE TABLE "):
		w.schema = true
	case strings.HasPrefix(st.SQL, "COPY "):
		if _, err := fmt.Sscanf(st.SQL, "COPY %s", &table); err != nil {
			return err
		}
		w.loaded[table] = int64(strings.Count(string(st.Copy), "\n"))
	case strings.HasPrefix(st.SQL, "CREATE INDEX "):
		if _, err := fmt.Sscanf(st.SQL, "CREATE INDEX %s ON %s", &name, &table); err != nil {
			return err
		}
		schema, _, _ = strings.Cut(table, ".")
		w.objects[pgdb.PostDataKey("INDEX", schema, name)] = true
	default:
		w.t.Errorf("the fake target got %q", st.SQL)
		return serverError("42601", "syntax error")
	}
	return nil
}

func (w *world) dataID(t Table) int  { return 100 + slices.Index(w.tables, t) }
func (w *world) indexID(t Table) int { return 200 + slices.Index(w.tables, t) }

func (w *world) ReadTOC(context.Context, pgtools.Tool, string) (*pgtools.TOC, error) {
	toc := &pgtools.TOC{}
	for i, t := range w.tables {
		toc.Entries = append(toc.Entries, pgtools.Entry{ID: 10 + i, Section: pgtools.SectionPreData, Desc: "TABLE", Schema: t.Schema, Name: t.Name})
	}
	for _, t := range w.tables {
		toc.Entries = append(toc.Entries, pgtools.Entry{ID: w.dataID(t), Section: pgtools.SectionData, Desc: "TABLE DATA", Schema: t.Schema, Name: t.Name})
	}
	for _, t := range w.tables {
		toc.Entries = append(toc.Entries, pgtools.Entry{ID: w.indexID(t), Section: pgtools.SectionPostData, Desc: "INDEX", Schema: t.Schema, Name: t.Name + "_idx"})
	}
	return toc, nil
}

// fakeDB is one side's database.
type fakeDB struct {
	w    *world
	side Side
}

func (d *fakeDB) ServerInfo(context.Context) (ServerInfo, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	if d.side == Source {
		return ServerInfo{VersionNum: d.w.version, Size: 5000, SystemID: "1", DatabaseOID: 5}, nil
	}
	info := ServerInfo{VersionNum: 170002, Size: 4000, SystemID: "2", DatabaseOID: 5}
	if d.w.schema {
		info.UserObjects = int64(len(d.w.tables))
	}
	return info, nil
}

func (d *fakeDB) Tables(context.Context) ([]Table, error) { return d.w.tables, nil }

func (d *fakeDB) TableWrites(context.Context) (map[string]int64, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	out := map[string]int64{}
	for k, v := range d.w.tableWrites {
		out[k] = v
	}
	return out, nil
}

func (d *fakeDB) Writes(context.Context) (int64, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	return d.w.writes, nil
}

func (d *fakeDB) Snapshot(context.Context, bool) (Snapshot, error) {
	return &fakeSnapshot{d: d, writes: d.w.writes}, nil
}

func (d *fakeDB) CountRows(_ context.Context, tables []Table) (map[string]int64, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	out := map[string]int64{}
	for _, t := range tables {
		if d.side == Source {
			out[t.QualifiedName()] = d.w.rows[t.QualifiedName()]
		} else if n, ok := d.w.loaded[t.QualifiedName()]; ok || d.w.schema {
			out[t.QualifiedName()] = n
		}
	}
	return out, nil
}

func (d *fakeDB) Sequences(context.Context) (map[string]int64, error) {
	return map[string]int64{"public.users_id_seq": 3}, nil
}

func (d *fakeDB) Objects(context.Context) (ObjectCounts, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	n := int64(len(d.w.tables))
	if d.side == Target && !d.w.schema {
		n = 0
	}
	return ObjectCounts{"tables": n}, nil
}

func (d *fakeDB) PostDataObjects(context.Context) (map[string]bool, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	return copySet(d.w.objects), nil
}

func copySet(m map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (d *fakeDB) Truncate(_ context.Context, t Table) error {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	delete(d.w.loaded, t.QualifiedName())
	return nil
}

func (d *fakeDB) DropUserSchemas(context.Context) error {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.schema, d.w.loaded, d.w.objects = false, map[string]int64{}, map[string]bool{}
	return nil
}

func (d *fakeDB) Close() {}

func (d *fakeDB) Watcher(context.Context) (Watcher, error) { return nil, errors.New("no watcher") }

// Session gives a scripted session whose statements the world applies.
func (d *fakeDB) Session(context.Context, string) (Session, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	s := &scriptedSession{t: d.w.t, answer: d.w.apply}
	if n, ok := d.w.broken[len(d.w.sessions)]; ok {
		s.broken = &n
	}
	d.w.sessions = append(d.w.sessions, s)
	return s, nil
}

func (d *fakeDB) ContentHashes(context.Context, []Table) (map[string]string, string, error) {
	return nil, "", nil
}

func (d *fakeDB) SourceFacts(context.Context) (SourceFacts, error) {
	return SourceFacts{Extensions: d.w.extensions, Policies: d.w.policies}, nil
}

func (d *fakeDB) TargetFacts(context.Context) (TargetFacts, error) {
	return TargetFacts{Available: []string{"plpgsql", "pgcrypto"}, Roles: []string{"postgres"}, FreeConnections: 20}, nil
}

func (d *fakeDB) Partitions(context.Context) ([]Table, map[string]bool, error) { return nil, nil, nil }
func (d *fakeDB) LargeObjects(context.Context) ([]uint32, error)               { return nil, nil }
func (d *fakeDB) UnlinkLargeObjects(context.Context, []uint32) error           { return nil }

type fakeSnapshot struct {
	d      *fakeDB
	writes int64
}

func (s *fakeSnapshot) ID() string                                  { return "00000003-1" }
func (s *fakeSnapshot) Why() string                                 { return "" }
func (s *fakeSnapshot) Writes() int64                               { return s.writes }
func (s *fakeSnapshot) Tables(ctx context.Context) ([]Table, error) { return s.d.Tables(ctx) }
func (s *fakeSnapshot) Commit(context.Context) error                { return nil }
func (s *fakeSnapshot) Close()                                      {}

// DumpLocks shows no session of pg_dump's, as through a pooler: the
// tables are counted once pg_dump has ended.
func (s *fakeSnapshot) DumpLocks(context.Context, string) (map[string]bool, error) { return nil, nil }

func (s *fakeSnapshot) LockTables(_ context.Context, tables []Table) (locked, contended []Table, err error) {
	return tables, nil, nil
}

func (s *fakeSnapshot) CountTables(ctx context.Context, tables []Table, _ bool) (TableCounts, error) {
	rows, err := s.d.CountRows(ctx, tables)
	return TableCounts{Rows: rows}, err
}

func (s *fakeSnapshot) Manifest(ctx context.Context, tables []Table, _ bool) (*Manifest, error) {
	rows, _ := s.d.CountRows(ctx, tables)
	seqs, _ := s.d.Sequences(ctx)
	objs, _ := s.d.Objects(ctx)
	writes, _ := s.d.TableWrites(ctx)
	m := &Manifest{Version: 1, Sequences: seqs, Objects: objs, Writes: writes}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: rows[t.QualifiedName()]})
	}
	return m, nil
}

// keys answers the engine with the keys of each side, in turn.
type keys struct {
	mu        sync.Mutex
	given     map[Side][]string
	problems  []error
	declined  bool
	questions []Question
	// answers overrides the answer by question kind.
	answers map[QuestionKind]bool
	// once gives each key once: asked again, the prompter gives up with
	// the problem, as the headless one does.
	once bool
}

func (k *keys) Key(_ context.Context, side Side, problem error) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if problem != nil {
		k.problems = append(k.problems, problem)
	}
	if len(k.given[side]) == 0 {
		return "", fmt.Errorf("no more keys for the %s: %w", side, problem)
	}
	v := k.given[side][0]
	if len(k.given[side]) > 1 || k.once {
		k.given[side] = k.given[side][1:]
	}
	return v, nil
}

func (k *keys) Confirm(_ context.Context, q Question) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.questions = append(k.questions, q)
	if a, ok := k.answers[q.Kind]; ok {
		return a, nil
	}
	return !k.declined, nil
}

func bothKeys() *keys {
	return &keys{given: map[Side][]string{Source: {sourceKey}, Target: {targetKey}}}
}

// run runs the engine once and returns its error and events.
func run(t *testing.T, w *world, dir string, p Prompter) ([]Event, error) {
	t.Helper()
	var mu sync.Mutex
	var evs []Event
	err := w.engine(dir, p).Run(t.Context(), func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
	})
	return evs, err
}

func find(evs []Event, kind EventKind, st Step) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Kind == kind && (st == "" || ev.Step == st) {
			out = append(out, ev)
		}
	}
	return out
}

func TestRunToTheEnd(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	evs, err := run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	s, err := ReadState(dir)
	if err != nil || s.Next() != StepDone {
		t.Fatalf("state %v, next %v", err, s.Next())
	}
	for _, st := range Steps() {
		if fin := find(evs, StepFinished, st); len(fin) != 1 || fin[0].Summary == nil {
			t.Errorf("step %s: %d finished events", st, len(fin))
		}
	}
	if d := find(evs, StepFinished, StepDump)[0].Summary.Dump; d == nil || d.Tables != 3 || d.Rows != 10 || filepath.Base(d.Path) != DumpFileName("ppg-test", s) {
		t.Errorf("dump summary %+v", d)
	}
	if v := find(evs, StepFinished, StepVerify)[0].Summary.Verified; v == nil || v.Tables != 3 || v.Rows != 10 || v.Sequences != 1 {
		t.Errorf("verify summary %+v", v)
	}
	if rep := find(evs, Report, StepVerify); len(rep) != 1 || len(rep[0].Report.Tables) != 3 || len(rep[0].Report.Mismatches) != 0 {
		t.Errorf("report %+v", rep)
	}
	if !slices.Equal(w.restores, []string{sectionPreData, sectionData, sectionPostData}) {
		t.Errorf("restores %v", w.restores)
	}
	if _, err := os.Stat(filepath.Join(dir, lockFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file stays after the run: %v", err)
	}
	if w.analyzed != len(w.tables) {
		t.Errorf("ANALYZE ran on %d tables, want %d", w.analyzed, len(w.tables))
	}
	var phases []Phase
	for _, ev := range find(evs, Progress, StepRestore) {
		if len(phases) == 0 || phases[len(phases)-1] != ev.Progress.Phase {
			phases = append(phases, ev.Progress.Phase)
		}
	}
	if !slices.Equal(phases, RestorePhases()) {
		t.Errorf("restore phases %v, want %v", phases, RestorePhases())
	}
	if got := find(evs, Warning, StepDump); len(got) != 1 || got[0].Notice.Code != NoticeWritesNotMigrated {
		t.Errorf("dump warnings %+v", got)
	}
}

func TestFailedDataSectionResumes(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	cut := errors.New("pg_restore: error: connection to server lost")
	w.fail = func(cmd string) error {
		if cmd == "pg_restore data" {
			return cut
		}
		return nil
	}
	evs, err := run(t, w, dir, bothKeys())
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepRestore || !se.Resumable || se.NeedsRestart || !errors.Is(err, cut) {
		t.Fatalf("Run = %v; want a resumable restore failure", err)
	}
	if got := find(evs, StepFailed, StepRestore); len(got) != 1 || got[0].Failure != se {
		t.Errorf("failed events %+v", got)
	}
	s, _ := ReadState(dir)
	if rec := s.Step(StepRestore); rec.Status != Failed || !strings.Contains(rec.Error, "connection to server lost") {
		t.Errorf("restore record %+v", rec)
	}
	if strings.Contains(mustRead(t, filepath.Join(dir, StateFileName)), sourceKey) {
		t.Error("the state file holds the source key")
	}

	// One table arrived before the cut, from an earlier attempt.
	w.loaded["public.users"] = 3
	w.fail = nil
	evs, err = run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("resumed Run = %v", err)
	}
	if w.dumps != 1 {
		t.Errorf("the dump ran %d times; a restore failure must not dump again", w.dumps)
	}
	if got := find(evs, StepStarted, StepRestore); len(got) != 1 || !got[0].Resumed {
		t.Errorf("restore start %+v, want resumed", got)
	}
	if got := find(evs, Info, StepRestore); len(got) != 1 || got[0].Notice.Code != NoticeDataResumed || got[0].Notice.Count != 1 || got[0].Notice.Of != 3 {
		t.Errorf("resume notice %+v; want users loaded (an empty table not known loaded is loaded again)", got[0].Notice)
	}
	if len(find(evs, StepStarted, StepDump)) != 0 {
		t.Error("the dump step ran again")
	}
}

// orderedKeys records, for each key asked, its side and how many restore
// sections had run by then.
type orderedKeys struct {
	*keys
	w     *world
	asked []string
}

func (k *orderedKeys) Key(ctx context.Context, side Side, problem error) (string, error) {
	k.w.mu.Lock()
	k.asked = append(k.asked, fmt.Sprintf("%s after %d sections", side, len(k.w.restores)))
	k.w.mu.Unlock()
	return k.keys.Key(ctx, side, problem)
}

// A run resumed at the restore asks for both keys before any work, in the
// order a new migration asks them: the source's (the verify step reads its
// write counters), then the target's; and no key later.
func TestResumeAsksEveryKeyAtTheStart(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.fail = func(cmd string) error {
		if cmd == "pg_restore data" {
			return errors.New("pg_restore: error: could not execute query: ERROR:  permission denied for table users")
		}
		return nil
	}
	if _, err := run(t, w, dir, bothKeys()); err == nil {
		t.Fatal("the first run did not fail")
	}
	w.fail = nil
	w.mu.Lock()
	before := len(w.restores)
	w.mu.Unlock()
	k := &orderedKeys{keys: bothKeys(), w: w}
	if _, err := run(t, w, dir, k); err != nil {
		t.Fatalf("resumed Run = %v", err)
	}
	want := []string{fmt.Sprintf("source after %d sections", before), fmt.Sprintf("target after %d sections", before)}
	if !slices.Equal(k.asked, want) {
		t.Errorf("keys asked %q, want %q", k.asked, want)
	}
}

func TestCancelRecordsPending(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	w.fail = func(cmd string) error {
		if cmd == "pg_dump" {
			cancel()
			return &pgtools.ExitError{Tool: "pg_dump", Canceled: true, Code: -1}
		}
		return nil
	}
	err := w.engine(dir, bothKeys()).Run(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	s, _ := ReadState(dir)
	if rec := s.Step(StepDump); rec.Status != Pending || rec.Error != "stopped by the user" {
		t.Errorf("dump record %+v, want pending", rec)
	}
}

func TestChangedDumpIsDumpedAgain(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.fail = func(cmd string) error {
		if cmd == "pg_restore pre-data" {
			return errors.New("pg_restore failed")
		}
		return nil
	}
	if _, err := run(t, w, dir, bothKeys()); err == nil {
		t.Fatal("Run passed")
	}
	s, _ := ReadState(dir)
	if err := os.WriteFile(s.Dump.Path, []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.fail = nil
	evs, err := run(t, w, dir, bothKeys())
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	got := find(evs, Warning, StepDump)
	var changed *DumpChangedError
	if len(got) == 0 || got[0].Notice.Code != NoticeDumpChanged || !errors.As(got[0].Notice.Err, &changed) || changed.How != DumpModified {
		t.Fatalf("warnings %+v, want the dump reported changed", got)
	}
	if w.dumps != 2 {
		t.Errorf("%d dumps, want 2", w.dumps)
	}
}

func TestVerifyMismatchNeedsRestart(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.fail = func(cmd string) error {
		if cmd == "pg_restore post-data" {
			// Someone deletes a row in the target before verify.
			w.mu.Lock()
			w.loaded["public.orders"] = 6
			w.mu.Unlock()
		}
		return nil
	}
	evs, err := run(t, w, dir, bothKeys())
	var se *StepError
	var ve *VerifyError
	if !errors.As(err, &se) || se.Step != StepVerify || se.Resumable || !se.NeedsRestart || !errors.As(err, &ve) {
		t.Fatalf("Run = %v; want a verification failure that needs a restart", err)
	}
	if len(ve.Mismatches) != 1 || ve.Mismatches[0].Name != "public.orders" || ve.Mismatches[0].Target != 6 {
		t.Errorf("mismatches %+v", ve.Mismatches)
	}
	if len(find(evs, Report, StepVerify)) != 1 {
		t.Error("no report before the failure")
	}
}

func TestTargetKeyRules(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	k := &keys{given: map[Side][]string{Source: {sourceKey}, Target: {sourceKey, "wrong-key-0123456789abcdefgh", targetKey}}}
	if _, err := run(t, w, dir, k); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(k.problems) != 2 {
		t.Fatalf("problems %v, want the source's key refused, then the wrong key", k.problems)
	}
	var tr *TargetRefusedError
	if !errors.As(k.problems[0], &tr) || tr.Reason != RefuseIsSource || !tr.SameKey {
		t.Errorf("first problem %v, want the source's key refused as the target", k.problems[0])
	}
	var ce *ConnectError
	if !errors.As(k.problems[1], &ce) || ce.Side != Target {
		t.Errorf("second problem %v, want a connect error", k.problems[1])
	}
	if w.opens[Target] != 2 {
		t.Errorf("the target was opened %d times; the source's key must be refused before any connection", w.opens[Target])
	}
}

func TestResumeWantsTheSameKey(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.fail = func(cmd string) error {
		if cmd == "pg_dump" {
			return errors.New("pg_dump failed")
		}
		return nil
	}
	if _, err := run(t, w, dir, bothKeys()); err == nil {
		t.Fatal("Run passed")
	}
	w.fail = nil
	other := "other-source-key-0123456789abcdef"
	k := &keys{given: map[Side][]string{Source: {other, sourceKey}, Target: {targetKey}}}
	if _, err := run(t, w, dir, k); err != nil {
		t.Fatalf("Run = %v", err)
	}
	var kc *KeyChangedError
	if len(k.problems) != 1 || !errors.As(k.problems[0], &kc) || kc.Side != Source {
		t.Errorf("problems %v, want the other key refused", k.problems)
	}
}

func TestDeclinedSourceStopsBeforeTheDump(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	k := bothKeys()
	k.declined = true
	_, err := run(t, w, dir, k)
	if !errors.Is(err, ErrDeclined) || w.dumps != 0 {
		t.Fatalf("Run = %v after %d dumps; want declined before any dump", err, w.dumps)
	}
}

func TestLockedFolder(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	l, err := AcquireLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Unlock() }()
	_, err = run(t, w, dir, bothKeys())
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Dir != dir {
		t.Fatalf("Run = %v, want the folder locked", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestTransientFailureIsRetried(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	cuts := 0
	w.fail = func(cmd string) error {
		if cmd == "pg_restore data" && cuts == 0 {
			cuts++
			return &ConnectionLostError{Tool: "pg_restore", Side: Target, Tunnel: true, Cause: "server closed the connection unexpectedly"}
		}
		return nil
	}
	k := &keys{given: map[Side][]string{Source: {sourceKey}, Target: {targetKey}}}
	evs, err := run(t, w, dir, k)
	if err != nil {
		t.Fatalf("Run = %v, want the retry to finish the migration", err)
	}
	retry := find(evs, Warning, StepRestore)
	if len(retry) != 1 || retry[0].Notice.Code != NoticeRetrying || retry[0].Notice.Count != 1 || retry[0].Notice.Of != defaultRetries {
		t.Fatalf("warnings %+v, want one retry notice", retry)
	}
	starts := find(evs, StepStarted, StepRestore)
	if len(starts) != 2 || starts[1].Attempt != 2 || !starts[1].Resumed {
		t.Errorf("restore starts %+v, want a second, resumed attempt", starts)
	}
	if w.opens[Target] != 2 {
		t.Errorf("the target was opened %d times, want again for the retry", w.opens[Target])
	}
	if len(k.problems) != 0 {
		t.Errorf("the retry asked for a key again: %v", k.problems)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	tries := 0
	w.fail = func(cmd string) error {
		if cmd == "pg_dump" {
			tries++
			return &StalledError{Tool: "pg_dump", After: 2 * time.Minute}
		}
		return nil
	}
	evs, err := run(t, w, dir, bothKeys())
	var st *StalledError
	var se *StepError
	if !errors.As(err, &st) || !errors.As(err, &se) || !se.Resumable {
		t.Fatalf("Run = %v, want a resumable stall", err)
	}
	if tries != defaultRetries+1 || len(find(evs, Warning, StepDump)) < defaultRetries {
		t.Errorf("%d tries, want %d", tries, defaultRetries+1)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	tries := 0
	w.fail = func(cmd string) error {
		if cmd == "pg_restore pre-data" {
			tries++
			return errors.New(`pg_restore (pre-data) reported 1 errors: type "geometry" does not exist`)
		}
		return nil
	}
	if _, err := run(t, w, dir, bothKeys()); err == nil || tries != 1 {
		t.Fatalf("Run = %v after %d tries, want one try", err, tries)
	}
}

// writeAfterRestore makes the fake source change once the restore's data
// is in: the dump no longer holds what the source holds.
func writeAfterRestore(w *world) func(string) error {
	return func(cmd string) error {
		if cmd == "pg_restore post-data" && w.dumps == 1 {
			w.mu.Lock()
			w.tableWrites["public.orders"]++
			w.writes++
			w.mu.Unlock()
		}
		return nil
	}
}

func TestSourceChangedAfterTheDumpFails(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5, "public.users": 1}
	w.fail = writeAfterRestore(w)
	var evs []Event
	e := w.engine(dir, bothKeys())
	e.cfg.OnSourceChange = ChangeFail
	err := e.Run(t.Context(), func(ev Event) { evs = append(evs, ev) })
	var sc *SourceChangedError
	if !errors.As(err, &sc) || !slices.Equal(sc.Tables, []string{"public.orders"}) {
		t.Fatalf("Run = %v, want the source reported changed in public.orders", err)
	}
	if got := find(evs, Warning, StepVerify); len(got) != 1 || got[0].Notice.Code != NoticeSourceChanged {
		t.Errorf("warnings %+v", got)
	}
	if len(find(evs, StepFinished, StepVerify)) != 0 {
		t.Error("verify finished: the target was called verified")
	}
}

func TestSourceChangedAfterTheDumpRedumps(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	w.fail = writeAfterRestore(w)
	k := bothKeys()
	k.answers = map[QuestionKind]bool{ConfirmSourceChanged: true}
	evs, err := run(t, w, dir, k)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if w.dumps != 2 {
		t.Errorf("%d dumps, want a second one after the change", w.dumps)
	}
	if got := find(evs, Info, StepRestore); !slices.ContainsFunc(got, func(ev Event) bool { return ev.Notice.Code == NoticeTargetReset }) {
		t.Errorf("the target was not emptied before the second restore: %+v", got)
	}
	if !slices.ContainsFunc(k.questions, func(q Question) bool { return q.Kind == ConfirmSourceChanged && len(q.Changed) == 1 }) {
		t.Errorf("questions %+v", k.questions)
	}
}

func TestSourceChangedAfterTheDumpKept(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	w.fail = writeAfterRestore(w)
	k := bothKeys()
	k.answers = map[QuestionKind]bool{ConfirmSourceChanged: false}
	evs, err := run(t, w, dir, k)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	v := find(evs, StepFinished, StepVerify)[0].Summary.Verified
	if !slices.Equal(v.KeptChanges, []string{"public.orders"}) || v.DumpedAt.IsZero() {
		t.Errorf("verified %+v, want the kept changes on record", v)
	}
	s, _ := ReadState(dir)
	if !slices.Equal(s.Dump.KeptChanges, []string{"public.orders"}) {
		t.Errorf("state dump %+v", s.Dump)
	}
}

func TestStallIsDetected(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.hang = "pg_restore data"
	w.noScript = true // pg_restore loads the data itself
	e := w.engine(dir, bothKeys())
	e.cfg.StallTimeout, e.cfg.Retries = 200*time.Millisecond, -1
	start := time.Now()
	err := e.Run(t.Context(), nil)
	var st *StalledError
	if !errors.As(err, &st) || st.Tool != "pg_restore" {
		t.Fatalf("Run = %v, want a stall of pg_restore", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the stall took %s to be noticed, with a timeout of 200ms", d)
	}
	s, _ := ReadState(dir)
	if rec := s.Step(StepRestore); rec.Status != Failed || !strings.Contains(rec.Error, "stalled") {
		t.Errorf("restore record %+v", rec)
	}
}

func TestMovedSeesProgress(t *testing.T) {
	a := Activity{Sessions: []SessionActivity{{Table: "public.t", Tuples: 10, Bytes: 100}}}
	b := Activity{Sessions: []SessionActivity{{Table: "public.t", Tuples: 10, Bytes: 100}}}
	if moved(a, b) {
		t.Error("the same COPY position counts as movement")
	}
	b.Sessions[0].Bytes = 200
	if !moved(a, b) {
		t.Error("a COPY that advanced does not count")
	}
	if !moved(Activity{}, Activity{Sessions: []SessionActivity{{Working: true}}}) {
		t.Error("a busy server does not count")
	}
	if !moved(a, Activity{Sessions: []SessionActivity{{Table: "public.u"}}}) {
		t.Error("a new COPY does not count")
	}
}

func TestFractionNeverFinishesATable(t *testing.T) {
	if got := fraction(SessionActivity{Tuples: 500}, 1000, 8000); got != 4000 {
		t.Errorf("half the rows of an 8000-byte table: %d", got)
	}
	if got := fraction(SessionActivity{Tuples: 5000}, 1000, 8000); got >= 8000 {
		t.Errorf("more rows than estimated: %d claims the table done", got)
	}
	if got := fraction(SessionActivity{Bytes: 2000}, -1, 8000); got != 2000 {
		t.Errorf("unknown rows: %d", got)
	}
}

// early is a prompter that gives the target's key with the source's.
type early struct{ *keys }

func (e early) EarlyKey(ctx context.Context, side Side, problem error) (string, error) {
	return e.Key(ctx, side, problem)
}

func TestPlanBlocksAMissingExtensionBeforeTheDump(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.extensions = []string{"plpgsql", "pgcrypto", "postgis"}
	k := early{bothKeys()}
	_, err := run(t, w, dir, k)
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v, want the plan to block", err)
	}
	i := slices.IndexFunc(pe.Plan.Items, func(it CheckItem) bool { return it.Code == CheckExtensions })
	if i < 0 || pe.Plan.Items[i].Verdict != VerdictBlocks || !slices.Equal(pe.Plan.Items[i].Names, []string{"postgis"}) {
		t.Errorf("plan %+v", pe.Plan.Items)
	}
	if w.dumps != 0 || len(w.restores) != 0 {
		t.Errorf("%d dumps and restores %v before a blocked plan", w.dumps, w.restores)
	}
}

func TestPlanSkipsPoliciesForMissingRoles(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.policies = []PolicyRoles{{Schema: "public", Table: "orders", Name: "staff_only", Roles: []string{"staff"}}, {Schema: "public", Table: "users", Name: "all", Roles: []string{"public"}}}
	k := early{bothKeys()}
	evs, err := run(t, w, dir, k)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	plan := find(evs, StepFinished, StepConnectSource)[0].Summary.Plan
	if plan == nil || !plan.TargetKnown || len(plan.Skip) != 1 || plan.Skip[0].Name != "orders staff_only" || !slices.Equal(plan.Skip[0].Roles, []string{"staff"}) {
		t.Fatalf("plan %+v", plan)
	}
	rs := find(evs, StepFinished, StepRestore)[0].Summary.Restore
	if len(rs.Skipped) != 1 {
		t.Errorf("restore summary %+v, want the skipped policy named", rs)
	}
	if !slices.ContainsFunc(k.questions, func(q Question) bool { return q.Kind == ConfirmSource && q.Plan != nil && q.Plan.TargetKnown }) {
		t.Error("the source question came without the plan of both databases")
	}
}

func TestNoStateFileBeforeTheSourceIsConfirmed(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	k := bothKeys()
	k.declined = true
	if _, err := run(t, w, dir, k); !errors.Is(err, ErrDeclined) {
		t.Fatalf("Run = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestRestartEmptiesTheEarlierTarget(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	if _, err := run(t, w, dir, bothKeys()); err != nil {
		t.Fatalf("first Run = %v", err)
	}
	k := bothKeys()
	k.once = true
	k.answers = map[QuestionKind]bool{ConfirmResetTarget: false, ConfirmNonEmptyTarget: false}
	e := w.engine(dir, k)
	e.cfg.Restart = true
	refused := e.Run(t.Context(), nil)
	var tr *TargetRefusedError
	if !errors.As(refused, &tr) || tr.Reason != RefuseNotEmpty {
		t.Fatalf("restart without --reset-target = %v, want the full target refused", refused)
	}
	e = w.engine(dir, bothKeys())
	e.cfg.Restart, e.cfg.ResetTarget = true, true
	var evs []Event
	if err := e.Run(t.Context(), func(ev Event) { evs = append(evs, ev) }); err != nil {
		t.Fatalf("restart with --reset-target = %v", err)
	}
	if got := find(evs, Info, StepRestore); !slices.ContainsFunc(got, func(ev Event) bool { return ev.Notice.Code == NoticeTargetReset }) {
		t.Errorf("the target was not emptied: %+v", got)
	}
}

// A source that looks like the target (a newer server than the flow's
// sources run, or no tables) makes the plan ask whether the keys were
// swapped; the question goes to the user before the dump.
func TestPlanAsksWhetherTheKeysWereSwapped(t *testing.T) {
	for _, c := range []struct {
		name    string
		version int
		newest  int
		noTable bool
		want    bool
	}{
		{"an Early Access version", 160004, 16, false, false},
		{"a newer server than the flow's sources", 170002, 16, false, true},
		{"a newer server, no limit", 170002, 0, false, false},
		{"no tables", 160004, 16, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, dir := newWorld(t), t.TempDir()
			w.version = c.version
			if c.noTable {
				w.tables = nil
			}
			k := bothKeys()
			k.answers = map[QuestionKind]bool{ConfirmSource: false}
			e := w.engine(dir, k)
			e.cfg.SourceNewestMajor = c.newest
			_ = e.Run(t.Context(), nil)
			i := slices.IndexFunc(k.questions, func(q Question) bool { return q.Kind == ConfirmSource })
			if i < 0 || k.questions[i].Plan == nil {
				t.Fatalf("no source question with a plan: %+v", k.questions)
			}
			got := slices.ContainsFunc(k.questions[i].Plan.Items, func(it CheckItem) bool {
				return it.Code == CheckSwapped && it.Verdict == VerdictWarn && it.Source == c.version
			})
			if got != c.want {
				t.Errorf("the plan warns of swapped keys: %v, want %v (items %+v)", got, c.want, k.questions[i].Plan.Items)
			}
		})
	}
}
