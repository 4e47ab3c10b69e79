//go:build e2e

package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// Resume tests: each interrupts a real migration (ppg migrate-from-ea
// --non-interactive --json, the real binary, pg_dump/pg_restore 17, a
// PostgreSQL 16 source and a 17 target behind the gateway emulator) in one
// way, then runs it again and checks that it resumes rather than redoes,
// and ends verified.

// allSteps are the steps' names in order.
var allSteps = func() []string {
	var out []string
	for _, st := range migrate.Steps() {
		out = append(out, string(st))
	}
	return out
}()

// stepsFrom returns the steps from st to the end.
func stepsFrom(st string) []string {
	return allSteps[slices.Index(allSteps, st):]
}

// headless are the arguments of every run of the resume tests.
var headless = []string{"--non-interactive", "--json"}

func TestResumeAfterCutDuringDump(t *testing.T) {
	m := newMigration(t)
	// 40 tables, about 10 MB of COPY text in all.
	m.source.exec(tablesSQL(tableSpecs("t", 40, 80, func(i int) int { return 1500 + 50*i })))
	total := m.source.copyBytes()
	// The EA key's sessions (pg_dump's among them) are cut after 40% of
	// the data: pg_dump's catalog queries come first and carry far less.
	cut := total * 2 / 5
	m.gateway.SetCutAfterForKey(m.source.key, cut)

	// No retries within the run: this test is about the next run.
	r1 := m.run(append(headless, "--retries=0")...)
	r1.wantExit(4)
	failed := r1.all(stepFailed(anyStep))
	if len(failed) != 1 || failed[0].Step != "dump" {
		t.Fatalf("want one step_failed for the dump, got %+v\nevents:\n%s", failed, describe(r1.events))
	}
	if !strings.Contains(failed[0].Hint, "again") {
		t.Errorf("the failure's hint %q does not say to run again", failed[0].Hint)
	}
	if !strings.Contains(r1.stderr, words.FromEA.Step(migrate.StepDump)) || !strings.Contains(r1.stderr, "again") {
		t.Errorf("stderr does not name the dump step and say to run again:\n%s", r1.stderr)
	}
	// The cut landed in the data: pg_dump had started copying tables.
	prog := r1.all(progressOf("dump"))
	if len(prog) == 0 || prog[len(prog)-1].Progress.TablesDone == prog[len(prog)-1].Progress.TablesTotal {
		t.Fatalf("the cut after %d of %d bytes did not land in the dump's data: %d progress events\n%s", cut, total, len(prog), describe(r1.events))
	}
	s1 := m.state()
	for st, want := range map[migrate.Step]migrate.Status{
		migrate.StepCheckTools: migrate.Done, migrate.StepConnectSource: migrate.Done, migrate.StepDump: migrate.Failed, migrate.StepRestore: migrate.Pending,
	} {
		if got := s1.Step(st).Status; got != want {
			t.Errorf("after the cut, step %s is %q, want %q", st, got, want)
		}
	}
	if s1.Dump != nil {
		t.Errorf("after the cut, the state records a dump: %+v", s1.Dump)
	}
	wantNoLeftovers(t, m.dir)

	m.gateway.SetCutAfterForKey(m.source.key, 0)
	r2 := m.run(headless...)
	r2.wantExit(0)
	// check-tools and connect-source are done: the run starts at the dump
	// (it opens the EA database again, but does not redo its step).
	if got, want := r2.started(), stepsFrom("dump"); !slices.Equal(got, want) {
		t.Errorf("the resumed run started steps %v, want %v", got, want)
	}
	if ev := r2.all(stepStarted("dump")); len(ev) == 0 || !ev[0].Resumed {
		t.Errorf("the dump step was not marked resumed: %+v", ev)
	}
	r2.wantVerified()
	compareData(t, m.source, m.target)
	s2 := m.state()
	wantAllDone(t, m.dir, s2)
	if a := s2.Step(migrate.StepConnectSource).Attempts; a != 1 {
		t.Errorf("connect-source ran %d times, want 1", a)
	}
	if a := s2.Step(migrate.StepDump).Attempts; a != 2 {
		t.Errorf("the dump ran %d times, want 2", a)
	}
	wantNoLeftovers(t, m.dir)
	t.Logf("first run cut after %d of %d data bytes, %.1f s; resumed run %.1f s", cut, total, r1.elapsed.Seconds(), r2.elapsed.Seconds())
}

