package words

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
)

// What the front ends say only when it is true: where a failed migration
// can go on from, whose migration a folder holds, and what the wizard's
// own words are where the headless ones name a flag.

// NextStep is what to do after the failure err, for a front end that
// knows whether a state file holds this migration's progress (saved). A
// migration that saved nothing does not resume: the step's "resume from
// this step" gives way to its cause's own hint.
func (f Flow) NextStep(err error, saved bool) string {
	x := f.Explain(err)
	var se *migrate.StepError
	if saved || !x.Resumable || !errors.As(err, &se) {
		return x.Hint
	}
	if h := f.Explain(se.Err).Hint; h != "" {
		return h
	}
	return "fix the cause, then run " + f.Command + " again (nothing was saved, so it starts from the beginning)"
}

// StoppedHeadless says where a headless run stopped by the user leaves
// its folder: the progress saved in stateFile, nothing of a start over
// saved (restarted), or nothing saved yet.
func (f Flow) StoppedHeadless(stateFile string, saved, restarted bool) string {
	switch {
	case saved:
		return fmt.Sprintf("Stopped. The progress is saved in %s: run %s again there to resume.", stateFile, f.Command)
	case restarted:
		return fmt.Sprintf("Stopped before anything of the new start was saved: %s still holds the earlier migration as it was.", stateFile)
	}
	return fmt.Sprintf("Stopped before anything was saved: run %s again to start from the beginning.", f.Command)
}

// WizardNextStep is NextStep in the wizard, which asks what the flags
// decide headless. Writes to the source after the snapshot fail a wizard's
// run only once it has dumped again as often as it may (the source kept
// being written to): the hint then says what to do in the wizard's words
// instead of naming --on-source-change.
func (f Flow) WizardNextStep(err error, saved bool) string {
	var sc *migrate.SourceChangedError
	if !errors.As(err, &sc) {
		return f.NextStep(err, saved)
	}
	again := ""
	switch {
	case sc.Redumps == 1:
		again = "the " + f.Source + " was written to again after the dump made again; "
	case sc.Redumps > 1:
		again = fmt.Sprintf("the %s was written to again after each of the %d dumps made again; ", f.Source, sc.Redumps)
	}
	if sc.Step == migrate.StepDump {
		return again + "stop your application's writes to the " + f.Source + ", then run " + f.again() +
			": it dumps again (nothing was restored yet)"
	}
	return again + "stop your application's writes to the " + f.Source + ", then run " + f.again() +
		": it asks again whether to dump and restore again, or to keep the migration as of the snapshot"
}

// UnusableRecord is the start screen's account of a state file that
// cannot be used (err): its heading, what happened and what to do, and the
// choices left (start over, or quit). A folder whose migration the other
// flow started says which command it belongs to.
func (f Flow) UnusableRecord(err error) (heading string, lines []string, choices string) {
	x := f.Explain(err)
	lines = []string{x.Headline}
	var fm *migrate.FlowMismatchError
	if errors.As(err, &fm) {
		other := "that command"
		if fl, ok := FlowOfPrefix(fm.Flow); ok {
			other = fl.Command
		}
		return "This folder holds a migration of another ppg command:", lines,
			"Quit and run " + other + " here to resume it, or start over to begin a new migration with " + f.Command + " (the earlier dump file is kept)."
	}
	if x.Hint != "" {
		lines = append(lines, Capitalize(x.Hint)+".")
	}
	return "The record of the earlier migration cannot be used:", lines,
		"Start over to begin a new migration (the old dump file is kept), or quit."
}

// LateWrites says what the wizard's "dump again?" question is about: the
// rows written after the dump's snapshot, at snapshot (a clock the front
// end formats), and the tables written to, the first few named.
func (f Flow) LateWrites(writes int64, tables []string, snapshot string) []string {
	lines := []string{Plural(writes, "row was", "rows were") + " inserted, updated or deleted after the dump's snapshot of " + snapshot + "; they are not in the dump."}
	if writes == 0 {
		lines[0] = "The " + f.Source + " was written to after the dump's snapshot of " + snapshot + "; those writes are not in the dump."
	}
	if len(tables) > 0 {
		lines = append(lines, fmt.Sprintf("%s written to: %s.", Plural(int64(len(tables)), "table", "tables"),
			strings.Join(first(tables, 8), ", ")))
	}
	return lines
}
