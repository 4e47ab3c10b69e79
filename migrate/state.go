package migrate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// StateFileName is the name of the state file in the working directory.
const StateFileName = "ppg-migration.json"

// stateVersion is the format version this build reads and writes.
const stateVersion = 1

// Status is where a step stands.
type Status string

// Step statuses.
const (
	Pending Status = "pending"
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
)

// StepState is one step's record.
type StepState struct {
	Status     Status    `json:"status"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Error is the failure's text, redacted; empty unless Failed.
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// Database records what was learned about one side. It holds no secret: the
// key is kept only as a salted hash, to notice a different key on resume.
type Database struct {
	// KeyHash is hex(sha256(salt || key)).
	KeyHash string `json:"key_hash"`
	// Kind is "api-key" (through the gateway) or "direct".
	Kind string `json:"kind"`
	// Display names the database without secrets (a key fingerprint or a
	// redacted URL).
	Display       string `json:"display"`
	ServerVersion int    `json:"server_version"`
	// Size is pg_database_size of the database, in bytes.
	Size          int64 `json:"size_bytes"`
	Tables        int   `json:"tables"`
	EstimatedRows int64 `json:"estimated_rows"`
	// DataBytes is the size of the tables' data (pg_table_size: heap and
	// TOAST, no indexes): what the dump copies.
	DataBytes int64 `json:"data_bytes,omitempty"`
	// Empty records whether the target had no user objects when first seen.
	Empty bool `json:"empty,omitempty"`
	// ConfirmedNonEmpty records the user's consent to restore into a target
	// that was not empty.
	ConfirmedNonEmpty bool `json:"confirmed_non_empty,omitempty"`
	// SystemID and DatabaseOID identify the server and database, to refuse
	// a target that is the source.
	SystemID    string `json:"system_id,omitempty"`
	DatabaseOID uint32 `json:"database_oid,omitempty"`
}

// DumpInfo describes the archive the dump step wrote.
type DumpInfo struct {
	Path       string    `json:"path"`
	Size       int64     `json:"size_bytes"`
	SHA256     string    `json:"sha256"`
	FinishedAt time.Time `json:"finished_at"`
	// SnapshotAt is when the dump's snapshot was taken (read just before
	// it): the target holds the source as of this moment, the cutover's.
	// Zero in state files of earlier versions.
	SnapshotAt time.Time `json:"snapshot_at,omitzero"`
	// ToolVersion is pg_dump's version, e.g. "17.11".
	ToolVersion string `json:"pg_dump_version"`
	// Snapshot is true when the row counts were taken in pg_dump's snapshot.
	Snapshot bool `json:"same_snapshot"`
	// ManifestPath is the file holding the source's counts (see Manifest).
	ManifestPath   string `json:"manifest_path"`
	ManifestSHA256 string `json:"manifest_sha256"`
	// Writes is the source's count of rows written when the snapshot was
	// taken, to tell afterwards whether the source changed meanwhile.
	Writes int64 `json:"source_writes_at_snapshot"`
	// TOCEntries is the number of entries of the archive's table of contents.
	TOCEntries int `json:"toc_entries,omitempty"`
	// DataEntries is the number of TABLE DATA entries.
	DataEntries int `json:"table_data_entries,omitempty"`
	// Tables and Rows are the manifest's table count and total rows.
	Tables int   `json:"tables,omitempty"`
	Rows   int64 `json:"rows,omitempty"`
	// WritesDuring counts rows written to the source during the dump,
	// which the user chose to leave out (kept this dump).
	WritesDuring int64 `json:"writes_during_dump,omitempty"`
	// KeptChanges lists the tables written to after the dump that the user
	// chose to leave out (kept the migration as of the dump).
	KeptChanges []string `json:"kept_changes,omitempty"`
	// WritesAtEnd are the tables' write counters when the user chose to
	// keep the migration as it was despite writes after the snapshot (in
	// state files of earlier versions: when the dump ended). Later checks
	// look for writes after them; without them, after the snapshot's
	// (Manifest.Writes).
	WritesAtEnd map[string]int64 `json:"table_writes_at_end,omitempty"`
}

// RestoreInfo records the restore's progress inside the step.
type RestoreInfo struct {
	// StartedSections and Sections list the sections begun and done, among
	// "pre-data", "data", "post-data".
	StartedSections []string `json:"sections_started,omitempty"`
	Sections        []string `json:"sections_done,omitempty"`
	// Loaded lists the TOC ids of TABLE DATA entries known loaded.
	Loaded []int `json:"loaded_table_data,omitempty"`
	// Warnings are errors pg_restore reported that are known to be harmless.
	Warnings []string `json:"warnings,omitempty"`
	Jobs     int      `json:"jobs,omitempty"`
	// AnalyzeSeconds is how long ANALYZE took.
	AnalyzeSeconds float64 `json:"analyze_seconds,omitempty"`
	// SkippedFile holds the statements of the skipped objects, once
	// written.
	SkippedFile string `json:"skipped_file,omitempty"`
}

// State is the migration's state file: which steps are done and the facts
// that must survive a restart. It never holds a key, a password or a URL with
// credentials.
type State struct {
	Version   int                 `json:"version"`
	ID        string              `json:"id"`
	CreatedAt time.Time           `json:"created_at"`
	UpdatedAt time.Time           `json:"updated_at"`
	Salt      string              `json:"salt"`
	Steps     map[Step]*StepState `json:"steps"`
	Source    *Database           `json:"source,omitempty"`
	Target    *Database           `json:"target,omitempty"`
	Dump      *DumpInfo           `json:"dump,omitempty"`
	Restore   *RestoreInfo        `json:"restore,omitempty"`
	Verified  *VerifySummary      `json:"verified,omitempty"`
	// Plan is the preflight's result: what the restore skips, and the
	// jobs the target's connections allow.
	Plan *Plan `json:"plan,omitempty"`
	// Previous is the target of the migration this one started over
	// from, when that one restored into a target it found empty.
	Previous *PreviousTarget `json:"previous_target,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	// SourceChanges are the choices made about writes to the source after
	// a snapshot (see ChangeDecision), in order.
	SourceChanges []ChangeDecision `json:"source_changes,omitempty"`
	// Flow names the command flow that started the migration, by its dump
	// prefix (Config.DumpPrefix): a folder of one flow is not resumed by
	// the other. Empty in state files of earlier versions (see
	// Engine.checkFlow).
	Flow string `json:"flow,omitempty"`
	// Live is set for a live migration.
	Live *LiveState `json:"live,omitempty"`
}

