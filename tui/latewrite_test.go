package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
)

// The wizard's "dump again?" question names the tables written to after
// the dump's snapshot and the snapshot's moment, to the second; when the
// source keeps being written to past the dumps made again, the failure
// says what to do in the wizard's words, not by a headless flag.

// snapshot is the moment of the dump's snapshot in these tests: 14 s
// before the clock's, a write 2 s after it is not in the dump.
var snapshot = at(clockAt - 14*time.Second)

// lateWrites is the engine's question at the dump's end.
var lateWrites = migrate.Question{Kind: migrate.ConfirmRedump, Writes: 2,
	Changed: []string{"public.orders", "public.order_items"}, DumpedAt: snapshot}

// dumpThen runs the source's key, its confirmation and half a dump, then
// then.
func dumpThen(then func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error) script {
	return func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		if _, err := p.Confirm(ctx, sourceQuestion); err != nil {
			return err
		}
		emit(finishedEv(migrate.StepConnectSource, &migrate.Summary{Database: testSource}, time.Second))
		dumpMidway(emit)
		return then(ctx, p, emit)
	}
}

func pasteAndDump(h *harness) {
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("Dump this EA database?")
	h.keys("y")
}

func TestGoldenRedumpQuestion(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpThen(func(ctx context.Context, p migrate.Prompter, _ func(migrate.Event)) error {
		if _, err := p.Confirm(ctx, lateWrites); err != nil {
			return err
		}
		return waitCtx(ctx)
	})), nil, nil)
	h := start(t, m, 80, 24)
	pasteAndDump(h)
	h.wait("Dump again?")
	fm := h.final()
	wantSaid(t, fm, []string{"2 rows were inserted, updated or deleted after the dump's snapshot of 10:30:58; they are not in the dump.",
		"2 tables written to: public.orders, public.order_items."}, nil)
	golden(t, fm)
}

// The question after the dump names the snapshot's moment to the second
// as well.
func TestSourceChangedQuestionNamesTheSnapshot(t *testing.T) {
	c := newConfirmModel(migrate.Question{Kind: migrate.ConfirmSourceChanged, Changed: []string{"public.orders"}, DumpedAt: snapshot})
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, waitScript), nil, nil)
	v := strings.Join(strings.Fields(c.content(m.screenCtx())), " ")
	if !strings.Contains(v, "The dump's snapshot was taken at 10:30:58. Since then 1 table changed: public.orders.") {
		t.Errorf("the question after the dump says:\n%s", v)
	}
}

// The limit of dumps made again, reached in the wizard: the failure names
// no flag of the headless commands.
func TestGoldenRedumpLimit(t *testing.T) {
	limit := &migrate.SourceChangedError{Tables: []string{"public.orders"}, Writes: 1, DumpedAt: snapshot, Step: migrate.StepDump, Redumps: 3}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpThen(func(_ context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		fail, se := failedEv(migrate.StepDump, limit, nil, 90*time.Second)
		emit(fail)
		return se
	})), nil, nil)
	h := start(t, m, 80, 24)
	pasteAndDump(h)
	h.wait("Dump the EA database failed")
	fm := h.final()
	wantSaid(t, fm, []string{"was written to again after each of the 3 dumps made again", "stop your application's writes to the EA database, then run ppg migrate-from-ea again: it dumps again"},
		[]string{"--on-source-change"})
	golden(t, fm)
	_, se := failedEv(migrate.StepDump, limit, nil, 0)
	if sum := summary(fm, se); strings.Contains(sum, "--on-source-change") || !strings.Contains(sum, "dumps made again") {
		t.Errorf("the summary of the redump limit says:\n%s", sum)
	}
}

// The choice the user made at the "dump again?" question is shown again
// on the last screen.
func TestGoldenDoneAfterRedump(t *testing.T) {
	// The snapshot's moment prints in the local zone: fix it.
	local := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = local })
	dir := t.TempDir()
	decision := migrate.ChangeDecision{Choice: migrate.ChangeRedump, Asked: true, Step: migrate.StepDump, Tables: []string{"public.orders"}, Writes: 2,
		SnapshotAt: snapshot.Add(-time.Minute), At: at(clockAt - 50*time.Second)}
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, func(_ context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		st := migrate.StepVerify
		emit(started(st, 0))
		info := ev(migrate.Report, st, 5*time.Second)
		info.Report = report(false)
		emit(info)
		v := &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41, DumpedAt: snapshot, SourceChanges: []migrate.ChangeDecision{decision}}
		emit(finishedEv(st, &migrate.Summary{Verified: v}, 5*time.Second))
		return nil
	}), stateAt(t, dir, migrate.StepVerify), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("Verification: 30 tables")
	fm := h.final()
	wantSaid(t, fm, []string{"The EA database was written to during the dump (after its snapshot of 2025-03-14 10:29:58 UTC); as you chose, it was dumped again, so the GA database holds those writes.",
		"The dump's snapshot was taken at 2025-03-14 10:30:58 UTC"}, []string{"--on-source-change"})
	golden(t, fm)
}

// At 60x15 the question with its tables, and the start screen of a
// folder of the other flow, fit the window and say how to scroll.
func TestLateWritesAndOtherFlowFitAt60x15(t *testing.T) {
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, waitScript), nil, nil)
	m, _ = apply(t, m, tea.WindowSizeMsg{Width: 60, Height: 15}, keyMsg("enter"))
	dumpMidway(func(e migrate.Event) { m, _ = apply(t, m, batch(e)) })
	m, _ = apply(t, m, batch(confirmAsk(lateWrites)))
	if v := flat(m); !strings.Contains(v, "Dump again?") || !strings.Contains(v, "2 tables written to: public.orders, public.order_items.") {
		t.Fatalf("the question is not shown whole:\n%s", plain(m))
	}
	checkFits(t, m.View(), 60, 15)

	st := stateAt(t, goldenDir, migrate.StepRestore)
	st.Flow = "ppg"
	opts := testOptions(goldenDir, &fake{}, waitScript)
	opts.DumpPrefix = "ppg-ea"
	o := newTestModel(t, opts, st, nil)
	o, _ = apply(t, o, tea.WindowSizeMsg{Width: 60, Height: 15})
	checkFits(t, o.View(), 60, 15)
	if v := flat(o); !strings.Contains(v, "This folder holds a migration of another ppg command") {
		t.Errorf("the start screen at 60x15 does not say whose folder it is:\n%s", plain(o))
	}
}
