package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// TestExitStatuses checks the one map from errors to exit statuses and
// hints, for every command's flow.
func TestExitStatuses(t *testing.T) {
	step := func(st migrate.Step, err error) error {
		return &migrate.StepError{Step: st, Err: err, Cause: err.Error(), Resumable: true}
	}
	tests := []struct {
		name   string
		err    error
		status int
		hint   string // a part of the hint, for words.FromEA
	}{
		{"usage", words.UsageError{Err: errors.New("unknown flag --x")}, words.StatusUsage, "--help"},
		{"stopped", fmt.Errorf("dump: %w", context.Canceled), words.StatusStopped, ""},
		{"locked", &migrate.LockedError{Dir: "/w"}, words.StatusLocked, "wait for it to finish"},
		{"no tools", step(migrate.StepCheckTools, &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 17, GOOS: "linux"}), words.StatusTools, "apt install postgresql-client-17"},
		{"no tools in --pg-bin", step(migrate.StepCheckTools, fmt.Errorf("find tools in /x: %w", pgtools.ErrNotFound)), words.StatusTools, "--pg-bin"},
		{"bad key", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Source, Err: &tunnel.HandshakeError{Status: 401}}), words.StatusConnect, "check the key"},
		{"unreachable", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Source, Err: errors.New("dial tcp: refused")}), words.StatusConnect, "network"},
		{"password", step(migrate.StepConnectTarget, &migrate.ConnectError{Side: migrate.Target, Err: errors.New("auth"), Auth: true}), words.StatusConnect, "password in the URL"},
		{"key from env refused", &words.SourcedError{From: "PPG_GA_DATABASE_URL", Side: migrate.Target, Err: &tunnel.KeyError{Problem: "not a key"}}, words.StatusConnect, "check the key"},
		{"no key", fmt.Errorf("%w for the source: set X", words.ErrNoKey), words.StatusConnect, ""},
		{"gateway down", &tunnel.UnreachableError{Endpoint: "wss://x/websocket", Err: errors.New("refused")}, words.StatusConnect, ""},
		{"key changed", step(migrate.StepConnectSource, &migrate.KeyChangedError{Side: migrate.Source}), words.StatusConnect, "same key"},
		{"target not empty", step(migrate.StepConnectTarget, &migrate.TargetRefusedError{Reason: migrate.RefuseNotEmpty}), words.StatusRefused, "--allow-non-empty-target"},
		{"target is source", step(migrate.StepConnectTarget, &migrate.TargetRefusedError{Reason: migrate.RefuseIsSource}), words.StatusRefused, "key of the new GA database"},
		{"downgrade", step(migrate.StepConnectTarget, &pgtools.DowngradeError{From: 17, To: 16}), words.StatusRefused, "at least as new"},
		{"mismatch", &migrate.StepError{Step: migrate.StepVerify, Err: &migrate.VerifyError{}, NeedsRestart: true}, words.StatusMismatch, "--restart"},
		{"disk", step(migrate.StepDump, &migrate.DiskSpaceError{Dir: "/w", Free: 1, Need: 2}), words.StatusFailure, "free some space"},
		{"dump file exists", step(migrate.StepDump, &migrate.FileExistsError{Path: "/w/x.dump", Migration: true}), words.StatusFailure, "never overwrites"},
		{"dump changed", step(migrate.StepCheckArchive, &migrate.DumpChangedError{Path: "/w/x.dump", How: migrate.DumpModified}), words.StatusFailure, "to dump again"},
		{"cannot reset", &migrate.StepError{Step: migrate.StepRestore, Err: &migrate.ResetError{}, NeedsRestart: true}, words.StatusFailure, "--restart"},
		{"tool failed", step(migrate.StepDump, errors.New("pg_dump failed: exit 1")), words.StatusFailure, "run ppg migrate-from-ea again to resume"},
		{"declined", step(migrate.StepConnectSource, migrate.ErrDeclined), words.StatusFailure, ""},
		{"source changed", step(migrate.StepVerify, &migrate.SourceChangedError{Tables: []string{"public.a"}}), words.StatusChanged, "--on-source-change=redump"},
		{"connection lost", step(migrate.StepRestore, &migrate.ConnectionLostError{Tool: "pg_restore", Side: migrate.Target, Tunnel: true, Cause: "server closed the connection unexpectedly"}), words.StatusConnect, "resumes where it stopped"},
		{"stalled", step(migrate.StepDump, &migrate.StalledError{Tool: "pg_dump"}), words.StatusConnect, "check the network"},
		{"disk full", step(migrate.StepDump, &migrate.DiskFullError{Dir: "/w", Cause: "No space left on device"}), words.StatusFailure, "free some disk space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, flow := range []words.Flow{words.FromEA, words.Migrate, words.Backup, words.Restore, words.Tunnel} {
				f := flow.Explain(tt.err)
				if f.Status != tt.status {
					t.Errorf("%s: status %d, want %d (headline %q)", flow.Command, f.Status, tt.status, f.Headline)
				}
				if f.Headline == "" {
					t.Errorf("%s: no headline", flow.Command)
				}
				if flow.Command == words.FromEA.Command && !strings.Contains(f.Hint, tt.hint) {
					t.Errorf("hint %q lacks %q", f.Hint, tt.hint)
				}
				if flow.Command != words.FromEA.Command && strings.Contains(f.Hint+f.Headline, "migrate-from-ea") {
					t.Errorf("%s names migrate-from-ea: %q / %q", flow.Command, f.Headline, f.Hint)
				}
			}
		})
	}
}

func TestExecute(t *testing.T) {
	tests := []struct {
		args   []string
		status int
		out    string // in stdout
		errOut string // in stderr
	}{
		{[]string{"version"}, 0, "ppg 1.2.3 (commit abcdef123456, 2026-11-21T10:00:00Z)", ""},
		{[]string{"--no-such-flag"}, words.StatusUsage, "", "unknown flag"},
		{[]string{"version", "extra"}, words.StatusUsage, "", "takes no arguments"},
		{[]string{"restore"}, words.StatusUsage, "", "one argument"},
		{[]string{"tunnel", "--port", "70000"}, words.StatusUsage, "", "not a port number"},
		{[]string{"migrate-from-ea"}, words.StatusUsage, "", "--non-interactive"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		got := Execute(t.Context(), Build{Version: "1.2.3", Commit: "abcdef123456", Date: "2026-11-21T10:00:00Z"}, tt.args, &out, &errOut)
		if got != tt.status || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.errOut) {
			t.Errorf("ppg %s: status %d, stdout %q, stderr %q; want %d, %q, %q", strings.Join(tt.args, " "), got, out.String(), errOut.String(), tt.status, tt.out, tt.errOut)
		}
	}
}

func TestExitPrintsOnce(t *testing.T) {
	var errOut bytes.Buffer
	se := &migrate.StepError{Step: migrate.StepDump, Err: errors.New("pg_dump failed"), Cause: "pg_dump failed", Resumable: true}
	if got := exit(&errOut, words.FromEA, reported{se}); got != words.StatusFailure || errOut.Len() != 0 {
		t.Errorf("a reported error: status %d, stderr %q; want 1 and nothing printed", got, errOut.String())
	}
	if got := exit(&errOut, words.FromEA, se); got != words.StatusFailure || strings.Count(errOut.String(), "\n") != 1 ||
		!strings.Contains(errOut.String(), "Dump the EA database failed (details above); next: run ppg migrate-from-ea again") {
		t.Errorf("status %d, stderr %q", got, errOut.String())
	}
}
