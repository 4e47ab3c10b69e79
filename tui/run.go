package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// Options configures Run.
type Options struct {
	// Dir is the working folder: the state file and the dump live there.
	Dir string
	// Flow names the command and its databases; the zero value is
	// words.FromEA.
	Flow words.Flow
	// DumpPrefix starts the names of the dumps (see migrate.Config), to
	// list the earlier ones on the start screen.
	DumpPrefix string
	// NewEngine builds the engine once the user has chosen how to start:
	// restart is true after "start over". p is the wizard itself, which
	// the engine asks for keys and confirmations. Run calls it from the
	// goroutine that then runs the engine.
	NewEngine func(restart bool, p migrate.Prompter) *migrate.Engine
	// Run, when set, replaces NewEngine(restart, p).Run(ctx, emit): tests
	// inject a fake migration with it. It must return once ctx is done.
	Run func(ctx context.Context, restart bool, p migrate.Prompter, emit func(migrate.Event)) error
	// Input and Output are the terminal; nil means os.Stdin and os.Stdout.
	Input  io.Reader
	Output io.Writer
	// Version is shown in the header ("v1.2.0"); empty shows nothing.
	Version string
	// NoColor renders without colours; so does a non-empty NO_COLOR.
	NoColor bool
	// Restart starts over without asking (the --restart flag): the engine
	// starts at once with restart set, and no resume summary is shown.
	Restart bool
	// Now returns the time, for the elapsed and remaining times; nil means
	// time.Now.
	Now func() time.Time

	// still turns off the animations (spinner ticks) so that tests render
	// the same frames on every run.
	still bool
	// absDir is Dir made absolute by Run, for the done screen (View does
	// no I/O, and filepath.Abs may ask the OS).
	absDir string
}

// runFunc is one run of the migration, as the wizard sees it.
type runFunc func(ctx context.Context, restart bool, p migrate.Prompter, emit func(migrate.Event)) error

func (o Options) runFunc() runFunc {
	if o.Run != nil {
		return o.Run
	}
	return func(ctx context.Context, restart bool, p migrate.Prompter, emit func(migrate.Event)) error {
		return o.NewEngine(restart, p).Run(ctx, emit)
	}
}

// Run shows the wizard until the migration ends or the user leaves, and
// returns the engine's error: nil when the GA database is verified, a
// *migrate.StepError when a step failed, context.Canceled when the user
// stopped (or quit before starting). Cancelling ctx stops the migration the
// same way Ctrl-C does; Run returns only after the engine has returned, with
// its state saved. Run owns the terminal meanwhile (alternate screen) and
// prints a short summary to Output when the program ends.
func Run(ctx context.Context, opts Options) error {
	if opts.NewEngine == nil && opts.Run == nil {
		return errors.New("tui: Options.NewEngine is nil")
	}
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	st, stErr := migrate.ReadState(opts.Dir)

	r := lipgloss.NewRenderer(opts.Output)
	if opts.NoColor || os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	// Ask the terminal for its background now: later the program owns
	// the input, and View must do no I/O.
	r.HasDarkBackground()

	if abs, err := filepath.Abs(opts.Dir); err == nil {
		opts.absDir = abs
	}

	uiCtx, stop := context.WithCancel(ctx)
	defer stop()
	m := newModel(uiCtx, opts, newStyles(r), st, stErr)
	if opts.DumpPrefix != "" {
		m.startScreen().oldDumps = migrate.OldDumps(opts.Dir, opts.DumpPrefix)
	}
	popts := []tea.ProgramOption{tea.WithOutput(opts.Output), tea.WithAltScreen(),
		// Signals reach us through ctx (main's signal.NotifyContext):
		// the program must not quit on its own while the engine runs.
		tea.WithoutSignalHandler()}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	final, perr := tea.NewProgram(m, popts...).Run()
	if fm, ok := final.(model); ok {
		m = fm
	}
	result := error(context.Canceled) // quit before the engine started
	if m.run != nil {
		m.run.cancel() // a no-op unless the program ended abnormally
		if m.run.abandon() {
			<-m.run.exited
			result = m.run.err
		}
	}
	_, _ = fmt.Fprint(opts.Output, summary(m, result))
	if perr != nil && !errors.Is(perr, tea.ErrProgramKilled) {
		return errors.Join(fmt.Errorf("run the wizard: %w", perr), result)
	}
	return result
}

