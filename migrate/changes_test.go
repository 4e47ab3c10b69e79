package migrate

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// writeDuringDump makes the fake source take a write to public.orders
// while each of the first n dumps runs: after the snapshot, before
// pg_dump ends.
func writeDuringDump(w *world, n int) func(string) error {
	return func(cmd string) error {
		if cmd == "pg_dump" && w.dumps < n {
			w.mu.Lock()
			w.tableWrites["public.orders"]++
			w.writes++
			w.mu.Unlock()
		}
		return nil
	}
}

// ticking is a clock that moves a second each time it is read, so that
// the snapshot's moment and the dump's end differ.
func ticking() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func runWith(t *testing.T, w *world, dir string, p Prompter, choice SourceChange) ([]Event, error) {
	t.Helper()
	var evs []Event
	var mu sync.Mutex
	e := w.engine(dir, p)
	e.cfg.OnSourceChange, e.cfg.Now = choice, ticking()
	err := e.Run(t.Context(), func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
	})
	return evs, err
}

// A write during the dump, with the default headless choice (fail): the
// run fails at the dump, names the table, restores nothing, and asks no
// one. The failure names the snapshot's moment, not the dump's end.
func TestWriteDuringDumpFails(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5, "public.users": 1}
	w.fail = writeDuringDump(w, 1)
	k := bothKeys()
	evs, err := runWith(t, w, dir, k, ChangeFail)
	var sc *SourceChangedError
	if !errors.As(err, &sc) || sc.Step != StepDump || !slices.Equal(sc.Tables, []string{"public.orders"}) || sc.Writes != 1 {
		t.Fatalf("Run = %v (%+v), want the write to public.orders found at the dump", err, sc)
	}
	if len(w.restores) != 0 {
		t.Errorf("restored %v although the dump lacks a write", w.restores)
	}
	if slices.ContainsFunc(k.questions, func(q Question) bool { return q.Kind == ConfirmRedump || q.Kind == ConfirmSourceChanged }) {
		t.Errorf("the configured choice was not the one applied: questions %+v", k.questions)
	}
	s, _ := ReadState(dir)
	if s.Step(StepDump).Status != Failed {
		t.Errorf("dump step %+v, want failed (a re-run dumps again)", s.Step(StepDump))
	}
	if d := s.Dump; d == nil || d.SnapshotAt.IsZero() || !d.SnapshotAt.Before(d.FinishedAt) || !sc.DumpedAt.Equal(d.SnapshotAt) {
		t.Errorf("dump %+v, error's moment %s: want the snapshot's moment, before the dump's end", d, sc.DumpedAt)
	}
	if got := find(evs, Warning, StepDump); !slices.ContainsFunc(got, func(ev Event) bool {
		return ev.Notice.Code == NoticeSourceWritten && slices.Equal(ev.Notice.Names, []string{"public.orders"})
	}) {
		t.Errorf("no warning names the write: %+v", got)
	}
	if len(s.SourceChanges) != 0 {
		t.Errorf("a choice was recorded although the run failed: %+v", s.SourceChanges)
	}
}

// With redump configured, the dump is taken again before any restore,
// and the verdict carries the choice as configured, not asked.
func TestWriteDuringDumpRedumps(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	w.fail = writeDuringDump(w, 1)
	evs, err := runWith(t, w, dir, bothKeys(), ChangeRedump)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if w.dumps != 2 {
		t.Errorf("%d dumps, want 2", w.dumps)
	}
	if slices.Contains(w.restores[:1], sectionData) || w.restores[0] != sectionPreData {
		t.Errorf("restores %v", w.restores)
	}
	v := find(evs, StepFinished, StepVerify)[0].Summary.Verified
	if len(v.SourceChanges) != 1 || v.SourceChanges[0].Choice != ChangeRedump || v.SourceChanges[0].Asked || v.SourceChanges[0].Step != StepDump {
		t.Errorf("verified %+v, want the configured redump on record", v.SourceChanges)
	}
	if v.WritesDuring != 0 {
		t.Errorf("verified says %d writes were left out, after dumping again", v.WritesDuring)
	}
	if got := find(evs, Info, StepDump); !slices.ContainsFunc(got, func(ev Event) bool { return ev.Notice.Code == NoticeDumpingAgain }) {
		t.Errorf("no notice says the dump is taken again: %+v", got)
	}
}

