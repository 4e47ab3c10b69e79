package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/words"
)

// startModel is the first screen: what will happen, the tools found, and,
// when the folder holds a migration, where it stands with the choice to
// continue, start over or quit.
type startModel struct {
	state    *migrate.State // the recorded migration, if any
	stateErr error          // why the state file cannot be used
	tools    []string       // the tools the engine found
	notes    []string       // Info and Warning texts before the first step
	// confirmRestart shows "Start over?" in place of the choices.
	confirmRestart bool
	// oldDumps are the dump files already in the folder.
	oldDumps []migrate.OldDump
}

func newStartModel(state *migrate.State, stateErr error) *startModel {
	return &startModel{state: state, stateErr: stateErr}
}

// event keeps the tools found, and the notes of no step's screen.
func (s *startModel) event(ev migrate.Event, c viewCtx) {
	switch {
	case ev.Kind == migrate.StepFinished && ev.Step == migrate.StepCheckTools && ev.Summary != nil && ev.Summary.Tools != nil:
		s.toolsFound(*ev.Summary.Tools)
	case (ev.Kind == migrate.Info || ev.Kind == migrate.Warning) && stepScreen(ev.Step) == screenStart:
		s.addNote(noticeText(ev, c.flow))
	}
}

// noticeText is an Info or Warning event's words, a warning marked "!".
func noticeText(ev migrate.Event, flow words.Flow) string {
	if ev.Kind == migrate.Warning {
		return "! " + flow.Notice(ev.Notice)
	}
	return flow.Notice(ev.Notice)
}

func (s *startModel) setSize(viewCtx) {}

// helpKeys are the start screen's keys, with what does not apply disabled.
func (s *startModel) helpKeys(c viewCtx) help.KeyMap {
	k := c.keys.start
	asking := s.confirmRestart
	choosing := !c.continued && !asking
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
	k.Stop.SetEnabled(c.continued && c.running)
	return k
}

// finished reports whether the recorded migration has every step done:
// continuing it only shows its report.
func (s *startModel) finished() bool {
	return s.state != nil && s.stateErr == nil && s.state.Next() == migrate.StepDone
}

// toolsFound records the tools the check-tools step chose, one a line.
func (s *startModel) toolsFound(ts pgtools.Toolset) {
	s.tools = append(s.tools, ts.Dump.String(), ts.Restore.String())
}

// addNote shows an Info or Warning text before the first step.
func (s *startModel) addNote(text string) { s.notes = append(s.notes, text) }

func (s *startModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case startMsg:
		s.confirmRestart = false // left: the question is over
	case tea.KeyMsg:
		k := s.helpKeys(c).(startKeys)
		switch {
		case key.Matches(msg, k.Yes):
			return send(startMsg{restart: true})
		case key.Matches(msg, k.No):
			s.confirmRestart = false
		case key.Matches(msg, k.Continue):
			return send(startMsg{})
		case key.Matches(msg, k.Restart):
			s.confirmRestart = true
		case key.Matches(msg, k.Quit):
			return send(quitMsg{})
		}
	}
	return nil
}

func (s *startModel) view(c viewCtx) string {
	continued := c.continued
	// What will happen, when there is room for it above the rest; in a
	// low window the explanations give way to it first, then the blank
	// lines around it, then the tools.
	full := s.lowerView(c, continued, false)
	fresh := s.state == nil && s.stateErr == nil
	for _, try := range []struct {
		tight bool
		lower string
	}{
		{false, full},
		{false, s.lowerView(c, continued, true)},
		{true, s.lowerView(c, continued, true)},
		{true, s.promptView(c, continued)},
	} {
		intro, sep := s.introView(c, try.tight), "\n\n"
		if try.tight {
			sep = "\n"
		}
		if height(intro)+height(sep)-2+height(try.lower) <= c.height {
			return intro + sep + try.lower
		}
		if !fresh {
			break
		}
	}
	return full
}

// introView says what will happen: the flow's goal and its three parts.
func (s *startModel) introView(c viewCtx, tight bool) string {
	st, w := c.st, c.width
	sep := "\n\n"
	if tight {
		sep = "\n"
	}
	return paint(st.Heading, wrap(c.flow.Goal, w, "")) + sep +
		wrap("1. Dump: copy the "+c.flow.Source+" into a file in this folder (it is only read).", w, "  ") + "\n" +
		wrap("2. Restore: load the file into your new, empty "+c.flow.Target+".", w, "  ") + "\n" +
		wrap("3. Verify: compare the rows of every table, the sequences and the objects.", w, "  ")
}

// lowerView is the screen under the intro: the recorded migration, or the
// tools found; compact drops the explanation and puts the tools on one
// line.
func (s *startModel) lowerView(c viewCtx, continued, compact bool) string {
	st, w := c.st, c.width
	var b strings.Builder
	switch {
	case s.stateErr != nil:
		b.WriteString(s.stateErrView(c))
	case s.state != nil:
		b.WriteString(s.resumeView(c))
	case compact:
		b.WriteString(s.toolsLine(c) + "\n")
	default:
		b.WriteString(paint(st.Subtle, wrap("You will paste the keys (or connection URLs) of both databases. Every step is recorded in "+
			migrate.StateFileName+", so an interrupted migration resumes where it stopped.", w, "")) + "\n\n")
		b.WriteString(st.Heading.Render("Tools") + "\n")
		if len(s.tools) == 0 {
			b.WriteString("  " + c.spin + " " + st.Subtle.Render("checking pg_dump and pg_restore…") + "\n")
		}
		// Found, not yet judged: whether they fit is known once the
		// source's version is.
		for _, t := range s.tools {
			b.WriteString("  " + st.Subtle.Render("·") + " found " + t + "\n")
		}
	}
	for _, n := range s.notes {
		b.WriteString(paint(st.Warning, wrap(n, w, "")) + "\n")
	}
	if len(s.oldDumps) > 0 {
		b.WriteString(st.Heading.Render("Dumps in this folder") + "\n")
		for i, d := range s.oldDumps {
			if i == 3 {
				b.WriteString(st.Subtle.Render(fmt.Sprintf("  and %d more", len(s.oldDumps)-i)) + "\n")
				break
			}
			b.WriteString(fitWidth(fmt.Sprintf("  %s  %s, %s", filepath.Base(d.Path), words.Bytes(d.Size), formatClock(d.When, c.now)), w) + "\n")
		}
	}
	return b.String() + "\n" + s.promptView(c, continued)
}

