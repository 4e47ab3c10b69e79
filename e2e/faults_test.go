//go:build e2e

package e2e

// The fault matrix of resume: a real migration (ppg migrate-from-ea
// --non-interactive --json, pg_dump/pg_restore 17, a PostgreSQL 16
// source and a 17 target behind the gateway emulator) is stopped in one
// way at one point (SIGKILL, SIGINT, the gateway's sessions killed, the
// dump file changed), then run again with the same command, once: it must
// end complete and verified, and the target must hold what the source
// holds, checked directly (rows, sequences, large objects, policies,
// statistics, rules, the materialized view, partitions).

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/migrate"
)

// faultCase is one stop of the matrix.
type faultCase struct {
	name string
	// args are added to headless in both runs.
	args []string
	// prepare sets up the case's empty target, if needed.
	prepare func(t *testing.T, m *migration)
	// fault waits for the point of the first run and stops it there.
	fault func(t *testing.T, m *migration, p *process)
	// exit is the first run's exit status; failed, for status 4, the step
	// that failed.
	exit   int
	failed string
	// between runs after the first run, before the second.
	between func(t *testing.T, m *migration)
	// sections, for a stop in the restore, are the sections the state
	// must record done after the first run.
	sections []string
	// from is the first step the second run starts.
	from string
	// warning, if set, is what the second run must warn about.
	warning []string
}

// inPhaseItems waits for n tool lines containing line while the restore
// is in phase.
func inPhaseItems(p *process, phase migrate.Phase, line string, n int) {
	p.t.Helper()
	inPhase, seen := false, 0
	p.waitFor(eventWhere(fmt.Sprintf("%d %q lines in the restore's %s phase", n, line, phase), func(ev event) bool {
		switch {
		case progressOf("restore").matches(ev):
			inPhase = ev.Progress.Phase == phase
		case toolLineOf("restore").matches(ev) && inPhase && strings.Contains(ev.Line, line):
			seen++
		}
		return inPhase && seen >= n
	}))
}

// killPPG is a fault: SIGKILL to ppg's group once the restore did n
// items of phase.
func killPPG(phase migrate.Phase, line string, n int) func(t *testing.T, m *migration, p *process) {
	return func(t *testing.T, m *migration, p *process) {
		inPhaseItems(p, phase, line, n)
		p.kill()
	}
}

// killGateway is a fault: the gateway's sessions killed once ready
// returns.
func killGateway(ready func(t *testing.T, m *migration, p *process)) func(t *testing.T, m *migration, p *process) {
	return func(t *testing.T, m *migration, p *process) {
		ready(t, m, p)
		if p.exited() {
			t.Fatalf("ppg ended before the gateway's sessions could be killed:\n%s", p.result().show())
		}
		if n := m.gateway.KillSessions(); n == 0 {
			t.Fatal("the gateway had no session to kill")
		}
	}
}

// dataLoading waits until the restore's data section loaded 3 tables.
func dataLoading(t *testing.T, m *migration, p *process) {
	p.waitFor(eventWhere("the restore's data section with 3 tables loaded", func(ev event) bool {
		return progressOf("restore").matches(ev) && ev.Progress.Phase == migrate.PhaseData && ev.Progress.TablesDone >= 3
	}))
}

// policiesRestored waits until the target, in the restore's post-data
// section, holds row level security policies and extended statistics.
func policiesRestored(t *testing.T, m *migration, p *process) {
	t.Helper()
	p.waitFor(eventWhere("the restore's post-data section", func(ev event) bool {
		return progressOf("restore").matches(ev) && ev.Progress.Phase == migrate.PhasePostData
	}))
	waitFor(t, 2*time.Minute, "policies and extended statistics on the target", func() bool {
		return p.exited() || m.target.number(`SELECT least((SELECT count(*) FROM pg_policy), (SELECT count(*) FROM pg_statistic_ext))`) > 0
	})
	if m.target.number(`SELECT count(*) FROM pg_matviews WHERE ispopulated`) != 0 {
		t.Fatal("the materialized view was refreshed before the sessions were killed: the fault comes too late")
	}
}

