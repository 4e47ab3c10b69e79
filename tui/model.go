package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// Messages from the engine's goroutine.
type (
	// eventMsg is one engine event.
	eventMsg struct{ ev migrate.Event }
	// askMsg is a question of the engine: a key for side (question nil)
	// or a confirmation. The screen answers once on reply (buffer 1);
	// the engine waits for it or for its ctx.
	askMsg struct {
		side    migrate.Side
		problem error // why the previous key was refused
		early   bool  // asked before it is needed: "later" is an answer
		// choose: the plan's live offer may be taken (a PlanChooser's
		// question).
		choose   bool
		question *migrate.Question
		reply    chan answer
	}
	// engineBatchMsg is the events and questions waiting in the channel,
	// in order.
	engineBatchMsg []tea.Msg
	// engineDoneMsg is the engine's result; it comes after every event.
	engineDoneMsg struct{ err error }
	// parentDoneMsg says Run's ctx ended (a signal): stop.
	parentDoneMsg struct{}
	// stateMsg is the state file read after the migration.
	stateMsg struct{ state *migrate.State }
	// envMsg is what ./.env still points at, read after the migration.
	envMsg struct{ env []migrate.EnvFinding }
)

// answer is the reply to an askMsg.
type answer struct {
	text  string
	yes   bool
	later bool // the key comes later
	// live is the live migration chosen on the plan, with its consent.
	live *migrate.LiveOptions
}

// Messages from the screens to the root.
type (
	startMsg struct{ restart bool } // start screen: go (or start over)
	// keyEnteredMsg is the key pasted; other names the target of the
	// migration started over when the key is another database's.
	keyEnteredMsg struct{ value, other string }
	keyLaterMsg   struct{} // key input: paste it later
	// answerMsg answers the question of kind.
	answerMsg struct {
		kind migrate.QuestionKind
		yes  bool
		live *migrate.LiveOptions // the plan's live choice
	}
	quitMsg struct{} // start, done, failure: leave
)

// send returns a Cmd that reports msg: a screen's way to end.
func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// common is what the root shares with every screen through viewCtx: the
// options, the words, the styles and keys, the help bar, the spinner and
// the clock.
type common struct {
	ctx   context.Context // Run's: the engine's ctx derives from it
	opts  Options
	flow  words.Flow
	st    Styles
	keys  keyMaps
	help  help.Model
	spin  spinner.Model
	clock func() time.Time
	now   time.Time
}

// journey is what the root knows of the migration: the engine's open
// question, the step it is at and what the folder's state file holds.
type journey struct {
	exited    bool // the engine has returned result
	result    error
	ask       *askMsg      // the engine's open question
	askedSide migrate.Side // the side whose key was asked for last
	step      migrate.Step // the step running or last run
	// continued is set once the user has left the start screen.
	continued bool
	// saved is set while a state file holds this migration's progress:
	// a resumed one, or one whose source was confirmed (the engine writes
	// nothing before).
	saved bool
	// restarted is set after "start over" until the new migration is
	// saved: the folder then still holds the earlier one, as it was.
	restarted bool
	// other names the target of the migration started over when the new
	// target is another database.
	other string
}

// stopQuestion is "Stop the migration?" after ctrl+c.
type stopQuestion struct {
	asking   bool // the question is shown
	stopping bool // the engine was told to stop
}

// model is the root model: the window, the engine's run, the stop
// question and the screen on show, with the table of screens, what they
// share and what the root knows of the migration. It is a value; the
// runner and the screens it points to are shared by its copies.
type model struct {
	common
	width, height int
	run           *runner
	stop          stopQuestion
	screen        screen // what shows
	screens       [screenCount]component
	mig           journey
}

// newModel returns the wizard for the folder whose state file read as
// state (nil when there is none) or failed with stateErr. A fresh migration
// starts its engine at once, so the tools are checked while the user reads;
// a recorded one waits for the user's choice.
func newModel(ctx context.Context, opts Options, st Styles, state *migrate.State, stateErr error) model {
	old := state
	state, stateErr = checkFlow(opts, state, stateErr)
	restarted := opts.Restart && (state != nil || stateErr != nil)
	if opts.Restart {
		state, stateErr = nil, nil // no summary: the user chose already
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	flow := opts.Flow
	if flow.Command == "" {
		flow = words.FromEA
	}
	h := help.New()
	h.Styles = st.Help
	m := model{
		common: common{ctx: ctx, opts: opts, flow: flow, st: st, keys: newKeyMaps(), help: h, clock: clock, now: clock(),
			spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Spinner))},
		width:   80,
		height:  24,
		screen:  screenStart,
		screens: newScreens(st, state, stateErr),
		mig:     journey{saved: state != nil},
	}
	if state == nil && stateErr == nil {
		m.run = newRunner(ctx)
	}
	if restarted {
		m.startOver(old)
	}
	m.resize()
	return m
}

