package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The late-write rule. The target holds the source as of the dump's
// snapshot. A write to the source after that moment, whether during the
// dump, between the steps or during the restore, is not in the target, and
// one choice governs it wherever it is found: Config.OnSourceChange, or
// the user's answer when that is ChangeAsk. The dump's end checks the
// source's write counters against the snapshot's (so that a dump to throw
// away is not restored first), and the verify step checks them again
// before any verdict, against the snapshot's, or against the moment a
// user chose to keep the migration as it was.

// SourceChange is what to do when the source was written to after the
// dump's snapshot: those writes are not in the target.
type SourceChange int

// What to do about a source that changed after the dump.
const (
	// ChangeAsk asks the Prompter (ConfirmRedump at the dump's end,
	// ConfirmSourceChanged at the verify step): yes dumps again, no
	// keeps the migration as of the snapshot.
	ChangeAsk SourceChange = iota
	// ChangeFail fails the step with a *SourceChangedError.
	ChangeFail
	// ChangeRedump dumps again and restores again into the emptied target.
	ChangeRedump
	// ChangeKeep keeps the migration as of the snapshot, and records the
	// choice.
	ChangeKeep
)

var sourceChangeNames = map[SourceChange]string{ChangeAsk: "ask", ChangeFail: "fail", ChangeRedump: "redump", ChangeKeep: "keep"}

func (c SourceChange) String() string {
	if s, ok := sourceChangeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("SourceChange(%d)", int(c))
}

