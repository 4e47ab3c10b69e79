// Package words is what ppg says to its users. The engine (migrate) reports
// facts; both front ends, the wizard (tui) and the headless commands (cli),
// turn them into the same sentences here: the names of the steps and the
// databases in each flow, sizes and counts, the engine's notices and
// summaries, and for every error its headline, its hint and its exit status
// (Explain).
//
// A Flow names the command and its two databases, so that
// `ppg migrate-from-ea` speaks of the EA and GA databases, `ppg migrate` of
// the source and the target, and `ppg backup`/`ppg restore` of "the
// database".
//
// Errors are classified first, then worded: migrate.ClassOf asks an error
// its class (connect, gateway, tools, refused, mismatch, …), which gives
// the exit status (ExitStatus); then the first rule of its family (rules.go)
// gives the headline and the one piece of advice, the hint. The leaf errors
// of migrate, pgtools and tunnel say only what happened; what to do is said
// here, once. A gateway's refusal gets the same words whichever path it
// came by (migrate.GatewayRefusal).
//
// testdata/sentences holds, for each flow, every sentence it can print
// with representative facts; the tests check it, and `go test ./words/
// -update` rewrites it, so that a change of wording is a reviewed diff.
package words

import (
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
)

// Flow is how one command names things.
type Flow struct {
	// Command is how the user runs it again: "ppg migrate-from-ea".
	Command string
	// Source and Target name the two databases: "EA database".
	Source, Target string
	// SourceShort and TargetShort head the columns of a comparison: "EA".
	SourceShort, TargetShort string
	// SourceLong and TargetLong name them in full, for the wizard's
	// questions: "Early Access (EA) database".
	SourceLong, TargetLong string
	// Goal says what the flow does, as the wizard's first heading.
	Goal string
	// Resumable is set for the commands that keep a state file.
	Resumable bool
}

// The flows.
var (
	FromEA = Flow{Command: "ppg migrate-from-ea", Source: "EA database", Target: "GA database",
		SourceShort: "EA", TargetShort: "GA",
		SourceLong: "Early Access (EA) database", TargetLong: "new General Availability (GA) database",
		Goal: "Move your Early Access database to a new General Availability database", Resumable: true}
	Migrate = Flow{Command: "ppg migrate", Source: "source database", Target: "target database",
		SourceShort: "source", TargetShort: "target",
		SourceLong: "source database", TargetLong: "new target database",
		Goal: "Copy a PostgreSQL database into a new Prisma Postgres database", Resumable: true}
	Backup  = Flow{Command: "ppg backup", Source: "database", Target: "dump file", SourceShort: "database", TargetShort: "dump"}
	Restore = Flow{Command: "ppg restore", Source: "dump", Target: "database", SourceShort: "dump", TargetShort: "database"}
	Tunnel  = Flow{Command: "ppg tunnel", Source: "database", Target: "database", SourceShort: "database", TargetShort: "database"}
)

// Side names one side of the flow.
func (f Flow) Side(s migrate.Side) string {
	if s == migrate.Source {
		return f.Source
	}
	return f.Target
}

// Step is a step's title: "Dump the EA database".
func (f Flow) Step(st migrate.Step) string {
	switch st {
	case migrate.StepCheckTools:
		return "Check pg_dump and pg_restore"
	case migrate.StepConnectSource:
		return "Connect to the " + f.Source
	case migrate.StepDump:
		return "Dump the " + f.Source
	case migrate.StepCheckArchive:
		return "Check the dump file"
	case migrate.StepConnectTarget:
		return "Connect to the " + f.Target
	case migrate.StepRestore:
		return "Restore into the " + f.Target
	case migrate.StepVerify:
		return "Verify the " + f.Target
	case migrate.StepDone:
		return "Done"
	case migrate.StepStream:
		return f.liveStep(st)
	}
	return string(st)
}

// Phase names a part of a step: "indexes and constraints".
func Phase(p migrate.Phase) string {
	switch p {
	case migrate.PhaseDump:
		return "dump"
	case migrate.PhaseSchema:
		return "schema"
	case migrate.PhaseData:
		return "data"
	case migrate.PhasePostData:
		return "indexes and constraints"
	case migrate.PhaseAnalyze:
		return "statistics"
	case migrate.PhaseVerify:
		return "verify"
	}
	return p.String()
}

// Bytes writes a size in decimal units: "1.2 GB".
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// Count writes a number in short form: 950, 12k, 5.1M.
func Count(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// Plural writes n with the singular or plural word: "1 row", "2 rows".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Version writes a server_version_num: 160004 is "16.4".
func Version(num int) string { return fmt.Sprintf("%d.%d", num/10000, num%10000) }

// Capitalize upper-cases the first letter.
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// first keeps the first n names and says how many more there are.
func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