// eventBuffer is the room in the engine's channel: the engine runs ahead of
// the screen by this many events before emit blocks.
const eventBuffer = 256

// maxBatch bounds the messages handed to Update at once, and batchWindow
// how long a batch waits for more: about one frame at 60 per second.
const (
	maxBatch    = 4096
	batchWindow = 16 * time.Millisecond
)

// runner owns the goroutine running the migration and the channel it
// feeds. The channel carries eventMsg and askMsg values in the order the
// engine produced them; it is closed when the run returns, and exited
// after err is set.
type runner struct {
	ctx    context.Context
	cancel context.CancelFunc
	msgs   chan tea.Msg
	exited chan struct{}
	err    error

	// mu guards phase: whether the run began, or Run gave up on it
	// before it did (the program ended before running its Cmd).
	mu    sync.Mutex
	phase int
}

const (
	phaseIdle = iota
	phaseRunning
	phaseAbandoned
)

// claim marks the run as begun, unless Run abandoned it.
func (r *runner) claim() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.phase != phaseIdle {
		return false
	}
	r.phase = phaseRunning
	return true
}

// abandon tells whether the run began; one that did not never will, and
// its channels are closed so that no reader waits for it.
func (r *runner) abandon() (began bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.phase == phaseIdle {
		r.phase = phaseAbandoned
		r.err = context.Canceled
		close(r.msgs)
		close(r.exited)
	}
	return r.phase == phaseRunning
}

func newRunner(parent context.Context) *runner {
	ctx, cancel := context.WithCancel(parent)
	return &runner{ctx: ctx, cancel: cancel, msgs: make(chan tea.Msg, eventBuffer), exited: make(chan struct{})}
}

// start returns the Cmd that runs the migration. It reports nothing itself:
// waitForEngine sees the channel close and reports the end.
func (r *runner) start(run runFunc, restart bool) tea.Cmd {
	return func() tea.Msg {
		if !r.claim() {
			return nil
		}
		r.err = errors.New("the migration stopped unexpectedly")
		defer func() {
			close(r.msgs)
			close(r.exited)
		}()
		r.err = run(r.ctx, restart, prompter{msgs: r.msgs}, r.emit)
		return nil
	}
}

// emit hands an event to the wizard; once the run is cancelled, events are
// dropped rather than wait for a screen that may be gone.
func (r *runner) emit(ev migrate.Event) {
	select {
	case r.msgs <- eventMsg{ev}:
	case <-r.ctx.Done():
	}
}

// waitForEngine reads the engine's next messages or, once the channel is
// closed, its result. Messages that follow within a frame ride along (up to
// maxBatch): a dump of thousands of tables emits lines far faster than a
// screen can show them, and each batch costs one Update and one View.
// Update re-issues it after each batch.
func waitForEngine(r *runner) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-r.msgs
		if !ok {
			<-r.exited
			return engineDoneMsg{err: r.err}
		}
		batch := engineBatchMsg{msg}
		frame := time.NewTimer(batchWindow)
		defer frame.Stop()
		for len(batch) < maxBatch {
			if _, ask := msg.(askMsg); ask {
				return batch // a question is answered by a person: show it now
			}
			select {
			case msg, ok = <-r.msgs:
				if !ok {
					return batch
				}
				batch = append(batch, msg)
			case <-frame.C:
				return batch
			}
		}
		return batch
	}
}

// watchParent reports the end of ctx: a signal, or Run returning.
func watchParent(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		<-ctx.Done()
		return parentDoneMsg{}
	}
}

// readState reads the state file after the migration, for the done screen.
func readState(dir string) tea.Cmd {
	return func() tea.Msg {
		st, _ := migrate.ReadState(dir)
		return stateMsg{st}
	}
}

// readEnv reads what ./.env still points at, for the done screen.
func readEnv() tea.Cmd {
	return func() tea.Msg {
		dir, err := os.Getwd()
		if err != nil {
			return envMsg{}
		}
		env, _ := migrate.CheckEnvFile(dir)
		return envMsg{env}
	}
}

// prompter is the engine's Prompter: each question becomes an askMsg on the
// runner's channel, answered by the screen on show.
type prompter struct {
	msgs chan<- tea.Msg
}

// Key implements migrate.Prompter.
func (p prompter) Key(ctx context.Context, side migrate.Side, problem error) (string, error) {
	a, err := p.ask(ctx, askMsg{side: side, problem: problem})
	return a.text, err
}

