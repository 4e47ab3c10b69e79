package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
)

// The goldens are the last frame (View) of a program driven by a fake
// engine, at a fixed size, with a fixed clock and no animation. The raw
// terminal stream is not compared: how the renderer batches frames depends
// on timing. Refresh with go test ./tui -update.

func TestGoldenStartFresh(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, 0))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	fm := h.final()
	if fm.screen != screenStart {
		t.Fatalf("screen %d, want the start screen until the user goes on", fm.screen)
	}
	golden(t, fm)
}

func TestGoldenStartResume(t *testing.T) {
	dir := t.TempDir()
	state := stateAt(t, dir, migrate.StepConnectTarget)
	rec := state.Step(migrate.StepConnectTarget)
	rec.Status, rec.Attempts, rec.Error = migrate.Failed, 1, "connect to the GA database: the API key was refused (HTTP 401)"
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, waitScript), state, nil)
	h := start(t, m, 80, 24)
	h.wait("Next: connect")
	golden(t, h.final())
	if f.snapshot().runs != 0 {
		t.Error("the engine started before the user chose")
	}
}

func TestGoldenStartOverConfirm(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, waitScript), stateAt(t, dir, migrate.StepRestore), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: restore")
	h.keys("s")
	h.wait("Start over?")
	golden(t, h.final())
}

func waitScript(ctx context.Context, _ migrate.Prompter, _ func(migrate.Event)) error {
	return waitCtx(ctx)
}

// askEA is a script that checks the tools, then asks for the EA key until
// the prompter fails, refusing each key with problems in turn.
func askEA(f *fake, problems ...error) script {
	return func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		var problem error
		for i := 0; ; i++ {
			k, err := p.Key(ctx, migrate.Source, problem)
			if err != nil {
				return err
			}
			f.key(k)
			if i >= len(problems) {
				return waitCtx(ctx)
			}
			problem = problems[i]
		}
	}
}

// secret is a key as pasted: long, and with characters that appear nowhere
// in the wizard's own text.
var secret = "eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ" + strings.Repeat("Qx7Zk9Wv", 30) + ".Rq2Xk8Vz"

func TestGoldenKeyEA(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, askEA(f)), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key of your Early Access")
	h.tm.Type(secret[:40])
	h.send(paste(secret[40:]))
	h.wait(fmt.Sprintf("(%d characters)", len(secret)))
	fm := h.final()
	golden(t, fm)
	checkNoSecret(t, h.all.String()+fm.View(), secret)
}

func TestGoldenKeyError(t *testing.T) {
	f := &fake{}
	refused := errors.New("connect to the EA database: the API key was refused (HTTP 401, request id 7c1e): check that you copied the whole key")
	m := newTestModel(t, testOptions(t.TempDir(), f, askEA(f, refused)), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret + "\n"))
	h.keys("enter")
	h.wait("refused")
	fm := h.final()
	golden(t, fm)
	checkNoSecret(t, h.all.String()+fm.View(), secret)
	if got := f.snapshot().keys; len(got) != 1 || got[0] != secret {
		t.Errorf("the engine got %d keys, want the pasted key without its line break", len(got))
	}
}

func TestGoldenSourceSummary(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		if _, err := p.Confirm(ctx, sourceQuestion); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("Dump this EA database?")
	golden(t, h.final())
}

// dumpScript goes through the EA key and the source summary to a dump 45%
// through.
func dumpScript(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
	checkTools(emit)
	emit(started(migrate.StepConnectSource, time.Second))
	if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
		return err
	}
	ok, err := p.Confirm(ctx, sourceQuestion)
	if err != nil {
		return err
	}
	if !ok {
		return &migrate.StepError{Step: migrate.StepConnectSource, Err: migrate.ErrDeclined, Resumable: true}
	}
	emit(finishedEv(migrate.StepConnectSource, &migrate.Summary{Database: testSource}, time.Second))
	dumpMidway(emit)
	return waitCtx(ctx)
}

func driveToDump(h *harness) {
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("Dump this EA database?")
	h.keys("y")
	h.wait("public.orders")
}

func TestGoldenDumpProgress(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpScript), nil, nil)
	h := start(t, m, 80, 24)
	driveToDump(h)
	fm := h.final()
	golden(t, fm)
	checkNoSecret(t, h.all.String()+fm.View(), secret)
}

