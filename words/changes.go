package words

import (
	"fmt"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// The late-write rule's words: writes to the source after the dump's
// snapshot, what was found and what was chosen.

// moment writes the snapshot's moment: to the second, in the local zone.
func moment(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }

// sourceChangedWords is the headline and hint of a
// *migrate.SourceChangedError.
func (f Flow) sourceChangedWords(sc *migrate.SourceChangedError) (headline, hint string) {
	what := Plural(int64(len(sc.Tables)), "table", "tables") + " changed"
	switch {
	case len(sc.Tables) > 0:
		what += " (" + strings.Join(first(sc.Tables, 5), ", ") + ")"
	case sc.Writes > 0:
		what = Plural(sc.Writes, "row", "rows") + " written"
	}
	if sc.Step == migrate.StepDump {
		headline = fmt.Sprintf("the %s was written to during the dump, after its snapshot of %s: %s, and the dump does not have those writes",
			f.Source, moment(sc.DumpedAt), what)
		hint = "stop the writes, then run " + f.Command + " again: it dumps again (nothing was restored yet); " +
			"or run it with --on-source-change=redump to dump again by itself, or --on-source-change=keep to keep a dump as of its snapshot"
		return headline, hint
	}
	headline = fmt.Sprintf("the %s was written to after the dump's snapshot of %s: %s, and the %s does not have those writes",
		f.Source, moment(sc.DumpedAt), what, f.Target)
	hint = "stop the writes, then run " + f.Command + " --on-source-change=redump to dump and restore again, or --on-source-change=keep to keep the migration as of the snapshot"
	return headline, hint
}

// SourceChoices says the choices to dump again that a verified migration
// made (v.SourceChanges): the target then holds the writes that came
// after the first snapshot. The choices to keep are in Summary's verdict.
func (f Flow) SourceChoices(v *migrate.VerifySummary) []string {
	if v == nil {
		return nil
	}
	var out []string
	for _, d := range v.SourceChanges {
		if d.Choice != migrate.ChangeRedump {
			continue
		}
		when := "during the dump"
		again := "dumped again"
		if d.Step == migrate.StepVerify {
			when, again = "after the dump", "dumped and restored again"
		}
		who := "as you chose"
		if !d.Asked {
			who = "as --on-source-change=redump says"
		}
		out = append(out, fmt.Sprintf("The %s was written to %s (after its snapshot of %s); %s, it was %s, so the %s holds those writes.",
			f.Source, when, moment(d.SnapshotAt), who, again, f.Target))
	}
	return out
}

// keptWords says which writes after a snapshot the verified migration
// left out, and who chose that: the user when asked, or
// --on-source-change=keep. Each choice is said once, as the step that
// found the writes saw them: rows written during the dump, or tables
// written to after it. State files of earlier versions record no
// choices, only what was kept.
func keptWords(v *migrate.VerifySummary) string {
	var t string
	if len(v.SourceChanges) == 0 {
		if v.WritesDuring > 0 {
			t += fmt.Sprintf("; as you chose, %s not migrated", Plural(v.WritesDuring, "row written during the dump is", "rows written during the dump are"))
		}
		if len(v.KeptChanges) > 0 {
			t += fmt.Sprintf("; as you chose, writes after the dump to %s are not migrated", strings.Join(first(v.KeptChanges, 5), ", "))
		}
		return t
	}
	for _, d := range v.SourceChanges {
		if d.Choice != migrate.ChangeKeep {
			continue
		}
		who := "as you chose"
		if !d.Asked {
			who = "as --on-source-change=keep says"
		}
		if d.Step == migrate.StepDump {
			t += fmt.Sprintf("; %s, %s not migrated", who, Plural(d.Writes, "row written during the dump is", "rows written during the dump are"))
			continue
		}
		t += fmt.Sprintf("; %s, writes after the dump to %s are not migrated", who, strings.Join(first(d.Tables, 5), ", "))
	}
	return t
}