func TestFaultMatrix(t *testing.T) {
	began := time.Now()
	// 2 MB/s a session and direction: the data section takes a few
	// seconds.
	m := newMigration(t, withBandwidth(2<<20))
	m.source.exec(faultSourceSQL()...)
	t.Logf("source: %d bytes of COPY text, %d large objects; set up in %.1f s",
		m.source.copyBytes(), len(m.source.largeObjects()), time.Since(began).Seconds())

	noRetries := []string{"--retries=0"}
	cases := []faultCase{
		{name: "sigkill pre-data", fault: killPPG(migrate.PhaseSchema, "restored TABLE", 60), exit: -1, sections: []string{}, from: "restore"},
		{name: "sigkill data", fault: killPPG(migrate.PhaseData, "restored TABLE DATA", 13), exit: -1, sections: []string{"pre-data"}, from: "restore"},
		{name: "sigkill post-data", fault: killPPG(migrate.PhasePostData, "restored ", 20), exit: -1, sections: []string{"pre-data", "data"}, from: "restore"},
		{name: "sigint data", fault: func(t *testing.T, m *migration, p *process) {
			dataLoading(t, m, p)
			p.signalPPG(syscall.SIGINT)
		}, exit: 130, sections: []string{"pre-data"}, from: "restore"},
		{name: "gateway dump", args: noRetries, fault: killGateway(func(t *testing.T, m *migration, p *process) {
			p.waitFor(eventWhere("the dump copying a table", func(ev event) bool {
				return progressOf("dump").matches(ev) && ev.Progress.Current != ""
			}))
		}), exit: 4, failed: "dump", from: "dump"},
		{name: "gateway data", args: noRetries, fault: killGateway(dataLoading), exit: 4, failed: "restore", sections: []string{"pre-data"}, from: "restore"},
		{name: "gateway post-data", args: noRetries, prepare: func(t *testing.T, m *migration) {
			// Keeps the refresh of the materialized view, the last item of
			// post-data, busy: the fault lands after policies and
			// statistics were created, before the section ends.
			m.target.exec("ALTER DATABASE " + pgx.Identifier{m.target.name}.Sanitize() + " SET ppg_e2e.refresh_pause = '3'")
		}, fault: killGateway(policiesRestored), exit: 4, failed: "restore", sections: []string{"pre-data", "data"}, from: "restore"},
		{name: "dump changed", fault: killPPG(migrate.PhaseData, "restored TABLE DATA", 13), exit: -1, between: func(t *testing.T, m *migration) {
			path := dumpPath(m.dir, m.state())
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("appended after the dump")); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}, from: "dump", warning: []string{"changed since it was written", "dumping again"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			m := m.sub(t)
			m.newTarget(fmt.Sprintf("ga_fault_%d", i))
			if tc.prepare != nil {
				tc.prepare(t, m)
			}
			args := append(slices.Clone(headless), tc.args...)
			p := m.start(args...)
			tc.fault(t, m, p)
			r1 := p.wait()
			r1.wantExit(tc.exit)
			p.groupGone()
			waitFor(t, 15*time.Second, "the gateway's sessions to end", func() bool { return m.gateway.Stats().Active == 0 })
			failed := r1.all(stepFailed(anyStep))
			switch tc.exit {
			case 4:
				if len(failed) != 1 || failed[0].Step != tc.failed {
					t.Fatalf("want one step_failed for %s, got %+v\n%s", tc.failed, failed, r1.show())
				}
				// The way out: the same command again.
				if !strings.Contains(failed[0].Hint, "migrate-from-ea again") {
					t.Errorf("the failure's hint %q does not say to run ppg migrate-from-ea again", failed[0].Hint)
				}
				if failed[0].Failure == nil || !failed[0].Failure.Resumable || failed[0].Failure.NeedsRestart {
					t.Errorf("the failure is not marked resumable by a plain re-run: %+v", failed[0].Failure)
				}
			case 130:
				if len(failed) != 0 {
					t.Errorf("an interruption is not a failure, got %+v", failed)
				}
				if !strings.Contains(r1.stderr, "stopped") {
					t.Errorf("stderr does not say ppg stopped:\n%s", r1.stderr)
				}
			}
			s1 := m.state()
			if tc.sections != nil {
				// The stop landed where the case says: the sections before
				// it done, the restore started.
				if s1.Restore == nil || !slices.Equal(s1.Restore.Sections, tc.sections) || len(s1.Restore.StartedSections) <= len(tc.sections) {
					t.Fatalf("state's restore record %+v: want %v done and the next section started", s1.Restore, tc.sections)
				}
				wantDumpIntact(t, m.dir, s1)
			}
			first := time.Since(began)
			var spoiled string
			if tc.between != nil {
				tc.between(t, m)
				spoiled = fileSHA256(t, dumpPath(m.dir, s1))
			}

			r2 := m.run(args...)
			r2.wantExit(0)
			if got, want := r2.started(), stepsFrom(tc.from); !slices.Equal(got, want) {
				t.Errorf("the second run started steps %v, want %v", got, want)
			}
			if len(tc.warning) > 0 && !r2.has(warningOf(anyStep).saying(tc.warning...)) {
				t.Errorf("no warning saying %q:\n%s", tc.warning, describe(r2.events))
			}
			if ev := r2.all(stepStarted(tc.from)); len(ev) == 0 || !ev[0].Resumed {
				t.Errorf("the %s step was not marked resumed: %+v", tc.from, ev)
			}
			r2.wantVerified()
			compareFaultTarget(t, m.source, m.target)
			s2 := m.state()
			wantAllDone(t, m.dir, s2)
			if spoiled != "" && s2.Dump.SHA256 == spoiled {
				t.Errorf("the changed dump %s was used as it was", s2.Dump.Path)
			}
			wantNoLeftovers(t, m.dir)
			t.Logf("stopped after %.1f s (exit %d); the second run took %.1f s", first.Seconds(), r1.code, r2.elapsed.Seconds())
		})
	}

	// With the default retries, sessions killed during the data section
	// do not stop the run: it retries where it stopped and ends complete.
	t.Run("gateway data retried", func(t *testing.T) {
		m := m.sub(t)
		m.newTarget("ga_fault_retried")
		p := m.start(headless...)
		killGateway(dataLoading)(t, m, p)
		r := p.wait()
		r.wantExit(0)
		if failed := r.all(stepFailed(anyStep)); len(failed) != 0 {
			t.Errorf("a retried step is not a failure, got %+v", failed)
		}
		retried := r.all(eventWhere("a retry", func(ev event) bool {
			return ev.Notice != nil && ev.Notice.Code == migrate.NoticeRetrying
		}))
		if len(retried) == 0 || retried[0].Step != "restore" {
			t.Errorf("want a retry of the restore, got %+v\n%s", retried, describe(r.events))
		}
		r.wantVerified()
		compareFaultTarget(t, m.source, m.target)
		wantAllDone(t, m.dir, m.state())
		wantNoLeftovers(t, m.dir)
		t.Logf("one run with a retry: %.1f s", r.elapsed.Seconds())
	})
	t.Logf("the matrix took %.1f s", time.Since(began).Seconds())
}
