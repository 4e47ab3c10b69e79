package migrate

import (
	"fmt"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
)

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
	// Warning: Notice is something the user should know that does not stop
	// the migration (a harmless restore error, writes after the snapshot).
	Warning
	// Info: Notice is a fact worth showing (a resume decision, a note on
	// the target).
	Info
	// Report: Report holds the verify step's full comparison.
	Report
	// StepFinished: Step is done; Summary holds what it found or made.
	StepFinished
	// StepFailed: Failure says what failed.
	StepFailed
	// Finished: the migration is complete; Summary.Verified holds the
	// verdict. It is the last event of a run that succeeds.
	Finished
	// PlanReport: Plan is the preflight's result (--dry-run).
	PlanReport
)

var eventKindNames = map[EventKind]string{
	StepStarted: "step_started", Progress: "progress", ToolLine: "tool_line", Warning: "warning",
	Info: "info", Report: "report", StepFinished: "step_finished", StepFailed: "step_failed",
	Finished: "finished", PlanReport: "plan",
}

func (k EventKind) String() string {
	if s, ok := eventKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MarshalText writes the kind's name ("step_started").
func (k EventKind) MarshalText() ([]byte, error) {
	if _, ok := eventKindNames[k]; !ok {
		return nil, fmt.Errorf("unknown event kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name.
func (k *EventKind) UnmarshalText(b []byte) error {
	for kind, name := range eventKindNames {
		if name == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("unknown event kind %q", b)
}

// Event is one report from the engine to its front end: facts, never
// sentences. Events are values: the front end may keep them. The JSON form
// (field names in snake_case, kinds and codes as names) is the wire format
// of the headless front end's --json output.
type Event struct {
	Kind EventKind `json:"kind"`
	Step Step      `json:"step,omitempty"`
	Time time.Time `json:"time"`
	// Resumed is set on StepStarted when the step continues earlier work.
	Resumed bool `json:"resumed,omitempty"`
	// Attempt numbers a StepStarted that retries the step within the run
	// (2 for the first retry).
	Attempt int `json:"attempt,omitempty"`
	// Line is the raw tool line of a ToolLine event.
	Line string `json:"line,omitempty"`
	// Progress is set on Progress events.
	Progress *ProgressInfo `json:"progress,omitempty"`
	// Notice is set on Warning and Info events.
	Notice *Notice `json:"notice,omitempty"`
	// Summary is set on StepFinished events.
	Summary *Summary `json:"summary,omitempty"`
	// Report is the verification report, on Report events.
	Report *VerifyReport `json:"report,omitempty"`
	// Failure is set on StepFailed events.
	Failure *StepError `json:"failure,omitempty"`
	// Plan is set on PlanReport events.
	Plan *Plan `json:"plan,omitempty"`
	// Live is the live stream's state, on NoticeLiveStatus events.
	Live *LiveStatus `json:"live,omitempty"`
}

// Phase is the part of a step that a Progress event reports.
type Phase int

// Phases. A dump has one; a restore has one a section.
const (
	PhaseDump Phase = iota + 1
	PhaseSchema
	PhaseData
	PhasePostData
	PhaseAnalyze
	PhaseVerify
)

var phaseNames = map[Phase]string{PhaseDump: "dump", PhaseSchema: "schema", PhaseData: "data", PhasePostData: "post_data", PhaseAnalyze: "analyze", PhaseVerify: "verify"}

func (p Phase) String() string {
	if s, ok := phaseNames[p]; ok {
		return s
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// MarshalText writes the phase's name ("post_data").
func (p Phase) MarshalText() ([]byte, error) {
	if _, ok := phaseNames[p]; !ok {
		return nil, fmt.Errorf("unknown phase %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a phase's name.
func (p *Phase) UnmarshalText(b []byte) error {
	for ph, name := range phaseNames {
		if name == string(b) {
			*p = ph
			return nil
		}
	}
	return fmt.Errorf("unknown phase %q", b)
}

// RestorePhases are the restore's phases, in order.
func RestorePhases() []Phase { return []Phase{PhaseSchema, PhaseData, PhasePostData, PhaseAnalyze} }

// ProgressInfo is the advance of a dump or restore.
type ProgressInfo struct {
	Phase Phase `json:"phase"`
	// TablesDone and TablesTotal count tables whose data is complete.
	TablesDone  int `json:"tables_done"`
	TablesTotal int `json:"tables_total"`
	// BytesDone and BytesTotal weigh tables by their size on the source, so
	// that a bar moves with the work rather than with the table count.
	BytesDone  int64 `json:"bytes_done"`
	BytesTotal int64 `json:"bytes_total"`
	// Current is the table being worked on ("public.orders"), if any.
	Current string `json:"current,omitempty"`
	// Warnings counts harmless errors so far (restore).
	Warnings int `json:"warnings,omitempty"`
	// EntriesDone and EntriesTotal count the post-data entries (indexes,
	// constraints and the like).
	EntriesDone  int `json:"entries_done,omitempty"`
	EntriesTotal int `json:"entries_total,omitempty"`
	// BytesPerSecond is the speed of the dump or of the data phase over
	// the last ten seconds; 0 when it is not known yet.
	BytesPerSecond float64 `json:"bytes_per_second,omitempty"`
	// SecondsLeft estimates the time to go in the dump or the data phase,
	// at the phase's average speed; 0 until that is steady (10% of the
	// bytes and 5 seconds in).
	SecondsLeft int64 `json:"seconds_left,omitempty"`
}

// NoticeCode names what a Notice reports. The front ends choose the words.
type NoticeCode string

// Notices.
const (
	// NoticeStartingOver: --restart; the earlier dump (Path) is kept.
	NoticeStartingOver NoticeCode = "starting_over"
	// NoticeDumpChanged: the recorded dump can no longer be used (Err is a
	// *DumpChangedError): it is dumped again.
	NoticeDumpChanged NoticeCode = "dump_changed"
	// NoticeWritesNotMigrated: writes to the source after the dump starts
	// are not migrated.
	NoticeWritesNotMigrated NoticeCode = "writes_not_migrated"
	// NoticeNoSharedSnapshot: the source does not let pg_dump share ppg's
	// snapshot (Cause is the server's answer); counts are taken apart.
	NoticeNoSharedSnapshot NoticeCode = "no_shared_snapshot"
	// NoticeSnapshotRefused: pg_dump could not import the snapshot: it
	// dumps again without it.
	NoticeSnapshotRefused NoticeCode = "snapshot_refused"
	// NoticeSourceWritten: Count rows were written to the source during the
	// dump, after its snapshot, to the tables Names (Err is the
	// *SourceChangedError the late-write rule then decides on).
	NoticeSourceWritten NoticeCode = "source_written"
	// NoticeDumpingAgain: the source was written to during the dump, and
	// the choice was to dump again (before anything is restored).
	NoticeDumpingAgain NoticeCode = "dumping_again"
	// NoticeHarmlessError: pg_restore reported an error (Cause) known to
	// be harmless (Harmless says why).
	NoticeHarmlessError NoticeCode = "harmless_error"
	// NoticeRestoreNote: what to expect from restoring this archive into
	// this server (Note), with pg_restore's major version in Count and the
	// target's in Of.
	NoticeRestoreNote NoticeCode = "restore_note"
	// NoticeTargetReset: an interrupted schema restore is undone (the
	// target was empty before it).
	NoticeTargetReset NoticeCode = "target_reset"
	// NoticeDataResumed: Count of Of tables are loaded already.
	NoticeDataResumed NoticeCode = "data_resumed"
	// NoticeTablesEmptied: the partly loaded tables Names were emptied to
	// be loaded again.
	NoticeTablesEmptied NoticeCode = "tables_emptied"
	// NoticePostDataResumed: Count post-data entries exist already, Of
	// remain to create.
	NoticePostDataResumed NoticeCode = "post_data_resumed"
	// NoticeNoManifest: no manifest (Path) beside a dump being restored:
	// the restore is not verified.
	NoticeNoManifest NoticeCode = "no_manifest"
	// NoticeLargeObjectsReloaded: Count large objects of an interrupted
	// data restore were removed, to be loaded again.
	NoticeLargeObjectsReloaded NoticeCode = "large_objects_reloaded"
	// NoticeSourceChanged: the tables Names (Count of them) were written to
	// after the dump (Err is the *SourceChangedError).
	NoticeSourceChanged NoticeCode = "source_changed"
	// NoticeChangesUnknown: the source's statistics were reset since the
	// dump: ppg cannot tell whether it changed.
	NoticeChangesUnknown NoticeCode = "changes_unknown"
	// NoticeRedumping: the source changed after the dump; it is dumped and
	// restored again.
	NoticeRedumping NoticeCode = "redumping"
	// NoticeLowDiskSpace: Path has Count bytes free, less than the dump's
	// estimate (Of); the dump goes on, and stops cleanly if the disk fills.
	NoticeLowDiskSpace NoticeCode = "low_disk_space"
	// NoticeRetrying: the step failed for a transient cause (Err, Cause);
	// retry Count of Of begins after a pause, resuming where it stopped.
	NoticeRetrying NoticeCode = "retrying"
	// NoticeDeadlockRetry: parallel post-data jobs deadlocked; try Count of
	// Of restores what is missing, one entry at a time.
	NoticeDeadlockRetry NoticeCode = "deadlock_retry"
	// NoticeNoPipeline: a section's SQL could not be split into its
	// entries (Cause says why): pg_restore restores it, a statement a
	// round trip.
	NoticeNoPipeline NoticeCode = "no_pipeline"
	// NoticeSlowConnect: connecting to Side, or its first checks, has
	// taken Count seconds so far: a far or busy server, or a lock that
	// another session holds and ppg's checks wait for. It goes on waiting.
	NoticeSlowConnect NoticeCode = "slow_connect"
)

// NoticeCodes lists every notice code, for the front ends' tests: each
// must have its words.
func NoticeCodes() []NoticeCode {
	return append([]NoticeCode{
		NoticeStartingOver, NoticeDumpChanged, NoticeWritesNotMigrated, NoticeNoSharedSnapshot,
		NoticeSnapshotRefused, NoticeSourceWritten, NoticeHarmlessError, NoticeRestoreNote,
		NoticeTargetReset, NoticeDataResumed, NoticeTablesEmptied, NoticePostDataResumed,
		NoticeNoManifest, NoticeLargeObjectsReloaded, NoticeSourceChanged, NoticeChangesUnknown,
		NoticeRedumping, NoticeLowDiskSpace, NoticeRetrying, NoticeDeadlockRetry,
		NoticeNoPipeline, NoticeSlowConnect, NoticeDumpingAgain, NoticeRowSecurityBypassed,
	}, liveNoticeCodes...)
}

// MismatchKind says what a Mismatch compares.
type MismatchKind string

// Kinds of mismatches.
const (
	// MismatchTable: the row counts of table Name differ.
	MismatchTable MismatchKind = "table"
	// MismatchSequence: the values of sequence Name differ.
	MismatchSequence MismatchKind = "sequence"
	// MismatchObjects: the counts of objects of kind Object ("indexes",
	// see ObjectKinds) differ.
	MismatchObjects MismatchKind = "objects"
	// MismatchLargeObjects: the counts of large objects differ.
	MismatchLargeObjects MismatchKind = "large objects"
	// MismatchTableContent: the content hashes of table Name differ
	// (--verify=content); Source is its row count, Target -1.
	MismatchTableContent MismatchKind = "table content"
	// MismatchLargeObjectContent: the content hashes of the large objects
	// differ; Source is their count, Target -1.
	MismatchLargeObjectContent MismatchKind = "large object content"
)

// Notice is a fact of an Info or Warning event.
type Notice struct {
	Code NoticeCode `json:"code"`
	Path string     `json:"path,omitempty"`
	// Count and Of are the numbers the code speaks of.
	Count int64 `json:"count,omitempty"`
	Of    int64 `json:"of,omitempty"`
	// Names lists objects (qualified table names and the like).
	Names []string `json:"names,omitempty"`
	// Cause is a message of a tool or of the server, as it came.
	Cause string `json:"cause,omitempty"`
	// Harmless says why an error is harmless.
	Harmless HarmlessReason `json:"harmless,omitempty"`
	// Note is what to expect from the restore, for NoticeRestoreNote.
	Note pgtools.TargetNote `json:"note,omitempty"`
	// Side is the database the notice is about, when it is one.
	Side Side `json:"side,omitempty"`
	// Err is a typed error the notice is about, for the front end to
	// explain; its text is in Cause.
	Err error `json:"-"`
}

// Summary is what a finished step found or made; one field is set, by step.
type Summary struct {
	// Tools: check-tools.
	Tools *pgtools.Toolset `json:"tools,omitempty"`
	// Database: connect-source and connect-target (the state's record).
	Database *Database `json:"database,omitempty"`
	// Plan: connect-source's preflight checks.
	Plan *Plan `json:"plan,omitempty"`
	// TargetResumed: connect-target found this migration's interrupted
	// restore in the target, which will be restored again.
	TargetResumed bool `json:"target_resumed,omitempty"`
	// Dump: the dump step.
	Dump *DumpInfo `json:"dump,omitempty"`
	// Archive: check-archive.
	Archive *ArchiveInfo `json:"archive,omitempty"`
	// Restore: the restore step.
	Restore *RestoreSummary `json:"restore,omitempty"`
	// Verified: the verify step's verdict.
	Verified *VerifySummary `json:"verified,omitempty"`
	// Cutover: the stream step of a live migration, once cut over.
	Cutover *CutoverSummary `json:"cutover,omitempty"`
}

// ArchiveInfo is what check-archive read of the dump.
type ArchiveInfo struct {
	Entries     int    `json:"toc_entries"`
	DataEntries int    `json:"table_data_entries"`
	DumpedBy    string `json:"dumped_by"`
	DumpedFrom  string `json:"dumped_from"`
	// Restore is the pg_restore that read it.
	Restore pgtools.Tool `json:"pg_restore"`
}

// RestoreSummary is what the restore step did.
type RestoreSummary struct {
	Tables int `json:"tables"`
	Jobs   int `json:"jobs"`
	// Warnings counts the harmless errors reported as warnings.
	Warnings int `json:"warnings"`
	// AnalyzeSeconds is how long ANALYZE took.
	AnalyzeSeconds float64 `json:"analyze_seconds"`
	// Skipped are the objects not restored, their statements in
	// SkippedFile.
	Skipped     []SkippedObject `json:"skipped,omitempty"`
	SkippedFile string          `json:"skipped_file,omitempty"`
}
