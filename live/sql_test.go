package live

import (
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
)

// tuple builds tuple data from values: nil is NULL, "\x00u" an unchanged
// TOASTed value, anything else text.
func tuple(values ...any) *pglogrepl.TupleData {
	t := &pglogrepl.TupleData{}
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			t.Columns = append(t.Columns, &pglogrepl.TupleDataColumn{DataType: kindNull})
		case string:
			if v == "\x00u" {
				t.Columns = append(t.Columns, &pglogrepl.TupleDataColumn{DataType: kindUnchanged})
			} else {
				t.Columns = append(t.Columns, &pglogrepl.TupleDataColumn{DataType: kindText, Data: []byte(v)})
			}
		}
	}
	return t
}

func params(ps [][]byte) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p == nil {
			out[i] = "<null>"
		} else {
			out[i] = string(p)
		}
	}
	return out
}

// items is a table with a key, a generated column and an odd name.
func items() *relation {
	return &relation{table: Table{"app", `it"ems`}, identity: identityDefault, cols: []relColumn{
		{name: "id", key: true, typ: 20},
		{name: "Price", typ: 1700},
		{name: "doubled", typ: 1700, skip: true},
		{name: "big", typ: 25},
	}}
}

func TestInsertStatement(t *testing.T) {
	st := insertStatement(items(), tuple("1", "2.50", "5.00", nil))
	want := `INSERT INTO "app"."it""ems" ("id", "Price", "big") OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)`
	if st.sql != want {
		t.Errorf("sql\n got %s\nwant %s", st.sql, want)
	}
	if got := params(st.params); !reflect.DeepEqual(got, []string{"1", "2.50", "<null>"}) {
		t.Errorf("params %q", got)
	}
}

func TestUpdateStatement(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rel        *relation
		old, tuple *pglogrepl.TupleData
		sql        string
		params     []string
		ok         bool
	}{
		{
			name: "key unchanged: TOASTed value and key not written", rel: items(),
			tuple: tuple("7", "3.00", "6.00", "\x00u"),
			sql:   `UPDATE "app"."it""ems" SET "Price" = $1 WHERE "id" = $2`, params: []string{"3.00", "7"}, ok: true,
		},
		{
			name: "key changed: old key identifies the row", rel: items(),
			old: tuple("7", nil, nil, nil), tuple: tuple("8", "3.00", "6.00", "x"),
			sql: `UPDATE "app"."it""ems" SET "id" = $1, "Price" = $2, "big" = $3 WHERE "id" = $4`, params: []string{"8", "3.00", "x", "7"}, ok: true,
		},
		{
			name: "nothing to write", rel: items(),
			tuple: tuple("7", "\x00u", "6.00", "\x00u"),
		},
		{
			name: "full identity: first matching row, NULL and json compared right", rel: logs(),
			old: tuple(nil, "a", `{"k": 1}`), tuple: tuple("1", "b", `{"k": 1}`),
			sql:    `UPDATE "public"."logs" SET "n" = $1, "line" = $2, "doc" = $3 WHERE ctid = (SELECT ctid FROM "public"."logs" WHERE "n" IS NULL AND "line" = $4 AND "doc"::text = $5 LIMIT 1)`,
			params: []string{"1", "b", `{"k": 1}`, "a", `{"k": 1}`}, ok: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ok := updateStatement(tc.rel, tc.old, tc.tuple)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if st.sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", st.sql, tc.sql)
			}
			if got := params(st.params); !reflect.DeepEqual(got, tc.params) {
				t.Errorf("params %q, want %q", got, tc.params)
			}
		})
	}
}

// logs is a table without a key, REPLICA IDENTITY FULL: every column is
// flagged as identity.
func logs() *relation {
	return &relation{table: Table{"public", "logs"}, identity: identityFull, cols: []relColumn{
		{name: "n", key: true, typ: 23}, {name: "line", key: true, typ: 25}, {name: "doc", key: true, typ: 114, asText: true},
	}}
}

func TestDeleteStatement(t *testing.T) {
	st := deleteStatement(items(), tuple("7", nil, nil, nil))
	if want := `DELETE FROM "app"."it""ems" WHERE "id" = $1`; st.sql != want || !reflect.DeepEqual(params(st.params), []string{"7"}) {
		t.Errorf("got %s %q", st.sql, params(st.params))
	}
	st = deleteStatement(logs(), tuple("1", nil, "[]"))
	want := `DELETE FROM "public"."logs" WHERE ctid = (SELECT ctid FROM "public"."logs" WHERE "n" = $1 AND "line" IS NULL AND "doc"::text = $2 LIMIT 1)`
	if st.sql != want || !reflect.DeepEqual(params(st.params), []string{"1", "[]"}) {
		t.Errorf("got %s %q", st.sql, params(st.params))
	}
}

