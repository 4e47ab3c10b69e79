package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// confirmModel answers the engine's yes/no questions. Restoring into a GA
// database that is not empty has consequences: it takes typing "yes", and
// anything else (Esc, n, Enter without "yes") is no.
type confirmModel struct {
	q     migrate.Question
	typed string // what was typed, for ConfirmNonEmptyTarget
	nudge bool   // Enter without "yes"
	// scroll shows a question longer than the window (the plan at
	// 60x15), laid out for the body's size by layout.
	scroll viewport.Model
	// other names the target of the migration started over, when the
	// target's key is another database's.
	other string
	// choose is set when the plan's live offer may be taken; live is the
	// choice (the frozen copy by default), and consent the consent to
	// REPLICA IDENTITY FULL on the tables without a primary key.
	choose, live, consent bool
}

func newConfirmModel(q migrate.Question) *confirmModel {
	return &confirmModel{q: q, scroll: viewport.New(0, 0)}
}

func (c *confirmModel) event(migrate.Event, viewCtx) {}

func (c *confirmModel) setSize(v viewCtx) { c.layout(v) }

// helpKeys are the keys that answer this question, and scroll it when it
// is longer than the window.
func (c *confirmModel) helpKeys(v viewCtx) help.KeyMap {
	k := c.keys(v.keys.confirm)
	k.Scroll.SetEnabled(c.overflows())
	return k
}

// typing reports whether the question takes a typed "yes": its letters
// are not keys then.
func (c *confirmModel) typing() bool {
	return c.q.Kind == migrate.ConfirmNonEmptyTarget || c.q.Kind == migrate.ConfirmResetTarget
}

// layout fills the scrolling content for the body's size (v's height
// counts the help line); the root calls it when the question comes and
// when the window changes.
func (c *confirmModel) layout(v viewCtx) {
	c.scroll.Width, c.scroll.Height = v.width, max(1, v.height-2)
	c.scroll.SetContent(c.content(v))
}

// overflows reports whether the question is longer than the window.
func (c *confirmModel) overflows() bool {
	return !c.typing() && c.scroll.TotalLineCount() > c.scroll.Height+1
}

// keys returns the bindings that answer this question, with their help.
func (c *confirmModel) keys(k confirmKeys) confirmKeys {
	switch c.q.Kind {
	case migrate.ConfirmSource:
		k.Yes.SetKeys("y", "enter")
		k.Yes.SetHelp("y/enter", "dump it")
		k.No.SetHelp("n/esc", "no")
		k.Submit.SetEnabled(false)
		k.Live.SetEnabled(c.offersLive())
		if c.live {
			k.Live.SetHelp("l", "frozen")
		}
		k.Identity.SetEnabled(c.live && len(c.q.Plan.Live.NoIdentity) > 0)
		if c.consent {
			k.Identity.SetHelp("r", "copy once")
		}
		return k
	case migrate.ConfirmNonEmptyTarget:
		k.Yes.SetEnabled(false)
		k.Submit.SetHelp("yes+enter", "restore into it")
		k.No.SetKeys("esc")
		k.No.SetHelp("esc", "refuse")
	case migrate.ConfirmResetTarget:
		// The box says "Type yes … to empty it": the help says the same.
		k.Yes.SetEnabled(false)
		k.Submit.SetHelp("yes+enter", "empty it")
		k.No.SetKeys("esc")
		k.No.SetHelp("esc", "keep it")
	case migrate.ConfirmRedump:
		k.Yes.SetHelp("y", "dump again")
		k.No.SetHelp("n", "keep this dump")
		k.No.SetKeys("n")
		k.Submit.SetEnabled(false)
	case migrate.ConfirmSourceChanged:
		k.Yes.SetHelp("y", "dump and restore again")
		k.No.SetHelp("n", "keep the migration as of the dump")
		k.No.SetKeys("n")
		k.Submit.SetEnabled(false)
	}
	k.Live.SetEnabled(false)
	k.Identity.SetEnabled(false)
	return k
}

// showChoice lays the question out again after a choice, and scrolls a
// question longer than the window to the choice, so that its change
// shows.
func (c *confirmModel) showChoice(v viewCtx) {
	c.layout(v)
	if !c.overflows() {
		return
	}
	for i, l := range strings.Split(c.content(v), "\n") {
		if strings.Contains(l, v.flow.LiveChoiceHeading()) {
			c.scroll.SetYOffset(i)
			return
		}
	}
}

