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
		side     migrate.Side
		problem  error // why the previous key was refused
		early    bool  // asked before it is needed: "later" is an answer
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
}

// Messages from the screens to the root.
type (
	startMsg      struct{ restart bool } // start screen: go (or start over)
	keyEnteredMsg struct{ value string } // key input: the pasted key
	keyLaterMsg   struct{}               // key input: paste it later
	answerMsg     struct{ yes bool }     // confirmation: the answer
	quitMsg       struct{}               // start, done, failure: leave
)

// send returns a Cmd that reports msg: a screen's way to end.
func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// screen names what the body shows. The root model holds it and changes it
// at each transition (see show and follow).
type screen int

const (
	screenStart screen = iota
	screenKey
	screenConfirm
	screenDump
	screenRestore
	screenVerify
	screenDone
	screenFailure
)

// viewCtx is what every screen's view needs: the styles, the words of the
// flow, the room it has and the moment's spinner frame and time.
type viewCtx struct {
	st     Styles
	flow   words.Flow
	width  int
	height int
	spin   string
	now    time.Time
	dir    string // the working folder as given
	absDir string // and made absolute, when Run could
}

// model is the root model: the window, the global keys, the engine's run,
// the screen on show, and the screens, each owning its own fields. It is a
// value; the runner it points to is shared by its copies.
type model struct {
	ctx   context.Context // Run's: the engine's ctx derives from it
	opts  Options
	flow  words.Flow
	st    Styles
	keys  keyMaps
	help  help.Model
	spin  spinner.Model
	clock func() time.Time
	now   time.Time

	width, height int

	screen    screen // what shows
	run       *runner
	exited    bool // the engine has returned result
	result    error
	ask       *askMsg      // the engine's open question
	askedSide migrate.Side // the side whose key was asked for last
	step      migrate.Step // the step running or last run
	resumed   bool         // the folder held a state file at the start
	// saved is set while a state file holds this migration's progress:
	// a resumed one, or one whose source was confirmed (the engine writes
	// nothing before).
	saved bool
	// restarted is set after "start over" until the new migration is
	// saved: the folder then still holds the earlier one, as it was.
	restarted bool
	// continued is set once the user has left the start screen.
	continued bool
	stopAsk   bool // "Stop the migration?" is shown
	stopping  bool // the engine was told to stop

	start   startModel
	keyEA   keyModel
	keyGA   keyModel
	confirm confirmModel
	dump    progressModel
	restore progressModel
	verify  verifyModel
	done    doneModel
	fail    failureModel
}

// newModel returns the wizard for the folder whose state file read as
// state (nil when there is none) or failed with stateErr. A fresh migration
// starts its engine at once, so the tools are checked while the user reads;
// a recorded one waits for the user's choice.
func newModel(ctx context.Context, opts Options, st Styles, state *migrate.State, stateErr error) model {
	old := state
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
		ctx: ctx, opts: opts, flow: flow, st: st, keys: newKeyMaps(), help: h, clock: clock, now: clock(),
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Spinner)),
		width:   80,
		height:  24,
		screen:  screenStart,
		resumed: state != nil,
		saved:   state != nil,
		start:   newStartModel(state, stateErr),
		keyEA:   newKeyModel(migrate.Source, state),
		keyGA:   newKeyModel(migrate.Target, state),
		dump:    newProgressModel(migrate.StepDump, st),
		restore: newProgressModel(migrate.StepRestore, st),
		verify:  newVerifyModel(),
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

// Update routes a message to the root or the screen on show.
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
	case engineDoneMsg:
		return m.engineDone(msg.err)
	case parentDoneMsg:
		if m.engineRunning() {
			m.stopAsk, m.stopping = false, true
			return m, nil
		}
		return m, tea.Quit
	case stateMsg:
		m.done.setState(msg.state)
		m.done.layout(m.bodyCtx())
		return m, nil
	case envMsg:
		m.done.setEnv(msg.env)
		m.done.layout(m.bodyCtx())
		return m, nil
	case startMsg:
		return m.begin(msg.restart)
	case keyEnteredMsg:
		m.keyEntered(msg.value)
		return m, nil
	case keyLaterMsg:
		if m.ask != nil && m.ask.question == nil && m.ask.early {
			m.ask.reply <- answer{later: true}
			m.keyFor(m.ask.side).setStatus("You will paste it when it is needed, after the dump.")
			m.ask = nil
			m.follow()
		}
		return m, nil
	case answerMsg:
		m.answered(msg.yes)
		return m, nil
	case quitMsg:
		if m.engineRunning() {
			return m.stopEngine()
		}
		return m, tea.Quit
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m model) engineRunning() bool { return m.run != nil && !m.exited }

