package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

// A headless run says that a run again resumes, or that its progress is
// saved, only when a state file holds that progress: a failure or a stop
// before the source is confirmed (nothing written yet) says that the next
// run starts from the beginning.
func TestHeadlessSaysResumeOnlyWhenSaved(t *testing.T) {
	started := migrate.Event{Kind: migrate.StepStarted, Step: migrate.StepConnectSource, Time: at}
	confirmed := migrate.Event{Kind: migrate.StepFinished, Step: migrate.StepConnectSource, Time: at, Summary: &migrate.Summary{}}
	early := &migrate.StepError{Step: migrate.StepConnectSource, Resumable: true, Err: errors.New("the server closed the connection")}
	late := &migrate.StepError{Step: migrate.StepDump, Resumable: true, Err: errors.New("the server closed the connection")}
	failedAt := func(se *migrate.StepError) migrate.Event {
		return migrate.Event{Kind: migrate.StepFailed, Step: se.Step, Time: at, Failure: se}
	}
	tests := []struct {
		name     string
		recorded bool // a state file is in the folder
		args     []string
		events   []migrate.Event
		err      error
		says     []string
		never    string
	}{
		{name: "failed before saving", events: []migrate.Event{started, failedAt(early)}, err: early,
			says: []string{"  next: fix the cause, then run ppg migrate again (nothing was saved, so it starts from the beginning)\n"}, never: "resume"},
		{name: "failed before saving, json", args: []string{"--json"}, events: []migrate.Event{started, failedAt(early)}, err: early,
			says: []string{`"hint":"fix the cause, then run ppg migrate again (nothing was saved, so it starts from the beginning)"`}, never: "resume"},
		{name: "failed after saving", events: []migrate.Event{started, confirmed, failedAt(late)}, err: late,
			says: []string{"  next: run ppg migrate again to resume from this step\n"}},
		{name: "failed in a recorded folder", recorded: true, events: []migrate.Event{started, failedAt(early)}, err: early,
			says: []string{"  next: run ppg migrate again to resume from this step\n"}},
		{name: "failed after starting over", recorded: true, args: []string{"--restart"}, events: []migrate.Event{started, failedAt(early)}, err: early,
			says: []string{"nothing was saved, so it starts from the beginning"}, never: "resume"},
		{name: "stopped before saving", events: []migrate.Event{started}, err: context.Canceled,
			says: []string{"\nStopped before anything was saved: run ppg migrate again to start from the beginning.\n"}, never: "resume"},
		{name: "stopped after starting over", recorded: true, args: []string{"--restart"}, events: []migrate.Event{started}, err: context.Canceled,
			says: []string{"Stopped before anything of the new start was saved: ", "ppg-migration.json still holds the earlier migration as it was."}, never: "resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, headlessEnv)
			h.eng.events, h.eng.err = tt.events, tt.err
			dir := t.TempDir()
			if tt.recorded {
				if err := migrate.NewState(at).Save(dir, at); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(dir, migrate.StateFileName)); err != nil {
					t.Fatal(err)
				}
			}
			h.run(append([]string{"migrate", "--non-interactive", "--dir", dir}, tt.args...)...)
			all := h.out.String() + h.err.String()
			for _, s := range tt.says {
				if !strings.Contains(all, s) {
					t.Errorf("the output lacks %q:\n%s", s, all)
				}
			}
			if tt.never != "" && strings.Contains(all, tt.never) {
				t.Errorf("the output says %q:\n%s", tt.never, all)
			}
			// The last line names the same next step as the report.
			if _, next, ok := strings.Cut(h.out.String(), "  next: "); ok {
				if !strings.Contains(h.err.String(), "; next: "+next) {
					t.Errorf("the last line's next step differs from the report's %q:\n%s", next, h.err.String())
				}
			}
		})
	}
}
