package tui

import (
	"fmt"
	"strings"
	"time"

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

func newProgressModel(step migrate.Step, st Styles) progressModel {
	bar := progress.New(progress.WithSolidFill(st.BarFull), progress.WithColorProfile(st.Profile))
	bar.EmptyColor = st.BarEmpty
	return progressModel{step: step, bar: bar, warnView: viewport.New(0, 0)}
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

func (p *progressModel) update(msg tea.KeyMsg, k progressKeys, logH int) {
	if key.Matches(msg, k.Warnings) {
		p.showWarn = !p.showWarn
		p.warnView.GotoTop()
		return
	}
	if p.showWarn {
		switch {
		case key.Matches(msg, k.Up):
			p.warnView.ScrollUp(1)
		case key.Matches(msg, k.Down):
			p.warnView.ScrollDown(1)
		case key.Matches(msg, k.PageUp):
			p.warnView.PageUp()
		case key.Matches(msg, k.PageDown):
			p.warnView.PageDown()
		}
		return
	}
	switch {
	case key.Matches(msg, k.Up):
		p.log.scroll(-1, logH)
	case key.Matches(msg, k.Down):
		p.log.scroll(1, logH)
	case key.Matches(msg, k.PageUp):
		p.log.scroll(-logH, logH)
	case key.Matches(msg, k.PageDown):
		p.log.scroll(logH, logH)
	case key.Matches(msg, k.Follow):
		p.log.follow()
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

func (p *progressModel) view(c viewCtx, running bool) string {
	st, w := c.st, c.width
	tool, title := "pg_dump", "Dumping the "+c.flow.Source+" with pg_dump"
	if p.step == migrate.StepRestore {
		tool, title = "pg_restore", "Restoring into the "+c.flow.Target+" with pg_restore"
	}
	var top []string
	add := func(s string) { top = append(top, s) }

	head := st.Heading.Render(title)
	if running && p.finished == "" {
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
	add(head)
	if p.step == migrate.StepRestore {
		add(p.phasesView(c))
	}
	bar := p.bar
	bar.Width = w
	add(bar.ViewAs(p.percent()))

	pr := p.prog
	counts := fmt.Sprintf("Tables %d of %d", pr.TablesDone, pr.TablesTotal)
	switch {
	case pr.Phase == migrate.PhasePostData && pr.EntriesTotal > 0:
		counts = fmt.Sprintf("Indexes, constraints and the like: %d of %d", pr.EntriesDone, pr.EntriesTotal)
	case pr.Phase == migrate.PhaseAnalyze:
		counts = fmt.Sprintf("Statistics (ANALYZE): %d of %d tables", pr.TablesDone, pr.TablesTotal)
	case pr.BytesTotal > 0:
		counts += fmt.Sprintf(" · %s of %s of table data", words.Bytes(pr.BytesDone), words.Bytes(pr.BytesTotal))
	}
	if !p.hasProg {
		counts = st.Subtle.Render("Waiting for " + tool + "…")
	}
	add(counts)
	if pr.Current != "" && p.finished == "" {
		add("Now: " + st.Value.Render(pr.Current))
	}
	if !p.started.IsZero() {
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
		add(st.Subtle.Render(times))
	}
	if n := p.warnCount(); n > 0 {
		// The latest warning gets two lines: the dump's says to stop
		// the application's writes.
		line := "! " + plural(n, "warning", "warnings")
		if len(p.warnings) > 0 {
			line += ": " + p.warnings[len(p.warnings)-1]
		}
		lines := strings.Split(wrap(line, w, ""), "\n")
		if len(lines) > 2 {
			lines[1] = fitWidth(lines[1]+" "+lines[2], w)
			lines = lines[:2]
		}
		add(paint(st.Warning, strings.Join(lines, "\n")))
	}
	if p.note != "" {
		add(st.Subtle.Render(fitWidth(p.note, w)))
	}
	if p.finished != "" {
		verb := "Dump written: "
		if p.step == migrate.StepRestore {
			verb = "Restored: "
		}
		add(mark(st.OK.Render("✓"), verb+p.finished, w))
	}
	switch {
	case p.checking:
		add(c.spin + " Checking the dump file…")
	case p.checked != "":
		add(mark(st.OK.Render("✓"), "Dump file checked: "+p.checked, w))
	}

	body := strings.Join(top, "\n")
	room := c.height - height(body) - 2
	if room < 1 {
		return body
	}
	var lower string
	if p.showWarn {
		wv := p.warnView
		wv.Height = max(1, min(room, wv.TotalLineCount()))
		wv.SetYOffset(wv.YOffset) // within this height
		label := fmt.Sprintf("Warnings (%d)", p.warnCount())
		if n := p.warnCount() - len(p.warnings); n > 0 {
			label += st.Subtle.Render(fmt.Sprintf(" (%d from earlier runs or older, not listed)", n))
		}
		lower = st.LogTitle.Render(label) + "\n" + trimLines(wv.View())
	} else {
		label := tool + " output"
		if p.log.back > 0 {
			label += st.Subtle.Render(" (scrolled; end follows)")
		} else if p.log.total > maxLogLines {
			label += st.Subtle.Render(fmt.Sprintf(" (last %d of %s lines)", maxLogLines, formatCount(int64(p.log.total))))
		}
		lower = st.LogTitle.Render(label) + "\n" + p.log.view(w, room, st)
	}
	return body + "\n\n" + lower
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