// MarshalText writes the choice's name ("redump").
func (c SourceChange) MarshalText() ([]byte, error) {
	if _, ok := sourceChangeNames[c]; !ok {
		return nil, fmt.Errorf("unknown source change choice %d", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a choice's name.
func (c *SourceChange) UnmarshalText(b []byte) error {
	for choice, name := range sourceChangeNames {
		if name == string(b) {
			*c = choice
			return nil
		}
	}
	return fmt.Errorf("unknown source change choice %q", b)
}

// maxRedumps bounds the dumps made again in one run because the source
// kept being written to: past it, the run fails as with ChangeFail.
const maxRedumps = 3

// SourceChangedError is a source written to after the dump's snapshot: the
// target holds the data of the snapshot's moment, not today's.
type SourceChangedError struct {
	// Tables are the tables written to since, by qualified name (empty
	// when the statistics name none yet).
	Tables []string
	// Writes counts the rows inserted, updated and deleted since, when
	// known (the dump's end knows it; the verify step knows tables).
	Writes int64
	// DumpedAt is the moment of the dump's snapshot: what the target
	// holds, and the cutover's moment.
	DumpedAt time.Time
	// Step is where the writes were found: StepDump (the dump's end,
	// before anything was restored) or StepVerify.
	Step Step
	// Redumps counts the dumps made again in this run before these
	// writes: at maxRedumps the run fails whatever the choice, since the
	// source keeps being written to.
	Redumps int
}

func (e *SourceChangedError) Error() string {
	what := "tables changed: " + strings.Join(first(e.Tables, 10), ", ")
	if len(e.Tables) == 0 {
		what = fmt.Sprintf("rows written: %d", e.Writes)
	}
	return fmt.Sprintf("the source was written to after the dump's snapshot of %s: %s", e.DumpedAt.UTC().Format(time.RFC3339), what)
}

// ChangeDecision records a choice made about writes after the snapshot,
// for the state file and the end's report.
type ChangeDecision struct {
	// Choice is ChangeRedump or ChangeKeep.
	Choice SourceChange `json:"choice"`
	// Asked is set when the user answered the question; otherwise the
	// choice was configured beforehand (Config.OnSourceChange).
	Asked bool `json:"asked,omitempty"`
	// Step is where the writes were found (StepDump or StepVerify).
	Step Step `json:"step"`
	// Tables and Writes are what was found (see SourceChangedError).
	Tables []string `json:"tables,omitempty"`
	Writes int64    `json:"writes,omitempty"`
	// SnapshotAt is the moment of the snapshot the writes came after.
	SnapshotAt time.Time `json:"snapshot_at,omitzero"`
	At         time.Time `json:"at"`
}

// errRedump asks Run to go back to the dump step.
var errRedump = errors.New("dump again")

// decide applies the rule to writes found after the snapshot: the
// configured choice, or the user's answer. A choice to dump again or to
// keep is recorded in the state; ChangeFail is returned as is.
func (e *Engine) decide(ctx context.Context, found *SourceChangedError) (SourceChange, error) {
	choice, asked := e.cfg.OnSourceChange, false
	if choice == ChangeAsk {
		q := Question{Kind: ConfirmSourceChanged, Changed: found.Tables, Writes: found.Writes, DumpedAt: found.DumpedAt}
		if found.Step == StepDump {
			q.Kind = ConfirmRedump
		}
		again, err := e.ask.Confirm(ctx, q)
		if err != nil {
			return ChangeFail, err
		}
		choice, asked = ChangeKeep, true
		if again {
			choice = ChangeRedump
		}
	}
	if choice == ChangeRedump {
		if e.redumps >= maxRedumps {
			found.Redumps = e.redumps
			return ChangeFail, nil // the source keeps changing: writes must stop first
		}
		e.redumps++
	}
	if choice == ChangeRedump || choice == ChangeKeep {
		e.state.SourceChanges = append(e.state.SourceChanges, ChangeDecision{
			Choice: choice, Asked: asked, Step: found.Step, Tables: found.Tables, Writes: found.Writes,
			SnapshotAt: found.DumpedAt, At: e.cfg.Now(),
		})
	}
	return choice, nil
}

// snapshotAt is the moment the target's data is from. State files of
// earlier versions recorded only the dump's end: the dump step's start is
// then the latest moment known to be no later than the snapshot.
func (e *Engine) snapshotAt() time.Time {
	d := e.state.Dump
	switch {
	case d == nil:
		return time.Time{}
	case !d.SnapshotAt.IsZero():
		return d.SnapshotAt
	}
	if rec := e.state.Step(StepDump); !rec.StartedAt.IsZero() && !rec.StartedAt.After(d.FinishedAt) {
		return rec.StartedAt
	}
	return d.FinishedAt
}

// changedTables returns the tables whose write counter grew from base to
// now, in order, and the rows written to them since. Temporary tables
// (other sessions' scratch space, never dumped) do not count. Neither do
// the system catalogs: the database's own counter (ServerInfo.Writes)
// grows with them, as when autovacuum records statistics, so it is not
// what the rule goes by.
func changedTables(base, now map[string]int64) (changed []string, rows int64) {
	for name, n := range now {
		if n > base[name] && !strings.HasPrefix(name, "pg_temp_") {
			changed = append(changed, name)
			rows += n - base[name]
		}
	}
	slices.Sort(changed)
	return changed, rows
}

// afterDump applies the rule to the writes made while pg_dump ran (from
// the snapshot to now). It returns true to dump again. A failure to read
// the statistics is left to the verify step, which reads them again and
// compares them with the same snapshot's.
func (e *Engine) afterDump(ctx context.Context, src *Endpoint, base map[string]int64) (bool, error) {
	if e.isLive() {
		return false, nil // the stream carries the writes
	}
	now, err := src.DB.TableWrites(ctx)
	if err != nil {
		return false, nil
	}
	changed, rows := changedTables(base, now)
	if len(changed) == 0 {
		return false, nil
	}
	if e.state.Source == nil {
		// A backup (no source on record): there is no target to hold the
		// writes, and the dump keeps its snapshot.
		e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeSourceWritten, Count: rows, Names: changed}})
		return false, nil
	}
	d := e.state.Dump
	found := &SourceChangedError{Tables: changed, Writes: rows, DumpedAt: d.SnapshotAt, Step: StepDump}
	e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeSourceWritten, Count: rows, Names: changed, Err: found, Cause: found.Error()}})
	choice, err := e.decide(ctx, found)
	if err != nil {
		return false, err
	}
	switch choice {
	case ChangeRedump:
		e.send(Event{Kind: Info, Step: StepDump, Notice: &Notice{Code: NoticeDumpingAgain}})
		return true, nil
	case ChangeKeep:
		d.WritesDuring, d.KeptChanges, d.WritesAtEnd = rows, changed, now
		return false, nil
	default:
		return false, found
	}
}

