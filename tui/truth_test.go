package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// The wizard says only what is true (issue 16): the part that failed,
// the plan's question of a swapped key, "progress is saved" only when a
// state file holds it, a start over with another target, a finished
// migration, a folder whose record cannot be used, and every screen at
// 60x15.

// flat is the view's text with its lines joined, for sentences that wrap.
func flat(m model) string { return strings.Join(strings.Fields(plain(m)), " ") }

func wantSaid(t *testing.T, m model, says []string, never []string) {
	t.Helper()
	v := flat(m)
	for _, s := range says {
		if !strings.Contains(v, s) {
			t.Errorf("the screen does not say %q:\n%s", s, plain(m))
		}
	}
	for _, s := range never {
		if strings.Contains(v, s) {
			t.Errorf("the screen says %q:\n%s", s, plain(m))
		}
	}
}

// bothKeys asks for the EA key and, early, the GA key, then runs then.
func bothKeys(then func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error) script {
	return func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		if _, err := p.(migrate.EarlyPrompter).EarlyKey(ctx, migrate.Target, nil); err != nil && !errors.Is(err, migrate.ErrLater) {
			return err
		}
		return then(ctx, p, emit)
	}
}

// failConnect fails connect-source with err, as the engine does.
func failConnect(err error) func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
	return func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		fail, se := failedEv(migrate.StepConnectSource, err, nil, 2*time.Second)
		emit(fail)
		return se
	}
}

func pasteBothKeys(h *harness) {
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("ctrl+l")
	h.send(paste(secret[5:]))
	h.keys("enter")
}

// The GA key pasted as the EA key connects fine: the plan refuses (the
// target is older), and asks whether the keys were swapped.
func TestGoldenPlanBlocksSwappedKeys(t *testing.T) {
	plan := &migrate.Plan{TargetKnown: true, Items: []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictBlocks, Source: 170010, Target: 160004},
		{Code: migrate.CheckSwapped, Verdict: migrate.VerdictWarn, Source: 170010},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	}}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, bothKeys(failConnect(&migrate.PlanError{Plan: plan}))), nil, nil)
	h := start(t, m, 80, 24)
	pasteBothKeys(h)
	h.wait("plan blocks")
	fm := h.final()
	wantSaid(t, fm, []string{"✗ The plan blocks the migration", "the GA database is older", "the EA database holds no tables: is this the GA database's key?",
		"Nothing was saved yet"}, []string{"Connect to the EA database failed"})
	sum := summary(fm, fm.mig.result)
	if !strings.Contains(sum, "The plan blocks the migration") || !strings.Contains(sum, "is this the GA database's key?") {
		t.Errorf("the summary after the wizard does not name the plan and its question:\n%s", sum)
	}
	golden(t, fm)
}

// Only pg_dump 15 on PATH: the tools check failed, not the connection.
func TestGoldenToolsTooOld(t *testing.T) {
	old := pgtools.Tool{Name: "pg_dump", Path: "/usr/lib/postgresql/15/bin/pg_dump", Version: pgtools.Version{Major: 15, Minor: 10}}
	nf := &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 16, Reason: "to dump a PostgreSQL 16 server", Found: []pgtools.Tool{old}, GOOS: "linux"}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		return failConnect(nf)(ctx, p, emit)
	}), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("failed")
	fm := h.final()
	wantSaid(t, fm, []string{"✗ Check pg_dump and pg_restore failed"}, []string{"Connect to the EA database failed"})
	golden(t, fm)
}

// Ctrl-C at the GA key prompt of a fresh run: nothing is saved, and the
// stop question and the summary say so.
func TestGoldenStopAtGAKeyOfFreshRun(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, bothKeys(func(ctx context.Context, _ migrate.Prompter, _ func(migrate.Event)) error {
		return waitCtx(ctx)
	})), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("ctrl+l")
	h.keys("ctrl+c")
	h.wait("Stop the migration?")
	fm := h.final()
	wantSaid(t, fm, []string{"Stop the migration? Nothing is saved yet: ppg migrate-from-ea --dir", "starts again from the"}, []string{"Progress is saved", "resume"})
	golden(t, fm)
	sum := summary(fm, context.Canceled)
	if !strings.Contains(sum, "nothing was saved yet") || strings.Contains(sum, "resume") || strings.Contains(sum, "progress is saved") {
		t.Errorf("the summary after a stop at the GA key claims progress:\n%s", sum)
	}
}