// checkFlow turns a record of the other flow's migration into the reason
// why it cannot be used, so that the start screen says at once which
// command the folder belongs to, as the engine would once it ran.
func checkFlow(opts Options, state *migrate.State, stateErr error) (*migrate.State, error) {
	if stateErr != nil || opts.DumpPrefix == "" {
		return state, stateErr
	}
	if err := migrate.CheckFlow(state, opts.Dir, opts.DumpPrefix); err != nil {
		return nil, err
	}
	return state, nil
}

// Init starts the spinner, the watch on ctx and, for a fresh migration,
// the engine.
func (m model) Init() tea.Cmd {
	cmds := []tea.Cmd{watchParent(m.ctx)}
	if !m.opts.still {
		cmds = append(cmds, m.spin.Tick)
	}
	if m.run != nil {
		cmds = append(cmds, m.run.start(m.opts.runFunc(), m.opts.Restart), waitForEngine(m.run))
	}
	return tea.Batch(cmds...)
}

// Update handles the window, the engine and the screens' results; keys go
// to the stop question or the screen on show.
func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.now = m.clock()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case engineBatchMsg:
		return m.engineBatch(msg)
	case engineDoneMsg:
		return m.engineDone(msg)
	case parentDoneMsg:
		if m.engineRunning() {
			m.stop = stopQuestion{stopping: true}
			return m, nil
		}
		return m, tea.Quit
	case stateMsg, envMsg:
		m.tell(msg)
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m.result(msg)
}

// result handles a screen's result.
func (m model) result(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case startMsg:
		return m.begin(msg.restart)
	case keyEnteredMsg:
		if m.mig.ask != nil && m.mig.ask.question == nil {
			m.mig.ask.reply <- answer{text: msg.value}
			m.mig.ask = nil
			if msg.other != "" {
				m.mig.other = msg.other
			}
		}
	case keyLaterMsg:
		if a := m.mig.ask; a != nil && a.question == nil && a.early {
			a.reply <- answer{later: true}
			m.tell(msg)
			m.mig.ask = nil
			m.follow()
		}
	case answerMsg:
		if a := m.mig.ask; a != nil && a.question != nil {
			a.reply <- answer{yes: msg.yes, live: msg.live}
			m.mig.ask = nil
			m.tell(msg)
			m.follow()
		}
	case quitMsg:
		if m.engineRunning() {
			return m.stopEngine()
		}
		return m, tea.Quit
	}
	return m, nil
}

func (m model) engineRunning() bool { return m.run != nil && !m.mig.exited }

// screenCtx is what the screens are handed, for the body's room (the help line
// takes one row of it).
func (m model) screenCtx() viewCtx {
	return viewCtx{
		st: m.st, flow: m.flow, keys: m.keys, width: m.bodyWidth(), height: m.bodyHeight() + 1, now: m.now,
		dir: m.opts.Dir, absDir: m.opts.absDir,
		running: m.engineRunning(), continued: m.mig.continued, ask: m.mig.ask, side: m.keySide(),
		saved: m.mig.saved, restarted: m.mig.restarted, other: m.mig.other,
	}
}

// tell hands msg to every screen.
func (m model) tell(msg tea.Msg) {
	c := m.screenCtx()
	for _, s := range m.screens {
		s.update(msg, c)
	}
}

// show changes the screen, unless a final one (done, failure) shows, or
// the user has not left the start screen yet.
func (m *model) show(s screen) {
	if m.screen == screenDone || m.screen == screenFailure {
		return
	}
	if !m.mig.continued && s != screenDone && s != screenFailure {
		return
	}
	m.screen = s
}

// follow shows what the engine is about: its open question, else the
// screen of the running step.
func (m *model) follow() {
	switch {
	case m.mig.ask != nil && m.mig.ask.question != nil:
		m.show(screenConfirm)
	case m.mig.ask != nil:
		m.show(screenKey)
	default:
		m.show(stepScreen(m.mig.step))
	}
}

// stepScreen is the screen that shows step st.
func stepScreen(st migrate.Step) screen {
	switch st {
	case migrate.StepConnectSource, migrate.StepConnectTarget:
		return screenKey
	case migrate.StepDump, migrate.StepCheckArchive:
		return screenDump
	case migrate.StepRestore:
		return screenRestore
	case migrate.StepVerify:
		return screenVerify
	case migrate.StepStream:
		return screenStream
	default:
		// The tools check runs before any step screen; done has none.
		return screenStart
	}
}

