package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// doneModel is the last screen of a verified migration: the evidence (every
// table's exact counts on both sides, the sequences, the objects), where
// the dump is, and what to do next. It scrolls, at any size.
type doneModel struct {
	verified string                 // the verify step's verdict
	summary  *migrate.VerifySummary // the same, as facts
	report   *migrate.VerifyReport  // the comparison, when this run verified
	dump     *migrate.DumpInfo      // the dump of this run, if it made one
	state    *migrate.State         // read after the run, for the dump's facts
	env      []migrate.EnvFinding   // .env lines still on Accelerate
	cutover  string                 // a live migration's cutover, with its downtime
	scroll   viewport.Model
	width    int // the width the content was laid out for
}

func newDoneModel() *doneModel { return &doneModel{scroll: viewport.New(0, 0)} }

// event keeps what this run verified and dumped.
func (d *doneModel) event(ev migrate.Event, c viewCtx) {
	if ev.Kind == migrate.Report && ev.Step == migrate.StepVerify {
		d.report, d.width = ev.Report, 0
	}
	if ev.Kind != migrate.StepFinished || ev.Summary == nil {
		return
	}
	switch ev.Step {
	case migrate.StepVerify:
		d.verified, d.summary, d.width = c.flow.Summary(ev.Step, ev.Summary), ev.Summary.Verified, 0
	case migrate.StepDump:
		d.dump, d.width = ev.Summary.Dump, 0
	case migrate.StepStream:
		d.cutover, d.width = c.flow.Summary(ev.Step, ev.Summary), 0
	default:
		// The other steps' summaries are on their own screens.
	}
}

func (d *doneModel) setSize(c viewCtx) { d.layout(c) }

func (d *doneModel) helpKeys(c viewCtx) help.KeyMap { return c.keys.done }

// setState records the state file read after the run.
func (d *doneModel) setState(s *migrate.State) {
	d.state = s
	if d.summary == nil && s != nil {
		d.summary = s.Verified
	}
	d.width = 0
}

// setEnv records what the application's .env still points at.
func (d *doneModel) setEnv(env []migrate.EnvFinding) { d.env, d.width = env, 0 }

// dumpLine describes the dump file kept.
func (d *doneModel) dumpLine() string {
	dm := d.dump
	if d.state != nil && d.state.Dump != nil {
		dm = d.state.Dump
	}
	if dm == nil {
		return ""
	}
	sum := dm.SHA256
	if len(sum) > 16 {
		sum = sum[:16] + "…"
	}
	return fmt.Sprintf("%s (%s, sha256 %s)", dm.Path, words.Bytes(dm.Size), sum)
}

func (d *doneModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case stateMsg:
		d.setState(msg.state)
		d.layout(c)
	case envMsg:
		d.setEnv(msg.env)
		d.layout(c)
	case tea.KeyMsg:
		if key.Matches(msg, c.keys.done.Quit) {
			return send(quitMsg{})
		}
		d.scroll, _ = d.scroll.Update(msg)
	}
	return nil
}

// layout fills the scrolling content for the body's size; the root calls
// it whenever the content or the size changes.
func (d *doneModel) layout(c viewCtx) {
	d.scroll.Width, d.scroll.Height = c.width, max(1, c.height-2)
	d.width = c.width
	d.scroll.SetContent(d.content(c))
}

func (d *doneModel) view(c viewCtx) string {
	head := c.st.OK.Render("✓ Migration complete and verified")
	v := d.scroll
	if d.width != c.width || v.Height != max(1, c.height-2) {
		// Not laid out for this size: lay out a copy.
		v.Width, v.Height = c.width, max(1, c.height-2)
		v.SetContent(d.content(c))
	}
	v.SetYOffset(v.YOffset)
	more := ""
	if v.TotalLineCount() > v.Height {
		more = c.st.Subtle.Render(fmt.Sprintf("  %d%% · ↑/↓ to scroll", int(v.ScrollPercent()*100)))
	}
	return head + more + "\n\n" + trimLines(v.View())
}

// content is everything the screen says, before scrolling.
func (d *doneModel) content(c viewCtx) string {
	st, w, flow := c.st, c.width, c.flow
	var b strings.Builder
	b.WriteString(st.Heading.Render("What changed") + "\n")
	if d.verified != "" {
		b.WriteString(wrap("The "+flow.Target+" holds the "+flow.Source+"'s data: "+d.verified+".", w, "  ") + "\n")
	} else {
		b.WriteString(wrap("The "+flow.Target+" holds the "+flow.Source+"'s data, verified.", w, "  ") + "\n")
	}
	for _, l := range flow.SourceChoices(d.summary) {
		b.WriteString(wrap(l, w, "  ") + "\n")
	}
	if d.cutover != "" {
		b.WriteString(wrap("Live migration: "+d.cutover+".", w, "  ") + "\n\n")
	} else {
		b.WriteString(wrap("The "+flow.Source+" was only read: it is unchanged.", w, "  ") + "\n\n")
	}

	b.WriteString(st.Heading.Render("Next") + "\n")
	for _, l := range flow.Cutover(d.summary, d.env) {
		b.WriteString(wrap("• "+l, w, "  ") + "\n")
	}
	b.WriteString("\n")

	if r := d.report; r != nil {
		nameW := max(w-2-2*(countWidth+1), 12)
		b.WriteString(st.Heading.Render(fmt.Sprintf("Verification: %s", words.Plural(int64(len(r.Tables)), "table", "tables"))) + "\n")
		b.WriteString(st.TableHd.Render(fmt.Sprintf("  %-*s %*s %*s", nameW, "Table", countWidth, flow.SourceShort+" rows", countWidth, flow.TargetShort+" rows")) + "\n")
		for _, row := range tableRows(r, w) {
			b.WriteString(row + "\n")
		}
		b.WriteString(fmt.Sprintf("  Sequences: %d, all match\n", r.Sequences))
		var objs []string
		for _, o := range r.Objects {
			objs = append(objs, fmt.Sprintf("%s %s", o.Kind, formatCount(o.Source)))
		}
		if r.LargeObjects.Source > 0 {
			objs = append(objs, fmt.Sprintf("large objects %s", formatCount(r.LargeObjects.Source)))
		}
		b.WriteString(wrap("Objects: "+strings.Join(objs, " · "), w, "  ") + "\n\n")
	}

	b.WriteString(st.Heading.Render("The dump") + "\n")
	if line := d.dumpLine(); line != "" {
		b.WriteString(paint(st.Value, wrap(line, w, "  ")) + "\n")
	}
	dir := c.absDir
	if dir == "" {
		dir = c.dir
	}
	b.WriteString(paint(st.Subtle, wrap("It stays in "+dir+" with the record of this migration ("+migrate.StateFileName+
		") and the verification report ("+migrate.VerifyFileName+"). Keep them until your application runs on the "+flow.Target+
		"; then delete them: the dump holds all your data.", w, "  ")))
	return b.String()
}