// restoreTestTables is the database of the restore tests: three tables of
// about 1.5 MB, which pg_restore's parallel jobs load first, and 27 small
// ones.
func restoreTestTables() []tableSpec {
	return tableSpecs("d", 30, 100, func(i int) int {
		if i < 3 {
			return 15000
		}
		return 200 + 40*i
	})
}

func TestResumeAfterCutDuringDataSection(t *testing.T) {
	// 2 MB/s a session and direction: the data section takes a few
	// seconds.
	m := newMigration(t, withBandwidth(2<<20))
	src, ga := m.source, m.target
	src.exec(tablesSQL(restoreTestTables()))

	p := m.start(append(headless, "--retries=0")...)
	p.waitFor(eventWhere("the restore's data section with 3 tables loaded", func(ev event) bool {
		return progressOf("restore").matches(ev) && ev.Progress.Phase == migrate.PhaseData && ev.Progress.TablesDone >= 3
	}))
	// Cut the sessions, pg_restore's jobs among them.
	killed := m.gateway.KillSessions()
	if killed == 0 {
		t.Fatal("the gateway had no session to cut during the data section")
	}
	r1 := p.wait()
	r1.wantExit(4)
	if failed := r1.all(stepFailed(anyStep)); len(failed) != 1 || failed[0].Step != "restore" {
		t.Fatalf("want one step_failed for the restore, got %+v", failed)
	}
	s1 := m.state()
	if st := s1.Step(migrate.StepRestore).Status; st != migrate.Failed {
		t.Errorf("the restore step is %q, want failed", st)
	}
	if s1.Restore == nil || !slices.Equal(s1.Restore.Sections, []string{"pre-data"}) || !slices.Contains(s1.Restore.StartedSections, "data") {
		t.Fatalf("state's restore record %+v: want the schema done and the data started", s1.Restore)
	}

	// What the first run loaded: a COPY is one transaction, so a table
	// holds all of its rows or none.
	want := src.rowCounts()
	names := slices.Sorted(maps.Keys(want))
	before := ga.loads(names)
	var loaded, notLoaded []string
	var maxXmin int64
	for _, name := range names {
		l := before[name]
		maxXmin = max(maxXmin, l.maxXmin)
		switch l.rows {
		case want[name]:
			loaded = append(loaded, name)
		case 0:
			notLoaded = append(notLoaded, name)
		default:
			t.Fatalf("table %s holds %d of its %d rows after the cut", name, l.rows, want[name])
		}
	}
	if len(loaded) == 0 || len(notLoaded) == 0 {
		t.Fatalf("the cut should leave some tables loaded and some not: loaded %v, not loaded %v", loaded, notLoaded)
	}
	// A table holding some rows but not all (as if something else wrote
	// to it) must be emptied and loaded again.
	i := slices.IndexFunc(notLoaded, func(n string) bool { return strings.HasPrefix(n, "public.d") })
	if i < 0 {
		t.Fatalf("every d table was loaded before the cut: %v", loaded)
	}
	partly := notLoaded[i]
	ga.exec("INSERT INTO " + partly + " (id, grp, body) VALUES (1, 0, 'stray row')")
	maxXmin = max(maxXmin, ga.loads([]string{partly})[partly].maxXmin)

	r2 := m.run(headless...)
	r2.wantExit(0)
	if got, want := r2.started(), stepsFrom("restore"); !slices.Equal(got, want) {
		t.Errorf("the resumed run started steps %v, want %v", got, want)
	}
	if ev := r2.all(stepStarted("restore")); len(ev) == 0 || !ev[0].Resumed {
		t.Errorf("the restore step was not marked resumed: %+v", ev)
	}
	resuming := fmt.Sprintf("resuming the data: %d of %d tables already loaded", len(loaded), len(names))
	if !r2.has(infoOf("restore").saying(resuming)) {
		t.Errorf("no info event %q:\n%s", resuming, describe(r2.events))
	}
	if !r2.has(warningOf("restore").saying("emptied partly loaded tables", strings.TrimPrefix(partly, "public."))) {
		t.Errorf("no warning that %s was emptied:\n%s", partly, describe(r2.events))
	}
	after := ga.loads(names)
	for _, name := range loaded {
		if after[name] != before[name] {
			t.Errorf("table %s, loaded by the first run, was loaded again: rows/xmin %+v, then %+v", name, before[name], after[name])
		}
	}
	for _, name := range notLoaded {
		if a := after[name]; a.rows != want[name] || a.minXmin <= maxXmin {
			t.Errorf("table %s: %d rows with xmin %d..%d after the resumed run; want %d rows, all inserted after xmin %d",
				name, a.rows, a.minXmin, a.maxXmin, want[name], maxXmin)
		}
	}
	r2.wantVerified()
	compareData(t, src, ga)
	wantAllDone(t, m.dir, m.state())
	wantNoLeftovers(t, m.dir)
	t.Logf("cut with %d of %d tables loaded (%d sessions killed); resumed run %.1f s", len(loaded), len(names), killed, r2.elapsed.Seconds())
}