// show changes the screen, unless a final one (done, failure) shows, or
// the user has not left the start screen yet.
func (m *model) show(s screen) {
	if m.screen == screenDone || m.screen == screenFailure {
		return
	}
	if !m.continued && s != screenDone && s != screenFailure {
		return
	}
	m.screen = s
}

// follow shows what the engine is about: its open question, else the
// screen of the running step.
func (m *model) follow() {
	switch {
	case m.ask != nil && m.ask.question != nil:
		m.show(screenConfirm)
	case m.ask != nil:
		m.show(screenKey)
	default:
		m.show(stepScreen(m.step))
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
	}
	return screenStart
}

// begin leaves the start screen, starting the engine unless it runs.
func (m model) begin(restart bool) (tea.Model, tea.Cmd) {
	m.continued = true
	if restart {
		m.startOver(m.start.state)
	}
	m.start.leave()
	m.follow()
	if m.run != nil {
		return m, nil
	}
	m.run = newRunner(m.ctx)
	return m, tea.Batch(m.run.start(m.opts.runFunc(), restart), waitForEngine(m.run))
}

// startOver forgets the keys of the migration old (nil when its record
// could not be read) that the user started over: any database will do
// now, and the target it restored into is named so that another one is
// noticed. Nothing is saved until the new source is confirmed.
func (m *model) startOver(old *migrate.State) {
	m.saved, m.restarted = false, true
	m.keyEA.started, m.keyGA.started = "", ""
	if old == nil {
		return
	}
	switch {
	case old.Target != nil:
		m.keyGA.previous = old.Target.Display
	case old.Previous != nil:
		m.keyGA.previous = old.Previous.Display
	}
}

// stopEngine cancels the engine; the program quits when it has returned.
func (m model) stopEngine() (tea.Model, tea.Cmd) {
	m.stopAsk, m.stopping = false, true
	m.run.cancel()
	return m, nil
}

func (m model) engineDone(err error) (tea.Model, tea.Cmd) {
	m.exited, m.result = true, err
	m.ask = nil
	// A stop question still open has nothing left to stop: answering it
	// yes would wait for an engine that has already returned.
	m.stopAsk = false
	if m.stopping || errors.Is(err, context.Canceled) {
		return m, tea.Quit
	}
	if err == nil {
		m.done = newDoneModel(m.verify.finished, m.verify.summary, m.verify.report, m.dump.dumpInfo)
		m.done.layout(m.bodyCtx())
		m.show(screenDone)
		return m, tea.Batch(readState(m.opts.Dir), readEnv())
	}
	if m.screen != screenFailure && !m.verify.failed() {
		m.fail = newFailureModel(m.flow, err)
		m.fail.saved, m.fail.restarted = m.saved, m.restarted
		m.show(screenFailure)
	}
	return m, nil
}

// event hands an engine event to the screen it concerns.
func (m *model) event(ev migrate.Event) {
	if (ev.Kind == migrate.Progress || ev.Kind == migrate.ToolLine) && m.ask == nil && m.screen == screenKey {
		// A resumed step asks for its key after it started: once the
		// key is taken, its work shows on the step's own screen.
		m.show(stepScreen(ev.Step))
	}
	switch ev.Kind {
	case migrate.StepStarted:
		m.step = ev.Step
		switch ev.Step {
		case migrate.StepDump:
			m.dump.begin(ev)
		case migrate.StepCheckArchive:
			m.dump.archiveStarted()
		case migrate.StepRestore:
			m.restore.begin(ev)
		case migrate.StepVerify:
			m.verify.begin(ev)
		}
		if m.ask == nil {
			m.show(stepScreen(ev.Step))
		}
	case migrate.StepFinished:
		m.finished(ev)
	case migrate.Progress:
		if p := m.progressOf(ev.Step); p != nil && ev.Progress != nil {
			p.progress(ev)
		}
		if ev.Step == migrate.StepVerify && ev.Progress != nil {
			m.verify.progress(*ev.Progress)
		}
	case migrate.ToolLine:
		if p := m.progressOf(ev.Step); p != nil {
			p.toolLine(ev.Line)
		}
	case migrate.Warning:
		text := m.flow.Notice(ev.Notice)
		if p := m.progressOf(ev.Step); p != nil {
			p.warn(text)
			m.fitWarnings()
			return
		}
		m.note(ev.Step, "! "+text)
	case migrate.Info:
		m.note(ev.Step, m.flow.Notice(ev.Notice))
	case migrate.Report:
		m.verify.setReport(ev.Report, m.bodyWidth(), m.bodyHeight())
	case migrate.StepFailed:
		f := m.flow.Explain(ev.Failure)
		if ev.Step == migrate.StepVerify && m.verify.report != nil {
			m.verify.fail(f)
			m.show(screenVerify)
			return
		}
		m.fail = failureModel{f: f, err: ev.Failure, declined: errors.Is(ev.Failure.Err, migrate.ErrDeclined), saved: m.saved, restarted: m.restarted}
		m.show(screenFailure)
	}
}