// begin leaves the start screen, starting the engine unless it runs.
func (m model) begin(restart bool) (tea.Model, tea.Cmd) {
	m.mig.continued = true
	if restart {
		m.startOver(m.startScreen().state)
	}
	m.tell(startMsg{restart: restart})
	m.follow()
	if m.run != nil {
		return m, nil
	}
	m.run = newRunner(m.ctx)
	return m, tea.Batch(m.run.start(m.opts.runFunc(), restart), waitForEngine(m.run))
}

// startOver forgets the migration old that the user started over: its
// progress is no longer this migration's (nothing is saved until the new
// source is confirmed), and the screens learn of it.
func (m *model) startOver(old *migrate.State) {
	m.mig.saved, m.mig.restarted = false, true
	m.tell(startOverMsg{old: old})
}

// stopEngine cancels the engine; the program quits when it has returned.
func (m model) stopEngine() (tea.Model, tea.Cmd) {
	m.stop = stopQuestion{stopping: true}
	m.run.cancel()
	return m, nil
}

func (m model) engineDone(msg engineDoneMsg) (tea.Model, tea.Cmd) {
	err := msg.err
	m.mig.exited, m.mig.result = true, err
	m.mig.ask = nil
	// A stop question still open has nothing left to stop: answering it
	// yes would wait for an engine that has already returned.
	m.stop.asking = false
	if m.stop.stopping || errors.Is(err, context.Canceled) {
		return m, tea.Quit
	}
	m.tell(msg)
	if err == nil {
		m.screens[screenDone].setSize(m.screenCtx())
		m.show(screenDone)
		return m, tea.Batch(readState(m.opts.Dir), readEnv())
	}
	if m.screen != screenFailure && !m.verifyScreen().failed() {
		m.show(screenFailure)
	}
	return m, nil
}

// engineBatch takes the engine's events and questions, in order.
func (m model) engineBatch(msg engineBatchMsg) (tea.Model, tea.Cmd) {
	for _, it := range msg {
		switch it := it.(type) {
		case eventMsg:
			m.event(it.ev)
		case askMsg:
			m.asked(it)
		}
	}
	if m.run != nil {
		return m, waitForEngine(m.run)
	}
	return m, nil
}

// event notes what an engine event says of the migration, hands it to
// every screen, and shows the screen it concerns.
func (m *model) event(ev migrate.Event) {
	if (ev.Kind == migrate.Progress || ev.Kind == migrate.ToolLine || ev.Live != nil) && m.mig.ask == nil && m.screen == screenKey {
		// A resumed step asks for its key after it started: once the
		// key is taken, its work (a live stream's status included)
		// shows on the step's own screen.
		m.show(stepScreen(ev.Step))
	}
	switch {
	case ev.Kind == migrate.StepStarted:
		m.mig.step = ev.Step
	case ev.Kind == migrate.StepFinished && ev.Step == migrate.StepConnectSource:
		// The engine has written the state file.
		m.mig.saved, m.mig.restarted = true, false
	}
	c := m.screenCtx()
	for _, s := range m.screens {
		s.event(ev, c)
	}
	switch {
	case ev.Kind == migrate.StepStarted && m.mig.ask == nil:
		m.show(stepScreen(ev.Step))
	case ev.Kind == migrate.StepFailed && m.verifyScreen().failed():
		m.show(screenVerify)
	case ev.Kind == migrate.StepFailed:
		m.show(screenFailure)
	}
}

// asked takes a question of the engine to the screen that answers it.
func (m *model) asked(a askMsg) {
	m.mig.ask = &a
	if a.question == nil {
		m.mig.askedSide = a.side
	}
	m.tell(a)
	if a.question != nil {
		m.show(screenConfirm)
		return
	}
	m.show(screenKey)
}

// key handles a key press: the stop question first, then ctrl+c, then the
// screen on show.
func (m model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.stop.stopping {
		return m, nil
	}
	if m.stop.asking {
		switch {
		case key.Matches(msg, m.keys.stop.Yes):
			return m.stopEngine()
		case key.Matches(msg, m.keys.stop.No):
			m.stop.asking = false
		}
		return m, nil
	}
	if msg.Type == tea.KeyCtrlC {
		if m.engineRunning() {
			m.stop.asking = true
			return m, nil
		}
		return m, tea.Quit
	}
	return m, m.screens[m.screen].update(msg, m.screenCtx())
}

// keySide is the side the key screen is about.
func (m model) keySide() migrate.Side {
	switch {
	case m.mig.ask != nil && m.mig.ask.question == nil:
		return m.mig.ask.side
	case m.mig.step == migrate.StepConnectTarget:
		return migrate.Target
	case m.mig.askedSide != 0 && m.mig.step != migrate.StepConnectSource:
		return m.mig.askedSide
	}
	return migrate.Source
}

// The screens the root reads facts from.

