//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/migrate"
)

// Resume tests: each interrupts a real migration (ppg migrate-from-ea
// --non-interactive --json, the real binary, pg_dump/pg_restore 17, a
// PostgreSQL 16 source and a 17 target behind the gateway emulator) in one
// way, then runs it again and checks that it resumes rather than redoes,
// and ends verified.

// resumeAllSteps are the steps' names in order.
var resumeAllSteps = func() []string {
	var out []string
	for _, st := range migrate.Steps() {
		out = append(out, string(st))
	}
	return out
}()

// resumeStepsFrom returns the steps from st to the end.
func resumeStepsFrom(st string) []string {
	return resumeAllSteps[slices.Index(resumeAllSteps, st):]
}

func TestResumeAfterCutDuringDump(t *testing.T) {
	b := newResumeBed(t, gateway.Options{})
	// 40 tables, about 10 MB of COPY text in all.
	resumeFill(t, b.ea.URL("postgres"), resumeTables("t", 40, 80, func(i int) int { return 1500 + 50*i }))
	total := resumeCopyBytes(t, b.ea.URL("postgres"))
	// The EA key's sessions (pg_dump's among them) are cut after 40% of
	// the data: pg_dump's catalog queries come first and carry far less.
	cut := total * 2 / 5
	b.gw.SetCutAfterForKey(b.eaKey, cut)

	r1 := b.run(t, resumeRunOpts{})
	r1.expectExit(t, "run cut during the dump", 1)
	failed := r1.find("step_failed", "")
	if len(failed) != 1 || failed[0].Step != "dump" {
		t.Fatalf("want one step_failed for the dump, got %+v\nevents:\n%s", failed, resumeDescribe(r1.events))
	}
	if !strings.Contains(failed[0].Hint, "again") {
		t.Errorf("the failure's hint %q does not say to run again", failed[0].Hint)
	}
	if !strings.Contains(r1.stderr, migrate.StepDump.Title()) || !strings.Contains(r1.stderr, "again") {
		t.Errorf("stderr does not name the dump step and say to run again:\n%s", r1.stderr)
	}
	// The cut landed in the data: pg_dump had started copying tables.
	prog := r1.find("progress", "dump")
	if len(prog) == 0 || prog[len(prog)-1].Progress.TablesDone == prog[len(prog)-1].Progress.TablesTotal {
		t.Fatalf("the cut after %d of %d bytes did not land in the dump's data: %d progress events\n%s", cut, total, len(prog), resumeDescribe(r1.events))
	}
	s1 := resumeState(t, b.dir)
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
	resumeNoLeftovers(t, b.dir)

	b.gw.SetCutAfterForKey(b.eaKey, 0)
	r2 := b.run(t, resumeRunOpts{})
	r2.expectExit(t, "resumed run", 0)
	// check-tools and connect-source are done: the run starts at the dump
	// (it opens the EA database again, but does not redo its step).
	if got, want := r2.started(), resumeStepsFrom("dump"); !slices.Equal(got, want) {
		t.Errorf("the resumed run started steps %v, want %v", got, want)
	}
	if ev := r2.find("step_started", "dump"); len(ev) == 0 || !ev[0].Resumed {
		t.Errorf("the dump step was not marked resumed: %+v", ev)
	}
	r2.expectVerified(t, "resumed run")
	resumeCompareCounts(t, b.ea.URL("postgres"), b.ga.URL("postgres"))
	s2 := resumeState(t, b.dir)
	resumeAllDone(t, s2)
	if a := s2.Step(migrate.StepConnectSource).Attempts; a != 1 {
		t.Errorf("connect-source ran %d times, want 1", a)
	}
	if a := s2.Step(migrate.StepDump).Attempts; a != 2 {
		t.Errorf("the dump ran %d times, want 2", a)
	}
	resumeNoLeftovers(t, b.dir)
	t.Logf("first run cut after %d of %d data bytes, %.1f s; resumed run %.1f s", cut, total, r1.elapsed.Seconds(), r2.elapsed.Seconds())
}

