package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// progressRows is about the rows a progress screen takes above its log.
const progressRows = 10

// maxWarnings bounds the warning texts kept; the count goes on.
const maxWarnings = 1000

// progressModel shows a dump or a restore: a bar weighted by bytes, the
// tables done, the table being worked on, the times, the warnings and the
// tool's output. The dump's screen also shows the dump file and its check.
type progressModel struct {
	step    migrate.Step // StepDump or StepRestore
	bar     progress.Model
	started time.Time // the step's start
	resumed bool
	prog    migrate.ProgressInfo
	hasProg bool
	progAt  time.Time // the latest progress, whose time left counts from then
	attempt int       // the try of the step within the run, from 2 on a retry

	log      logView
	warnings []string // the latest maxWarnings
	warnSeen int
	showWarn bool // the warnings list is shown in place of the log
	warnView viewport.Model

	note     string    // the latest Info
	finished string    // the step's summary
	ended    time.Time // when it finished
	checking bool      // the dump file is being checked
	checked  string    // the check's summary
	// dumpInfo is the dump step's result, for the done screen.
	dumpInfo *migrate.DumpInfo
}

func newProgressModel(step migrate.Step, st Styles) *progressModel {
	bar := progress.New(progress.WithSolidFill(st.BarFull), progress.WithColorProfile(st.Profile))
	bar.EmptyColor = st.BarEmpty
	return &progressModel{step: step, bar: bar, warnView: viewport.New(0, 0)}
}

// shows reports whether this screen shows step st: the dump's also shows
// the check of the dump file.
func (p *progressModel) shows(st migrate.Step) bool {
	return st == p.step || p.step == migrate.StepDump && st == migrate.StepCheckArchive
}

// event keeps the dump's or the restore's events.
func (p *progressModel) event(ev migrate.Event, c viewCtx) {
	if !p.shows(ev.Step) {
		return
	}
	archive := ev.Step == migrate.StepCheckArchive
	switch ev.Kind {
	case migrate.StepStarted:
		if archive {
			p.archiveStarted()
		} else {
			p.begin(ev)
		}
	case migrate.StepFinished:
		sum := ev.Summary
		if sum == nil {
			sum = &migrate.Summary{}
		}
		text := c.flow.Summary(ev.Step, sum)
		if archive {
			p.archiveChecked(text)
		} else {
			p.end(ev.Time, text)
			p.dumpInfo = sum.Dump
		}
	case migrate.Progress:
		if ev.Progress != nil {
			p.progress(ev)
		}
	case migrate.ToolLine:
		p.toolLine(ev.Line)
	case migrate.Warning:
		p.warn(c.flow.Notice(ev.Notice))
		p.setSize(c)
	case migrate.Info:
		p.setNote(c.flow.Notice(ev.Notice))
	default:
		// Failures and the end are the root's to route.
	}
}

// logHeight is about the log's room, for scrolling (c's height counts the
// help line).
func logHeight(c viewCtx) int { return max(1, c.height-1-progressRows) }

func (p *progressModel) setSize(c viewCtx) { p.fitWarnings(c.width, logHeight(c)) }

// helpKeys scroll the log or the warnings, and toggle them.
func (p *progressModel) helpKeys(c viewCtx) help.KeyMap {
	k := c.keys.progress
	k.Warnings.SetEnabled(p.warnCount() > 0)
	if p.showWarn {
		k.Warnings.SetHelp("w", "log")
		k.Follow.SetEnabled(false)
	}
	k.Stop.SetEnabled(c.running)
	return k
}

func (p *progressModel) begin(ev migrate.Event) {
	p.started, p.resumed, p.attempt = ev.Time, ev.Resumed, ev.Attempt
	p.prog, p.finished, p.hasProg, p.ended = migrate.ProgressInfo{}, "", false, time.Time{}
}

// end records the step's summary.
func (p *progressModel) end(at time.Time, text string) { p.finished, p.ended = text, at }

// setNote shows the latest Info.
func (p *progressModel) setNote(text string) { p.note = text }

// toolLine adds a tool's output to the log. A grouped message holds several
// lines (an error and its details); a table end that pgtools inferred holds
// none.
func (p *progressModel) toolLine(line string) {
	for _, l := range strings.Split(line, "\n") {
		if strings.TrimSpace(l) != "" {
			p.log.add(l)
		}
	}
}

// again restarts the dump after "dump again".
func (p *progressModel) again(now time.Time) {
	p.started = now
	p.prog, p.hasProg, p.finished, p.ended = migrate.ProgressInfo{}, false, "", time.Time{}
	p.note = "Dumping again, from the start…"
}

func (p *progressModel) progress(ev migrate.Event) {
	p.prog, p.hasProg, p.progAt = *ev.Progress, true, ev.Time
}

func (p *progressModel) warn(text string) {
	p.warnSeen++
	if len(p.warnings) == maxWarnings {
		p.warnings = append(p.warnings[:0:0], p.warnings[1:]...)
	}
	p.warnings = append(p.warnings, clean(text))
}