// EarlyKey implements migrate.EarlyPrompter: the user may choose to paste
// the key later, when it is needed.
func (p prompter) EarlyKey(ctx context.Context, side migrate.Side, problem error) (string, error) {
	a, err := p.ask(ctx, askMsg{side: side, problem: problem, early: true})
	if err == nil && a.later {
		return "", migrate.ErrLater
	}
	return a.text, err
}

// Confirm implements migrate.Prompter.
func (p prompter) Confirm(ctx context.Context, q migrate.Question) (bool, error) {
	a, err := p.ask(ctx, askMsg{question: &q})
	return a.yes, err
}

// ChoosePlan implements migrate.PlanChooser: the plan screen offers the
// frozen copy or live, and the consent for the tables without a primary
// key.
func (p prompter) ChoosePlan(ctx context.Context, q migrate.Question) (migrate.PlanAnswer, error) {
	a, err := p.ask(ctx, askMsg{question: &q, choose: true})
	return migrate.PlanAnswer{Go: a.yes, Live: a.live}, err
}

func (p prompter) ask(ctx context.Context, q askMsg) (answer, error) {
	q.reply = make(chan answer, 1)
	select {
	case p.msgs <- q:
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
	select {
	case a := <-q.reply:
		return a, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// summary is what stays in the terminal once the wizard's screen is gone.
func summary(m model, err error) string {
	var b strings.Builder
	switch {
	case err == nil:
		b.WriteString("ppg: migration complete and verified.\n")
		if v := m.verifyScreen().finished; v != "" {
			_, _ = fmt.Fprintf(&b, "  %s.\n", v)
		}
		if d := m.doneScreen().dumpLine(); d != "" {
			_, _ = fmt.Fprintf(&b, "  The dump is kept: %s\n", d)
		}
		_, _ = fmt.Fprintf(&b, "  Next: point your application's DATABASE_URL at the %s.\n", m.flow.Target)
	case errors.Is(err, context.Canceled):
		if m.run == nil || !m.mig.continued {
			return "ppg: quit before the migration started; nothing was changed.\n"
		}
		switch {
		case m.mig.saved:
			b.WriteString("ppg: migration stopped; progress is saved.\n")
			_, _ = fmt.Fprintf(&b, "  Run %s%s again to resume%s.\n", m.flow.Command, dirFlag(m.opts.Dir), resumeAt(m.flow, m.mig.step))
		case m.mig.restarted:
			b.WriteString("ppg: migration stopped; nothing of the new start was saved.\n")
			_, _ = fmt.Fprintf(&b, "  The folder keeps the earlier migration as it was: %s%s shows it.\n", m.flow.Command, dirFlag(m.opts.Dir))
		default:
			b.WriteString("ppg: migration stopped; nothing was saved yet.\n")
			_, _ = fmt.Fprintf(&b, "  Run %s%s again to start from the beginning.\n", m.flow.Command, dirFlag(m.opts.Dir))
		}
	default:
		f := m.flow.Explain(err)
		if f.Step != "" {
			_, _ = fmt.Fprintf(&b, "ppg: %s: %s\n", m.flow.Failed(err), f.Headline)
			for _, l := range (&failureModel{err: err}).findings(m.flow) {
				_, _ = fmt.Fprintf(&b, "  %s\n", l)
			}
			for _, l := range f.Tail[max(0, len(f.Tail)-10):] {
				_, _ = fmt.Fprintf(&b, "  | %s\n", clean(l))
			}
		} else {
			_, _ = fmt.Fprintf(&b, "ppg: %s\n", f.Headline)
		}
		if hint := m.flow.WizardNextStep(err, m.mig.saved); hint != "" {
			_, _ = fmt.Fprintf(&b, "  Next: %s\n", hint)
		}
	}
	return b.String()
}

// dirFlag is the --dir flag to repeat for a working folder other than the
// current one.
func dirFlag(dir string) string {
	if dir == "" || filepath.Clean(dir) == "." {
		return ""
	}
	if strings.ContainsAny(dir, " \t'\"\\$") {
		return " --dir " + strconv.Quote(dir)
	}
	return " --dir " + dir
}

func resumeAt(flow words.Flow, st migrate.Step) string {
	if st == "" {
		return ""
	}
	return " from “" + flow.Step(st) + "”"
}
