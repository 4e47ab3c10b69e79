package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/tui"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// headlessEnv gives both keys of ppg migrate.
var headlessEnv = map[string]string{"PPG_SOURCE_URL": "postgres://s@h/db", "PPG_TARGET_URL": "postgres://t@h/db"}

// TestRunHeadless feeds the engine's events and result to a headless run
// and checks what it prints and the exit status.
func TestRunHeadless(t *testing.T) {
	started := migrate.Event{Kind: migrate.StepStarted, Step: migrate.StepConnectSource, Time: at}
	refused := &migrate.StepError{Step: migrate.StepConnectSource, Resumable: true,
		Err: &migrate.ConnectError{Side: migrate.Source, Err: &tunnel.HandshakeError{Status: 401}}}
	verified := &migrate.VerifySummary{At: at, Tables: 3, Rows: 42}
	tests := []struct {
		name   string
		json   bool
		events []migrate.Event
		err    error
		status int
		stdout []string
		stderr string // the whole of it
	}{
		{name: "verified", events: []migrate.Event{started, {Kind: migrate.Finished, Time: at, Summary: &migrate.Summary{Verified: verified}}},
			stdout: []string{"10:30:00 Connect to the source database: started\n", "\nMigration complete and verified.\nNext:\n", "The dump and the record of this migration stay in "}},
		{name: "failed", events: []migrate.Event{started, {Kind: migrate.StepFailed, Step: migrate.StepConnectSource, Time: at, Failure: refused}}, err: refused,
			status: words.StatusConnect, stdout: []string{"10:30:00 Connect to the source database: FAILED: ", "  next: check the key"},
			stderr: "ppg: Connect to the source database failed (details above); next: check the key: copy it again from the Prisma Console (or the DATABASE_URL of your .env), then run ppg migrate again\n"},
		{name: "stopped", events: []migrate.Event{started, {Kind: migrate.StepFinished, Step: migrate.StepConnectSource, Time: at, Summary: &migrate.Summary{}}},
			err: fmt.Errorf("dump: %w", context.Canceled), status: words.StatusStopped,
			stdout: []string{"\nStopped. The progress is saved in ", "ppg-migration.json: run ppg migrate again there to resume.\n"},
			stderr: ""},
		{name: "stopped, json", json: true, events: []migrate.Event{started}, err: context.Canceled,
			status: words.StatusStopped, stdout: []string{`"kind":"step_started"`}, stderr: "ppg: stopped\n"},
		{name: "verified, json", json: true, events: []migrate.Event{started, {Kind: migrate.Finished, Time: at, Summary: &migrate.Summary{Verified: verified}}},
			stdout: []string{`"kind":"finished"`, `"message":"migration complete and verified"`, `"rows":42`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, headlessEnv)
			h.eng.events, h.eng.err = tt.events, tt.err
			dir := t.TempDir()
			args := []string{"migrate", "--non-interactive", "--dir", dir}
			if tt.json {
				args = append(args, "--json")
			}
			got := h.run(args...)
			if got != tt.status || h.err.String() != tt.stderr {
				t.Errorf("status %d, stderr %q; want %d, %q", got, h.err.String(), tt.status, tt.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(h.out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, h.out.String())
				}
			}
			if tt.json {
				for _, l := range strings.Split(strings.TrimSpace(h.out.String()), "\n") {
					if !json.Valid([]byte(l)) {
						t.Errorf("not a JSON line: %q", l)
					}
				}
				if strings.Contains(h.out.String(), "Stopped.") {
					t.Error("a JSON run printed a sentence")
				}
			}
			if !h.eng.ran || h.eng.cfg.Dir != dir || h.eng.keys[migrate.Target] != headlessEnv["PPG_TARGET_URL"] {
				t.Errorf("engine ran %v in %q with keys %q", h.eng.ran, h.eng.cfg.Dir, h.eng.keys)
			}
		})
	}
}