func (p *progressModel) warnCount() int { return max(p.warnSeen, p.prog.Warnings) }

func (p *progressModel) archiveStarted() { p.checking = true }

func (p *progressModel) archiveChecked(text string) { p.checking, p.checked = false, text }

// fitWarnings sizes the warnings list and fills it while it is shown.
func (p *progressModel) fitWarnings(w, h int) {
	p.warnView.Width, p.warnView.Height = w, h
	if !p.showWarn {
		return
	}
	var b strings.Builder
	for i, t := range p.warnings {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(wrap("! "+t, w, ""))
	}
	p.warnView.SetContent(b.String())
}

func (p *progressModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case answerMsg:
		if p.step == migrate.StepDump && msg.kind == migrate.ConfirmRedump && msg.yes {
			p.again(c.now)
		}
	case tea.KeyMsg:
		p.key(msg, c)
		p.setSize(c)
	}
	return nil
}

// key toggles the warnings, or scrolls what shows with the viewport's
// keys.
func (p *progressModel) key(msg tea.KeyMsg, c viewCtx) {
	k, scroll := p.helpKeys(c).(progressKeys), c.keys.scroll
	switch {
	case key.Matches(msg, k.Warnings):
		p.showWarn = !p.showWarn
		p.warnView.GotoTop()
	case p.showWarn:
		p.warnView, _ = p.warnView.Update(msg)
	case key.Matches(msg, k.Follow):
		p.log.follow()
	default:
		h := logHeight(c)
		switch {
		case key.Matches(msg, scroll.Up):
			p.log.scroll(-1, h)
		case key.Matches(msg, scroll.Down):
			p.log.scroll(1, h)
		case key.Matches(msg, scroll.HalfPageUp):
			p.log.scroll(-h/2, h)
		case key.Matches(msg, scroll.HalfPageDown):
			p.log.scroll(h/2, h)
		case key.Matches(msg, scroll.PageUp):
			p.log.scroll(-h, h)
		case key.Matches(msg, scroll.PageDown):
			p.log.scroll(h, h)
		}
	}
}

func (p *progressModel) percent() float64 {
	pr := p.prog
	switch {
	case p.finished != "":
		return 1
	case pr.Phase == migrate.PhasePostData && pr.EntriesTotal > 0:
		return float64(pr.EntriesDone) / float64(pr.EntriesTotal)
	case pr.Phase == migrate.PhaseAnalyze && pr.TablesTotal > 0:
		return float64(pr.TablesDone) / float64(pr.TablesTotal)
	case pr.BytesTotal > 0:
		return float64(pr.BytesDone) / float64(pr.BytesTotal)
	case pr.TablesTotal > 0:
		return float64(pr.TablesDone) / float64(pr.TablesTotal)
	}
	return 0
}

// left estimates the time to go; zero when it cannot tell yet, or the
// phase moves no bytes.
func (p *progressModel) left(now time.Time) time.Duration {
	if p.finished != "" || p.prog.Phase != migrate.PhaseDump && p.prog.Phase != migrate.PhaseData {
		return 0
	}
	if p.prog.SecondsLeft <= 0 {
		return 0
	}
	// The engine's estimate was for its event's time.
	left := time.Duration(p.prog.SecondsLeft)*time.Second - now.Sub(p.progAt)
	return max(left, time.Second)
}

// tool is the tool of the step on show.
func (p *progressModel) tool() string {
	if p.step == migrate.StepRestore {
		return "pg_restore"
	}
	return "pg_dump"
}

func (p *progressModel) view(c viewCtx) string {
	body := strings.Join(p.topLines(c), "\n")
	room := c.height - height(body) - 2
	if room < 1 {
		return body
	}
	if p.showWarn {
		return body + "\n\n" + p.warningsView(c, room)
	}
	st := c.st
	label := p.tool() + " output"
	if p.log.back > 0 {
		label += st.Subtle.Render(" (scrolled; end follows)")
	} else if p.log.total > maxLogLines {
		label += st.Subtle.Render(fmt.Sprintf(" (last %d of %s lines)", maxLogLines, formatCount(int64(p.log.total))))
	}
	return body + "\n\n" + st.LogTitle.Render(label) + "\n" + p.log.view(c.width, room, st)
}

// warningsView lists the warnings in room lines.
func (p *progressModel) warningsView(c viewCtx, room int) string {
	st := c.st
	wv := p.warnView
	wv.Height = max(1, min(room, wv.TotalLineCount()))
	wv.SetYOffset(wv.YOffset) // within this height
	label := fmt.Sprintf("Warnings (%d)", p.warnCount())
	if n := p.warnCount() - len(p.warnings); n > 0 {
		label += st.Subtle.Render(fmt.Sprintf(" (%d from earlier runs or older, not listed)", n))
	}
	return st.LogTitle.Render(label) + "\n" + trimLines(wv.View())
}

