package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

func TestCompare(t *testing.T) {
	m := &Manifest{
		Tables: []TableCount{
			{Table: Table{Schema: "public", Name: "a"}, Rows: 10},
			{Table: Table{Schema: "public", Name: "b"}, Rows: 0},
			{Table: Table{Schema: "app", Name: "c d"}, Rows: 5},
		},
		Sequences: map[string]int64{"public.a_id_seq": 10},
		Objects:   ObjectCounts{"tables": 3, "indexes": 2, "extensions": 1},
	}
	objs := ObjectCounts{"tables": 3, "indexes": 2, "extensions": 2}
	for _, k := range pgdb.ObjectKinds() {
		if _, ok := m.Objects[k]; !ok {
			m.Objects[k], objs[k] = 0, 0
		}
	}
	rep := compare(m, map[string]int64{"public.a": 10, "public.b": 0, "app.c d": 5}, map[string]int64{"public.a_id_seq": 10}, objs, false)
	if len(rep.Mismatches) != 0 {
		t.Fatalf("mismatches on equal data (the GA database may have more extensions): %v", rep.Mismatches)
	}

	objs["indexes"] = 1
	rep = compare(m, map[string]int64{"public.a": 9, "public.b": 0}, map[string]int64{"public.a_id_seq": 3}, objs, false)
	var got []string
	for _, mm := range rep.Mismatches {
		got = append(got, mm.String())
	}
	want := []string{
		"table public.a: 10 on the source, 9 on the target",
		"table app.c d: 5 on the source, -1 on the target",
		"sequence public.a_id_seq: 10 on the source, 3 on the target",
		"indexes: 2 on the source, 1 on the target",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("mismatches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A target that held objects before may have more of them.
	more := ObjectCounts{}
	for k, v := range objs {
		more[k] = v + 1
	}
	more["indexes"] = 3
	if rep := compare(m, map[string]int64{"public.a": 10, "public.b": 0, "app.c d": 5}, map[string]int64{"public.a_id_seq": 10}, more, true); len(rep.Mismatches) != 0 {
		t.Fatalf("non-empty target with more objects: %v", rep.Mismatches)
	}
	if rep := compare(m, map[string]int64{"public.a": 10, "public.b": 0, "app.c d": 5}, map[string]int64{"public.a_id_seq": 10}, more, false); len(rep.Mismatches) == 0 {
		t.Fatal("an empty target with more objects than the dump verified")
	}
	err := &VerifyError{Mismatches: rep.Mismatches}
	if !strings.Contains(err.Error(), "differs from the dump in 4 places") {
		t.Fatalf("VerifyError = %q", err)
	}
	if se := newStepError(StepVerify, err); se.Resumable || !se.NeedsRestart {
		t.Fatalf("a verification mismatch is resumable=%v, needs restart=%v; want a restart only", se.Resumable, se.NeedsRestart)
	}
}

func TestHarmlessRules(t *testing.T) {
	tests := []struct {
		line            pgtools.Line
		restore, target int
		harmless        bool
	}{
		{pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  unrecognized configuration parameter "transaction_timeout"`, Command: "SET transaction_timeout = 0;"}, 17, 16, true},
		{pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  unrecognized configuration parameter "transaction_timeout"`, Command: "SET transaction_timeout = 0;"}, 17, 17, false},
		{pgtools.Line{Kind: pgtools.KindError, Message: "could not execute query: ERROR:  must be owner of extension plpgsql", Command: "COMMENT ON EXTENSION plpgsql IS 'x';"}, 17, 17, true},
		{pgtools.Line{Kind: pgtools.KindError, Message: "could not execute query: ERROR:  must be owner of extension pgcrypto", Command: "ALTER EXTENSION pgcrypto UPDATE;"}, 17, 17, false},
		{pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  schema "public" already exists`}, 17, 17, true},
		{pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  relation "orders" already exists`}, 17, 17, false},
		{pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  role "ea_owner" does not exist`}, 17, 17, false},
	}
	resumed := pgtools.Line{Kind: pgtools.KindError, Message: `could not execute query: ERROR:  policy "p" for table "t" already exists`}
	if harmless(resumed, harmlessContext{restoreMajor: 17, targetMajor: 17}) != "" {
		t.Error("an object that already exists is harmless in a first run")
	}
	if harmless(resumed, harmlessContext{restoreMajor: 17, targetMajor: 17, ours: true}) != HarmlessResumed {
		t.Error("an object the interrupted run made is not harmless on resume")
	}
	for _, tt := range tests {
		if got := harmless(tt.line, harmlessContext{restoreMajor: tt.restore, targetMajor: tt.target}) != ""; got != tt.harmless {
			t.Errorf("harmless(%q, %d→%d) = %v, want %v", tt.line.Message, tt.restore, tt.target, got, tt.harmless)
		}
	}
}

func TestDumpProgressWeighsBySize(t *testing.T) {
	p := newDumpProgress([]Table{{Schema: "public", Name: "big", Bytes: 900}, {Schema: "public", Name: "small", Bytes: 100}})
	started := func(name string) pgtools.Line {
		return pgtools.Line{Kind: pgtools.KindTableDataStarted, Schema: "public", Name: name}
	}
	if !p.line(started("small")) {
		t.Fatal("a table start did not move the progress")
	}
	if i := p.info(); i.Current != "public.small" || i.TablesDone != 0 || i.BytesTotal != 1000 {
		t.Fatalf("after start: %+v", i)
	}
	p.line(started("big"))
	if i := p.info(); i.TablesDone != 1 || i.BytesDone != 100 || i.Current != "public.big" {
		t.Fatalf("after second start: %+v", i)
	}
	p.line(pgtools.Line{Kind: pgtools.KindTableDataFinished, Schema: "public", Name: "big"})
	if i := p.info(); i.TablesDone != 2 || i.BytesDone != 1000 || i.Current != "" {
		t.Fatalf("after finish: %+v", i)
	}
	if p.line(pgtools.Line{Kind: pgtools.KindOther}) {
		t.Fatal("an unrelated line moved the progress")
	}
}

// countsOnly is a fake of the verify step's role alone: the target's
// counts, batch by batch.
type countsOnly struct {
	rows    map[string]int64
	batches []int
}

func (c *countsOnly) CountRows(_ context.Context, tables []Table) (map[string]int64, error) {
	c.batches = append(c.batches, len(tables))
	out := map[string]int64{}
	for _, t := range tables {
		if n, ok := c.rows[t.QualifiedName()]; ok {
			out[t.QualifiedName()] = n
		}
	}
	return out, nil
}
func (c *countsOnly) Sequences(context.Context) (map[string]int64, error) { return nil, nil }
func (c *countsOnly) Objects(context.Context) (ObjectCounts, error)       { return ObjectCounts{}, nil }
func (c *countsOnly) LargeObjects(context.Context) ([]uint32, error)      { return []uint32{7}, nil }
func (c *countsOnly) ContentHashes(context.Context, []Table) (map[string]string, string, error) {
	return nil, "", errors.New("not asked without content hashes in the manifest")
}

func TestCompareTargetCountsInBatches(t *testing.T) {
	m := &Manifest{Objects: ObjectCounts{}, LargeObjects: []OIDRange{{First: 7, Last: 8}}}
	rows := map[string]int64{}
	var tables []Table
	for i := range pgdb.CountBatch + 1 {
		tb := Table{Schema: "public", Name: fmt.Sprintf("t%03d", i)}
		tables = append(tables, tb)
		m.Tables = append(m.Tables, TableCount{Table: tb, Rows: 2})
		rows[tb.QualifiedName()] = 2
	}
	rows["public.t000"] = 1 // one row lost
	delete(rows, "public.t001")
	db := &countsOnly{rows: rows}
	e := &Engine{cfg: Config{Now: time.Now}, state: NewState(time.Now())}
	rep, err := e.compareTarget(t.Context(), db, m, tables)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(db.batches, []int{pgdb.CountBatch, 1}) {
		t.Errorf("batches %v, want %d then 1", db.batches, pgdb.CountBatch)
	}
	var names []string
	for _, mm := range rep.Mismatches {
		names = append(names, string(mm.Kind)+" "+mm.Name)
	}
	if len(rep.Mismatches) != 3 || rep.LargeObjects.Source != 2 || rep.LargeObjects.Target != 1 {
		t.Errorf("mismatches %q, large objects %+v; want t000, t001 and a large object", names, rep.LargeObjects)
	}
}

// A table counted in the dump file has no content hash: it is named as
// counted only, never as a content mismatch, and the others are compared.
func TestCompareContentCountedOnly(t *testing.T) {
	m := &Manifest{
		Tables: []TableCount{
			{Table: Table{Schema: "public", Name: "a"}, Rows: 10},
			{Table: Table{Schema: "public", Name: "b"}, Rows: 3},
		},
		Content:  map[string]string{"public.a": "h1"},
		FromDump: []string{"public.b"},
	}
	rep := &VerifyReport{}
	compareContent(rep, m, map[string]string{"public.a": "h1", "public.b": "whatever"}, "")
	if len(rep.Mismatches) != 0 || !slices.Equal(rep.CountedOnly, []string{"public.b"}) {
		t.Errorf("mismatches %v, counted only %v; want none and public.b", rep.Mismatches, rep.CountedOnly)
	}
	rep = &VerifyReport{}
	compareContent(rep, m, map[string]string{"public.a": "h2"}, "")
	if len(rep.Mismatches) != 1 || rep.Mismatches[0].Name != "public.a" {
		t.Errorf("a changed hash of public.a gave %v", rep.Mismatches)
	}
}