// toolsLine names the tools found in one line.
func (s *startModel) toolsLine(c viewCtx) string {
	if len(s.tools) == 0 {
		return c.spin + " " + c.st.Subtle.Render("checking pg_dump and pg_restore…")
	}
	var names []string
	for _, t := range s.tools {
		name, _, _ := strings.Cut(t, " (")
		names = append(names, name)
	}
	return fitWidth(c.st.Subtle.Render("Tools: found "+strings.Join(names, ", ")), c.width)
}

// stateErrView says why the folder's record cannot be used, through words
// like every error: a folder of the other flow says which command it
// belongs to.
func (s *startModel) stateErrView(c viewCtx) string {
	st, w := c.st, c.width
	heading, lines, choices := c.flow.UnusableRecord(s.stateErr)
	out := paint(st.Error, wrap(heading, w, "")) + "\n"
	for _, l := range lines {
		out += wrap(l, w, "  ") + "\n"
	}
	return out + paint(st.Subtle, wrap(choices, w, "")) + "\n"
}

// promptView is the question of the screen, or what happens once left.
func (s *startModel) promptView(c viewCtx, continued bool) string {
	st, w := c.st, c.width
	switch {
	case s.confirmRestart:
		return st.AlertBox.Render(wrap("Start over? This discards the recorded progress; the old dump file is kept.", w-4, ""))
	case continued && s.state == nil && s.stateErr == nil:
		return c.spin + " Checking pg_dump and pg_restore…"
	case continued:
		return c.spin + " Starting…"
	case s.finished():
		return "Show its report, or start over?"
	case s.state != nil && s.stateErr == nil:
		return "Continue where it stopped, or start over?"
	case s.stateErr == nil:
		return "Press Enter to begin."
	}
	return ""
}

// resumeView says where the recorded migration stands: one line a step,
// then a sentence such as "Dump finished at 10:42, 1.2 GB, checked. Next:
// restore into the GA database."
func (s *startModel) resumeView(c viewCtx) string {
	st, state := c.st, s.state
	var b strings.Builder
	b.WriteString(st.Heading.Render(c.flow.ResumeHeading(state.Live != nil, formatClock(state.CreatedAt, c.now))) + "\n")
	all := migrate.Steps()
	if state.Live != nil {
		all = append(all, migrate.StepStream)
	}
	for _, step := range all {
		rec := state.Step(step)
		mark, fact := st.Subtle.Render("·"), ""
		switch {
		case step == migrate.StepCheckTools:
			// Checked again by every run: the tools may have changed.
			fact = "checked again when you continue"
		case rec.Status == migrate.Done:
			mark = st.OK.Render("✓")
		case rec.Status == migrate.Failed:
			mark = st.Error.Render("✗")
			// One line a step: a tool's error goes on with its output.
			first, _, _ := strings.Cut(rec.Error, "\n")
			fact = "failed: " + first
		case rec.Status == migrate.Running:
			mark = st.Warning.Render("▸")
			fact = "interrupted"
		}
		if rec.Status == migrate.Pending && rec.Error != "" {
			fact = rec.Error
		}
		switch {
		case step == migrate.StepConnectSource && state.Source != nil && rec.Status == migrate.Done:
			fact = state.Source.Display
		case step == migrate.StepConnectTarget && state.Target != nil && rec.Status == migrate.Done:
			fact = state.Target.Display
		case step == migrate.StepRestore && state.Restore != nil && rec.Status != migrate.Done && fact == "":
			fact = fmt.Sprintf("%d of 3 parts done", len(state.Restore.Sections))
		}
		title := c.flow.Step(step)
		line := "  " + mark + " " + title
		if fact != "" {
			line = fmt.Sprintf("  %s %-30s %s", mark, title, st.Subtle.Render(fact))
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n" + wrap(resumeSentence(state, c), c.width, "") + "\n")
	return b.String()
}

func resumeSentence(state *migrate.State, c viewCtx) string {
	var parts []string
	if d := state.Dump; d != nil && state.Step(migrate.StepDump).Status == migrate.Done {
		s := fmt.Sprintf("Dump finished at %s, %s", formatClock(d.FinishedAt, c.now), words.Bytes(d.Size))
		if state.Step(migrate.StepCheckArchive).Status == migrate.Done {
			s += ", checked"
		}
		parts = append(parts, s+".")
	}
	switch next := state.Next(); next {
	case migrate.StepDone:
		parts = append(parts, "Every step is done.")
	case migrate.StepCheckTools:
		if state.Step(next).Attempts == 0 {
			parts = append(parts, "No step is done yet.")
		}
		parts = append(parts, "Next: "+lowerFirst(c.flow.Step(next))+".")
	default:
		parts = append(parts, "Next: "+lowerFirst(c.flow.Step(next))+".")
	}
	return strings.Join(parts, " ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