// topLines are the lines above the log: the title, the bar, the counts,
// the times, the warnings, the notes and the results.
func (p *progressModel) topLines(c viewCtx) []string {
	st, w := c.st, c.width
	top := []string{p.headView(c)}
	if p.step == migrate.StepRestore {
		top = append(top, p.phasesView(c))
	}
	bar := p.bar
	bar.Width = w
	top = append(top, bar.ViewAs(p.percent()), p.countsView(c))
	if pr := p.prog; pr.Current != "" && p.finished == "" {
		top = append(top, "Now: "+st.Value.Render(pr.Current))
	}
	if !p.started.IsZero() {
		top = append(top, st.Subtle.Render(p.timesView(c)))
	}
	if n := p.warnCount(); n > 0 {
		// The latest warning gets two lines: the dump's says to stop
		// the application's writes.
		line := "! " + words.Plural(int64(n), "warning", "warnings")
		if len(p.warnings) > 0 {
			line += ": " + p.warnings[len(p.warnings)-1]
		}
		lines := strings.Split(wrap(line, w, ""), "\n")
		if len(lines) > 2 {
			lines[1] = fitWidth(lines[1]+" "+lines[2], w)
			lines = lines[:2]
		}
		top = append(top, paint(st.Warning, strings.Join(lines, "\n")))
	}
	if p.note != "" {
		top = append(top, st.Subtle.Render(fitWidth(p.note, w)))
	}
	if p.finished != "" {
		verb := "Dump written: "
		if p.step == migrate.StepRestore {
			verb = "Restored: "
		}
		top = append(top, mark(st.OK.Render("✓"), verb+p.finished, w))
	}
	switch {
	case p.checking:
		top = append(top, c.spin+" Checking the dump file…")
	case p.checked != "":
		top = append(top, mark(st.OK.Render("✓"), "Dump file checked: "+p.checked, w))
	}
	return top
}

// headView is the screen's title, with the try or the resume.
func (p *progressModel) headView(c viewCtx) string {
	st := c.st
	title := "Dumping the " + c.flow.Source + " with pg_dump"
	if p.step == migrate.StepRestore {
		title = "Restoring into the " + c.flow.Target + " with pg_restore"
	}
	head := st.Heading.Render(title)
	if c.running && p.finished == "" {
		head = c.spin + " " + head
	}
	switch {
	case p.attempt > 1:
		head += st.Subtle.Render(fmt.Sprintf(" (try %d, where it stopped)", p.attempt))
	case p.resumed && p.step == migrate.StepDump:
		head += st.Subtle.Render(" (again, from the start)")
	case p.resumed:
		head += st.Subtle.Render(" (resumed)")
	}
	return head
}

// countsView counts what is done of the phase.
func (p *progressModel) countsView(c viewCtx) string {
	pr := p.prog
	if !p.hasProg {
		return c.st.Subtle.Render("Waiting for " + p.tool() + "…")
	}
	counts := fmt.Sprintf("Tables %d of %d", pr.TablesDone, pr.TablesTotal)
	switch {
	case pr.Phase == migrate.PhasePostData && pr.EntriesTotal > 0:
		counts = fmt.Sprintf("Indexes, constraints and the like: %d of %d", pr.EntriesDone, pr.EntriesTotal)
	case pr.Phase == migrate.PhaseAnalyze:
		counts = fmt.Sprintf("Statistics (ANALYZE): %d of %d tables", pr.TablesDone, pr.TablesTotal)
	case pr.BytesTotal > 0:
		counts += fmt.Sprintf(" · %s of %s of table data", words.Bytes(pr.BytesDone), words.Bytes(pr.BytesTotal))
	}
	return counts
}

// timesView is the time elapsed, the speed and the time left.
func (p *progressModel) timesView(c viewCtx) string {
	pr := p.prog
	end := c.now
	if !p.ended.IsZero() {
		end = p.ended
	}
	times := "Elapsed " + words.Duration(end.Sub(p.started))
	if sp := pr.BytesPerSecond; sp > 0 && p.finished == "" && (pr.Phase == migrate.PhaseDump || pr.Phase == migrate.PhaseData) {
		times += " · " + words.Speed(sp)
	}
	if left := p.left(c.now); left > 0 {
		times += " · about " + words.Duration(left) + " left"
	}
	return times
}

// phasesView marks the restore's sections: done, current, to come.
func (p *progressModel) phasesView(c viewCtx) string {
	st := c.st
	phases := migrate.RestorePhases()
	cur := -1
	for i, ph := range phases {
		if ph == p.prog.Phase {
			cur = i
		}
	}
	if p.finished != "" {
		cur = len(phases)
	}
	parts := make([]string, len(phases))
	for i, phase := range phases {
		ph := words.Phase(phase)
		switch {
		case i < cur:
			parts[i] = st.OK.Render("✓ " + ph)
		case i == cur:
			parts[i] = st.Value.Render("▸ " + ph)
		default:
			parts[i] = st.Subtle.Render("· " + ph)
		}
	}
	return strings.Join(parts, "   ")
}