// resumeDataTables is the database of the restore tests: three tables of
// about 1.5 MB, which pg_restore's parallel jobs load first, and 27 small
// ones.
func resumeDataTables() []resumeTable {
	return resumeTables("d", 30, 100, func(i int) int {
		if i < 3 {
			return 15000
		}
		return 200 + 40*i
	})
}

func TestResumeAfterCutDuringDataSection(t *testing.T) {
	// 2 MB/s a session and direction: the data section takes a few
	// seconds.
	b := newResumeBed(t, gateway.Options{BandwidthBytesPerSec: 2 << 20})
	src := b.ea.URL("postgres")
	resumeFill(t, src, resumeDataTables())

	var killed atomic.Int64
	r1 := b.run(t, resumeRunOpts{onEvent: func(_ *resumeProc, ev resumeEvent) {
		if ev.Kind == "progress" && ev.Step == "restore" && ev.Progress.Phase == "data" && ev.Progress.TablesDone >= 3 && killed.Load() == 0 {
			// Cut the GA key's sessions, pg_restore's jobs among them.
			killed.Store(int64(b.gw.KillSessions()))
		}
	}})
	if killed.Load() == 0 {
		t.Fatalf("the data section never had 3 tables loaded; exit %d\n%s", r1.code, resumeDescribe(r1.events))
	}
	r1.expectExit(t, "run cut during the data section", 1)
	if failed := r1.find("step_failed", ""); len(failed) != 1 || failed[0].Step != "restore" {
		t.Fatalf("want one step_failed for the restore, got %+v", failed)
	}
	s1 := resumeState(t, b.dir)
	if st := s1.Step(migrate.StepRestore).Status; st != migrate.Failed {
		t.Errorf("the restore step is %q, want failed", st)
	}
	if s1.Restore == nil || !slices.Equal(s1.Restore.Sections, []string{"pre-data"}) || !slices.Contains(s1.Restore.StartedSections, "data") {
		t.Fatalf("state's restore record %+v: want the schema done and the data started", s1.Restore)
	}

	// What the first run loaded: a COPY is one transaction, so a table
	// holds all of its rows or none.
	want := resumeCounts(t, src)
	var names []string
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	ga := b.ga.URL("postgres")
	before := resumeLoads(t, ga, names)
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
	resumeExec(t, ga, "INSERT INTO "+partly+" (id, grp, body) VALUES (1, 0, 'stray row')")
	maxXmin = max(maxXmin, resumeLoads(t, ga, []string{partly})[partly].maxXmin)

	r2 := b.run(t, resumeRunOpts{})
	r2.expectExit(t, "resumed run", 0)
	if got, want := r2.started(), resumeStepsFrom("restore"); !slices.Equal(got, want) {
		t.Errorf("the resumed run started steps %v, want %v", got, want)
	}
	if ev := r2.find("step_started", "restore"); len(ev) == 0 || !ev[0].Resumed {
		t.Errorf("the restore step was not marked resumed: %+v", ev)
	}
	resuming := fmt.Sprintf("resuming the data: %d of %d tables already loaded", len(loaded), len(names))
	if !slices.ContainsFunc(r2.find("info", "restore"), func(ev resumeEvent) bool { return strings.Contains(ev.Text, resuming) }) {
		t.Errorf("no info event %q:\n%s", resuming, resumeDescribe(r2.events))
	}
	if !slices.ContainsFunc(r2.find("warning", "restore"), func(ev resumeEvent) bool {
		return strings.Contains(ev.Text, "emptied partly loaded tables") && strings.Contains(ev.Text, strings.TrimPrefix(partly, "public."))
	}) {
		t.Errorf("no warning that %s was emptied:\n%s", partly, resumeDescribe(r2.events))
	}
	after := resumeLoads(t, ga, names)
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
	r2.expectVerified(t, "resumed run")
	resumeCompareCounts(t, src, ga)
	resumeAllDone(t, resumeState(t, b.dir))
	resumeNoLeftovers(t, b.dir)
	t.Logf("cut with %d of %d tables loaded (%d sessions killed); resumed run %.1f s", len(loaded), len(names), killed.Load(), r2.elapsed.Seconds())
}

