package tui

import (
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// doneModel is the last screen of a verified migration: what changed,
// where the dump is, and what to do next.
type doneModel struct {
	verified string            // the verify step's verdict
	dump     *migrate.DumpInfo // the dump of this run, if it made one
	state    *migrate.State    // read after the run, for the dump's facts
}

func newDoneModel(verified string, dump *migrate.DumpInfo) doneModel {
	return doneModel{verified: verified, dump: dump}
}

// setState records the state file read after the run.
func (d *doneModel) setState(s *migrate.State) { d.state = s }

// dumpLine describes the dump file kept.
func (d doneModel) dumpLine() string {
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

func (d doneModel) view(c viewCtx) string {
	st, w, flow := c.st, c.width, c.flow
	var b strings.Builder
	b.WriteString(st.OK.Render("✓ Migration complete and verified") + "\n\n")
	b.WriteString(st.Heading.Render("What changed") + "\n")
	if d.verified != "" {
		b.WriteString(wrap("The "+flow.Target+" holds the "+flow.Source+"'s data: "+d.verified+".", w, "  ") + "\n")
	} else {
		b.WriteString(wrap("The "+flow.Target+" holds the "+flow.Source+"'s data, verified.", w, "  ") + "\n")
	}
	b.WriteString(wrap("The "+flow.Source+" was only read: it is unchanged.", w, "  ") + "\n\n")
	b.WriteString(st.Heading.Render("The dump") + "\n")
	if line := d.dumpLine(); line != "" {
		b.WriteString(paint(st.Value, wrap(line, w, "  ")) + "\n")
	}
	dir := c.absDir
	if dir == "" {
		dir = c.dir
	}
	b.WriteString(paint(st.Subtle, wrap("It stays in "+dir+" with the record of this migration ("+migrate.StateFileName+
		"). Keep them until your application runs on the "+flow.Target+"; then delete them: the dump holds all your data.", w, "  ")) + "\n\n")
	b.WriteString(st.Heading.Render("Next") + "\n")
	b.WriteString(wrap("Point your application's DATABASE_URL at the "+flow.Target+", and restart it.", w, "  "))
	return b.String()
}