// A source written to during every dump is not dumped forever.
func TestWritesDuringEveryDumpStop(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	w.fail = writeDuringDump(w, 100)
	_, err := runWith(t, w, dir, bothKeys(), ChangeRedump)
	var sc *SourceChangedError
	if !errors.As(err, &sc) {
		t.Fatalf("Run = %v, want a source changed error", err)
	}
	if w.dumps != maxRedumps+1 {
		t.Errorf("%d dumps, want %d", w.dumps, maxRedumps+1)
	}
}

// In the wizard the user is asked at the dump's end; "keep" is carried to
// the verdict as asked. A write after that choice is found again at the
// verify step and asked about again.
func TestWriteDuringDumpAskedAndKept(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	dump := writeDuringDump(w, 1)
	late := writeAfterRestore(w)
	w.fail = func(cmd string) error {
		_ = dump(cmd)
		return late(cmd)
	}
	k := bothKeys()
	k.answers = map[QuestionKind]bool{ConfirmRedump: false, ConfirmSourceChanged: false}
	evs, err := runWith(t, w, dir, k, ChangeAsk)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if w.dumps != 1 {
		t.Errorf("%d dumps, want 1 (kept)", w.dumps)
	}
	var kinds []QuestionKind
	for _, q := range k.questions {
		if q.Kind == ConfirmRedump || q.Kind == ConfirmSourceChanged {
			kinds = append(kinds, q.Kind)
			if q.DumpedAt.IsZero() || !slices.Equal(q.Changed, []string{"public.orders"}) {
				t.Errorf("question %+v lacks the snapshot's moment or the table", q)
			}
		}
	}
	if !slices.Equal(kinds, []QuestionKind{ConfirmRedump, ConfirmSourceChanged}) {
		t.Errorf("asked %v, want the dump's question then the verify step's", kinds)
	}
	v := find(evs, StepFinished, StepVerify)[0].Summary.Verified
	if v.WritesDuring != 1 || len(v.SourceChanges) != 2 || !v.SourceChanges[0].Asked || v.SourceChanges[0].Choice != ChangeKeep {
		t.Errorf("verified %+v, want both kept choices, asked", v)
	}
	s, _ := ReadState(dir)
	if !v.DumpedAt.Equal(s.Dump.SnapshotAt) || !v.DumpedAt.Before(s.Dump.FinishedAt) {
		t.Errorf("verified moment %s, snapshot %s, dump's end %s", v.DumpedAt, s.Dump.SnapshotAt, s.Dump.FinishedAt)
	}
}

// No write: no question, no choice on record.
func TestNoWritesNoChoice(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	k := bothKeys()
	evs, err := runWith(t, w, dir, k, ChangeAsk)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if v := find(evs, StepFinished, StepVerify)[0].Summary.Verified; len(v.SourceChanges) != 0 || v.WritesDuring != 0 {
		t.Errorf("verified %+v", v)
	}
}

// Writes the dump cannot miss do not count: the system catalogs' (the
// database's own counter grows when autovacuum records statistics) and
// other sessions' temporary tables.
func TestCatalogAndTemporaryWritesDoNotCount(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	w.tableWrites = map[string]int64{"public.orders": 5}
	w.fail = func(cmd string) error {
		if cmd == "pg_dump" {
			w.mu.Lock()
			w.writes += 40
			w.tableWrites["pg_temp_3.scratch"] += 40
			w.mu.Unlock()
		}
		return nil
	}
	k := bothKeys()
	evs, err := runWith(t, w, dir, k, ChangeFail)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := find(evs, Warning, StepDump); len(got) != 1 {
		t.Errorf("dump warnings %+v, want only the one before the dump", got)
	}
}