// offersLive reports whether the plan offers live, and the answer can
// take it.
func (c *confirmModel) offersLive() bool {
	return c.choose && c.q.Kind == migrate.ConfirmSource && c.q.Plan != nil && c.q.Plan.Live != nil && c.q.Plan.Live.Possible
}

// liveOptions is the live migration chosen, or nil for the frozen copy.
// The consent names the tables shown: a table created since is not
// consented to.
func (c *confirmModel) liveOptions() *migrate.LiveOptions {
	if !c.live || !c.offersLive() {
		return nil
	}
	o := &migrate.LiveOptions{}
	if c.consent {
		o.FullIdentity = append(o.FullIdentity, c.q.Plan.Live.NoIdentity...)
	}
	return o
}

func (c *confirmModel) update(msg tea.Msg, v viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case askMsg:
		if msg.question != nil {
			other := ""
			if msg.question.Kind == migrate.ConfirmSource {
				other = v.other
			}
			*c = *newConfirmModel(*msg.question)
			c.other = other
			c.choose = msg.choose
			c.layout(v)
		}
	case tea.KeyMsg:
		return c.key(msg, c.keys(v.keys.confirm), v)
	}
	return nil
}

func (c *confirmModel) key(msg tea.KeyMsg, k confirmKeys, v viewCtx) tea.Cmd {
	if c.overflows() && (key.Matches(msg, c.scroll.KeyMap.Up, c.scroll.KeyMap.Down, c.scroll.KeyMap.PageUp,
		c.scroll.KeyMap.PageDown, c.scroll.KeyMap.HalfPageUp, c.scroll.KeyMap.HalfPageDown)) {
		c.scroll, _ = c.scroll.Update(msg)
		return nil
	}
	kind := c.q.Kind
	switch {
	case key.Matches(msg, k.Live):
		c.live = !c.live
		c.showChoice(v)
		return nil
	case key.Matches(msg, k.Identity):
		c.consent = !c.consent
		c.showChoice(v)
		return nil
	case key.Matches(msg, k.Yes):
		return send(answerMsg{kind: kind, yes: true, live: c.liveOptions()})
	case key.Matches(msg, k.No):
		return send(answerMsg{kind: kind, yes: false})
	case key.Matches(msg, k.Submit):
		if strings.EqualFold(strings.TrimSpace(c.typed), "yes") {
			return send(answerMsg{kind: kind, yes: true})
		}
		c.nudge = true
		return nil
	}
	if !c.typing() {
		return nil
	}
	switch msg.Type {
	case tea.KeyBackspace:
		if r := []rune(c.typed); len(r) > 0 {
			c.typed = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		if len([]rune(c.typed)) < 8 && !msg.Paste {
			c.typed += string(msg.Runes)
		}
	default:
		// Other keys type nothing (Enter and the answers are handled
		// above).
	}
	c.nudge = false
	return nil
}

// view shows the question, or the window of it that fits with a line
// that says it scrolls.
func (c *confirmModel) view(v viewCtx) string {
	content := c.content(v)
	if c.typing() || height(content) <= v.height {
		return content
	}
	vp := c.scroll
	vp.Width, vp.Height = v.width, max(1, v.height-1)
	vp.SetContent(content)
	vp.SetYOffset(vp.YOffset) // within this height
	more := "↑/↓ to scroll, more below"
	switch {
	case vp.AtBottom():
		more = "↑/↓ to scroll, more above"
	case vp.YOffset > 0:
		more = "↑/↓ to scroll, more above and below"
	}
	return trimLines(vp.View()) + "\n" + v.st.Subtle.Render(fitWidth(more, v.width))
}

// content is everything the question says, before scrolling.
func (c *confirmModel) content(v viewCtx) string {
	switch c.q.Kind {
	case migrate.ConfirmSource:
		return c.sourceView(v)
	case migrate.ConfirmNonEmptyTarget:
		return c.nonEmptyView(v)
	case migrate.ConfirmResetTarget:
		return c.resetView(v)
	case migrate.ConfirmRedump:
		return c.redumpView(v)
	case migrate.ConfirmSourceChanged:
		return c.changedView(v)
	}
	return ""
}

// sourceView asks whether to dump the source, with its plan.
func (c *confirmModel) sourceView(v viewCtx) string {
	st, w, flow := v.st, v.width, v.flow
	var b strings.Builder
	b.WriteString(st.Heading.Render("Dump this "+flow.Source+"?") + "\n\n")
	var details []string
	if db := c.q.Source; db != nil {
		details = append(details, db.Display, words.Source(db))
	}
	if ts := c.q.Tools; ts != nil {
		details = append(details, fmt.Sprintf("Tools: %s, %s", ts.Dump, ts.Restore))
	}
	for i, d := range details {
		style := st.Text
		if i == 0 {
			style = st.Value
		}
		b.WriteString(style.Render(wrap(d, w, "  ")) + "\n")
	}
	if p := c.q.Plan; p != nil {
		b.WriteString("\n" + st.Heading.Render("Plan") + "\n")
		for _, it := range p.Items {
			if it.Verdict == migrate.VerdictOK && it.Code != migrate.CheckVersions && it.Code != migrate.CheckTargetEmpty {
				continue // the checks that passed, but the main ones, go unsaid
			}
			mark := st.OK.Render(words.Mark(it.Verdict))
			if it.Verdict == migrate.VerdictWarn || it.Verdict == migrate.VerdictHandled {
				mark = st.Warning.Render(words.Mark(it.Verdict))
			}
			b.WriteString(mark + " " + strings.TrimPrefix(wrap(flow.PlanItem(it), w, "  "), "  ") + "\n")
		}
		if c.other != "" {
			b.WriteString(st.Warning.Render("!") + " " + strings.TrimPrefix(wrap("the "+flow.Target+" is not the one of the migration you started over ("+c.other+"): the new migration restores into it", w, "  "), "  ") + "\n")
		}
		if !p.TargetKnown {
			b.WriteString(paint(st.Subtle, wrap("· The "+flow.Target+" is checked when you paste its key, after the dump.", w, "")) + "\n")
		}
		b.WriteString(c.liveView(v))
	}
	if c.live {
		b.WriteString("\n" + paint(st.Subtle, wrap(flow.LiveChoiceNote(), w, "")))
		return b.String()
	}
	b.WriteString("\n" + paint(st.Subtle, wrap("The dump is written to this folder; the "+flow.SourceShort+" database is only read. "+
		"Stop your application's writes to it until the migration is done: later writes are not migrated.", w, "")))
	return b.String()
}

// liveView is the plan's live offer: the choice between the frozen copy
// and live (with the tables without a primary key, once live is chosen),
// or why live is not possible; "" when the plan has no offer.
func (c *confirmModel) liveView(v viewCtx) string {
	o := c.q.Plan.Live
	st, w, flow := v.st, v.width, v.flow
	switch {
	case o == nil:
		return ""
	case !o.Possible:
		return "\n" + st.Warning.Render("!") + " " + strings.TrimPrefix(wrap(flow.LiveUnavailable(o), w, "  "), "  ") + "\n"
	case !c.choose:
		return ""
	}
	var b strings.Builder
	b.WriteString("\n" + st.Heading.Render(flow.LiveChoiceHeading()) + "\n")
	for _, ch := range []struct {
		on   bool
		text string
	}{{!c.live, flow.FrozenChoice()}, {c.live, flow.LiveChoice()}} {
		mark, style := "○", st.Text
		if ch.on {
			mark, style = "●", st.Value
		}
		b.WriteString(style.Render(mark) + " " + strings.TrimPrefix(wrap(ch.text, w, "  "), "  ") + "\n")
	}
	if !c.live {
		return b.String()
	}
	var more []string
	if len(o.NoIdentity) > 0 {
		more = append(more, flow.LiveNoIdentity(o.NoIdentity), flow.LiveIdentityChoice(c.consent))
	}
	if len(o.Unlogged) > 0 || o.LargeObjects > 0 {
		more = append(more, words.Capitalize(flow.PlanItem(migrate.CheckItem{Code: migrate.CheckLiveNotStreamed, Names: o.Unlogged, Count: o.LargeObjects}))+".")
	}
	for _, m := range more {
		b.WriteString(wrap(m, w, "  ") + "\n")
	}
	return b.String()
}

// nonEmptyView asks to type yes to restore into a target that is not empty.
func (c *confirmModel) nonEmptyView(v viewCtx) string {
	flow := v.flow
	details := []string{fmt.Sprintf("The %s already holds %s (tables, types, functions).", flow.Target, words.Plural(c.q.Objects, "object", "objects"))}
	if len(c.q.Schemas) > 0 {
		details = append(details, "Schemas: "+strings.Join(c.q.Schemas, ", "))
	}
	details = append(details, "Restoring into it fails where names collide, and its data would mix with the "+flow.SourceShort+" data.")
	return c.typeYesView(v, "Restore into a "+flow.Target+" that is not empty?", details,
		"Type yes and press Enter to restore into it anyway. Esc refuses: nothing is changed.",
		"Type yes to go on, or press Esc to refuse.")
}

// resetView asks to type yes to empty the target of the migration started over.
func (c *confirmModel) resetView(v viewCtx) string {
	return c.typeYesView(v, "Empty the "+v.flow.Target+" and restore again?", []string{
		fmt.Sprintf("It holds %s that the migration you started over restored into it.", words.Plural(c.q.Objects, "object", "objects")),
		"Emptying it drops every schema in it and its large objects. Anything written to it since is lost.",
	}, "Type yes and press Enter to empty it. Esc keeps it: nothing is changed.", "Type yes to go on, or press Esc.")
}

// typeYesView is a question that a typed yes answers, in an alert box:
// the title, the details, what to type, the typed text, and the nudge
// after another answer.
func (c *confirmModel) typeYesView(v viewCtx, title string, details []string, how, nudge string) string {
	st, w := v.st, v.width
	var b, in strings.Builder
	in.WriteString(st.Warning.Render(title) + "\n\n")
	for _, d := range details {
		in.WriteString(wrap(d, w-4, "") + "\n")
	}
	in.WriteString("\n" + wrap(how, w-4, "") + "\n")
	in.WriteString(st.Prompt.Render("›") + " " + c.typed + "▏")
	b.WriteString(st.AlertBox.Render(in.String()))
	if c.nudge {
		b.WriteString("\n" + st.Warning.Render(nudge))
	}
	return b.String()
}

// redumpView asks whether to dump again after writes during the dump.
func (c *confirmModel) redumpView(v viewCtx) string {
	st, w, flow := v.st, v.width, v.flow
	var b strings.Builder
	b.WriteString(paint(st.Warning, wrap("The "+flow.Source+" was written to during the dump. Dump again?", w, "")) + "\n\n")
	details := append(flow.LateWrites(c.q.Writes, c.q.Changed, snapshotClock(c.q.DumpedAt, v.now)),
		"Stop your application's writes first, or they will be missed again.")
	for _, d := range details {
		b.WriteString(wrap(d, w, "  ") + "\n")
	}
	b.WriteString("\n" + paint(st.Subtle, wrap("Dump again to include them, or keep this dump: the rows written meanwhile are then not migrated.", w, "")))
	return b.String()
}

// changedView asks whether to dump and restore again after writes after the dump.
func (c *confirmModel) changedView(v viewCtx) string {
	st, w, flow := v.st, v.width, v.flow
	var b strings.Builder
	b.WriteString(paint(st.Warning, wrap("The "+flow.Source+" was written to after the dump. Dump and restore again?", w, "")) + "\n\n")
	b.WriteString(wrap(fmt.Sprintf("The dump's snapshot was taken at %s. Since then %s changed: %s.", snapshotClock(c.q.DumpedAt, v.now),
		words.Plural(int64(len(c.q.Changed)), "table", "tables"), strings.Join(firstNames(c.q.Changed, 8), ", ")), w, "  ") + "\n")
	b.WriteString(wrap("The "+flow.Target+" matches the dump, so it lacks those writes.", w, "  ") + "\n")
	b.WriteString("\n" + paint(st.Subtle, wrap("Stop your application's writes, then dump again (the "+flow.Target+
		" is emptied and restored again), or keep the migration as of the dump: the later writes are then not migrated.", w, "")))
	return b.String()
}

// snapshotClock writes the moment of a dump's snapshot to the second: a
// write a few seconds after it is not in the dump.
func snapshotClock(t, now time.Time) string {
	if t.IsZero() {
		return "an unknown moment"
	}
	ty, tm, td := t.Date()
	ny, nm, nd := now.In(t.Location()).Date()
	if ty == ny && tm == nm && td == nd {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

// firstNames keeps the first n names and says how many more there are.
func firstNames(names []string, n int) []string {
	if len(names) > n {
		return append(names[:n:n], fmt.Sprintf("and %d more", len(names)-n))
	}
	return names
}
