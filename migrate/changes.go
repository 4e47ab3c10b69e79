package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SourceChange is what to do when the source was written to after the
// dump's snapshot: those writes are not in the target.
type SourceChange int

// What to do about a source that changed after the dump.
const (
	// ChangeAsk asks the Prompter (ConfirmSourceChanged); a front end
	// that cannot ask answers with OnSourceChange's own choice.
	ChangeAsk SourceChange = iota
	// ChangeFail fails the verify step with a *SourceChangedError.
	ChangeFail
	// ChangeRedump dumps again and restores again into the emptied target.
	ChangeRedump
	// ChangeKeep keeps the migration as of the dump, and records the
	// choice.
	ChangeKeep
)

// SourceChangedError is a source written to after the dump: the target
// holds the data of the dump's moment, not today's.
type SourceChangedError struct {
	// Tables are the tables written to since, by qualified name.
	Tables []string
	// DumpedAt is when the dump was taken.
	DumpedAt time.Time
}

func (e *SourceChangedError) Error() string {
	return fmt.Sprintf("the source was written to after the dump of %s: %d tables changed", e.DumpedAt.Format(time.RFC3339), len(e.Tables))
}

// errRedump asks Run to go back to the dump step.
var errRedump = errors.New("dump again")

// sourceChanges compares the source's write counters with the dump's.
// It returns the tables written to since; nil when none was, or when the
// statistics cannot tell (they were reset: then ok is false).
func (e *Engine) sourceChanges(ctx context.Context) (changed []string, ok bool, err error) {
	if e.state.Source == nil {
		return nil, true, nil // a restore of a file: no source to ask
	}
	m, err := e.loadManifest()
	if err != nil || e.state.Dump == nil {
		return nil, false, err
	}
	base := e.state.Dump.WritesAtEnd
	if base == nil {
		base = m.Writes
	}
	if base == nil {
		return nil, false, nil
	}
	src, err := e.ensureSource(ctx)
	if err != nil {
		return nil, false, err
	}
	now, err := src.DB.TableWrites(ctx)
	if err != nil {
		return nil, false, err
	}
	total, err := src.DB.Writes(ctx)
	if err != nil {
		return nil, false, err
	}
	if total < e.state.Dump.Writes {
		return nil, false, nil // statistics were reset since the dump
	}
	for name, n := range now {
		if n > base[name] {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	return changed, true, nil
}

// checkSourceChanges decides what a source changed after the dump means
// for this run: nil to go on, errRedump to dump again, or the error.
func (e *Engine) checkSourceChanges(ctx context.Context) error {
	changed, ok, err := e.sourceChanges(ctx)
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
	if d.KeptChanges != nil && !slices.ContainsFunc(changed, func(n string) bool { return !slices.Contains(d.KeptChanges, n) }) {
		return nil // the user already chose to keep the dump over these
	}
	cerr := &SourceChangedError{Tables: changed, DumpedAt: d.FinishedAt}
	e.send(Event{Kind: Warning, Step: StepVerify, Notice: &Notice{Code: NoticeSourceChanged, Count: int64(len(changed)), Names: changed, Err: cerr, Cause: cerr.Error()}})
	choice := e.cfg.OnSourceChange
	if choice == ChangeAsk {
		again, err := e.ask.Confirm(ctx, Question{Kind: ConfirmSourceChanged, Changed: changed, DumpedAt: d.FinishedAt})
		if err != nil {
			return err
		}
		choice = ChangeKeep
		if again {
			choice = ChangeRedump
		}
	}
	switch choice {
	case ChangeRedump:
		return errRedump
	case ChangeKeep:
		d.KeptChanges = changed
		return e.save()
	}
	return cerr
}
