package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// Screens that answer the inputs of issue 12's "What was seen"; the whole
// list, and where each answer is shown, is in e2e/inputs_test.go.

// The GA database's key pasted for the EA database: PostgreSQL 17 and no
// tables. The source question says so before anything is dumped.
func TestGoldenSourceLooksLikeTarget(t *testing.T) {
	ga := &migrate.Database{Display: "prisma+postgres://accelerate.prisma-data.net/?api_key=…77b1 (key 77b1e2d4)", ServerVersion: 170010, Size: 7_600_000}
	plan := &migrate.Plan{Items: []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 170010},
		{Code: migrate.CheckSwapped, Verdict: migrate.VerdictWarn, Source: 170010},
	}}
	q := migrate.Question{Kind: migrate.ConfirmSource, Source: ga, Tools: &testTools, Plan: plan}
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
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
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("Dump this EA database?")
	fm := h.final()
	v := plain(fm)
	if !strings.Contains(v, "is this the GA database's key?") || !strings.Contains(v, "holds no tables") {
		t.Errorf("the source question does not ask whether this is the GA key:\n%s", v)
	}
	golden(t, fm)
}

// A migration resumed at verify asks for the GA key of the database it
// restored into: the prompt says to paste the same key, not that the
// database must be a new, empty one.
func TestGoldenKeyGAResumedAtVerify(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		emit(started(migrate.StepVerify, 0))
		if _, err := p.Key(ctx, migrate.Target, nil); err != nil {
			return err
		}
		return waitCtx(ctx)
	}), stateAt(t, dir, migrate.StepVerify), nil)
	h := start(t, m, 80, 24)
	h.wait("Next: verify")
	h.keys("enter")
	h.wait("General Availability")
	fm := h.final()
	v := plain(fm)
	if strings.Contains(v, "An empty database is best") || strings.Contains(v, "different, new database") {
		t.Errorf("the resumed GA prompt asks for a new, empty database:\n%s", v)
	}
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "paste the same key") {
		t.Errorf("the resumed GA prompt does not ask for the same key:\n%s", v)
	}
	golden(t, fm)
}

// A folder with the dumps of earlier migrations (started over): the start
// screen lists them, newest first, with their sizes; their names tell them
// apart by date.
func TestGoldenStartOldDumps(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []struct {
		name string
		size int
		ago  time.Duration
	}{
		{"ppg-ea-20250314-090512-3f9a12c0aa01.dump", 133_000, 80 * time.Minute},
		{"ppg-ea-20250314-101802-77b1e2d4bb02.dump", 135_500, 12 * time.Minute},
	} {
		p := filepath.Join(dir, d.name)
		if err := os.WriteFile(p, make([]byte, d.size), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at(-d.ago), at(-d.ago)); err != nil {
			t.Fatal(err)
		}
	}
	f := &fake{}
	m := newTestModel(t, testOptions(dir, f, waitScript), nil, nil)
	m.startScreen().oldDumps = migrate.OldDumps(dir, "ppg-ea")
	h := start(t, m, 80, 24)
	h.wait("Dumps in this folder")
	fm := h.final()
	v := plain(fm)
	first, second := strings.Index(v, "ppg-ea-20250314-101802"), strings.Index(v, "ppg-ea-20250314-090512")
	if first < 0 || second < 0 || first > second || !strings.Contains(v, "135.5 kB") || !strings.Contains(v, "133.0 kB") {
		t.Errorf("the start screen does not list both dumps, newest first, with their sizes:\n%s", v)
	}
	golden(t, fm)
}

// A fresh migration that fails before its source is confirmed left no
// state file: the failure screen must not promise to resume; one that
// fails later, or a resumed one, does.
func TestFailureSaysWhetherProgressIsSaved(t *testing.T) {
	for _, c := range []struct {
		name  string
		step  migrate.Step
		state bool
		want  string
	}{
		{"fresh, connect-source", migrate.StepConnectSource, false, "Nothing was saved yet: ppg migrate-from-ea"},
		{"fresh, dump", migrate.StepDump, false, "Progress is saved: ppg migrate-from-ea"},
		{"resumed, connect-source", migrate.StepConnectSource, true, "Progress is saved: ppg migrate-from-ea"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			run := func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
				checkTools(emit)
				if c.step != migrate.StepConnectSource {
					emit(finishedEv(migrate.StepConnectSource, &migrate.Summary{Database: testSource}, 0))
				}
				emit(started(c.step, 0))
				fail, se := failedEv(c.step, errors.New("connection refused"), nil, time.Second)
				emit(fail)
				return se
			}
			var state *migrate.State
			if c.state {
				state = stateAt(t, dir, c.step)
			}
			h := start(t, newTestModel(t, testOptions(dir, &fake{}, run), state, nil), 100, 30)
			if c.state {
				h.wait("Next:")
				h.keys("enter")
			}
			h.wait("failed")
			s := plain(h.final())
			if !strings.Contains(strings.Join(strings.Fields(s), " "), c.want) {
				t.Errorf("the failure screen does not say %q:\n%s", c.want, s)
			}
		})
	}
}