// sourceChanges compares the source's write counters with the snapshot's
// (or with those of the moment the user chose to keep the migration as it
// was). It returns the tables written to since, and the counters now; ok
// is false when the statistics cannot tell (they were reset).
func (e *Engine) sourceChanges(ctx context.Context) (changed []string, now map[string]int64, ok bool, err error) {
	if e.state.Source == nil {
		return nil, nil, true, nil // a restore of a file: no source to ask
	}
	m, err := e.loadManifest()
	if err != nil || e.state.Dump == nil {
		return nil, nil, false, err
	}
	base := e.state.Dump.WritesAtEnd
	if base == nil {
		base = m.Writes
	}
	if base == nil {
		return nil, nil, false, nil
	}
	src, err := e.ensureSource(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if now, err = src.DB.TableWrites(ctx); err != nil {
		return nil, nil, false, err
	}
	total, err := src.DB.Writes(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if total < e.state.Dump.Writes {
		return nil, nil, false, nil // statistics were reset since the dump
	}
	changed, _ = changedTables(base, now)
	return changed, now, true, nil
}

// checkSourceChanges applies the rule before the verify step's verdict:
// nil to go on, errRedump to dump again, or the error.
func (e *Engine) checkSourceChanges(ctx context.Context) error {
	if e.isLive() {
		return nil // the stream carries the writes
	}
	changed, now, ok, err := e.sourceChanges(ctx)
	if err != nil {
		return err
	}
	if !ok {
		e.send(Event{Kind: Warning, Step: StepVerify, Notice: &Notice{Code: NoticeChangesUnknown}})
		return nil
	}
	if len(changed) == 0 {
		return nil
	}
	d := e.state.Dump
	found := &SourceChangedError{Tables: changed, DumpedAt: e.snapshotAt(), Step: StepVerify}
	e.send(Event{Kind: Warning, Step: StepVerify, Notice: &Notice{Code: NoticeSourceChanged, Count: int64(len(changed)), Names: changed, Err: found, Cause: found.Error()}})
	choice, err := e.decide(ctx, found)
	if err != nil {
		return err
	}
	switch choice {
	case ChangeRedump:
		return errRedump
	case ChangeKeep:
		// Later checks look for writes after this choice only.
		for _, n := range changed {
			if !slices.Contains(d.KeptChanges, n) {
				d.KeptChanges = append(d.KeptChanges, n)
			}
		}
		slices.Sort(d.KeptChanges)
		d.WritesAtEnd = now
		return e.save()
	default:
		// ChangeFail (decide turns ChangeAsk into the user's answer): the
		// step fails with the writes found.
		return found
	}
}

// forgiveSequences drops from rep the sequences that are ahead on the
// target when writes made during the dump were kept: pg_dump reads a
// sequence when it dumps it, not in the snapshot (sequences are not
// transactional), so those writes can carry it past the snapshot's value.
// A sequence ahead of its table's rows is harmless; one behind is not,
// and stays a mismatch.
func (e *Engine) forgiveSequences(rep *VerifyReport) {
	// A live migration's copy holds sequences as pg_dump read them, after
	// the snapshot (sequences are not transactional); the cutover sets
	// them from the source and compares them exactly.
	liveCopy := e.isLive() && e.state.Step(StepVerify).Status != Done
	if d := e.state.Dump; !liveCopy && (d == nil || d.WritesDuring == 0) {
		return
	}
	rep.Mismatches = slices.DeleteFunc(rep.Mismatches, func(m Mismatch) bool {
		return m.Kind == "sequence" && m.Source >= 0 && m.Target > m.Source
	})
}
