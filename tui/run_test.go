package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// term is the terminal of a Run test: keys go in through a pipe, the
// screen comes out into a buffer.
type term struct {
	t   *testing.T
	in  *io.PipeWriter
	mu  sync.Mutex
	out bytes.Buffer
	off int // where the next wait starts reading
}

func (tt *term) Write(p []byte) (int, error) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.out.Write(p)
}

func (tt *term) String() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.out.String()
}

// wait polls the output written since the last wait until it holds want.
func (tt *term) wait(want string) {
	tt.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tt.mu.Lock()
		b := tt.out.Bytes()[tt.off:]
		if i := bytes.Index(b, []byte(want)); i >= 0 {
			tt.off += i + len(want)
			tt.mu.Unlock()
			return
		}
		tt.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	tt.t.Fatalf("the screen never showed %q; it showed:\n%s", want, tt.String()[tt.off:])
}

func (tt *term) typ(s string) {
	tt.t.Helper()
	if _, err := tt.in.Write([]byte(s)); err != nil {
		tt.t.Fatal(err)
	}
}

// runWizard starts Run in a goroutine and returns its terminal and result.
func runWizard(t *testing.T, opts Options) (*term, <-chan error) {
	t.Helper()
	r, w := io.Pipe()
	tt := &term{t: t, in: w}
	opts.Input, opts.Output = r, tt
	done := make(chan error, 1)
	go func() { done <- Run(t.Context(), opts) }()
	t.Cleanup(func() { _ = w.Close() })
	return tt, done
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRunToTheEnd(t *testing.T) {
	f := &fake{}
	dir := t.TempDir()
	opts := testOptions(dir, f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepConnectSource, 0))
		k, err := p.Key(ctx, migrate.Source, nil)
		if err != nil {
			return err
		}
		f.key(k)
		emit(started(migrate.StepVerify, 0))
		emit(finishedEv(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41}}, 0))
		return nil
	})
	opts.NoColor = true
	tt, done := runWizard(t, opts)
	tt.wait("pg_restore 17.2")
	tt.typ("\r")
	tt.wait("Paste the key")
	// A bracketed paste, with the line break a terminal copy adds.
	tt.typ("\x1b[200~" + secret + "\n\x1b[201~")
	tt.wait("characters)")
	tt.typ("\r")
	tt.wait("Migration complete and verified")
	tt.typ("q")
	if err := result(t, done); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got := f.snapshot().keys; len(got) != 1 || got[0] != secret {
		t.Errorf("the engine got %q", got)
	}
	out := tt.String()
	if !strings.HasSuffix(out, "ppg: migration complete and verified.\n  30 tables and 465k rows match, 41 sequences match, object counts match.\n  Next: point your application's DATABASE_URL at the GA database.\n") {
		t.Errorf("no summary at the end of the output:\n%q", out[max(0, len(out)-300):])
	}
	checkNoSecret(t, out, secret)
	// NoColor: no colour or bold, whatever the terminal.
	if sgr := regexp.MustCompile(`\x1b\[[0-9;]*[1-9][0-9;]*m`).FindString(out); sgr != "" {
		t.Errorf("the output has a style sequence %q", sgr)
	}
}

func TestRunStoppedByCtrlC(t *testing.T) {
	f := &fake{}
	dir := t.TempDir()
	tt, done := runWizard(t, testOptions(dir, f, dumpScript))
	tt.wait("pg_restore 17.2")
	tt.typ("\r")
	tt.wait("Paste the key")
	tt.typ("k3y\r")
	tt.wait("Dump this EA database?")
	tt.typ("y")
	tt.wait("public.orders")
	tt.typ("\x03")
	tt.wait("Stop the migration?")
	tt.typ("y")
	err := result(t, done)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if !f.snapshot().canceled {
		t.Error("the engine was not cancelled")
	}
	if out := tt.String(); !strings.Contains(out, "ppg: migration stopped; progress is saved.\n  Run ppg migrate-from-ea --dir "+dir+" again to resume from “Dump the EA database”.\n") {
		t.Errorf("no resume line at the end:\n%q", out[max(0, len(out)-300):])
	}
}

func TestRunStartOverAndFail(t *testing.T) {
	f := &fake{}
	dir := t.TempDir()
	state := stateAt(t, dir, migrate.StepRestore)
	if err := state.Save(dir, base); err != nil {
		t.Fatal(err)
	}
	fail, failure := failedEv(migrate.StepCheckTools, &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 17, GOOS: "linux"}, nil, 0)
	tt, done := runWizard(t, testOptions(dir, f, func(ctx context.Context, _ migrate.Prompter, emit func(migrate.Event)) error {
		emit(started(migrate.StepCheckTools, 0))
		emit(fail)
		return failure
	}))
	tt.wait("Next: restore")
	tt.typ("s")
	tt.wait("Start over?")
	tt.typ("y")
	tt.wait("Install them")
	tt.typ("q")
	if err := result(t, done); err != failure {
		t.Fatalf("Run = %v, want the step's error", err)
	}
	if s := f.snapshot(); s.runs != 1 || !s.restart {
		t.Errorf("runs %d restart %v, want one run that starts over", s.runs, s.restart)
	}
	if out := tt.String(); !strings.Contains(out, "ppg: Check pg_dump and pg_restore failed: pg_dump 17 or newer not found") || !strings.Contains(out, "  Next: install them") {
		t.Errorf("no failure summary:\n%q", out[max(0, len(out)-300):])
	}
}

func TestRunQuitBeforeStarting(t *testing.T) {
	f := &fake{}
	dir := t.TempDir()
	if err := stateAt(t, dir, migrate.StepDump).Save(dir, base); err != nil {
		t.Fatal(err)
	}
	tt, done := runWizard(t, testOptions(dir, f, waitScript))
	tt.wait("Next: dump")
	tt.typ("q")
	if err := result(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if f.snapshot().runs != 0 {
		t.Error("the engine ran")
	}
}

func TestRunStopsOnCancelledContext(t *testing.T) {
	f := &fake{}
	ctx, cancel := context.WithCancel(t.Context())
	r, w := io.Pipe()
	defer func() { _ = w.Close() }()
	tt := &term{t: t, in: w}
	opts := testOptions(t.TempDir(), f, askEA(f))
	opts.Input, opts.Output = r, tt
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	tt.wait("pg_restore 17.2")
	cancel() // SIGTERM, through main's signal.NotifyContext
	if err := result(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

func TestRunNeedsAnEngine(t *testing.T) {
	if err := Run(t.Context(), Options{Dir: t.TempDir()}); err == nil {
		t.Fatal("Run without NewEngine or Run succeeded")
	}
}
