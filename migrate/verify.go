package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Mismatch is one difference the verify step found.
type Mismatch struct {
	// Kind is "table", "sequence" or an object kind ("indexes").
	Kind string
	Name string
	// Source and Target are the values on each side.
	Source, Target int64
}

func (m Mismatch) String() string {
	if m.Name == "" {
		return fmt.Sprintf("%s: %d on the EA database, %d on the GA database", m.Kind, m.Source, m.Target)
	}
	return fmt.Sprintf("%s %s: %d on the EA database, %d on the GA database", m.Kind, m.Name, m.Source, m.Target)
}

// Report is the verify step's full result, sent to the front end in an Info
// event's Verify field and summarised in the state file.
type Report struct {
	Tables     []TableCheck
	Sequences  int
	Objects    []ObjectCheck
	Mismatches []Mismatch
	Snapshot   bool
}

// TableCheck compares one table's row counts.
type TableCheck struct {
	Name           string
	Source, Target int64
}

// ObjectCheck compares the count of one kind of object.
type ObjectCheck struct {
	Kind           string
	Source, Target int64
}

// VerifyError is a verification that found differences.
type VerifyError struct{ Mismatches []Mismatch }

func (e *VerifyError) Error() string {
	var names []string
	for _, m := range e.Mismatches {
		names = append(names, m.String())
	}
	return fmt.Sprintf("the GA database differs from the dump in %d places: %s", len(e.Mismatches), strings.Join(first(names, 10), "; "))
}

// Hint says what to do about a failed verification.
func (e *VerifyError) Hint() string {
	return "nothing was deleted; inspect the GA database, then run ppg migrate-from-ea --restart to migrate again into an empty GA database"
}

func (e *Engine) verify(ctx context.Context) (string, error) {
	dst, err := e.ensureTarget(ctx)
	if err != nil {
		return "", err
	}
	m, err := e.loadManifest()
	if err != nil {
		return "", err
	}
	tables := make([]Table, len(m.Tables))
	for i, t := range m.Tables {
		tables[i] = t.Table
	}
	have, err := countRows(ctx, dst.db, tables)
	if err != nil {
		return "", fmt.Errorf("count rows in the GA database: %w", err)
	}
	seqs, err := readSequences(ctx, dst.db)
	if err != nil {
		return "", err
	}
	objs, err := countObjects(ctx, dst.db)
	if err != nil {
		return "", err
	}
	rep := compare(m, have, seqs, objs, e.state.Target != nil && e.state.Target.ConfirmedNonEmpty)
	e.send(Event{Kind: Info, Step: StepVerify, Verify: rep, Text: "verification report"})
	e.state.Verified = &VerifySummary{At: e.cfg.Now(), Tables: len(rep.Tables), Rows: m.TotalRows()}
	if len(rep.Mismatches) > 0 {
		for _, mm := range rep.Mismatches {
			e.state.Verified.Mismatches = append(e.state.Verified.Mismatches, mm.String())
		}
		return "", &VerifyError{Mismatches: rep.Mismatches}
	}
	return fmt.Sprintf("%d tables and %s rows match, %d sequences match, object counts match",
		len(rep.Tables), formatCount(m.TotalRows()), rep.Sequences), nil
}

// compare checks the target's counts against the manifest. A target that
// held objects before (nonEmpty) may have more objects of each kind than the
// dump, never fewer.
func compare(m *Manifest, rows map[string]int64, seqs map[string]int64, objs ObjectCounts, nonEmpty bool) *Report {
	rep := &Report{Snapshot: m.Snapshot}
	for _, t := range m.Tables {
		qn := t.QualifiedName()
		got, ok := rows[qn]
		if !ok {
			got = -1
		}
		rep.Tables = append(rep.Tables, TableCheck{Name: qn, Source: t.Rows, Target: got})
		if got != t.Rows {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: "table", Name: qn, Source: t.Rows, Target: got})
		}
	}
	names := make([]string, 0, len(m.Sequences))
	for n := range m.Sequences {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := m.Sequences[n]
		got, ok := seqs[n]
		if !ok {
			got = -1
		}
		rep.Sequences++
		if got != want {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: "sequence", Name: n, Source: want, Target: got})
		}
	}
	for _, kind := range ObjectKinds() {
		want, got := m.Objects[kind], objs[kind]
		rep.Objects = append(rep.Objects, ObjectCheck{Kind: kind, Source: want, Target: got})
		// The GA database may come with extensions of its own.
		if got != want && !((kind == "extensions" || nonEmpty) && got > want) {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: kind, Source: want, Target: got})
		}
	}
	return rep
}
