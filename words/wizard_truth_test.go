package words

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// A failure says "resume" only when a state file holds progress to
// resume from.
func TestNextStepResumesOnlyWhatWasSaved(t *testing.T) {
	early := &migrate.StepError{Step: migrate.StepConnectSource, Err: errors.New("the server closed the connection"), Resumable: true}
	if h := Migrate.NextStep(early, true); h != "run ppg migrate again to resume from this step" {
		t.Errorf("saved: %q", h)
	}
	h := Migrate.NextStep(early, false)
	if strings.Contains(h, "resume") || !strings.Contains(h, "ppg migrate again") || !strings.Contains(h, "starts from the beginning") {
		t.Errorf("nothing saved: %q", h)
	}
	// A cause with its own hint keeps it, saved or not.
	refused := &migrate.StepError{Step: migrate.StepConnectSource, Err: &migrate.PlanError{Plan: &migrate.Plan{}}, Resumable: true}
	if a, b := Migrate.NextStep(refused, false), Migrate.Explain(refused.Err).Hint; a != b || b == "" {
		t.Errorf("the cause's hint %q became %q", b, a)
	}
	// Not resumable: the failure's own hint.
	verify := &migrate.StepError{Step: migrate.StepVerify, Err: &migrate.VerifyError{}, NeedsRestart: true}
	if a, b := Migrate.NextStep(verify, false), Migrate.Explain(verify).Hint; a != b {
		t.Errorf("not resumable: %q, want %q", a, b)
	}
}

func TestStoppedHeadless(t *testing.T) {
	for _, c := range []struct {
		saved, restarted bool
		says, never      string
	}{
		{true, false, "The progress is saved in /d/ppg-migration.json: run ppg migrate again there to resume.", "before anything"},
		{false, true, "anything of the new start was saved: /d/ppg-migration.json still holds the earlier migration", "resume"},
		{false, false, "Stopped before anything was saved: run ppg migrate again to start from the beginning.", "resume"},
	} {
		s := Migrate.StoppedHeadless("/d/ppg-migration.json", c.saved, c.restarted)
		if !strings.Contains(s, c.says) || strings.Contains(s, c.never) {
			t.Errorf("saved %v, restarted %v: %q", c.saved, c.restarted, s)
		}
	}
}

// The wizard's hint for writes that kept coming past the dumps made again
// names no headless flag.
func TestWizardNextStepNamesNoFlag(t *testing.T) {
	for _, step := range []migrate.Step{migrate.StepDump, migrate.StepVerify} {
		sc := &migrate.SourceChangedError{Tables: []string{"public.orders"}, DumpedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Step: step, Redumps: 3}
		err := &migrate.StepError{Step: step, Err: sc, Resumable: true}
		if h := FromEA.Explain(err).Hint; !strings.Contains(h, "--on-source-change") {
			t.Fatalf("the headless hint no longer names the flag: %q", h)
		}
		h := FromEA.WizardNextStep(err, true)
		if strings.Contains(h, "--on-source-change") || !strings.Contains(h, "after each of the 3 dumps made again") ||
			!strings.Contains(h, "stop your application's writes to the EA database, then run ppg migrate-from-ea again") {
			t.Errorf("%s: %q", step, h)
		}
	}
	other := &migrate.StepError{Step: migrate.StepDump, Err: errors.New("boom"), Resumable: true}
	if a, b := FromEA.WizardNextStep(other, false), FromEA.NextStep(other, false); a != b {
		t.Errorf("another failure: %q, want %q", a, b)
	}
}

func TestLateWrites(t *testing.T) {
	got := strings.Join(FromEA.LateWrites(1, []string{"public.orders"}, "10:30:58"), "\n")
	want := "1 row was inserted, updated or deleted after the dump's snapshot of 10:30:58; they are not in the dump.\n1 table written to: public.orders."
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	got = strings.Join(FromEA.LateWrites(0, names, "10:30:58"), "\n")
	if !strings.Contains(got, "The EA database was written to after the dump's snapshot of 10:30:58") || !strings.Contains(got, "10 tables written to: a, b, c, d, e, f, g, h, and 2 more.") {
		t.Errorf("got\n%s", got)
	}
}

func TestUnusableRecord(t *testing.T) {
	h, lines, choices := FromEA.UnusableRecord(&migrate.FlowMismatchError{Dir: "/d", Flow: "ppg", Running: "ppg-ea"})
	if h != "This folder holds a migration of another ppg command:" || len(lines) != 1 || !strings.Contains(lines[0], "started by ppg migrate") ||
		!strings.Contains(choices, "Quit and run ppg migrate here to resume it") {
		t.Errorf("%q %q %q", h, lines, choices)
	}
	h, lines, _ = FromEA.UnusableRecord(errors.New("unsupported state file version 99"))
	if h != "The record of the earlier migration cannot be used:" || len(lines) == 0 {
		t.Errorf("%q %q", h, lines)
	}
}