func TestResumeAfterSIGKILLMidRestore(t *testing.T) {
	b := newResumeBed(t, gateway.Options{BandwidthBytesPerSec: 2 << 20})
	src := b.ea.URL("postgres")
	resumeFill(t, src, resumeDataTables())

	for _, tc := range []struct {
		name, phase string
		// done: the sections the state must record done after the kill
		done []string
		// resuming: the info event of the resumed section
		resuming string
	}{
		{"data", "data", []string{"pre-data"}, "resuming the data: "},
		{"post-data", "indexes and constraints", []string{"pre-data", "data"}, "resuming indexes and constraints: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.dir = t.TempDir()
			b.newGA(t, "ga_"+strings.ReplaceAll(tc.name, "-", "_"))
			var killed atomic.Bool
			inPhase, finished := false, 0 // used by the reading goroutine only
			p := b.start(t, resumeRunOpts{onEvent: func(p *resumeProc, ev resumeEvent) {
				switch {
				case ev.Kind == "progress" && ev.Step == "restore":
					inPhase = ev.Progress.Phase == tc.phase
				case ev.Kind == "tool_line" && inPhase && strings.Contains(ev.Line, "finished item"):
					finished++
				}
				// A few items of the section are done, more to come.
				if inPhase && finished >= 4 && !killed.Swap(true) {
					p.signal(syscall.SIGKILL) // ppg, pg_restore and its jobs
				}
			}})
			r1 := p.wait(t, 3*time.Minute)
			if !killed.Load() {
				t.Fatalf("the %s section never had 4 items done; exit %d\n%s", tc.name, r1.code, resumeDescribe(r1.events))
			}
			r1.expectExit(t, "run killed during the "+tc.name+" section", -1)
			resumeGroupGone(t, p.cmd.Process.Pid)
			waitFor(t, 15*time.Second, "the gateway's sessions to end", func() bool { return b.gw.Stats().Active == 0 })

			// The state file is whole, and says where the restore stopped.
			s1 := resumeState(t, b.dir)
			for _, st := range resumeAllSteps[:5] {
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
			if sum := resumeSHA256(t, s1.Dump.Path); sum != s1.Dump.SHA256 {
				t.Errorf("the dump changed: sha256 %s, state %s", sum, s1.Dump.SHA256)
			}
			for _, name := range resumeFiles(t, b.dir) {
				switch {
				case name == migrate.StateFileName, name == "ppg-migration.lock", name == filepath.Base(s1.Dump.Path), name == filepath.Base(s1.Dump.ManifestPath):
				case strings.HasSuffix(name, "."+tc.name+".list"):
					// The list of the killed pg_restore: written again on resume.
				default:
					t.Errorf("unexpected file after SIGKILL: %s", name)
				}
			}

			r2 := b.run(t, resumeRunOpts{})
			r2.expectExit(t, "resumed run", 0)
			if got, want := r2.started(), resumeStepsFrom("restore"); !slices.Equal(got, want) {
				t.Errorf("the resumed run started steps %v, want %v", got, want)
			}
			var resumed []string
			for _, ev := range r2.find("info", "restore") {
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
			r2.expectVerified(t, "resumed run")
			resumeCompareCounts(t, src, b.ga.URL(b.gaDB))
			resumeAllDone(t, resumeState(t, b.dir))
			resumeNoLeftovers(t, b.dir)
			t.Logf("killed during %s; resumed: %s", tc.name, resumed[0])
		})
	}
}

func TestResumeRedumpsChangedDump(t *testing.T) {
	b := newResumeBed(t, gateway.Options{})
	src := b.ea.URL("postgres")
	resumeFill(t, src, resumeTables("c", 8, 80, func(i int) int { return 400 + 100*i }))

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
			b.dir = t.TempDir()
			b.newGA(t, "ga_"+tc.name)

			// A key the gateway refuses stops the first run at
			// connect-target, after a complete dump.
			r1 := b.run(t, resumeRunOpts{gaKey: sandbox.NewKey("refused")})
			r1.expectExit(t, "run with a refused GA key", 4)
			if failed := r1.find("step_failed", ""); len(failed) != 1 || failed[0].Step != "connect-target" {
				t.Fatalf("want one step_failed for connect-target, got %+v", failed)
			}
			s1 := resumeState(t, b.dir)
			if s1.Step(migrate.StepCheckArchive).Status != migrate.Done || s1.Dump == nil {
				t.Fatalf("the dump was not complete and checked before connect-target: %+v", s1.Steps[migrate.StepCheckArchive])
			}
			tc.spoil(t, s1.Dump.Path)
			var spoiled string
			if _, err := os.Stat(s1.Dump.Path); err == nil {
				spoiled = resumeSHA256(t, s1.Dump.Path)
			}

			r2 := b.run(t, resumeRunOpts{})
			r2.expectExit(t, "run after the dump was "+tc.name, 0)
			if !slices.ContainsFunc(r2.find("warning", "dump"), func(ev resumeEvent) bool {
				return strings.Contains(ev.Text, tc.warn) && strings.Contains(ev.Text, "dumping again")
			}) {
				t.Errorf("no warning that the dump %s:\n%s", tc.warn, resumeDescribe(r2.events))
			}
			if got, want := r2.started(), resumeStepsFrom("dump"); !slices.Equal(got, want) {
				t.Errorf("the run started steps %v, want %v", got, want)
			}
			r2.expectVerified(t, "run after the dump was "+tc.name)
			resumeCompareCounts(t, src, b.ga.URL(b.gaDB))
			s2 := resumeState(t, b.dir)
			resumeAllDone(t, s2)
			if s2.Dump.Path != s1.Dump.Path || s2.Dump.SHA256 == spoiled {
				t.Errorf("the dump was not written again: %s (sha256 %s), spoiled sha256 %s", s2.Dump.Path, s2.Dump.SHA256, spoiled)
			}
			resumeNoLeftovers(t, b.dir)
		})
	}

	// Once the migration is done the dump is no longer needed (people
	// delete it to free space): running again must not dump again, which
	// would then refuse the GA database as not empty.
	t.Run("deleted after the migration", func(t *testing.T) {
		b.dir = t.TempDir()
		b.newGA(t, "ga_after")
		b.run(t, resumeRunOpts{}).expectExit(t, "migration", 0)
		s1 := resumeState(t, b.dir)
		if err := os.Remove(s1.Dump.Path); err != nil {
			t.Fatal(err)
		}
		r := b.run(t, resumeRunOpts{})
		r.expectExit(t, "run after the migration, without its dump", 0)
		if got := r.started(); len(got) != 0 {
			t.Errorf("a complete migration ran steps %v again:\n%s", got, resumeDescribe(r.events))
		}
		s2 := resumeState(t, b.dir)
		if s2.Verified == nil || s2.Next() != migrate.StepDone {
			t.Errorf("the record of the verified migration was lost: next step %s, verified %+v", s2.Next(), s2.Verified)
		}
	})
}