// finished hands a step's summary to its screen.
func (m *model) finished(ev migrate.Event) {
	s := ev.Summary
	if s == nil {
		s = &migrate.Summary{}
	}
	text := m.flow.Summary(ev.Step, s)
	switch ev.Step {
	case migrate.StepCheckTools:
		if s.Tools != nil {
			m.start.toolsFound(*s.Tools)
		}
	case migrate.StepConnectSource:
		// The engine has written the state file.
		m.saved, m.restarted = true, false
		m.keyEA.connected(text)
	case migrate.StepDump:
		m.dump.end(ev.Time, text)
		m.dump.dumpInfo = s.Dump
	case migrate.StepCheckArchive:
		m.dump.archiveChecked(text)
	case migrate.StepConnectTarget:
		m.keyGA.connected(text)
	case migrate.StepRestore:
		m.restore.end(ev.Time, text)
	case migrate.StepVerify:
		m.verify.finish(text, s.Verified)
	}
}

// note shows an Info or Warning text on the screen of step.
func (m *model) note(st migrate.Step, text string) {
	switch st {
	case migrate.StepConnectSource:
		m.keyEA.setNote(text)
	case migrate.StepConnectTarget:
		m.keyGA.setNote(text)
	case migrate.StepVerify:
		m.verify.setNote(text)
	case migrate.StepDump, migrate.StepCheckArchive, migrate.StepRestore:
		m.progressOf(st).setNote(text)
	default:
		m.start.addNote(text)
	}
}

// progressOf returns the progress screen that shows step st, or nil.
func (m *model) progressOf(st migrate.Step) *progressModel {
	switch st {
	case migrate.StepDump, migrate.StepCheckArchive:
		return &m.dump
	case migrate.StepRestore:
		return &m.restore
	}
	return nil
}

func (m *model) keyFor(side migrate.Side) *keyModel {
	if side == migrate.Target {
		return &m.keyGA
	}
	return &m.keyEA
}

func (m *model) asked(a askMsg) {
	m.ask = &a
	if a.question != nil {
		m.confirm = newConfirmModel(*a.question)
		if m.keyGA.other {
			m.confirm.other = m.keyGA.previous
		}
		m.confirm.layout(m.bodyCtx())
		m.show(screenConfirm)
		return
	}
	m.askedSide = a.side
	var f *words.Failure
	if a.problem != nil {
		x := m.flow.Explain(a.problem)
		f = &x
	}
	m.keyFor(a.side).asked(f, a.early)
	m.show(screenKey)
}

func (m *model) keyEntered(v string) {
	if m.ask == nil || m.ask.question != nil {
		return
	}
	m.ask.reply <- answer{text: v}
	m.ask = nil
}

func (m *model) answered(yes bool) {
	if m.ask == nil || m.ask.question == nil {
		return
	}
	kind := m.ask.question.Kind
	m.ask.reply <- answer{yes: yes}
	m.ask = nil
	switch {
	case kind == migrate.ConfirmSource && yes:
		m.keyEA.setStatus("Starting the dump…")
	case (kind == migrate.ConfirmNonEmptyTarget || kind == migrate.ConfirmResetTarget) && yes:
		m.keyGA.setStatus("Starting the restore…")
	case kind == migrate.ConfirmRedump && yes:
		m.dump.again(m.now)
	case kind == migrate.ConfirmRedump, kind == migrate.ConfirmSourceChanged:
		// Either answer goes on.
	case !yes:
		m.keyFor(m.keySide()).setStatus("Stopping…")
	}
	m.follow()
}

