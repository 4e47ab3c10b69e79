package words

import (
	"errors"
	"fmt"

	"github.com/ppg-cli/ppg/migrate"
)

// flowsByPrefix names the flows by the prefix of their dump files, which
// the state file records (migrate.State.Flow): the commands name their
// dumps so (cli checks that they still do).
var flowsByPrefix = map[string]Flow{"ppg-ea": FromEA, "ppg": Migrate}

// FlowOfPrefix returns the flow whose dumps are named prefix-….
func FlowOfPrefix(prefix string) (Flow, bool) {
	fl, ok := flowsByPrefix[prefix]
	return fl, ok
}

// flowMismatch words a folder whose migration the other flow started.
func (f Flow) flowMismatch(err error, out *Failure) bool {
	var fm *migrate.FlowMismatchError
	if !errors.As(err, &fm) {
		return false
	}
	other, ok := FlowOfPrefix(fm.Flow)
	if !ok {
		out.Headline = fmt.Sprintf("the migration in %s was started by another ppg command (its dumps are named %s-…), not by %s", fm.Dir, fm.Flow, f.Command)
		out.Hint = "run that command in this folder to resume it, or run " + f.Command + " in another folder"
		return true
	}
	out.Headline = fmt.Sprintf("the migration in %s was started by %s (%s), not by %s: this command does not resume it",
		fm.Dir, other.Command, lower(other.Goal), f.Command)
	out.Hint = fmt.Sprintf("run %s in this folder to resume it, or run %s in another folder (or with --restart here, which starts over and keeps the earlier dump)",
		other.Command, f.Command)
	return true
}

func lower(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