func TestTruncateStatement(t *testing.T) {
	tables := []Table{{"public", "a"}, {"s", "b"}}
	for opt, want := range map[uint8]string{
		0:                                       `TRUNCATE ONLY "public"."a", "s"."b"`,
		pglogrepl.TruncateOptionCascade:         `TRUNCATE ONLY "public"."a", "s"."b" CASCADE`,
		pglogrepl.TruncateOptionRestartIdentity: `TRUNCATE ONLY "public"."a", "s"."b" RESTART IDENTITY`,
		pglogrepl.TruncateOptionCascade | pglogrepl.TruncateOptionRestartIdentity: `TRUNCATE ONLY "public"."a", "s"."b" RESTART IDENTITY CASCADE`,
	} {
		if got := truncateStatement(tables, opt).sql; got != want {
			t.Errorf("option %d: %s, want %s", opt, got, want)
		}
	}
}

func TestPublicationSQL(t *testing.T) {
	for _, tc := range []struct {
		tables []Table
		want   string
	}{
		{nil, `CREATE PUBLICATION "ppg_x" FOR ALL TABLES`},
		{[]Table{}, `CREATE PUBLICATION "ppg_x"`},
		{[]Table{{"public", "a"}, {"Odd", "t b"}}, `CREATE PUBLICATION "ppg_x" FOR TABLE "public"."a", "Odd"."t b"`},
	} {
		if got := publicationSQL("ppg_x", tc.tables); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.tables, got, tc.want)
		}
	}
}

func TestDropSQL(t *testing.T) {
	got := DropSQL(Names{Slot: "ppg_a1", Publication: "ppg_a1"})
	want := "SELECT pg_drop_replication_slot('ppg_a1');\nDROP PUBLICATION IF EXISTS \"ppg_a1\";"
	if got != want {
		t.Errorf("got %q", got)
	}
}

func TestNamesFor(t *testing.T) {
	for id, want := range map[string]string{
		"20261207-Ab_c":          "ppg_20261207ab_c",
		"x'; DROP TABLE y; --":   "ppg_xdroptabley",
		strings.Repeat("a", 100): "ppg_" + strings.Repeat("a", 59),
	} {
		n := NamesFor(id)
		if n.Slot != want || n.Publication != want || n.check() != nil {
			t.Errorf("NamesFor(%q) = %+v (%v), want %s", id, n, n.check(), want)
		}
	}
	if err := (Names{Slot: "Bad-Name", Publication: "ok"}).check(); err == nil {
		t.Error("a slot name with upper case and a dash passed")
	}
}

func TestMatchColumns(t *testing.T) {
	target := []targetColumn{{name: "id", typ: 20}, {name: "Price", typ: 1700}, {name: "doubled", typ: 1700, generated: true}, {name: "big", typ: 25}}
	r := items()
	r.cols[2].skip = false
	if err := matchColumns(r, target); err != nil {
		t.Fatalf("same columns: %v", err)
	}
	if !r.cols[2].skip {
		t.Error("a column generated on the target is not skipped")
	}

	r = items()
	r.cols = append(r.cols, relColumn{name: "note", typ: 25})
	r.cols[1].typ = 701
	err := matchColumns(r, append(target, targetColumn{name: "gone", typ: 23}))
	ddl, ok := err.(*DDLError)
	if !ok || !reflect.DeepEqual(ddl.Missing, []string{"note"}) || !reflect.DeepEqual(ddl.Extra, []string{"gone"}) || !reflect.DeepEqual(ddl.Changed, []string{"Price"}) {
		t.Fatalf("got %#v", err)
	}
	for _, s := range []string{`app.it"ems`, "note", "gone", "Price"} {
		if !strings.Contains(ddl.Error(), s) {
			t.Errorf("%q does not name %s", ddl.Error(), s)
		}
	}

	// User types (an enum) have their own OIDs on each server.
	r = &relation{table: Table{"public", "t"}, cols: []relColumn{{name: "m", typ: 16500}}}
	if err := matchColumns(r, []targetColumn{{name: "m", typ: 17000}}); err != nil {
		t.Errorf("an enum's OID differs between servers: %v", err)
	}
}

func TestAppendCopyRow(t *testing.T) {
	got := string(appendCopyRow(nil, [][]byte{[]byte("a\tb"), nil, []byte(`\x00ff`), []byte("line\nnext\r"), {}}))
	want := "a\\tb\t\\N\t\\\\x00ff\tline\\nnext\\r\t\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRelationSameAs(t *testing.T) {
	if !items().sameAs(items()) {
		t.Error("the same description differs")
	}
	for name, change := range map[string]func(*relation){
		"a column added":   func(r *relation) { r.cols = append(r.cols, relColumn{name: "note", typ: 25}) },
		"a type changed":   func(r *relation) { r.cols[1].typ = 701 },
		"a key changed":    func(r *relation) { r.cols[1].key = true },
		"identity changed": func(r *relation) { r.identity = identityFull },
		"renamed":          func(r *relation) { r.table.Name = "other" },
	} {
		r := items()
		change(r)
		if items().sameAs(r) {
			t.Errorf("%s: still the same", name)
		}
	}
	r := items()
	r.cols[2].skip = false // what the target said is not part of the description
	if !items().sameAs(r) {
		t.Error("the target's generated columns count")
	}
}
