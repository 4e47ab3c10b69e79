package tui

import (
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
)

// doneModel is the last screen of a verified migration: what changed,
// where the dump is, and what to do next.
type doneModel struct {
	state *migrate.State // read after the run, for the dump's facts
}

// dumpLine describes the dump file kept, from the state file.
func (d doneModel) dumpLine() string {
	if d.state == nil || d.state.Dump == nil {
		return ""
	}
	dm := d.state.Dump
	sum := dm.SHA256
	if len(sum) > 16 {
		sum = sum[:16] + "…"
	}
	return fmt.Sprintf("%s (%s, sha256 %s)", dm.Path, migrate.FormatBytes(dm.Size), sum)
}

func (d doneModel) view(c viewCtx, verified, dumped string) string {
	st, w := c.st, c.width
	var b strings.Builder
	b.WriteString(st.OK.Render("✓ Migration complete and verified") + "\n\n")
	b.WriteString(st.Heading.Render("What changed") + "\n")
	if verified != "" {
		b.WriteString(wrap("The GA database holds the EA database's data: "+verified+".", w, "  ") + "\n")
	} else {
		b.WriteString(wrap("The GA database holds the EA database's data, verified.", w, "  ") + "\n")
	}
	b.WriteString(wrap("The EA database was only read: it is unchanged.", w, "  ") + "\n\n")
	b.WriteString(st.Heading.Render("The dump") + "\n")
	switch line := d.dumpLine(); {
	case line != "":
		b.WriteString(paint(st.Value, wrap(line, w, "  ")) + "\n")
	case dumped != "":
		b.WriteString(paint(st.Value, wrap(dumped, w, "  ")) + "\n")
	}
	dir := c.absDir
	if dir == "" {
		dir = c.dir
	}
	b.WriteString(paint(st.Subtle, wrap("It stays in "+dir+" with the record of this migration ("+migrate.StateFileName+
		"). Keep them until your application runs on the GA database; then delete them: the dump holds all your data.", w, "  ")) + "\n\n")
	b.WriteString(st.Heading.Render("Next") + "\n")
	b.WriteString(wrap("Point your application's DATABASE_URL at the GA database, and restart it.", w, "  "))
	return b.String()
}