func TestGoldenDumpProgressLarge(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpScript), nil, nil)
	h := start(t, m, 120, 40)
	driveToDump(h)
	golden(t, h.final())
}

func TestGoldenResize(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpScript), nil, nil)
	h := start(t, m, 120, 40)
	driveToDump(h)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.wait("Now: public.orders")
	fm := h.final()
	if fm.width != 80 || fm.height != 24 {
		t.Fatalf("size %dx%d after the resize", fm.width, fm.height)
	}
	golden(t, fm)
}

func TestGoldenCtrlC(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpScript), nil, nil)
	h := start(t, m, 80, 24)
	driveToDump(h)
	h.keys("ctrl+c")
	h.wait("Stop the migration?")
	golden(t, h.final())
}

func TestStopQuitsAfterEngine(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, dumpScript), nil, nil)
	h := start(t, m, 80, 24)
	driveToDump(h)
	h.keys("ctrl+c")
	h.wait("Stop the migration?")
	h.keys("y")
	fm := h.finished()
	if !f.snapshot().canceled {
		t.Error("the engine's ctx was not cancelled")
	}
	if !fm.mig.exited || !errors.Is(fm.mig.result, context.Canceled) {
		t.Errorf("quit with exited=%v result=%v, want after the engine returned context.Canceled", fm.mig.exited, fm.mig.result)
	}
}

// gaScript resumes at connect-target and asks for the GA key; nonEmpty
// then asks to restore into a target that is not empty.
func gaScript(nonEmpty bool) script {
	return func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		emit(started(migrate.StepConnectTarget, 0))
		if _, err := p.Key(ctx, migrate.Target, nil); err != nil {
			return err
		}
		if nonEmpty {
			if _, err := p.Confirm(ctx, nonEmptyQuestion); err != nil {
				return err
			}
		}
		return waitCtx(ctx)
	}
}

func TestGoldenKeyGA(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, gaScript(false)), stateAt(t, dir, migrate.StepConnectTarget), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: connect")
	h.keys("enter")
	h.wait("General Availability")
	h.tm.Type("ab")
	h.wait("(2 characters)")
	golden(t, h.final())
}

func TestGoldenNonEmptyTarget(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, gaScript(true)), stateAt(t, dir, migrate.StepConnectTarget), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: connect")
	h.keys("enter")
	h.wait("General Availability")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("not empty?")
	h.keys("y", "e")
	h.wait("› ye")
	golden(t, h.final())
}

// restoreScript resumes a restore in its data phase, with warnings.
func restoreScript(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
	st := migrate.StepRestore
	e := started(st, 0)
	e.Resumed = true
	emit(e)
	emit(migrate.Event{Kind: migrate.Info, Step: st, Time: at(time.Second), Notice: &migrate.Notice{Code: migrate.NoticeDataResumed, Count: 80, Of: 230}})
	emit(progressEv(st, migrate.ProgressInfo{Phase: migrate.PhaseData, TablesDone: 80, TablesTotal: 230, BytesDone: 300_000_000, BytesTotal: 1_200_000_000, Warnings: 1}, time.Second))
	for i := 0; i < 30; i++ {
		emit(lineEv(st, fmt.Sprintf(`pg_restore: processing data for table "public.table_%03d"`, 80+i)))
	}
	emit(noticeEv(migrate.Warning, st, migrate.Notice{Code: migrate.NoticeHarmlessError, Cause: `extension "plpgsql" already exists`, Harmless: migrate.HarmlessResumed}, 2*time.Second))
	emit(noticeEv(migrate.Warning, st, migrate.Notice{Code: migrate.NoticeHarmlessError, Cause: `schema "public" already exists`, Harmless: migrate.HarmlessPublicSchema}, 2*time.Second))
	emit(progressEv(st, migrate.ProgressInfo{Phase: migrate.PhaseData, TablesDone: 150, TablesTotal: 230, BytesDone: 900_000_000, BytesTotal: 1_200_000_000, Current: "public.line_items", Warnings: 3}, 60*time.Second))
	emit(lineEv(st, `pg_restore: processing data for table "public.line_items"`))
	return waitCtx(ctx)
}