// TestRunHeadlessVerifiedEarlier checks that a run with nothing left to do
// takes the verdict from the state file of the run that verified.
func TestRunHeadlessVerifiedEarlier(t *testing.T) {
	h := newHarness(t, headlessEnv)
	dir := t.TempDir()
	state, err := json.Marshal(migrate.State{Version: 1, ID: "m1", Salt: "salt", Steps: map[migrate.Step]*migrate.StepState{},
		Verified: &migrate.VerifySummary{At: at, Tables: 7, Rows: 1234}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, migrate.StateFileName), state, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := migrate.ReadState(dir)
	if err != nil || s == nil || s.Verified == nil {
		t.Fatalf("the test's state file does not read: %+v, %v", s, err)
	}
	if got := h.run("migrate", "--non-interactive", "--json", "--dir", dir); got != 0 || !strings.Contains(h.out.String(), `"rows":1234`) {
		t.Errorf("status %d, stdout %s", got, h.out.String())
	}
}

// TestDryRun checks the plan's output and exit status, and that nothing
// runs.
func TestDryRun(t *testing.T) {
	ok := &migrate.Plan{TargetKnown: true, Items: []migrate.CheckItem{{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004, Target: 170002}}}
	blocked := &migrate.Plan{TargetKnown: true, Items: []migrate.CheckItem{{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictBlocks, Count: 3}}}
	tests := []struct {
		name   string
		plan   *migrate.Plan
		err    error
		json   bool
		status int
		stdout string
		stderr string
	}{
		{name: "nothing blocks", plan: ok, stdout: "Nothing blocks the migration. Run the same command without --dry-run to migrate.\n"},
		{name: "blocked", plan: blocked, status: words.StatusRefused, stdout: "The plan blocks the migration (✗ above): nothing was dumped or written.\n"},
		{name: "blocked, json", plan: blocked, json: true, status: words.StatusRefused, stdout: `"blocked":true`},
		{name: "no plan", err: &migrate.LockedError{Dir: "/w"}, status: words.StatusLocked, stderr: "another ppg migration is running in this folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, headlessEnv)
			h.eng.plan, h.eng.err = tt.plan, tt.err
			args := []string{"migrate", "--non-interactive", "--dry-run", "--dir", t.TempDir()}
			if tt.json {
				args = append(args, "--json")
			}
			got := h.run(args...)
			if got != tt.status || !strings.Contains(h.out.String(), tt.stdout) || !strings.Contains(h.err.String(), tt.stderr) {
				t.Errorf("status %d, stdout %q, stderr %q; want %d, %q, %q", got, h.out.String(), h.err.String(), tt.status, tt.stdout, tt.stderr)
			}
			if tt.stderr == "" && h.err.String() != "" {
				t.Errorf("the plan was reported twice: stderr %q", h.err.String())
			}
			if !h.eng.preflown || h.eng.ran {
				t.Errorf("preflight %v, run %v; want the preflight only", h.eng.preflown, h.eng.ran)
			}
		})
	}
}

// TestWizard checks what the interactive command gives the wizard, and
// the exit status of its end.
func TestWizard(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		stderr string
	}{
		{name: "done"},
		{name: "failed", err: &migrate.StepError{Step: migrate.StepDump, Err: errors.New("pg_dump failed"), Resumable: true}, status: words.StatusFailure},
		{name: "stopped", err: context.Canceled, status: words.StatusStopped, stderr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.terminal = true
			var got tui.Options
			h.d.wizard = func(_ context.Context, o tui.Options) error {
				got = o
				return tt.err
			}
			dir := t.TempDir()
			if status := h.run("migrate-from-ea", "--restart", "--dir", dir, "--verify", "content"); status != tt.status || h.err.String() != tt.stderr {
				t.Errorf("status %d, stderr %q; want %d, %q (the wizard's summary said the rest)", status, h.err.String(), tt.status, tt.stderr)
			}
			if got.Dir != dir || got.Flow.Command != words.FromEA.Command || got.DumpPrefix != "ppg-ea" || !got.Restart || got.Version != "1.2.3" {
				t.Errorf("wizard options %+v", got)
			}
			if got.NewEngine == nil || got.NewEngine(false, nil) == nil {
				t.Error("the wizard cannot build an engine")
			}
			if h.built != 0 {
				t.Error("the wizard's engine came from the headless constructor")
			}
		})
	}
	h := newHarness(t, nil)
	h.terminal = true
	if got := h.run("migrate", "--verify", "everything"); got != words.StatusUsage {
		t.Errorf("a bad flag before the wizard: status %d", got)
	}
}
