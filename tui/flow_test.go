package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

// A folder whose migration ppg migrate started, opened by ppg
// migrate-from-ea: the start screen says at once which command it belongs
// to (as the engine would once it ran), offers no "continue", and quitting
// runs nothing.
func TestGoldenStartOtherFlow(t *testing.T) {
	// The folder is named in the error: the golden's, since nothing is
	// read or written in it.
	st := stateAt(t, goldenDir, migrate.StepRestore)
	st.Flow = "ppg"
	f := &fake{}
	opts := testOptions(goldenDir, f, waitScript)
	opts.DumpPrefix = "ppg-ea"
	m := newTestModel(t, opts, st, nil)
	var fm *migrate.FlowMismatchError
	if !errors.As(m.startScreen().stateErr, &fm) || fm.Flow != "ppg" || fm.Running != "ppg-ea" {
		t.Fatalf("the start screen holds %v, want the flow mismatch", m.startScreen().stateErr)
	}
	h := start(t, m, 80, 24)
	h.wait("another ppg command")
	h.keys("enter") // no continue: it is not this command's migration
	h.keys("q")
	fm2 := h.finished()
	wantSaid(t, fm2, []string{"This folder holds a migration of another ppg command:",
		"was started by ppg migrate (copy a PostgreSQL database into a new Prisma Postgres database), not by ppg migrate-from-ea",
		"Quit and run ppg migrate here to resume it, or start over"}, []string{"Continue where it stopped", "enter continue", "Step 5"})
	golden(t, fm2)
	if got := f.snapshot(); got.runs != 0 {
		t.Errorf("the engine ran %d times for a folder of the other flow", got.runs)
	}
	if sum := summary(fm2, context.Canceled); !strings.Contains(sum, "nothing was changed") {
		t.Errorf("the summary after quitting says:\n%s", sum)
	}
}

// The state of the same flow, or of a flow not known yet (nothing
// dumped), is resumed as before; so is any state when the wizard is not
// told its flow's prefix.
func TestStartOwnFlowResumes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		flow, prefix string
	}{{"ppg-ea", "ppg-ea"}, {"", "ppg-ea"}, {"ppg", ""}} {
		st := stateAt(t, dir, migrate.StepRestore)
		st.Flow = c.flow
		opts := testOptions(dir, &fake{}, waitScript)
		opts.DumpPrefix = c.prefix
		m := newTestModel(t, opts, st, nil)
		if s := m.startScreen(); s.stateErr != nil || s.state == nil {
			t.Errorf("flow %q opened with prefix %q: state %v, error %v", c.flow, c.prefix, s.state != nil, s.stateErr)
		}
	}
}
