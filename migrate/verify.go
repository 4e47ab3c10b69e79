package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ppg-cli/ppg/pgdb"
)

// targetCounter is the role of the target's database that the verify
// step reads: what the restore left there, to compare with the manifest.
type targetCounter interface {
	// CountRows returns the exact row count of each table, by qualified
	// name.
	CountRows(ctx context.Context, tables []Table) (map[string]int64, error)
	// Sequences returns each used sequence's last value by qualified name.
	Sequences(ctx context.Context) (map[string]int64, error)
	// Objects counts the user's objects by kind (see pgdb.ObjectKinds).
	Objects(ctx context.Context) (ObjectCounts, error)
	// LargeObjects returns the OIDs of the large objects, in order.
	LargeObjects(ctx context.Context) ([]uint32, error)
	// ContentHashes hashes each table's rows and the large objects, in a
	// transaction of its own.
	ContentHashes(ctx context.Context, tables []Table) (map[string]string, string, error)
}

// Mismatch is one difference the verify step found.
type Mismatch struct {
	Kind MismatchKind `json:"kind"`
	// Name is the table or sequence, for the kinds that name one.
	Name string `json:"name,omitempty"`
	// Object is the kind of objects counted, for MismatchObjects.
	Object string `json:"object,omitempty"`
	// Source and Target are the values on each side; -1 is missing.
	Source int64 `json:"source"`
	Target int64 `json:"target"`
}

func (m Mismatch) String() string {
	if m.Kind == MismatchObjects {
		return fmt.Sprintf("%s: %d on the source, %d on the target", m.Object, m.Source, m.Target)
	}
	if m.Name == "" {
		return fmt.Sprintf("%s: %d on the source, %d on the target", m.Kind, m.Source, m.Target)
	}
	return fmt.Sprintf("%s %s: %d on the source, %d on the target", m.Kind, m.Name, m.Source, m.Target)
}

// VerifyReport is the verify step's full result, sent to the front end in a
// Report event and summarised in the state file.
type VerifyReport struct {
	Tables     []TableCheck  `json:"tables"`
	Sequences  int           `json:"sequences"`
	Objects    []ObjectCheck `json:"objects"`
	Mismatches []Mismatch    `json:"mismatches,omitempty"`
	// LargeObjects compares the number of the source's large objects
	// found on each side.
	LargeObjects ObjectCheck `json:"large_objects"`
	// Content is set when the rows' and large objects' contents were
	// compared too, which took ContentSeconds on the target.
	Content        bool    `json:"content,omitempty"`
	ContentSeconds float64 `json:"content_seconds,omitempty"`
	// CountedOnly names the tables whose rows were counted, not hashed,
	// with Content set: the manifest counted them in the dump file (see
	// Manifest.FromDump).
	CountedOnly []string `json:"counted_only,omitempty"`
	// Snapshot is set when the source's counts were taken in the dump's
	// own snapshot.
	Snapshot bool `json:"same_snapshot"`
}

// TableCheck compares one table's row counts.
type TableCheck struct {
	Name   string `json:"name"`
	Source int64  `json:"source"`
	Target int64  `json:"target"`
}

// ObjectCheck compares the count of one kind of object.
type ObjectCheck struct {
	Kind   string `json:"kind"`
	Source int64  `json:"source"`
	Target int64  `json:"target"`
	// Translated is how many more (or fewer) the target holds by design:
	// objects a translation for an older target changed or left out.
	Translated int64 `json:"translated,omitempty"`
}

// VerifyError is a verification that found differences.
type VerifyError struct{ Mismatches []Mismatch }

func (e *VerifyError) Error() string {
	var names []string
	for _, m := range e.Mismatches {
		names = append(names, m.String())
	}
	return fmt.Sprintf("the target differs from the dump in %d places: %s", len(e.Mismatches), strings.Join(first(names, 10), "; "))
}

func (e *Engine) verify(ctx context.Context) (*Summary, error) {
	dst, err := e.ensureTarget(ctx)
	if err != nil {
		return nil, err
	}
	m, err := e.loadManifest()
	if err != nil {
		return nil, err
	}
	tables := make([]Table, len(m.Tables))
	for i, t := range m.Tables {
		tables[i] = t.Table
	}
	rep, err := e.compareTarget(ctx, dst.DB, m, tables)
	if err != nil {
		return nil, err
	}
	e.send(Event{Kind: Report, Step: StepVerify, Report: rep})
	v := &VerifySummary{At: e.cfg.Now(), Tables: len(rep.Tables), Rows: m.TotalRows(), Sequences: rep.Sequences,
		LargeObjects: rep.LargeObjects.Source, Content: rep.Content, CountedOnly: rep.CountedOnly}
	e.state.Verified = v
	if len(rep.Mismatches) > 0 {
		for _, mm := range rep.Mismatches {
			v.Mismatches = append(v.Mismatches, mm.String())
		}
		return nil, &VerifyError{Mismatches: rep.Mismatches}
	}
	// The target matches the dump; is the dump still the source?
	if err := e.checkSourceChanges(ctx); err != nil {
		return nil, err
	}
	if d := e.state.Dump; d != nil {
		v.DumpedAt, v.WritesDuring, v.KeptChanges = e.snapshotAt(), d.WritesDuring, d.KeptChanges
	}
	v.SourceChanges = e.state.SourceChanges
	if t := e.state.Target; t != nil {
		v.TargetVersion = t.ServerVersion
	}
	if p, r := e.state.Plan, e.state.Restore; p != nil && len(p.Skip) > 0 && r != nil {
		v.Skipped, v.SkippedFile = p.Skip, r.SkippedFile
	}
	v.RowSecurityBypassed = rowSecurityBypassed(e.state.Plan)
	if err := e.writeReport(rep, v); err != nil {
		return nil, err
	}
	return &Summary{Verified: v}, nil
}

