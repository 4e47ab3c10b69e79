package tui

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// The goldens of ppg migrate: the same screens in the words of the
// generic flow, source and target, never EA or GA.

// eaWords finds the words of migrate-from-ea.
var eaWords = regexp.MustCompile(`\b(EA|GA)\b|Early Access|General Availability|migrate-from-ea`)

// migrateOptions are testOptions for ppg migrate.
func migrateOptions(dir string, f *fake, s script) Options {
	o := testOptions(dir, f, s)
	o.Flow, o.DumpPrefix = words.Migrate, "ppg"
	return o
}

// goldenMigrate is golden for a screen of ppg migrate, which must not use
// the EA flow's words.
func goldenMigrate(t *testing.T, m model) {
	t.Helper()
	if w := eaWords.FindString(m.View()); w != "" {
		t.Errorf("a screen of ppg migrate says %q:\n%s", w, m.View())
	}
	golden(t, m)
}

func TestGoldenMigrateStart(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, migrateOptions(t.TempDir(), f, askEA(f)), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	goldenMigrate(t, h.final())
}

func TestGoldenMigrateKeySource(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, migrateOptions(t.TempDir(), f, askEA(f)), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key of your source database")
	h.send(paste(secret))
	h.wait(fmt.Sprintf("(%d characters)", len(secret)))
	fm := h.final()
	goldenMigrate(t, fm)
	checkNoSecret(t, h.all.String()+fm.View(), secret)
}

func TestGoldenMigrateKeyTarget(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, migrateOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectTarget, time.Second))
		if _, err := p.Key(ctx, migrate.Target, nil); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), nil, nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key of your new target database")
	goldenMigrate(t, h.final())
}

func TestGoldenMigrateDone(t *testing.T) {
	dir := t.TempDir()
	state := stateAt(t, dir, migrate.StepVerify)
	if err := state.Save(dir, base); err != nil {
		t.Fatal(err)
	}
	f := &fake{}
	m := newTestModel(t, migrateOptions(dir, f, verifyScript(false)), state, nil)
	h := start(t, m, 80, 24)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("Verification: 30 tables")
	fm := h.final()
	if fm.mig.result != nil || fm.screen != screenDone {
		t.Fatalf("result %v, screen %d; want the done screen", fm.mig.result, fm.screen)
	}
	goldenMigrate(t, fm)
}
