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

// verifyModel shows the verification: row counts of every table on both
// sides (differences first and marked), the sequences, the object counts
// and the verdict.
type verifyModel struct {
	started  time.Time
	report   *migrate.VerifyReport
	table    viewport.Model // one row a table
	width    int            // the width the rows were laid out for
	note     string
	counted  *migrate.ProgressInfo  // tables counted so far
	finished string                 // the step's summary: the verdict when all match
	summary  *migrate.VerifySummary // the same, as facts
	failure  *words.Failure         // the verification found differences
}

func newVerifyModel() *verifyModel { return &verifyModel{table: viewport.New(0, 0)} }

// event keeps the verify step's events.
func (v *verifyModel) event(ev migrate.Event, c viewCtx) {
	if ev.Step != migrate.StepVerify {
		return
	}
	switch ev.Kind {
	case migrate.StepStarted:
		v.begin(ev)
	case migrate.Progress:
		if ev.Progress != nil {
			v.progress(*ev.Progress)
		}
	case migrate.Info, migrate.Warning:
		v.setNote(noticeText(ev, c.flow))
	case migrate.Report:
		v.setReport(ev.Report, c.width, c.height-1)
	case migrate.StepFinished:
		sum := ev.Summary
		if sum == nil {
			sum = &migrate.Summary{}
		}
		v.finish(c.flow.Summary(ev.Step, sum), sum.Verified)
	case migrate.StepFailed:
		if v.report != nil {
			f := c.flow.Explain(ev.Failure)
			f.Hint = c.flow.WizardNextStep(ev.Failure, c.saved)
			v.fail(f)
		}
	default:
		// The verify step prints no tool lines; the end is the root's.
	}
}

// setSize lays the table out (c's height counts the help line).
func (v *verifyModel) setSize(c viewCtx) { v.layout(c.width, c.height-1) }

func (v *verifyModel) helpKeys(c viewCtx) help.KeyMap {
	k := c.keys.verify
	k.Quit.SetEnabled(!c.running)
	k.Stop.SetEnabled(c.running)
	return k
}

func (v *verifyModel) begin(ev migrate.Event) { v.started = ev.Time }

// finish records the verdict of a verification that found no difference.
func (v *verifyModel) finish(text string, s *migrate.VerifySummary) { v.finished, v.summary = text, s }

// fail records a verification that found differences.
func (v *verifyModel) fail(f words.Failure) { v.failure = &f }

// failed reports whether the verification found differences.
func (v *verifyModel) failed() bool { return v.failure != nil }

// progress records how many tables are counted.
func (v *verifyModel) progress(p migrate.ProgressInfo) { v.counted = &p }

// setNote shows the latest Info of the step.
func (v *verifyModel) setNote(text string) { v.note = text }

func (v *verifyModel) setReport(r *migrate.VerifyReport, width, height int) {
	v.report = r
	v.width = 0
	v.layout(width, height)
}

// verifyRows is about the rows the verify screen takes besides the table,
// for scrolling; view sizes the table exactly.
const verifyRows = 11

// layout fills the table for the body's width and height; the Styles are
// applied in view, so rows here are plain text.
func (v *verifyModel) layout(width, height int) {
	v.table.Width, v.table.Height = width, max(1, height-verifyRows)
	if v.report == nil || width == v.width {
		return
	}
	v.width = width
	v.table.SetContent(strings.Join(tableRows(v.report, width), "\n"))
}

const countWidth = 13

// tableRows formats one row a table, the differing ones first and marked
// "≠" (visible without colours).
func tableRows(r *migrate.VerifyReport, width int) []string {
	nameW := max(width-2-2*(countWidth+1), 12)
	row := func(mark, name string, src, dst int64) string {
		target := formatCount(dst)
		if dst < 0 {
			target = "missing"
		}
		if len([]rune(name)) > nameW {
			name = string([]rune(name)[:nameW-1]) + "…"
		}
		return fmt.Sprintf("%s%-*s %*s %*s", mark, nameW, name, countWidth, formatCount(src), countWidth, target)
	}
	var diff, same []string
	for _, t := range r.Tables {
		if t.Source != t.Target {
			diff = append(diff, row("≠ ", t.Name, t.Source, t.Target))
		} else {
			same = append(same, row("  ", t.Name, t.Source, t.Target))
		}
	}
	return append(diff, same...)
}

func (v *verifyModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	switch {
	case !ok:
	case key.Matches(km, v.helpKeys(c).(verifyKeys).Quit):
		return send(quitMsg{})
	default:
		v.table, _ = v.table.Update(km)
	}
	return nil
}

func (v *verifyModel) view(c viewCtx) string {
	st, w := c.st, c.width
	head := st.Heading.Render("Verifying the " + c.flow.Target)
	if c.running && v.report == nil {
		head = c.spin + " " + head
	}
	if v.report == nil {
		s := head + "\n\n" + paint(st.Subtle, wrap("Counting the rows of every table, the sequences and the schema objects on the "+c.flow.Target+", to compare them with the dump's counts.", w, ""))
		if p := v.counted; p != nil && p.TablesTotal > 0 {
			s += "\n\n" + fmt.Sprintf("Counted %s of %s tables", formatCount(int64(p.TablesDone)), formatCount(int64(p.TablesTotal)))
		}
		if v.note != "" {
			s += "\n" + paint(st.Subtle, wrap(v.note, w, ""))
		}
		return s
	}
	bottom := strings.Join(append(v.countsView(c), v.verdictView(c)...), "\n")
	return head + "\n" + v.tableView(c, c.height-4-height(bottom)-1) + "\n\n" + bottom
}