// compareTarget reads the target's counts (and with the manifest's
// content hashes, its own) and compares them with the manifest's.
func (e *Engine) compareTarget(ctx context.Context, db targetCounter, m *Manifest, tables []Table) (*VerifyReport, error) {
	have := make(map[string]int64, len(tables))
	for start := 0; start < len(tables) || start == 0; start += pgdb.CountBatch {
		e.send(Event{Kind: Progress, Step: StepVerify, Progress: &ProgressInfo{Phase: PhaseVerify, TablesDone: start, TablesTotal: len(tables)}})
		batch := tables[start:min(start+pgdb.CountBatch, len(tables))]
		counts, err := db.CountRows(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("count rows in the target: %w", err)
		}
		for k, v := range counts {
			have[k] = v
		}
		if len(tables) == 0 {
			break
		}
	}
	seqs, err := db.Sequences(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := db.Objects(ctx)
	if err != nil {
		return nil, err
	}
	los, err := db.LargeObjects(ctx)
	if err != nil {
		return nil, err
	}
	rep := compare(m, have, seqs, objs, e.state.Target != nil && e.state.Target.ConfirmedNonEmpty)
	compareLargeObjects(rep, m, los)
	e.explainTranslated(rep)
	e.forgiveSequences(rep)
	if m.Content != nil {
		start := e.cfg.Now()
		hashes, lo, err := db.ContentHashes(ctx, tables)
		if err != nil {
			return nil, err
		}
		compareContent(rep, m, hashes, lo)
		rep.ContentSeconds = e.cfg.Now().Sub(start).Seconds()
	}
	return rep, nil
}

// compare checks the target's counts against the manifest. A target that
// held objects before (nonEmpty) may have more objects of each kind than the
// dump, never fewer.
func compare(m *Manifest, rows map[string]int64, seqs map[string]int64, objs ObjectCounts, nonEmpty bool) *VerifyReport {
	rep := &VerifyReport{Snapshot: m.Snapshot}
	for _, t := range m.Tables {
		qn := t.QualifiedName()
		got, ok := rows[qn]
		if !ok {
			got = -1
		}
		rep.Tables = append(rep.Tables, TableCheck{Name: qn, Source: t.Rows, Target: got})
		if got != t.Rows {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchTable, Name: qn, Source: t.Rows, Target: got})
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
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchSequence, Name: n, Source: want, Target: got})
		}
	}
	for _, kind := range pgdb.ObjectKinds() {
		want, got := m.Objects[kind], objs[kind]
		rep.Objects = append(rep.Objects, ObjectCheck{Kind: kind, Source: want, Target: got})
		// The GA database may come with extensions of its own.
		if got != want && !((kind == "extensions" || nonEmpty) && got > want) {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchObjects, Object: kind, Source: want, Target: got})
		}
	}
	return rep
}

// compareContent checks the content hashes of the tables and the large
// objects.
func compareContent(rep *VerifyReport, m *Manifest, hashes map[string]string, lo string) {
	rep.Content = true
	for _, t := range m.Tables {
		qn := t.QualifiedName()
		if slices.Contains(m.FromDump, qn) {
			rep.CountedOnly = append(rep.CountedOnly, qn) // counted in the dump file, not hashed
			continue
		}
		if want, got := m.Content[qn], hashes[qn]; want != got {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchTableContent, Name: qn, Source: t.Rows, Target: -1})
		}
	}
	if m.LargeObjectsContent != lo {
		rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchLargeObjectContent, Source: countOIDs(m.LargeObjects), Target: -1})
	}
}

// compareLargeObjects checks that every large object of the source is on
// the target (by OID: they keep their OIDs, which tables refer to).
func compareLargeObjects(rep *VerifyReport, m *Manifest, target []uint32) {
	want := countOIDs(m.LargeObjects)
	got := int64(len(oidsIn(target, m.LargeObjects)))
	rep.LargeObjects = ObjectCheck{Kind: "large objects", Source: want, Target: got}
	if got != want {
		rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: MismatchLargeObjects, Source: want, Target: got})
	}
}

// VerifyFileName is the verification report the verify step writes beside
// the state file (JSON, mode 0600), to attach to a change ticket.
const VerifyFileName = "ppg-verify.json"

// writeReport saves the verification report.
func (e *Engine) writeReport(rep *VerifyReport, v *VerifySummary) error {
	data, err := json.MarshalIndent(struct {
		Verified *VerifySummary `json:"verified"`
		Report   *VerifyReport  `json:"report"`
	}{v, rep}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the verification report: %w", err)
	}
	return writeFileAtomic(e.path(VerifyFileName), append(data, '\n'))
}