func TestResumeInterruptedBySIGINT(t *testing.T) {
	// 1 MB/s: the dump of about 3 MB takes a few seconds.
	b := newResumeBed(t, gateway.Options{BandwidthBytesPerSec: 1 << 20})
	src := b.ea.URL("postgres")
	resumeFill(t, src, resumeTables("i", 20, 100, func(int) int { return 1200 }))

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
			b.dir = t.TempDir()
			b.newGA(t, "ga_"+strings.ReplaceAll(tc.name, " ", "_"))
			var sent atomic.Bool
			p := b.start(t, resumeRunOpts{onEvent: func(p *resumeProc, ev resumeEvent) {
				if ev.Kind == "progress" && ev.Step == "dump" && ev.Progress.Current != "" && !sent.Swap(true) {
					if tc.group {
						p.signal(syscall.SIGINT)
					} else {
						p.cmd.Process.Signal(syscall.SIGINT)
					}
				}
			}})
			r1 := p.wait(t, 3*time.Minute)
			if !sent.Load() {
				t.Fatalf("the dump never started copying data; exit %d\n%s", r1.code, resumeDescribe(r1.events))
			}
			r1.expectExit(t, "run interrupted during the dump", 130)
			if !strings.Contains(r1.stderr, "stopped") {
				t.Errorf("stderr does not say ppg stopped:\n%s", r1.stderr)
			}
			if failed := r1.find("step_failed", ""); len(failed) != 0 {
				t.Errorf("an interruption is not a failure, got %+v", failed)
			}
			resumeGroupGone(t, p.cmd.Process.Pid)
			s1 := resumeState(t, b.dir)
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
			resumeNoLeftovers(t, b.dir)

			r2 := b.run(t, resumeRunOpts{})
			r2.expectExit(t, "resumed run", 0)
			if got, want := r2.started(), resumeStepsFrom("dump"); !slices.Equal(got, want) {
				t.Errorf("the resumed run started steps %v, want %v", got, want)
			}
			r2.expectVerified(t, "resumed run")
			resumeCompareCounts(t, src, b.ga.URL(b.gaDB))
			resumeAllDone(t, resumeState(t, b.dir))
		})
	}
}

