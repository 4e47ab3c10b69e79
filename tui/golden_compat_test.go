package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// The goldens of a PostgreSQL 18 source going into a 17 target: the plan
// the user confirms names each translation and the row security that the
// target's role bypasses, and the done screen says it again.

// plan18Into17 is the plan of an 18 source with translatable constructs
// and row security, into a 17 target whose role is a superuser.
var plan18Into17 = &migrate.Plan{TargetKnown: true, Jobs: 4, Items: []migrate.CheckItem{
	{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 180004, Target: 170010},
	{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	{Code: migrate.CheckCompat(migrate.CompatVirtualColumn), Verdict: migrate.VerdictHandled, Names: []string{"shop.items.total"}, Source: 180000, Target: 170000},
	{Code: migrate.CheckCompat(migrate.CompatNotEnforced), Verdict: migrate.VerdictHandled, Names: []string{"shop.reviews.reviews_item_fk"},
		Path: goldenDir + "/ppg-skipped.sql", Source: 180000, Target: 170000},
	{Code: migrate.CheckRowSecurity, Verdict: migrate.VerdictWarn, Names: []string{"shop.orders"}},
}}

func TestGoldenMigrateConfirm18Into17(t *testing.T) {
	f := &fake{}
	q := sourceQuestion
	src := *testSource
	src.Display, src.ServerVersion = "postgres://app@db.example.com:5432/app", 180004
	tools18 := pgtools.Toolset{
		Dump:    pgtools.Tool{Name: "pg_dump", Path: "/usr/lib/postgresql/18/bin/pg_dump", Version: pgtools.Version{Major: 18, Minor: 6}},
		Restore: pgtools.Tool{Name: "pg_restore", Path: "/usr/lib/postgresql/18/bin/pg_restore", Version: pgtools.Version{Major: 18, Minor: 6}},
	}
	q.Source, q.Plan, q.Tools = &src, plan18Into17, &tools18
	m := newTestModel(t, migrateOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, time.Second))
		if _, err := p.Key(ctx, migrate.Source, nil); err != nil {
			return err
		}
		if _, err := p.Confirm(ctx, q); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), nil, nil)
	h := start(t, m, 100, 40)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("will not restrict")
	fm := h.final()
	view := strings.Join(strings.Fields(fm.View()), " ")
	for _, want := range []string{"shop.items.total: virtual generated columns become stored ones", "shop.orders", "will not restrict an application that connects as that role"} {
		if !strings.Contains(view, want) {
			t.Errorf("the plan does not say %q:\n%s", want, fm.View())
		}
	}
	goldenMigrate(t, fm)
}

func TestGoldenMigrateDoneRowSecurity(t *testing.T) {
	dir := t.TempDir()
	state := stateAt(t, dir, migrate.StepVerify)
	if err := state.Save(dir, base); err != nil {
		t.Fatal(err)
	}
	f := &fake{}
	m := newTestModel(t, migrateOptions(dir, f, func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		st := migrate.StepVerify
		emit(started(st, 0))
		info := ev(migrate.Report, st, 5*time.Second)
		info.Report = report(false)
		emit(info)
		emit(finishedEv(st, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41,
			RowSecurityBypassed: []string{"shop.orders"}}}, 5*time.Second))
		return nil
	}), state, nil)
	h := start(t, m, 80, 30)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("Verification: 30 tables")
	fm := h.final()
	if fm.mig.result != nil || fm.screen != screenDone {
		t.Fatalf("result %v, screen %d; want the done screen", fm.mig.result, fm.screen)
	}
	view := strings.Join(strings.Fields(fm.View()), " ")
	if !strings.Contains(view, "Row security of shop.orders was restored") || !strings.Contains(view, "will not restrict an application") {
		t.Errorf("the done screen does not say the policies will not restrict the target's role:\n%s", fm.View())
	}
	goldenMigrate(t, fm)
}