func TestResumeAfterSIGKILLMidRestore(t *testing.T) {
	m := newMigration(t, withBandwidth(2<<20))
	m.source.exec(tablesSQL(restoreTestTables()))

	for _, tc := range []struct {
		name  string
		phase migrate.Phase
		// done: the sections the state must record done after the kill
		done []string
		// resuming: the info event of the resumed section
		resuming string
	}{
		{"data", migrate.PhaseData, []string{"pre-data"}, "resuming the data: "},
		{"post-data", migrate.PhasePostData, []string{"pre-data", "data"}, "resuming indexes and constraints: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := m.sub(t)
			m.newTarget("ga_" + strings.ReplaceAll(tc.name, "-", "_"))
			p := m.start(headless...)
			inPhase, finished := false, 0
			p.waitFor(eventWhere("4 items of the "+tc.name+" section done", func(ev event) bool {
				switch {
				case progressOf("restore").matches(ev):
					inPhase = ev.Progress.Phase == tc.phase
				case toolLineOf(anyStep).matches(ev) && inPhase && (strings.Contains(ev.Line, "finished item") || strings.HasPrefix(ev.Line, "restored ")):
					finished++
				}
				// A few items of the section are done, more to come.
				return inPhase && finished >= 4
			}))
			p.kill() // ppg, pg_restore and its jobs
			r1 := p.wait()
			r1.wantExit(-1)
			p.groupGone()
			waitFor(t, 15*time.Second, "the gateway's sessions to end", func() bool { return m.gateway.Stats().Active == 0 })

			// The state file is whole, and says where the restore stopped.
			s1 := m.state()
			for _, st := range allSteps[:5] {
				if got := s1.Step(migrate.Step(st)).Status; got != migrate.Done {
					t.Errorf("after SIGKILL, step %s is %q, want done", st, got)
				}
			}
			if got := s1.Step(migrate.StepRestore).Status; got != migrate.Running {
				t.Errorf("after SIGKILL, the restore step is %q, want running", got)
			}
			if s1.Restore == nil || !slices.Equal(s1.Restore.Sections, tc.done) || !slices.Contains(s1.Restore.StartedSections, tc.name) {
				t.Fatalf("state's restore record %+v: want %v done and %s started", s1.Restore, tc.done, tc.name)
			}
			wantDumpIntact(t, m.dir, s1)
			for _, name := range fileNames(t, m.dir) {
				switch {
				case name == migrate.StateFileName, name == "ppg-migration.lock", name == filepath.Base(s1.Dump.Path), name == filepath.Base(s1.Dump.ManifestPath):
				case strings.HasSuffix(name, "."+tc.name+".list"):
					// The list of the killed pg_restore: written again on resume.
				default:
					t.Errorf("unexpected file after SIGKILL: %s", name)
				}
			}

			r2 := m.run(headless...)
			r2.wantExit(0)
			if got, want := r2.started(), stepsFrom("restore"); !slices.Equal(got, want) {
				t.Errorf("the resumed run started steps %v, want %v", got, want)
			}
			var resumed []string
			for _, ev := range r2.all(infoOf("restore")) {
				if strings.HasPrefix(ev.Text, "resuming") {
					resumed = append(resumed, ev.Text)
				}
			}
			// "resuming the data: 5 of 31 tables already loaded, 26 to load",
			// "resuming indexes and constraints: 4 already created, 60 to create"
			var done, todo int
			if len(resumed) != 1 || !strings.HasPrefix(resumed[0], tc.resuming) {
				t.Fatalf("want one info event %q..., got %q", tc.resuming, resumed)
			}
			rest := strings.TrimPrefix(resumed[0], tc.resuming)
			if _, err := fmt.Sscanf(rest, "%d", &done); err != nil || done == 0 {
				t.Errorf("the resumed %s section found nothing done: %q", tc.name, resumed[0])
			}
			if _, err := fmt.Sscanf(rest[strings.LastIndex(rest, ", ")+2:], "%d", &todo); err != nil || todo == 0 {
				t.Errorf("the resumed %s section found nothing to do: %q", tc.name, resumed[0])
			}
			r2.wantVerified()
			compareData(t, m.source, m.target)
			wantAllDone(t, m.dir, m.state())
			wantNoLeftovers(t, m.dir)
			t.Logf("killed during %s; resumed: %s", tc.name, resumed[0])
		})
	}
}