func TestResumeRestartOption(t *testing.T) {
	b := newResumeBed(t, gateway.Options{})
	src := b.ea.URL("postgres")
	resumeFill(t, src, resumeTables("r", 10, 80, func(i int) int { return 300 + 10*i }))

	r1 := b.run(t, resumeRunOpts{})
	r1.expectExit(t, "first migration", 0)
	s1 := resumeState(t, b.dir)
	resumeAllDone(t, s1)
	oldSum := resumeSHA256(t, s1.Dump.Path)

	// Without --restart, running again has nothing left to do.
	r := b.run(t, resumeRunOpts{})
	r.expectExit(t, "run after a complete migration", 0)
	if got := r.started(); len(got) != 0 {
		t.Errorf("a complete migration ran steps %v again", got)
	}

	firstGA := b.ga.URL(b.gaDB)
	b.newGA(t, "ga_second")
	r2 := b.run(t, resumeRunOpts{args: []string{"--restart"}})
	r2.expectExit(t, "--restart", 0)
	if !slices.ContainsFunc(r2.find("info", ""), func(ev resumeEvent) bool {
		return strings.Contains(ev.Text, "starting over") && strings.Contains(ev.Text, s1.Dump.Path)
	}) {
		t.Errorf("no info event saying the run starts over and keeps %s:\n%s", s1.Dump.Path, resumeDescribe(r2.events))
	}
	if got := r2.started(); !slices.Equal(got, resumeAllSteps) {
		t.Errorf("--restart ran steps %v, want all: %v", got, resumeAllSteps)
	}
	for _, ev := range r2.find("step_started", "") {
		if ev.Resumed {
			t.Errorf("--restart resumed step %s", ev.Step)
		}
	}
	r2.expectVerified(t, "--restart")
	s2 := resumeState(t, b.dir)
	resumeAllDone(t, s2)
	if s2.ID == s1.ID || filepath.Base(s2.Dump.Path) != migrate.DumpFileName(s2.ID) || s2.Dump.Path == s1.Dump.Path {
		t.Errorf("--restart kept the migration id or dump: %s %s, then %s %s", s1.ID, s1.Dump.Path, s2.ID, s2.Dump.Path)
	}
	if sum := resumeSHA256(t, s1.Dump.Path); sum != oldSum {
		t.Errorf("the earlier dump %s changed", s1.Dump.Path)
	}
	resumeCompareCounts(t, src, b.ga.URL(b.gaDB))
	resumeCompareCounts(t, src, firstGA)
	resumeNoLeftovers(t, b.dir)
}
