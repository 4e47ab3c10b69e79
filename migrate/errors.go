package migrate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
)

// StepError is a failed step. It carries the cause and what it means for a
// next run; the front end chooses the words and the exit status.
type StepError struct {
	Step Step  `json:"step"`
	Err  error `json:"-"`
	// Cause is Err's text (secrets redacted), for the JSON form.
	Cause string `json:"cause"`
	// Tail holds the tool's last output lines, when a tool failed.
	Tail []string `json:"tail,omitempty"`
	// Resumable means that running the migration again resumes at this
	// step, and can succeed once the cause is dealt with.
	Resumable bool `json:"resumable"`
	// NeedsRestart means that a plain re-run cannot succeed: the migration
	// must start over (--restart), after what the cause says.
	NeedsRestart bool `json:"needs_restart,omitempty"`
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// newStepError classifies err, the failure of step st.
func newStepError(st Step, err error) *StepError {
	se := &StepError{Step: st, Err: err, Cause: err.Error(), Resumable: true}
	var ee *pgtools.ExitError
	if errors.As(err, &ee) {
		se.Tail = ee.StderrTail
	}
	var ve *VerifyError
	var re *ResetError
	if errors.As(err, &ve) || errors.As(err, &re) {
		se.Resumable, se.NeedsRestart = false, true
	}
	return se
}

// ErrDeclined means the user answered no to a question the migration
// cannot go on without.
var ErrDeclined = errors.New("stopped at your request")

// ErrTargetRefused is matched (errors.Is) by every *TargetRefusedError.
var ErrTargetRefused = errors.New("the target was refused")

// RefuseReason says why a target was refused.
type RefuseReason int

// Reasons to refuse a target.
const (
	// RefuseIsSource: the target is the source (the same key, or the same
	// server and database).
	RefuseIsSource RefuseReason = iota + 1
	// RefuseNotEmpty: the target holds objects and restoring into it was
	// not confirmed.
	RefuseNotEmpty
)

// TargetRefusedError is a target the migration will not restore into.
type TargetRefusedError struct {
	Reason RefuseReason
	// SameKey is set for RefuseIsSource when the key given for the target
	// is the source's key (rather than another way to the same database).
	SameKey bool
}

func (e *TargetRefusedError) Error() string {
	switch e.Reason {
	case RefuseIsSource:
		if e.SameKey {
			return "the target was refused: its key is the source's key"
		}
		return "the target was refused: it is the source database itself"
	case RefuseNotEmpty:
		return "the target was refused: it is not empty, and restoring into it was not confirmed"
	}
	return "the target was refused"
}

// Is makes errors.Is(err, ErrTargetRefused) true.
func (e *TargetRefusedError) Is(target error) bool { return target == ErrTargetRefused }

// KeyChangedError is a key for Side that is not the one the migration
// started with (only a salted hash of that one is kept).
type KeyChangedError struct{ Side Side }

func (e *KeyChangedError) Error() string {
	return fmt.Sprintf("this is not the key of the %s this migration started with", e.Side)
}

// FileExistsError is a file ppg will not overwrite.
type FileExistsError struct {
	Path string
	// Migration is set when the file is where this migration would write
	// its dump but is not a dump this migration wrote.
	Migration bool
}

func (e *FileExistsError) Error() string {
	if e.Migration {
		return fmt.Sprintf("%s already exists and is not this migration's dump", e.Path)
	}
	return fmt.Sprintf("%s already exists", e.Path)
}

// DiskSpaceError is a folder with too little room for the dump.
type DiskSpaceError struct {
	Dir string
	// Free is the room; Need the least the dump takes: an earlier dump's
	// size when Known, else a lower bound from the data to copy.
	Free, Need int64
	Known      bool
}

func (e *DiskSpaceError) Error() string {
	return fmt.Sprintf("not enough free disk space in %s: %d bytes free, the dump needs at least %d bytes", e.Dir, e.Free, e.Need)
}

// DumpChange says how a recorded dump changed.
type DumpChange int

// Ways a dump can change.
const (
	DumpMissing DumpChange = iota + 1
	DumpUnreadable
	DumpModified
	ManifestChanged
)

// DumpChangedError is a recorded dump that can no longer be used: it must
// be dumped again.
type DumpChangedError struct {
	Path string
	How  DumpChange
	Err  error // the read error, for DumpUnreadable and ManifestChanged
}

func (e *DumpChangedError) Error() string {
	switch e.How {
	case DumpMissing:
		return fmt.Sprintf("the dump file %s is missing", e.Path)
	case DumpUnreadable:
		return fmt.Sprintf("the dump file %s cannot be read (%v)", e.Path, e.Err)
	case DumpModified:
		return fmt.Sprintf("the dump file %s changed since it was written (checksum differs)", e.Path)
	case ManifestChanged:
		return fmt.Sprintf("the manifest %s cannot be used: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("the dump file %s changed", e.Path)
}

func (e *DumpChangedError) Unwrap() error { return e.Err }

// ResetError is an interrupted schema restore into a target that held
// objects before: ppg cannot tell its objects from the user's, so it
// cannot undo it.
type ResetError struct{}

func (e *ResetError) Error() string {
	return "the schema restore into the non-empty target was interrupted, and ppg cannot tell its objects from the ones that were there"
}

// ReadDumpError is a dump file to restore that cannot be read.
type ReadDumpError struct {
	Path string
	Err  error
}

func (e *ReadDumpError) Error() string { return fmt.Sprintf("read %s: %v", e.Path, e.Err) }
func (e *ReadDumpError) Unwrap() error { return e.Err }

// DiskFullError is a dump that ran out of disk space. The partial file is
// removed; the dump starts again once there is room.
type DiskFullError struct {
	Dir   string
	Cause string // the tool's message
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("the disk of %s is full: %s", e.Dir, e.Cause)
}

// diskFull returns a *DiskFullError when a tool failed writing its file.
func diskFull(err error, dir string) *DiskFullError {
	var ee *pgtools.ExitError
	if !errors.As(err, &ee) {
		return nil
	}
	for _, l := range ee.StderrTail {
		if strings.Contains(l, "No space left on device") || strings.Contains(l, "Disk quota exceeded") {
			return &DiskFullError{Dir: dir, Cause: strings.TrimSpace(l)}
		}
	}
	return nil
}

// StalledError is a tool whose connection moved nothing for After: the
// link hangs without closing. The tool is stopped; the step resumes.
type StalledError struct {
	Tool  string
	After time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("the connection stalled: %s moved no data for %s", e.Tool, e.After.Round(time.Second))
}