// Start over in a folder of a finished migration, then "n" at "Dump this
// EA database?": nothing of the new start is saved, and the earlier
// migration stays as it was, which is what the screen says.
func TestGoldenStartOverThenDecline(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, dumpScript), stateAt(t, dir, migrate.StepDone), nil)
	h := start(t, m, 80, 24)
	h.wait("Every step is done")
	h.keys("s")
	h.wait("Start over?")
	h.keys("y")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("Dump this EA database?")
	h.keys("n")
	h.wait("Stopped at your request")
	fm := h.final()
	wantSaid(t, fm, []string{"the folder keeps the earlier migration as it was"}, []string{"Progress is saved", "resume"})
	golden(t, fm)
	sum := summary(fm, context.Canceled)
	if strings.Contains(sum, "progress is saved") || strings.Contains(sum, "resume") {
		t.Errorf("the summary after a declined start over claims progress:\n%s", sum)
	}
}

// A finished migration offers its report or a start over, not to continue.
func TestGoldenStartFinished(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, waitScript), stateAt(t, dir, migrate.StepDone), nil)
	h := start(t, m, 80, 24)
	h.wait("Every step is done")
	fm := h.final()
	wantSaid(t, fm, []string{"Every step is done. Show its report, or start over?", "enter show the report"}, []string{"Continue where it stopped", "enter continue"})
	golden(t, fm)
}

// A start over whose GA key is another database's: the prompt does not ask
// for the same key, and the plan says the target changed.
func TestGoldenStartOverOtherTarget(t *testing.T) {
	dir := t.TempDir()
	q := sourceQuestion
	q.Plan = &migrate.Plan{TargetKnown: true, Items: []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004, Target: 170002},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	}}
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, bothKeys(func(ctx context.Context, p migrate.Prompter, _ func(migrate.Event)) error {
		if _, err := p.Confirm(ctx, q); err != nil {
			return err
		}
		return waitCtx(ctx)
	})), stateAt(t, dir, migrate.StepDone), nil)
	h := start(t, m, 80, 24)
	h.wait("Every step is done")
	h.keys("s")
	h.wait("Start over?")
	h.keys("y")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("ctrl+l")
	h.send(paste(secret[5:]))
	h.keys("enter")
	h.wait("Dump this EA database?")
	fm := h.final()
	wantSaid(t, fm, []string{"the GA database is not the one of the migration you started over (prisma+postgres://…77b1 (key 77b1e2d4))"}, nil)
	golden(t, fm)
}

// The early GA key prompt after a start over: the earlier target is named,
// and any database will do.
func TestGoldenStartOverKeyGA(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, bothKeys(failConnect(errors.New("unused")))), stateAt(t, dir, migrate.StepDone), nil)
	h := start(t, m, 80, 24)
	h.wait("Every step is done")
	h.keys("s")
	h.wait("Start over?")
	h.keys("y")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("ctrl+l")
	fm := h.final()
	wantSaid(t, fm, []string{"The migration you started over used prisma+postgres://…77b1 (key 77b1e2d4): paste its key to use it again, or another database's key",
		"Step 2 of 7 · Connect to the GA database, for the plan"}, []string{"paste the same key", "Connect to the EA database"})
	golden(t, fm)
}

// A record that cannot be used is said through words, with its hint.
func TestGoldenUnusableRecord(t *testing.T) {
	_, stateErr := migrate.DecodeState([]byte(`{"version": 99}`))
	if stateErr == nil {
		t.Fatal("a state file of version 99 decoded")
	}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, waitScript), nil, stateErr)
	h := start(t, m, 80, 24)
	h.wait("cannot be used")
	golden(t, h.final())
}

// The box of a target to empty and its help say the same thing.
func TestGoldenResetTarget(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		emit(started(migrate.StepConnectTarget, 0))
		if _, err := p.Key(ctx, migrate.Target, nil); err != nil {
			return err
		}
		if _, err := p.Confirm(ctx, migrate.Question{Kind: migrate.ConfirmResetTarget, Objects: 12}); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), stateAt(t, dir, migrate.StepConnectTarget), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: connect")
	h.keys("enter")
	h.wait("General Availability")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("restore again?")
	fm := h.final()
	wantSaid(t, fm, []string{"Type yes and press Enter to empty it", "yes+enter empty it", "esc keep it"}, []string{"restore into it"})
	golden(t, fm)
}