func TestResumeRedumpsChangedDump(t *testing.T) {
	m := newMigration(t)
	m.source.exec(tablesSQL(tableSpecs("c", 8, 80, func(i int) int { return 400 + 100*i })))

	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, path string)
		warn  string
	}{
		{"corrupted", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := len(data) / 2; i < len(data)/2+16; i++ {
				data[i] ^= 0x5a
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "changed since it was written"},
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, "is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := m.sub(t)
			m.newTarget("ga_" + tc.name)

			// A key the gateway refuses stops the first run at
			// connect-target, after a complete dump.
			// No target key yet: the first run dumps, then stops at
			// connect-target.
			r1 := m.ppg(toTarget("")).run(headless...)
			r1.wantExit(4)
			if failed := r1.all(stepFailed(anyStep)); len(failed) != 1 || failed[0].Step != "connect-target" {
				t.Fatalf("want one step_failed for connect-target, got %+v", failed)
			}
			s1 := m.state()
			if s1.Step(migrate.StepCheckArchive).Status != migrate.Done || s1.Dump == nil {
				t.Fatalf("the dump was not complete and checked before connect-target: %+v", s1.Steps[migrate.StepCheckArchive])
			}
			tc.spoil(t, dumpPath(m.dir, s1))
			var spoiled string
			if _, err := os.Stat(dumpPath(m.dir, s1)); err == nil {
				spoiled = fileSHA256(t, dumpPath(m.dir, s1))
			}

			r2 := m.run(headless...)
			r2.wantExit(0)
			if !r2.has(warningOf("dump").saying(tc.warn, "dumping again")) {
				t.Errorf("no warning that the dump %s:\n%s", tc.warn, describe(r2.events))
			}
			if got, want := r2.started(), stepsFrom("dump"); !slices.Equal(got, want) {
				t.Errorf("the run started steps %v, want %v", got, want)
			}
			r2.wantVerified()
			compareData(t, m.source, m.target)
			s2 := m.state()
			wantAllDone(t, m.dir, s2)
			if s2.Dump.Path != s1.Dump.Path || s2.Dump.SHA256 == spoiled {
				t.Errorf("the dump was not written again: %s (sha256 %s), spoiled sha256 %s", s2.Dump.Path, s2.Dump.SHA256, spoiled)
			}
			wantNoLeftovers(t, m.dir)
		})
	}

	// Once the migration is done the dump is no longer needed (people
	// delete it to free space): running again must not dump again, which
	// would then refuse the GA database as not empty.
	t.Run("deleted after the migration", func(t *testing.T) {
		m := m.sub(t)
		m.newTarget("ga_after")
		m.run(headless...).wantExit(0)
		s1 := m.state()
		if err := os.Remove(dumpPath(m.dir, s1)); err != nil {
			t.Fatal(err)
		}
		r := m.run(headless...)
		r.wantExit(0)
		if got := r.started(); len(got) != 0 {
			t.Errorf("a complete migration ran steps %v again:\n%s", got, describe(r.events))
		}
		s2 := m.state()
		if s2.Verified == nil || s2.Next() != migrate.StepDone {
			t.Errorf("the record of the verified migration was lost: next step %s, verified %+v", s2.Next(), s2.Verified)
		}
	})
}