// tableView is the table of row counts in room rows, with its header.
func (v *verifyModel) tableView(c viewCtx, room int) string {
	st, w, r := c.st, c.width, v.report
	tableDiffs := 0
	for _, t := range r.Tables {
		if t.Source != t.Target {
			tableDiffs++
		}
	}
	tables := fmt.Sprintf("Tables: %d checked, ", len(r.Tables))
	if tableDiffs == 0 {
		tables += "all match"
	} else {
		tables = st.Mismatch.Render(tables + words.Plural(int64(tableDiffs), "differs", "differ") + " (listed first)")
	}
	nameW := max(w-2-2*(countWidth+1), 12)
	hdr := st.TableHd.Render(fmt.Sprintf("  %-*s %*s %*s", nameW, "Table", countWidth, c.flow.SourceShort+" rows", countWidth, c.flow.TargetShort+" rows"))
	tv := v.table
	tv.Height = max(min(room, len(r.Tables)), 1)
	tv.SetYOffset(tv.YOffset) // within this height
	if v.table.AtBottom() {
		// Paged to the end with the layout's estimate of the room: show
		// the last row whatever the room is now.
		tv.GotoBottom()
	}
	rows := strings.Split(trimLines(tv.View()), "\n")
	for i, l := range rows {
		if strings.HasPrefix(l, "≠") {
			rows[i] = st.Mismatch.Render(l)
		}
	}
	more := ""
	if len(r.Tables) > tv.Height {
		first := min(tv.YOffset, len(r.Tables)-tv.Height) + 1
		more = st.Subtle.Render(fmt.Sprintf(" · rows %d–%d", first, first+tv.Height-1))
	}
	return tables + more + "\n\n" + hdr + "\n" + strings.Join(rows, "\n")
}

// countsView compares the sequences and the objects.
func (v *verifyModel) countsView(c viewCtx) []string {
	st, w, r := c.st, c.width, v.report
	var lower []string
	seqDiffs := 0
	for _, mm := range r.Mismatches {
		if mm.Kind == "sequence" {
			seqDiffs++
		}
	}
	seq := fmt.Sprintf("Sequences: %d checked, ", r.Sequences)
	if seqDiffs == 0 {
		lower = append(lower, seq+"all match")
	} else {
		lower = append(lower, st.Mismatch.Render(fmt.Sprintf("%s%s", seq, words.Plural(int64(seqDiffs), "differs", "differ"))))
		for _, mm := range r.Mismatches {
			if mm.Kind == "sequence" {
				lower = append(lower, st.Mismatch.Render(fitWidth("  ≠ "+c.flow.Mismatch(mm), w)))
			}
		}
	}
	differs := map[string]bool{}
	for _, mm := range r.Mismatches {
		if mm.Kind == migrate.MismatchObjects {
			differs[mm.Object] = true
		}
	}
	objs, objDiffs := []string{}, []string{}
	for _, o := range r.Objects {
		switch {
		case o.Target == o.Source:
			objs = append(objs, fmt.Sprintf("%s %s", o.Kind, formatCount(o.Source)))
		case differs[o.Kind]:
			objDiffs = append(objDiffs, fmt.Sprintf("  ≠ %s: %s on the %s, %s on the %s", o.Kind, formatCount(o.Source), c.flow.Source, formatCount(o.Target), c.flow.Target))
		default: // more on the target, which is allowed (its own extensions)
			objs = append(objs, fmt.Sprintf("%s %s (%s %s)", o.Kind, formatCount(o.Source), c.flow.TargetShort, formatCount(o.Target)))
		}
	}
	if len(objs) > 0 {
		lower = append(lower, wrap("Objects: "+strings.Join(objs, " · "), w, ""))
	}
	for _, d := range objDiffs {
		lower = append(lower, paint(st.Mismatch, wrap(d, w, "")))
	}
	if !r.Snapshot {
		lower = append(lower, paint(st.Warning, wrap("The "+c.flow.SourceShort+" counts were not taken in the dump's snapshot: a source written to meanwhile can differ.", w, "")))
	}
	return lower
}

// verdictView says whether everything matches.
func (v *verifyModel) verdictView(c viewCtx) []string {
	st, r := c.st, v.report
	switch {
	case v.failure != nil:
		out := []string{"", st.Error.Render(fmt.Sprintf("✗ The %s differs from the dump in %s.", c.flow.Target, words.Plural(int64(len(r.Mismatches)), "place", "places")))}
		if v.failure.Hint != "" {
			out = append(out, wrap(words.Capitalize(v.failure.Hint)+".", c.width, ""))
		}
		return out
	case len(r.Mismatches) == 0:
		return []string{"", st.OK.Render("✓ Every table, sequence and object count matches.")}
	}
	return []string{"", st.Error.Render(fmt.Sprintf("✗ %s.", words.Plural(int64(len(r.Mismatches)), "difference", "differences")))}
}