// key handles a key press: the stop question first, then ctrl+c, then the
// screen on show.
func (m model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.stopping {
		return m, nil
	}
	if m.stopAsk {
		switch {
		case key.Matches(msg, m.keys.stop.Yes):
			return m.stopEngine()
		case key.Matches(msg, m.keys.stop.No):
			m.stopAsk = false
		}
		return m, nil
	}
	if msg.Type == tea.KeyCtrlC {
		if m.engineRunning() {
			m.stopAsk = true
			return m, nil
		}
		return m, tea.Quit
	}
	var cmd tea.Cmd
	switch m.screen {
	case screenStart:
		m.start, cmd = m.start.update(msg, m.startKeys())
	case screenKey:
		if m.ask != nil {
			keys := m.keys.input
			keys.Later.SetEnabled(m.ask.early)
			km := m.keyFor(m.ask.side)
			*km, cmd = km.update(msg, keys, m.flow)
		}
	case screenConfirm:
		m.confirm, cmd = m.confirm.update(msg, m.confirm.keys(m.keys.confirm))
	case screenDump:
		m.dump.update(msg, m.progressKeys(&m.dump), m.logHeight())
		m.fitWarnings()
	case screenRestore:
		m.restore.update(msg, m.progressKeys(&m.restore), m.logHeight())
		m.fitWarnings()
	case screenVerify:
		m.verify, cmd = m.verify.update(msg, m.verifyKeys())
	case screenDone:
		m.done, cmd = m.done.update(msg, m.keys.done)
	case screenFailure:
		if key.Matches(msg, m.keys.end.Quit) {
			cmd = send(quitMsg{})
		}
	}
	return m, cmd
}

// keySide is the side the key screen is about.
func (m model) keySide() migrate.Side {
	switch {
	case m.ask != nil && m.ask.question == nil:
		return m.ask.side
	case m.step == migrate.StepConnectTarget:
		return migrate.Target
	case m.askedSide != 0 && m.step != migrate.StepConnectSource:
		return m.askedSide
	}
	return migrate.Source
}

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

// logHeight is about the log's room on a progress screen, for scrolling.
func (m model) logHeight() int { return max(1, m.bodyHeight()-progressRows) }

// resize fits the sized components to the window.
func (m *model) resize() {
	m.help.Width = m.bodyWidth()
	m.verify.layout(m.bodyWidth(), m.bodyHeight())
	m.done.layout(m.bodyCtx())
	m.confirm.layout(m.bodyCtx())
	m.fitWarnings()
}

// bodyCtx is the view context of the body, for the screens that lay out
// their content ahead of View (the help line takes one row).
func (m model) bodyCtx() viewCtx {
	return viewCtx{st: m.st, flow: m.flow, width: m.bodyWidth(), height: m.bodyHeight() + 1, now: m.now, dir: m.opts.Dir, absDir: m.opts.absDir}
}

func (m *model) fitWarnings() {
	m.dump.fitWarnings(m.bodyWidth(), m.logHeight())
	m.restore.fitWarnings(m.bodyWidth(), m.logHeight())
}

// Key maps with what does not apply disabled.

func (m model) startKeys() startKeys {
	k := m.keys.start
	s := m.start
	asking := s.confirmRestart
	choosing := !m.continued && !asking
	k.Continue.SetEnabled(choosing && s.stateErr == nil)
	k.Restart.SetEnabled(choosing && (s.state != nil || s.stateErr != nil))
	k.Quit.SetEnabled(choosing)
	k.Yes.SetEnabled(asking)
	k.No.SetEnabled(asking)
	switch {
	case s.state == nil && s.stateErr == nil:
		k.Continue.SetHelp("enter", "begin")
	case s.finished():
		k.Continue.SetHelp("enter", "show the report")
	}
	// ctrl+c works anyway; while choosing, q says it.
	k.Stop.SetEnabled(m.continued && m.engineRunning())
	return k
}

