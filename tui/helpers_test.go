package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

func TestMain(m *testing.M) {
	// The bubbles draw some parts with the default renderer.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Exit(m.Run())
}

// base is the fixed time of the tests; the clock stands at base+clockAt.
var base = time.Date(2025, 3, 14, 10, 30, 0, 0, time.UTC)

const clockAt = 72 * time.Second

// goldenDir stands for the test's working folder in the goldens.
const goldenDir = "/home/me/shop"

func at(d time.Duration) time.Time { return base.Add(d) }

func testStyles() Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return newStyles(r)
}

// script is a fake migration: it runs in the engine's goroutine, emits
// events and asks like the engine, and must return once ctx is done.
type script func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error

// fake records how the wizard ran the script.
type fake struct {
	mu       sync.Mutex
	runs     int
	restart  bool
	keys     []string
	canceled bool
}

func (f *fake) key(k string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, k)
}

func (f *fake) snapshot() fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fake{runs: f.runs, restart: f.restart, keys: append([]string(nil), f.keys...), canceled: f.canceled}
}

func (f *fake) run(s script) func(ctx context.Context, restart bool, p migrate.Prompter, emit func(migrate.Event)) error {
	return func(ctx context.Context, restart bool, p migrate.Prompter, emit func(migrate.Event)) error {
		f.mu.Lock()
		f.runs++
		f.restart = restart
		f.mu.Unlock()
		err := s(ctx, p, migrate.Paced(emit)) // the engine sets the pace
		if ctx.Err() != nil {
			f.mu.Lock()
			f.canceled = true
			f.mu.Unlock()
		}
		return err
	}
}

// testOptions are the options of a test: fixed clock, no animation.
func testOptions(dir string, f *fake, s script) Options {
	return Options{Dir: dir, Run: f.run(s), Now: func() time.Time { return at(clockAt) }, still: true, Version: "v0.9.0"}
}

func newTestModel(t *testing.T, opts Options, state *migrate.State, stateErr error) model {
	t.Helper()
	return newModel(t.Context(), opts, testStyles(), state, stateErr)
}

// harness runs a model in a teatest program and keeps every byte it wrote.
type harness struct {
	t   *testing.T
	tm  *teatest.TestModel
	all bytes.Buffer
}

func start(t *testing.T, m model, w, h int) *harness {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return &harness{t: t, tm: tm}
}

// wait reads the program's output until it shows want.
func (h *harness) wait(want string) {
	h.t.Helper()
	var seen []byte
	teatest.WaitFor(h.t, h.tm.Output(), func(b []byte) bool {
		seen = b
		return bytes.Contains(b, []byte(want))
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	h.all.Write(seen)
}

func (h *harness) send(msgs ...tea.Msg) {
	for _, m := range msgs {
		h.tm.Send(m)
	}
}

func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		h.tm.Send(keyMsg(k))
	}
}

// final quits and returns the last model, with the rest of the output.
func (h *harness) final() model {
	h.t.Helper()
	_ = h.tm.Quit()
	fm := h.tm.FinalModel(h.t, teatest.WithFinalTimeout(5*time.Second)).(model)
	rest, _ := io.ReadAll(h.tm.FinalOutput(h.t))
	h.all.Write(rest)
	return fm
}

// finished waits for the program to end by itself and returns its model.
func (h *harness) finished() model {
	h.t.Helper()
	h.tm.WaitFinished(h.t, teatest.WithFinalTimeout(5*time.Second))
	fm := h.tm.FinalModel(h.t).(model)
	rest, _ := io.ReadAll(h.tm.FinalOutput(h.t))
	h.all.Write(rest)
	return fm
}

// golden compares the model's last frame with testdata/<test>.golden and
// checks it fits the window.
func golden(t *testing.T, m model) {
	t.Helper()
	// The working folder differs on every run: show a fixed one.
	m.opts.Dir = goldenDir
	view := m.View()
	checkFits(t, view, m.width, m.height)
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

func checkFits(t *testing.T, view string, w, h int) {
	t.Helper()
	if strings.Contains(view, "\x1b") {
		t.Errorf("the view has escape sequences under the Ascii profile:\n%q", view)
	}
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("the view has %d lines, the window %d", len(lines), h)
	}
	for i, l := range lines {
		if n := lipgloss.Width(l); n > w {
			t.Errorf("line %d is %d cells wide, the window %d: %q", i+1, n, w, l)
		}
	}
}

// keyMsg turns a key name ("enter", "ctrl+c", "y") into a tea.KeyMsg.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func paste(s string) tea.KeyMsg {
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true}
}

// Events, as the engine sends them.

func ev(kind migrate.EventKind, step migrate.Step, d time.Duration) migrate.Event {
	return migrate.Event{Kind: kind, Step: step, Time: at(d)}
}

func started(step migrate.Step, d time.Duration) migrate.Event {
	return ev(migrate.StepStarted, step, d)
}

