package pgtools

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// ErrNotFound reports that no suitable pg_dump or pg_restore was found.
// *NotFoundError matches it with errors.Is.
var ErrNotFound = errors.New("pg_dump/pg_restore not found")

// RecommendedMajor is the major version of the client tools ppg suggests
// installing: that of Prisma Postgres GA's servers.
const RecommendedMajor = 17

// Toolset is the pair of tools a migration runs.
type Toolset struct {
	// Dump is the pg_dump that dumps the source.
	Dump Tool `json:"pg_dump"`
	// Restore is the pg_restore that restores Dump's archive.
	Restore Tool `json:"pg_restore"`
}

// NotFoundError reports that no tool fits. Its message says what is
// needed and what was found; how to install the tools on GOOS is package
// words' to say.
type NotFoundError struct {
	// Tool is the tool that is missing: "pg_dump" or "pg_restore".
	Tool string
	// MinMajor is the lowest major version that would do.
	MinMajor int
	// Reason says what the tool is needed for: "to dump a PostgreSQL 16
	// server".
	Reason string
	// Found lists the tools that were found (all of them, both names).
	Found []Tool
	// GOOS is the system to install the tools on; Choose sets runtime.GOOS.
	GOOS string
}

// Error says what is missing and what was found.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d or newer not found", e.Tool, e.MinMajor)
	if e.Reason != "" {
		b.WriteString(" (needed " + e.Reason + ")")
	}
	b.WriteString("; found: ")
	if len(e.Found) == 0 {
		b.WriteString("none")
	}
	for i, t := range e.Found {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
		if t.Explicit {
			b.WriteString(" [--pg-bin]")
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Choose picks the tools for migrating a server of major version
// sourceMajor (0: unknown) from found (Finder.Find's result):
//
//   - pg_dump's major version must be at least sourceMajor: pg_dump refuses
//     newer servers ("aborting because of server version mismatch");
//   - pg_restore's major version must be at least pg_dump's, so that it can
//     read the archive that pg_dump writes;
//   - among those, the newest pg_dump, and the pg_restore from its
//     directory (the same installation) if there is one, else the newest;
//   - when versions tie, a real binary beats Debian's pg_wrapper (which
//     picks a version by its own rules when it runs) and earlier search
//     order wins;
//   - if some tools of a name were found in Finder.Dir, only those are
//     considered for that name.
//
// Tools with Err set are skipped. When nothing fits, the error is a
// *NotFoundError.
func Choose(found []Tool, sourceMajor int) (Toolset, error) {
	dumps := candidates(found, "pg_dump", sourceMajor)
	if len(dumps) == 0 {
		reason := ""
		if sourceMajor > 0 {
			reason = fmt.Sprintf("to dump a PostgreSQL %d server", sourceMajor)
		}
		return Toolset{}, &NotFoundError{Tool: "pg_dump", MinMajor: max(sourceMajor, 0), Reason: reason, Found: found, GOOS: runtime.GOOS}
	}
	for _, d := range dumps {
		restores := candidates(found, "pg_restore", d.Version.Major)
		if len(restores) == 0 {
			continue
		}
		for _, r := range restores {
			if sameDir(r, d) {
				return Toolset{Dump: d, Restore: r}, nil
			}
		}
		return Toolset{Dump: d, Restore: restores[0]}, nil
	}
	d := dumps[len(dumps)-1] // the oldest pg_dump asks least of pg_restore
	return Toolset{}, &NotFoundError{
		Tool:     "pg_restore",
		MinMajor: d.Version.Major,
		Reason:   fmt.Sprintf("to read archives written by pg_dump %s", d.Version),
		Found:    found,
		GOOS:     runtime.GOOS,
	}
}

// ChooseRestore picks the pg_restore for restoring an existing archive
// with header h: the newest whose major version is at least that of the
// pg_dump that wrote it (see Choose for ties and Finder.Dir). When none
// fits, the error is a *NotFoundError.
func ChooseRestore(found []Tool, h ArchiveHeader) (Tool, error) {
	restores := candidates(found, "pg_restore", h.DumpedBy.Major)
	if len(restores) == 0 {
		return Tool{}, archiveNotFound(h, found)
	}
	return restores[0], nil
}

// CheckArchive reports whether the pg_restore restore can read an archive
// with header h: its major version must be at least that of the pg_dump
// that wrote the archive. (pg_restore reads archives of older pg_dumps;
// newer archive formats it refuses with "unsupported version (1.16) in
// file header".) The error is a *NotFoundError.
func CheckArchive(restore Tool, h ArchiveHeader) error {
	if restore.Err == nil && restore.Version.Major >= h.DumpedBy.Major {
		return nil
	}
	return archiveNotFound(h, []Tool{restore})
}

func archiveNotFound(h ArchiveHeader, found []Tool) *NotFoundError {
	return &NotFoundError{
		Tool:     "pg_restore",
		MinMajor: h.DumpedBy.Major,
		Reason:   fmt.Sprintf("to read an archive written by pg_dump %s", h.DumpedBy),
		Found:    found,
		GOOS:     runtime.GOOS,
	}
}

// candidates returns the usable tools named name with major version at
// least minMajor, best first (see Choose).
func candidates(found []Tool, name string, minMajor int) []Tool {
	explicit := false
	for _, t := range found {
		if t.Name == name && t.Explicit {
			explicit = true
		}
	}
	var out []Tool
	for _, t := range found {
		if t.Name == name && t.Err == nil && t.Version.Major >= minMajor && (t.Explicit || !explicit) {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].Version.Compare(out[j].Version); c != 0 {
			return c > 0
		}
		return !out[i].wrapper() && out[j].wrapper()
	})
	return out
}

// sameDir reports whether two tools come from the same directory.
func sameDir(a, b Tool) bool {
	return filepath.Dir(a.Path) == filepath.Dir(b.Path) ||
		a.RealPath != "" && b.RealPath != "" && filepath.Dir(a.RealPath) == filepath.Dir(b.RealPath)
}

// DowngradeError reports a restore into a server older than the one that
// was dumped. pg_dump writes SQL for the version it dumped; older servers
// may not understand it, and PostgreSQL does not support it.
type DowngradeError struct {
	// From is the major version of the dumped server.
	From int
	// To is the major version of the target server.
	To int
}

// Error says which versions are involved.
func (e *DowngradeError) Error() string {
	return fmt.Sprintf("cannot restore a dump of PostgreSQL %d into the older PostgreSQL %d", e.From, e.To)
}

// TargetNote is something to expect from restoring an archive into a
// server older than pg_restore: a fact, for the front end to word.
type TargetNote int

// Notes of CheckTarget.
const (
	// NoteTransactionTimeout: pg_restore 17 or newer sets
	// transaction_timeout, which servers before 17 do not know: expect the
	// harmless error `unrecognized configuration parameter
	// "transaction_timeout"` once per connection (with -j N, once for
	// each worker too), counted in "errors ignored on restore".
	NoteTransactionTimeout TargetNote = iota + 1
)

var targetNoteNames = map[TargetNote]string{NoteTransactionTimeout: "transaction_timeout"}

func (n TargetNote) String() string {
	if s, ok := targetNoteNames[n]; ok {
		return s
	}
	return fmt.Sprintf("TargetNote(%d)", int(n))
}

// MarshalText writes the note's name ("transaction_timeout").
func (n TargetNote) MarshalText() ([]byte, error) {
	if _, ok := targetNoteNames[n]; !ok {
		return nil, fmt.Errorf("unknown target note %d", int(n))
	}
	return []byte(n.String()), nil
}

// UnmarshalText reads a note's name.
func (n *TargetNote) UnmarshalText(b []byte) error {
	for note, name := range targetNoteNames {
		if name == string(b) {
			*n = note
			return nil
		}
	}
	return fmt.Errorf("unknown target note %q", b)
}

// CheckTarget checks a restore with pg_restore of version restore of an
// archive with header h into a server of major version target. It fails
// with a *DowngradeError when the target is older than the dumped server
// (except one Translates covers: the restore translates the dump for it),
// and otherwise returns notes on what to expect: pg_restore works against
// servers older than itself, but may provoke harmless errors there (see
// HarmlessError).
func CheckTarget(h ArchiveHeader, restore Version, target int) (notes []TargetNote, err error) {
	if err := CheckDowngrade(h.DumpedFrom.Major, target); err != nil {
		return nil, err
	}
	if restore.Major >= 17 && target > 0 && target < 17 {
		notes = append(notes, NoteTransactionTimeout)
	}
	return notes, nil
}

// HarmlessError reports whether l is an error that pg_restore of major
// version restoreMajor is known to provoke, harmlessly, on a server of
// major version targetMajor. Today that is pg_restore 17 or newer setting
// transaction_timeout (new in PostgreSQL 17) on an older server, once per
// connection. Callers subtract these from pg_restore's "errors ignored"
// count.
func HarmlessError(l Line, restoreMajor, targetMajor int) bool {
	if l.Kind != KindError || restoreMajor < 17 || targetMajor >= 17 {
		return false
	}
	return strings.Contains(l.Message, `unrecognized configuration parameter "transaction_timeout"`) ||
		strings.HasPrefix(l.Command, "SET transaction_timeout")
}