func (m model) progressKeys(p *progressModel) progressKeys {
	k := m.keys.progress
	k.Warnings.SetEnabled(p.warnCount() > 0)
	if p.showWarn {
		k.Warnings.SetHelp("w", "log")
		k.Follow.SetEnabled(false)
	}
	k.Stop.SetEnabled(m.engineRunning())
	return k
}

func (m model) verifyKeys() verifyKeys {
	k := m.keys.verify
	k.Quit.SetEnabled(!m.engineRunning())
	k.Stop.SetEnabled(m.engineRunning())
	return k
}

func (m model) helpKeys() help.KeyMap {
	switch m.screen {
	case screenStart:
		return m.startKeys()
	case screenKey:
		k := m.keys.input
		k.Later.SetEnabled(m.ask != nil && m.ask.early)
		if m.ask == nil {
			k.Submit.SetEnabled(false)
			k.Clear.SetEnabled(false)
		}
		return k
	case screenConfirm:
		k := m.confirm.keys(m.keys.confirm)
		k.Scroll.SetEnabled(m.confirm.overflows())
		return k
	case screenDump:
		return m.progressKeys(&m.dump)
	case screenRestore:
		return m.progressKeys(&m.restore)
	case screenVerify:
		return m.verifyKeys()
	case screenDone:
		return m.keys.done
	}
	return m.keys.end
}

// View draws the header, the screen on show and the help bar (or the stop
// question).
func (m model) View() string {
	w := max(m.width, minWidth)
	c := viewCtx{st: m.st, flow: m.flow, width: m.bodyWidth(), now: m.now, spin: m.spin.View(), dir: m.opts.Dir, absDir: m.opts.absDir}
	h := max(m.height, minHeight)
	header := m.headerView(c)
	footer := m.footerView(c)
	if h-headerRows-1-height(footer) < 3 {
		// A window too low for the stop question's box: one line.
		footer = m.compactFooter(c)
	}
	c.height = h - headerRows - 1 - height(footer)
	body := fitHeight(fitWidth(m.bodyView(c), c.width), c.height)
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
	case m.screen == screenStart && !m.continued:
		step = ""
	case m.step != "":
		all := migrate.Steps()
		n := 0
		for i, s := range all {
			if s == m.step {
				n = i + 1
			}
		}
		step = fmt.Sprintf("Step %d of %d · %s", n, len(all), m.stepTitle())
		if lipgloss.Width(m.flow.Command)+2+lipgloss.Width(step) > c.width {
			step = fmt.Sprintf("%d/%d · %s", n, len(all), m.stepTitle()) // a narrow window
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
// header names rather than the source's connection.
func (m model) stepTitle() string {
	if m.step == migrate.StepConnectSource {
		switch {
		case m.screen == screenKey && m.keySide() == migrate.Target:
			return m.flow.Step(migrate.StepConnectTarget) + ", for the plan"
		case m.screen == screenConfirm && m.confirm.q.Kind == migrate.ConfirmSource:
			return "The plan"
		}
	}
	return m.flow.Step(m.step)
}

func (m model) footerView(c viewCtx) string {
	switch {
	case m.stopping && m.saved:
		return c.spin + " " + c.st.Warning.Render("Stopping… the tool is stopped and the progress saved; this takes a few seconds.")
	case m.stopping:
		return c.spin + " " + c.st.Warning.Render("Stopping…")
	case m.stopAsk:
		return stopView(c, m.saved, m.restarted) + "\n" + m.help.View(m.keys.stop)
	}
	return m.help.View(m.helpKeys())
}

func (m model) compactFooter(c viewCtx) string {
	if m.stopAsk {
		return c.st.Warning.Render(stopShort(m.saved)) + " " + m.help.View(m.keys.stop)
	}
	return fitHeight(m.footerView(c), 1)
}

func (m model) bodyView(c viewCtx) string {
	switch m.screen {
	case screenStart:
		return m.start.view(c, m.continued)
	case screenKey:
		return m.keyFor(m.keySide()).view(c, m.ask != nil)
	case screenConfirm:
		return m.confirm.view(c)
	case screenDump:
		return m.dump.view(c, m.engineRunning())
	case screenRestore:
		return m.restore.view(c, m.engineRunning())
	case screenVerify:
		return m.verify.view(c, m.engineRunning())
	case screenDone:
		return m.done.view(c)
	case screenFailure:
		return m.fail.view(c)
	}
	return ""
}