func (m model) startScreen() *startModel     { return m.screens[screenStart].(*startModel) }
func (m model) verifyScreen() *verifyModel   { return m.screens[screenVerify].(*verifyModel) }
func (m model) doneScreen() *doneModel       { return m.screens[screenDone].(*doneModel) }
func (m model) confirmScreen() *confirmModel { return m.screens[screenConfirm].(*confirmModel) }

// Layout: a header line, a blank line, the body, a blank line, the footer;
// one column of margin on each side.
const (
	margin      = 1
	headerRows  = 2
	footerRows  = 2
	minWidth    = 30
	minHeight   = 10
	defaultRows = 24
)

func (m model) bodyWidth() int { return max(m.width, minWidth) - 2*margin }

// bodyHeight is the body's room under the help line (the stop question
// takes more).
func (m model) bodyHeight() int { return max(m.height, minHeight) - headerRows - footerRows }

// resize fits the screens to the window.
func (m *model) resize() {
	m.help.Width = m.bodyWidth()
	c := m.screenCtx()
	for _, s := range m.screens {
		s.setSize(c)
	}
}

// View draws the header, the screen on show and the help bar (or the stop
// question).
func (m model) View() string {
	w := max(m.width, minWidth)
	c := m.screenCtx()
	c.spin = m.spin.View()
	h := max(m.height, minHeight)
	header := m.headerView(c)
	footer := m.footerView(c)
	if h-headerRows-1-height(footer) < 3 {
		// A window too low for the stop question's box: one line.
		footer = m.compactFooter(c)
	}
	c.height = h - headerRows - 1 - height(footer)
	body := fitHeight(fitWidth(m.screens[m.screen].view(c), c.width), c.height)
	out := header + "\n\n" + body + "\n\n" + footer
	pad := strings.Repeat(" ", margin)
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		lines = lines[len(lines)-h:]
	}
	for i, l := range lines {
		lines[i] = pad + fitWidth(l, w-2*margin)
	}
	return strings.Join(lines, "\n")
}

func (m model) headerView(c viewCtx) string {
	title := c.st.Title.Render(m.flow.Command)
	var step string
	switch {
	case m.screen == screenDone:
		step = "Done"
	case m.screen == screenStart && !m.mig.continued:
		step = ""
	case m.mig.step != "":
		all := migrate.Steps()
		if m.mig.step == migrate.StepStream {
			all = append(all, migrate.StepStream) // a live migration's
		}
		n := 0
		for i, s := range all {
			if s == m.mig.step {
				n = i + 1
			}
		}
		step = fmt.Sprintf("Step %d of %d · %s", n, len(all), m.stepTitle(false))
		if lipgloss.Width(m.flow.Command)+2+lipgloss.Width(step) > c.width {
			step = fmt.Sprintf("%d/%d · %s", n, len(all), m.stepTitle(true)) // a narrow window
		}
	}
	left := title
	if step != "" {
		left += "  " + c.st.Step.Render(step)
	}
	if m.opts.Version == "" {
		return left
	}
	version := c.st.Version.Render(m.opts.Version)
	gap := c.width - lipgloss.Width(left) - lipgloss.Width(version)
	if gap < 2 {
		return left
	}
	return left + strings.Repeat(" ", gap) + version
}

// stepTitle names what the step on show does now: connecting to the
// source also takes the target's key early and shows the plan, which the
// header names rather than the source's connection. short leaves out
// why, for a narrow window.
func (m model) stepTitle(short bool) string {
	if m.mig.step == migrate.StepConnectSource {
		switch {
		case m.screen == screenKey && m.keySide() == migrate.Target && short:
			return m.flow.Step(migrate.StepConnectTarget)
		case m.screen == screenKey && m.keySide() == migrate.Target:
			return m.flow.Step(migrate.StepConnectTarget) + ", for the plan"
		case m.screen == screenConfirm && m.confirmScreen().q.Kind == migrate.ConfirmSource:
			return "The plan"
		}
	}
	return m.flow.Step(m.mig.step)
}

func (m model) footerView(c viewCtx) string {
	switch {
	case m.stop.stopping && m.mig.saved:
		return c.spin + " " + c.st.Warning.Render("Stopping… the tool is stopped and the progress saved; this takes a few seconds.")
	case m.stop.stopping:
		return c.spin + " " + c.st.Warning.Render("Stopping…")
	case m.stop.asking:
		return stopView(c, m.mig.saved, m.mig.restarted) + "\n" + m.help.View(m.keys.stop)
	}
	return m.help.View(m.screens[m.screen].helpKeys(c))
}

func (m model) compactFooter(c viewCtx) string {
	if m.stop.asking {
		return c.st.Warning.Render(stopShort(m.mig.saved)) + " " + m.help.View(m.keys.stop)
	}
	return fitHeight(m.footerView(c), 1)
}
