package migrate

import "time"

// EventKind tells what an Event reports.
type EventKind int

// Event kinds.
const (
	// StepStarted: Step begins (or resumes: Resumed is set).
	StepStarted EventKind = iota + 1
	// Progress: Progress holds the step's advance.
	Progress
	// ToolLine: Line is one line of pg_dump or pg_restore output.
	ToolLine
	// Warning: Text is something the user should know that does not stop
	// the migration (a harmless restore error, writes after the snapshot).
	Warning
	// Info: Text is a fact worth showing (the chosen tools, a summary).
	Info
	// StepFinished: Step is done; Text summarises it.
	StepFinished
	// StepFailed: Err says what failed and Hint what to do next.
	StepFailed
)

// Event is one report from the engine to its front end. Events are values:
// the front end may keep them.
type Event struct {
	Kind EventKind
	Step Step
	Time time.Time
	// Text is the message of Warning, Info and StepFinished events.
	Text string
	// Line is the raw tool line of a ToolLine event.
	Line string
	// Progress is set on Progress events.
	Progress *ProgressInfo
	// Err and Hint are set on StepFailed events. Err's text names the cause;
	// Hint is the next thing to do ("run ppg migrate-from-ea again to resume").
	Err  error
	Hint string
	// Tail holds the tool's last output lines on a StepFailed event.
	Tail []string
	// Resumed is set on StepStarted when the step continues earlier work.
	Resumed bool
	// Verify is the verification report, on the verify step's Info event.
	Verify *Report
}

// ProgressInfo is the advance of a dump or restore.
type ProgressInfo struct {
	// Phase is the restore's section: "schema", "data" or "indexes and
	// constraints"; empty for a dump.
	Phase string
	// TablesDone and TablesTotal count tables whose data is complete.
	TablesDone, TablesTotal int
	// BytesDone and BytesTotal weigh tables by their size on the source, so
	// that a bar moves with the work rather than with the table count.
	BytesDone, BytesTotal int64
	// Current is the table being worked on ("public.orders"), if any.
	Current string
	// Warnings counts harmless errors so far (restore).
	Warnings int
}