func TestResumeInterruptedBySIGINT(t *testing.T) {
	// 1 MB/s: the dump of about 3 MB takes a few seconds.
	m := newMigration(t, withBandwidth(1<<20))
	m.source.exec(tablesSQL(tableSpecs("i", 20, 100, func(int) int { return 1200 })))

	for _, tc := range []struct {
		name  string
		group bool
	}{
		// Ctrl-C in a terminal signals the whole foreground group: ppg and
		// pg_dump at once.
		{"process group", true},
		// kill -INT of ppg alone: ppg must stop pg_dump itself.
		{"ppg only", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := m.sub(t)
			m.newTarget("ga_" + strings.ReplaceAll(tc.name, " ", "_"))
			p := m.start(headless...)
			p.waitFor(eventWhere("the dump copying a table", func(ev event) bool {
				return progressOf("dump").matches(ev) && ev.Progress.Current != ""
			}))
			if tc.group {
				p.signalGroup(syscall.SIGINT)
			} else {
				p.signalPPG(syscall.SIGINT)
			}
			r1 := p.wait()
			r1.wantExit(130)
			if !strings.Contains(r1.stderr, "stopped") {
				t.Errorf("stderr does not say ppg stopped:\n%s", r1.stderr)
			}
			if failed := r1.all(stepFailed(anyStep)); len(failed) != 0 {
				t.Errorf("an interruption is not a failure, got %+v", failed)
			}
			p.groupGone()
			s1 := m.state()
			for _, st := range migrate.Steps() {
				if rec := s1.Step(st); rec.Status == migrate.Failed || rec.Status == migrate.Running {
					t.Errorf("after SIGINT, step %s is %q (%s)", st, rec.Status, rec.Error)
				}
			}
			if rec := s1.Step(migrate.StepDump); rec.Status != migrate.Pending {
				t.Errorf("after SIGINT, the dump is %q, want pending", rec.Status)
			}
			if s1.Dump != nil {
				t.Errorf("after SIGINT, the state records a dump: %+v", s1.Dump)
			}
			wantNoLeftovers(t, m.dir)

			r2 := m.run(headless...)
			r2.wantExit(0)
			if got, want := r2.started(), stepsFrom("dump"); !slices.Equal(got, want) {
				t.Errorf("the resumed run started steps %v, want %v", got, want)
			}
			r2.wantVerified()
			compareData(t, m.source, m.target)
			wantAllDone(t, m.dir, m.state())
		})
	}
}

func TestResumeRestartOption(t *testing.T) {
	m := newMigration(t)
	m.source.exec(tablesSQL(tableSpecs("r", 10, 80, func(i int) int { return 300 + 10*i })))

	r1 := m.run(headless...)
	r1.wantExit(0)
	s1 := m.state()
	wantAllDone(t, m.dir, s1)
	oldSum := fileSHA256(t, dumpPath(m.dir, s1))

	// Without --restart, running again has nothing left to do.
	r := m.run(headless...)
	r.wantExit(0)
	if got := r.started(); len(got) != 0 {
		t.Errorf("a complete migration ran steps %v again", got)
	}

	firstGA := m.target
	m.newTarget("ga_second")
	r2 := m.run("--non-interactive", "--json", "--restart")
	r2.wantExit(0)
	if !r2.has(infoOf(anyStep).saying("starting over", s1.Dump.Path)) {
		t.Errorf("no info event saying the run starts over and keeps %s:\n%s", s1.Dump.Path, describe(r2.events))
	}
	if got := r2.started(); !slices.Equal(got, allSteps) {
		t.Errorf("--restart ran steps %v, want all: %v", got, allSteps)
	}
	for _, ev := range r2.all(stepStarted(anyStep)) {
		if ev.Resumed {
			t.Errorf("--restart resumed step %s", ev.Step)
		}
	}
	r2.wantVerified()
	s2 := m.state()
	wantAllDone(t, m.dir, s2)
	if s2.ID == s1.ID || filepath.Base(s2.Dump.Path) != migrate.DumpFileName("ppg-ea", s2) || s2.Dump.Path == s1.Dump.Path {
		t.Errorf("--restart kept the migration id or dump: %s %s, then %s %s", s1.ID, s1.Dump.Path, s2.ID, s2.Dump.Path)
	}
	if sum := fileSHA256(t, dumpPath(m.dir, s1)); sum != oldSum {
		t.Errorf("the earlier dump %s changed", s1.Dump.Path)
	}
	compareData(t, m.source, m.target)
	compareData(t, m.source, firstGA)
	wantNoLeftovers(t, m.dir)
}