// A pasted .env file: the key's line is taken, and the screen says which.
func TestGoldenKeyEnvPaste(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, askEA(f)), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste("DIRECT_URL=\"postgres://app@db.example.com:5432/app\"\nDATABASE_URL=\"prisma+postgres://accelerate.prisma-data.net/?api_key=" + secret + "\"\n"))
	h.wait("pasted")
	fm := h.final()
	wantSaid(t, fm, []string{"The DATABASE_URL line of the 2 pasted lines of a .env file."}, nil)
	golden(t, fm)
	checkNoSecret(t, h.all.String()+fm.View(), secret)
}

// At 60x15: the intro's heading and parts show whole; the GA key's input
// stays visible after a paste; the plan says that it scrolls.
func TestGoldenSmallStart(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, askEA(f)), nil, nil)
	h := start(t, m, 60, 15)
	h.wait("restore 17.2")
	fm := h.final()
	wantSaid(t, fm, []string{"Move your Early Access database to a new General Availability database", "1. Dump", "2. Restore", "3. Verify", "Press Enter to begin."}, []string{"…"})
	golden(t, fm)
}

func TestGoldenSmallKeyGA(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, bothKeys(failConnect(errors.New("unused")))), nil, nil)
	h := start(t, m, 60, 15)
	h.wait("restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("ctrl+l")
	h.send(paste(secret[5:]))
	h.wait("characters)")
	fm := h.final()
	wantSaid(t, fm, []string{"› •••••••• (", "characters)"}, nil)
	golden(t, fm)
}

func TestGoldenSmallPlan(t *testing.T) {
	q := sourceQuestion
	q.Plan = &migrate.Plan{TargetKnown: true, Items: []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004, Target: 170002},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	}}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, bothKeys(func(ctx context.Context, p migrate.Prompter, _ func(migrate.Event)) error {
		if _, err := p.Confirm(ctx, q); err != nil {
			return err
		}
		return waitCtx(ctx)
	})), nil, nil)
	h := start(t, m, 60, 15)
	pasteBothKeys(h)
	h.wait("to scroll")
	fm := h.final()
	wantSaid(t, fm, []string{"↑/↓ to scroll, more below", "Step 2 of 7 · The plan"}, nil)
	golden(t, fm)
	seen := flat(fm)
	for range 10 {
		fm, _ = apply(t, fm, keyMsg("down"))
		checkFits(t, fm.View(), 60, 15)
		seen += flat(fm)
	}
	for _, want := range []string{"the GA database is empty", "Stop your application's writes to it until the migration is done"} {
		if !strings.Contains(seen, want) {
			t.Errorf("scrolling the plan at 60x15 never shows %q", want)
		}
	}
}

// Every screen of the table draws within 60x15 and names its keys, in
// the state it starts in.
func TestEveryScreenFitsAt60x15(t *testing.T) {
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, waitScript), nil, nil)
	m, _ = apply(t, m, tea.WindowSizeMsg{Width: 60, Height: 15})
	m.mig.continued = true
	for s := range screenCount {
		if m.screens[s] == nil {
			t.Fatalf("screen %d has no component", s)
		}
		m.screen = s
		checkFits(t, m.View(), 60, 15)
		if len(m.screens[s].helpKeys(m.screenCtx()).ShortHelp()) == 0 {
			t.Errorf("screen %d names no keys", s)
		}
	}
}

// Enter on a finished migration shows its report: the done screen, with
// the verdict the state file holds.
func TestFinishedMigrationShowsItsReport(t *testing.T) {
	m := resumedModel(t, migrate.StepDone)
	m, _ = apply(t, m, keyMsg("enter"))
	if !m.mig.continued || m.run == nil {
		t.Fatal("enter did not start the run that shows the report")
	}
	st := stateAt(t, t.TempDir(), migrate.StepDone)
	st.Verified = &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41}
	m, _ = apply(t, m, batch(migrate.Event{Kind: migrate.Finished, Time: at(0)}), engineDoneMsg{}, stateMsg{st})
	if m.screen != screenDone {
		t.Fatalf("screen %d, want the done screen:\n%s", m.screen, plain(m))
	}
	wantSaid(t, m, []string{"✓ Migration complete and verified", "The dump"}, []string{"Continue"})
}