// PreviousTarget identifies the target of a migration started over.
type PreviousTarget struct {
	SystemID    string `json:"system_id,omitempty"`
	DatabaseOID uint32 `json:"database_oid,omitempty"`
	Display     string `json:"display"`
}

// VerifySummary is the verdict of the verify step.
type VerifySummary struct {
	At         time.Time `json:"at"`
	Tables     int       `json:"tables"`
	Rows       int64     `json:"rows"`
	Sequences  int       `json:"sequences,omitempty"`
	Mismatches []string  `json:"mismatches,omitempty"`
	// DumpedAt is the moment of the dump's snapshot: writes to the source
	// after it are not in the target.
	DumpedAt time.Time `json:"dumped_at,omitzero"`
	// WritesDuring and KeptChanges repeat the dump's (see DumpInfo): what
	// the user chose to leave out.
	WritesDuring int64    `json:"writes_during_dump,omitempty"`
	KeptChanges  []string `json:"kept_changes,omitempty"`
	// SourceChanges repeat the state's: the choices made about writes
	// after a snapshot, asked or configured.
	SourceChanges []ChangeDecision `json:"source_changes,omitempty"`
	// LargeObjects is the number of large objects compared.
	LargeObjects int64 `json:"large_objects,omitempty"`
	// TargetVersion is the target's server_version_num.
	TargetVersion int `json:"target_version,omitempty"`
	// Content is set when the rows' contents were compared too; but not
	// those of the tables CountedOnly names (see VerifyReport).
	Content     bool     `json:"content,omitempty"`
	CountedOnly []string `json:"counted_only,omitempty"`
	// Skipped repeats the restore's (see RestoreSummary): the objects not
	// restored, whose statements wait in SkippedFile, for the end's
	// report.
	Skipped     []SkippedObject `json:"skipped,omitempty"`
	SkippedFile string          `json:"skipped_file,omitempty"`
	// RowSecurityBypassed lists the tables with row security that the
	// target's role bypasses (see CheckRowSecurity), for the end's report.
	RowSecurityBypassed []string `json:"row_security_bypassed,omitempty"`
}

