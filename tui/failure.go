package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
)

// failureModel says what failed, shows the tool's last lines and what to
// do next. A run refused before any step (the folder is locked, the state
// file unreadable) has no step.
type failureModel struct {
	step migrate.Step
	err  error
	hint string
	tail []string
}

// failureFromError builds the failure of an engine error that came without
// a StepFailed event.
func failureFromError(err error) *failureModel {
	var se *migrate.StepError
	if errors.As(err, &se) {
		return &failureModel{step: se.Step, err: se.Err, hint: se.Hint, tail: se.Tail}
	}
	f := &failureModel{err: err}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		f.hint = h.Hint()
	}
	return f
}

func (f *failureModel) view(c viewCtx) string {
	st, w := c.st, c.width
	var head string
	switch {
	case errors.Is(f.err, migrate.ErrDeclined):
		head = st.Warning.Render("Stopped at your request")
	case f.step != "":
		head = st.Error.Render("✗ " + f.step.Title() + " failed")
	default:
		head = st.Error.Render("✗ The migration could not start")
	}
	errText := "unknown error"
	switch {
	case errors.Is(f.err, migrate.ErrDeclined):
		errText = "You answered no: nothing was changed."
	case f.err != nil && !errors.Is(f.err, context.Canceled):
		errText = f.err.Error()
	}
	var bottom []string
	if f.hint != "" {
		bottom = append(bottom, st.Heading.Render("What to do"), wrap(capitalize(f.hint)+".", w, "  "))
	}
	if f.step != "" {
		bottom = append(bottom, paint(st.Subtle, wrap(fmt.Sprintf("Progress is saved: ppg migrate-from-ea%s resumes from “%s”.",
			dirFlag(c.dir), f.step.Title()), w, "  ")))
	}
	bot := strings.Join(bottom, "\n")

	// What to do must show however long the error is (a tool's error
	// carries its last output, and pg_restore's lists every failed
	// item): the error keeps its first lines, leaving room for the
	// tool's last lines too.
	errLines := strings.Split(wrap(errText, w, ""), "\n")
	limit := c.height - height(head) - 2 - height(bot)
	if len(f.tail) > 0 {
		limit -= min(len(f.tail), 4) + 3
	}
	if limit = max(limit, 1); len(errLines) > limit {
		errLines = append(errLines[:limit-1:limit-1], fitWidth(errLines[limit-1]+" …", w))
	}
	top := head + "\n\n" + strings.Join(errLines, "\n")

	if len(f.tail) == 0 {
		return top + "\n\n" + bot
	}
	// The tool's last lines get the room that is left, newest kept.
	room := c.height - height(top) - height(bot) - 4
	var tail string
	if room > 0 {
		lines := f.tail[max(0, len(f.tail)-room):]
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