func TestGoldenRestoreProgress(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, restoreScript), stateAt(t, dir, migrate.StepRestore), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: restore")
	h.keys("enter")
	h.wait("public.line_items")
	golden(t, h.final())
}

func TestGoldenRestoreWarnings(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, restoreScript), stateAt(t, dir, migrate.StepRestore), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: restore")
	h.keys("enter")
	h.wait("public.line_items")
	h.keys("w")
	h.wait("Warnings (3)")
	golden(t, h.final())
}

// report is a verification of 30 tables of which one differs.
func report(mismatch bool) *migrate.VerifyReport {
	r := &migrate.VerifyReport{Sequences: 41, Snapshot: true}
	for i := 0; i < 30; i++ {
		n := int64(1000 * (i + 1))
		r.Tables = append(r.Tables, migrate.TableCheck{Name: fmt.Sprintf("public.table_%03d", i), Source: n, Target: n})
	}
	r.Objects = []migrate.ObjectCheck{{Kind: "tables", Source: 30, Target: 30}, {Kind: "indexes", Source: 52, Target: 52},
		{Kind: "constraints", Source: 61, Target: 61}, {Kind: "functions", Source: 4, Target: 4}, {Kind: "extensions", Source: 1, Target: 2}}
	if mismatch {
		r.Tables[17].Target = 17_980
		r.Mismatches = []migrate.Mismatch{{Kind: "table", Name: "public.table_017", Source: 18_000, Target: 17_980}}
	}
	return r
}

func verifyScript(mismatch bool) script {
	return func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		st := migrate.StepVerify
		emit(started(st, 0))
		info := ev(migrate.Report, st, 5*time.Second)
		info.Report = report(mismatch)
		emit(info)
		if mismatch {
			fail, se := failedEv(st, &migrate.VerifyError{Mismatches: info.Report.Mismatches}, nil, 5*time.Second)
			emit(fail)
			return se
		}
		emit(finishedEv(st, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41}}, 5*time.Second))
		return nil
	}
}

func TestGoldenVerifyMismatch(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, verifyScript(true)), stateAt(t, dir, migrate.StepVerify), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("differs from the dump")
	fm := h.final()
	var se *migrate.StepError
	if !errors.As(fm.mig.result, &se) || se.Step != migrate.StepVerify {
		t.Errorf("result %v, want the verify step's error", fm.mig.result)
	}
	golden(t, fm)
}

func TestGoldenDone(t *testing.T) {
	dir := t.TempDir()
	state := stateAt(t, dir, migrate.StepVerify)
	if err := state.Save(dir, base); err != nil {
		t.Fatal(err)
	}
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, verifyScript(false)), state, nil)
	h := start(t, m, 80, 24)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("Verification: 30 tables")
	fm := h.final()
	if fm.mig.result != nil || fm.screen != screenDone {
		t.Fatalf("result %v, screen %d; want the done screen", fm.mig.result, fm.screen)
	}
	golden(t, fm)
}

func TestGoldenFailure(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		st := migrate.StepDump
		emit(started(st, 0))
		dumpLines(emit, 1, 5)
		err := errors.New("pg_dump failed: pg_dump exited with status 1: error: query failed: server closed the connection unexpectedly")
		tail := []string{
			`pg_dump: dumping contents of table "public.table_004"`,
			`pg_dump: dumping contents of table "public.table_005"`,
			"pg_dump: error: Dumping the contents of table \"events\" failed: PQgetResult() failed.",
			"pg_dump: detail: Error message from server: server closed the connection unexpectedly",
			"\tThis probably means the server terminated abnormally",
			"pg_dump: detail: Command was: COPY public.events (id, kind, payload, created_at) TO stdout;",
		}
		fail, se := failedEv(st, err, tail, 30*time.Second)
		emit(fail)
		return se
	}), stateAt(t, dir, migrate.StepDump), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: dump")
	h.keys("enter")
	h.wait("failed")
	golden(t, h.final())
}

func checkNoSecret(t *testing.T, out, key string) {
	t.Helper()
	plain := out
	// Any 6 characters in a row of the key would be a leak.
	for i := 0; i+6 <= len(key); i++ {
		if strings.Contains(plain, key[i:i+6]) {
			t.Fatalf("the output shows part of the key: %q", key[i:i+6])
		}
	}
}