// NewState returns a fresh state with every step pending.
func NewState(now time.Time) *State {
	salt := make([]byte, 16)
	rand.Read(salt)
	id := make([]byte, 6)
	rand.Read(id)
	s := &State{
		Version:   stateVersion,
		ID:        hex.EncodeToString(id),
		CreatedAt: now,
		UpdatedAt: now,
		Salt:      hex.EncodeToString(salt),
		Steps:     map[Step]*StepState{},
	}
	for _, st := range steps {
		s.Steps[st] = &StepState{Status: Pending}
	}
	return s
}

// HashKey returns the salted hash of a key or URL under this state's salt.
func (s *State) HashKey(secret string) string {
	sum := sha256.Sum256([]byte(s.Salt + "\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// Step returns the record of step st, creating a pending one if missing.
func (s *State) Step(st Step) *StepState {
	if s.Steps[st] == nil {
		s.Steps[st] = &StepState{Status: Pending}
	}
	return s.Steps[st]
}

// Next returns the first step that is not done, or StepDone.
func (s *State) Next() Step {
	for _, st := range steps {
		if s.Step(st).Status != Done {
			return st
		}
	}
	if s.Live != nil && s.Step(StepStream).Status != Done {
		return StepStream
	}
	return StepDone
}

// ErrStateVersion is returned for a state file written by another version
// of ppg's format.
var ErrStateVersion = errors.New("unsupported state file version")

// ErrStateDamaged is returned for a state file that cannot be read as one:
// not JSON, or its records contradict each other.
var ErrStateDamaged = errors.New("damaged state file")

// ReadState reads the state file in dir. A missing file is (nil, nil).
func ReadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	s, err := DecodeState(data)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	return s, nil
}

// DecodeState parses a state file's content and checks its invariants.
func DecodeState(data []byte) (*State, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: not a ppg state file (%v)", ErrStateDamaged, err)
	}
	if probe.Version != stateVersion {
		return nil, fmt.Errorf("%w %d (this ppg reads version %d)", ErrStateVersion, probe.Version, stateVersion)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrStateDamaged, err)
	}
	if s.Salt == "" || s.Steps == nil {
		return nil, fmt.Errorf("%w (no salt or steps)", ErrStateDamaged)
	}
	for st, rec := range s.Steps {
		if !knownStep(st) {
			return nil, fmt.Errorf("%w (unknown step %q)", ErrStateDamaged, st)
		}
		if rec == nil {
			return nil, fmt.Errorf("%w (empty record for step %q)", ErrStateDamaged, st)
		}
		switch rec.Status {
		case Pending, Running, Done, Failed:
		default:
			return nil, fmt.Errorf("%w (step %q has status %q)", ErrStateDamaged, st, rec.Status)
		}
	}
	// A step is done only if every step before it is: otherwise the file
	// was edited by hand or is damaged.
	seenNotDone := false
	for _, st := range steps {
		done := s.Step(st).Status == Done
		if done && seenNotDone {
			return nil, fmt.Errorf("%w (step %q is done but an earlier one is not)", ErrStateDamaged, st)
		}
		seenNotDone = seenNotDone || !done
	}
	return &s, nil
}

// Save writes the state to dir atomically: a temporary file in the same
// directory, fsync, rename, fsync of the directory. A crash leaves either the
// old file or the new one, never a torn one.
func (s *State) Save(dir string, now time.Time) error {
	s.UpdatedAt = now
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, StateFileName), append(data, '\n'))
}

// writeFileAtomic replaces path with data, mode 0600, atomically.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after a successful rename this is a no-op
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable; not every OS can open a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: some systems cannot sync a directory
		_ = d.Close()
	}
}
