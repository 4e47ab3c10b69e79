package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// failureModel says what failed, shows the tool's last lines and what to
// do next. A run refused before any step (the folder is locked, the state
// file unreadable) has no step.
type failureModel struct {
	f        words.Failure
	err      error // what failed, for the part that failed and the plan
	declined bool  // the user answered no
	// saved is set when the folder holds a state file to resume from: a
	// resumed migration, or one whose source was confirmed.
	saved bool
	// restarted is set after "start over" until the new migration is
	// saved: the folder still holds the earlier one, as it was.
	restarted bool
}

// update takes the engine's error when it came without a StepFailed
// event (a run refused before any step), and closes the screen.
func (m *failureModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case engineDoneMsg:
		if msg.err != nil && m.err == nil {
			*m = failureModel{f: c.flow.Explain(msg.err), err: msg.err, declined: errors.Is(msg.err, migrate.ErrDeclined),
				saved: c.saved, restarted: c.restarted}
		}
	case tea.KeyMsg:
		if key.Matches(msg, c.keys.end.Quit) {
			return send(quitMsg{})
		}
	}
	return nil
}

// event takes a step's failure.
func (m *failureModel) event(ev migrate.Event, c viewCtx) {
	if ev.Kind != migrate.StepFailed || ev.Failure == nil {
		return
	}
	*m = failureModel{f: c.flow.Explain(ev.Failure), err: ev.Failure, declined: errors.Is(ev.Failure.Err, migrate.ErrDeclined),
		saved: c.saved, restarted: c.restarted}
}

func (m *failureModel) helpKeys(c viewCtx) help.KeyMap { return c.keys.end }

func (m *failureModel) setSize(viewCtx) {}

// hint is what to do next. An answer of no needs none. A migration that
// saved nothing cannot resume, which words.NextStep says.
func (m *failureModel) hint(flow words.Flow) string {
	if m.declined {
		return ""
	}
	if m.err == nil {
		return m.f.Hint
	}
	return flow.WizardNextStep(m.err, m.saved)
}

// findings are the plan's items that are not fine, when the plan blocked
// the migration: blocks first, then its questions (a swapped key).
func (m *failureModel) findings(flow words.Flow) []string {
	var pe *migrate.PlanError
	if !errors.As(m.err, &pe) || pe.Plan == nil {
		return nil
	}
	return flow.PlanFindings(pe.Plan)
}

func (m *failureModel) view(c viewCtx) string {
	st, w, f := c.st, c.width, m.f
	var head string
	switch {
	case m.declined:
		head = st.Warning.Render("Stopped at your request")
	case f.Step != "" && m.err != nil:
		head = st.Error.Render("✗ " + c.flow.Failed(m.err))
	case f.Step != "":
		head = st.Error.Render("✗ " + f.What + " failed")
	default:
		head = st.Error.Render("✗ The migration could not start")
	}
	errText := f.Headline
	switch {
	case m.declined:
		errText = "You answered no: nothing was changed."
	case len(m.findings(c.flow)) > 0:
		errText = "The plan found:\n" + strings.Join(m.findings(c.flow), "\n")
	case errText == "":
		errText = "unknown error"
	}
	var bottom []string
	if hint := m.hint(c.flow); hint != "" {
		bottom = append(bottom, st.Heading.Render("What to do"), wrap(words.Capitalize(hint)+".", w, "  "))
	}
	switch {
	case f.Step != "" && f.Resumable && m.saved:
		bottom = append(bottom, paint(st.Subtle, wrap(fmt.Sprintf("Progress is saved: %s%s resumes from “%s”.",
			c.flow.Command, dirFlag(c.dir), c.flow.Step(f.Step)), w, "  ")))
	case f.Step != "" && m.restarted:
		bottom = append(bottom, paint(st.Subtle, wrap(fmt.Sprintf("Nothing of the new start was saved: the folder keeps the earlier migration as it was, and %s%s shows it.",
			c.flow.Command, dirFlag(c.dir)), w, "  ")))
	case f.Step != "" && !m.declined:
		bottom = append(bottom, paint(st.Subtle, wrap(fmt.Sprintf("Nothing was saved yet: %s%s starts again from the beginning.",
			c.flow.Command, dirFlag(c.dir)), w, "  ")))
	}
	bot := strings.Join(bottom, "\n")

	// What to do must show however long the error is (a tool's error
	// carries its last output, and pg_restore's lists every failed
	// item): the error keeps its first lines, leaving room for the
	// tool's last lines too.
	errLines := strings.Split(wrap(errText, w, ""), "\n")
	limit := c.height - height(head) - 2 - height(bot)
	if len(f.Tail) > 0 {
		limit -= min(len(f.Tail), 4) + 3
	}
	if limit = max(limit, 1); len(errLines) > limit {
		errLines = append(errLines[:limit-1:limit-1], fitWidth(errLines[limit-1]+" …", w))
	}
	top := head + "\n\n" + strings.Join(errLines, "\n")

	if len(f.Tail) == 0 {
		return top + "\n\n" + bot
	}
	// The tool's last lines get the room that is left, newest kept.
	room := c.height - height(top) - height(bot) - 4
	var tail string
	if room > 0 {
		lines := f.Tail[max(0, len(f.Tail)-room):]
		var b strings.Builder
		b.WriteString(st.LogTitle.Render("The tool's last lines") + "\n")
		for i, l := range lines {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(st.LogLine.Render(fitWidth("  "+clean(l), w)))
		}
		tail = b.String()
	}
	if tail == "" {
		return top + "\n\n" + bot
	}
	return top + "\n\n" + tail + "\n\n" + bot
}