func finishedEv(step migrate.Step, s *migrate.Summary, d time.Duration) migrate.Event {
	e := ev(migrate.StepFinished, step, d)
	e.Summary = s
	return e
}

// noticeEv is an Info or Warning event of notice n.
func noticeEv(kind migrate.EventKind, step migrate.Step, n migrate.Notice, d time.Duration) migrate.Event {
	e := ev(kind, step, d)
	e.Notice = &n
	return e
}

// failedEv is a StepFailed event for err, resumable unless it says
// otherwise.
func failedEv(step migrate.Step, err error, tail []string, d time.Duration) (migrate.Event, *migrate.StepError) {
	e := ev(migrate.StepFailed, step, d)
	se := &migrate.StepError{Step: step, Err: err, Cause: err.Error(), Tail: tail, Resumable: true}
	var ve *migrate.VerifyError
	if errors.As(err, &ve) {
		se.Resumable, se.NeedsRestart = false, true
	}
	e.Failure = se
	return e, se
}

func lineEv(step migrate.Step, line string) migrate.Event {
	e := ev(migrate.ToolLine, step, 0)
	e.Line = line
	return e
}

func progressEv(step migrate.Step, p migrate.ProgressInfo, d time.Duration) migrate.Event {
	e := ev(migrate.Progress, step, d)
	e.Progress = &p
	return e
}

var testTools = pgtools.Toolset{
	Dump:    pgtools.Tool{Name: "pg_dump", Path: "/usr/lib/postgresql/17/bin/pg_dump", Version: pgtools.Version{Major: 17, Minor: 2}},
	Restore: pgtools.Tool{Name: "pg_restore", Path: "/usr/lib/postgresql/17/bin/pg_restore", Version: pgtools.Version{Major: 17, Minor: 2}},
}

func checkTools(emit func(migrate.Event)) {
	emit(started(migrate.StepCheckTools, 0))
	emit(finishedEv(migrate.StepCheckTools, &migrate.Summary{Tools: &testTools}, 0))
}

var testSource = &migrate.Database{
	Display:       "prisma+postgres://accelerate.prisma-data.net/?api_key=…3f9a (key 3f9a12c0)",
	ServerVersion: 160004, Size: 1_200_000_000, Tables: 230, EstimatedRows: 3_400_000,
}

var sourceQuestion = migrate.Question{Kind: migrate.ConfirmSource, Source: testSource, Tools: &testTools}

var nonEmptyQuestion = migrate.Question{Kind: migrate.ConfirmNonEmptyTarget, Objects: 12, Schemas: []string{"app"}}

// dumpLines emits n lines of pg_dump output.
func dumpLines(emit func(migrate.Event), from, n int) {
	for i := from; i < from+n; i++ {
		emit(lineEv(migrate.StepDump, fmt.Sprintf(`pg_dump: dumping contents of table "public.table_%03d"`, i)))
	}
}

// dumpMidway emits a dump that is 45% through.
func dumpMidway(emit func(migrate.Event)) {
	emit(started(migrate.StepDump, 0))
	emit(noticeEv(migrate.Warning, migrate.StepDump, migrate.Notice{Code: migrate.NoticeWritesNotMigrated}, 0))
	dumpLines(emit, 1, 40)
	emit(progressEv(migrate.StepDump, migrate.ProgressInfo{Phase: migrate.PhaseDump, TablesDone: 104, TablesTotal: 230, BytesDone: 540_000_000, BytesTotal: 1_200_000_000, Current: "public.orders"}, 70*time.Second))
	emit(lineEv(migrate.StepDump, `pg_dump: dumping contents of table "public.orders"`))
}

// stateAt returns a recorded migration whose steps before next are done.
func stateAt(tb testing.TB, dir string, next migrate.Step) *migrate.State {
	tb.Helper()
	st := migrate.NewState(base.Add(-12 * time.Minute))
	for _, s := range migrate.Steps() {
		if s == next {
			break
		}
		rec := st.Step(s)
		rec.Status, rec.Attempts, rec.FinishedAt = migrate.Done, 1, base.Add(-2*time.Minute)
	}
	st.Source = &migrate.Database{Display: "prisma+postgres://…3f9a (key 3f9a12c0)", ServerVersion: 160004, Size: 1_200_000_000, Tables: 230}
	if st.Step(migrate.StepDump).Status == migrate.Done {
		st.Dump = &migrate.DumpInfo{
			Path: goldenDir + "/ppg-ea-0123456789ab.dump", Size: 1_234_567_890,
			SHA256:     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			FinishedAt: time.Date(2025, 3, 14, 10, 22, 0, 0, time.UTC),
		}
	}
	if st.Step(migrate.StepConnectTarget).Status == migrate.Done {
		st.Target = &migrate.Database{Display: "prisma+postgres://…77b1 (key 77b1e2d4)", ServerVersion: 170002}
	}
	return st
}

// waitCtx blocks like an engine with nothing more to do: until it is
// stopped.
func waitCtx(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}
