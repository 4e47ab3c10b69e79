package pgtools

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func readScript(t *testing.T, name string) *Script {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ParseScript(%s): %v", name, err)
	}
	return s
}

func TestParseScriptPreData(t *testing.T) {
	s := readScript(t, "script-pre-data.sql")
	if len(s.Preamble) != 11 || s.Preamble[0] != "SET statement_timeout = 0;" || s.Preamble[10] != "SET row_security = off;" {
		t.Errorf("preamble = %q", s.Preamble)
	}
	if len(s.Entries) != 12 {
		t.Fatalf("%d entries, want 12", len(s.Entries))
	}
	first := s.Entries[0]
	if first.ID != 6 || first.SQL != "CREATE SCHEMA s1;" || len(first.Deps) != 0 || len(first.Settings) != 0 {
		t.Errorf("first entry = %+v", first)
	}
	fn := s.Entries[1]
	if fn.ID != 226 || !slices.Equal(fn.Deps, []int{6}) || !strings.HasPrefix(fn.SQL, "CREATE FUNCTION s1.f() RETURNS trigger") || !strings.HasSuffix(fn.SQL, "end $$;") {
		t.Errorf("function entry = %+v", fn)
	}
	// The settings written before the first table belong to it, not to
	// the function before it.
	if strings.Contains(fn.SQL, "SET default") || len(fn.Settings) != 0 {
		t.Errorf("function entry holds the next entry's settings: %+v", fn)
	}
	table := s.Entries[2]
	want := []string{"SET default_table_access_method = heap;"}
	if table.ID != 218 || !slices.Equal(table.Settings, want) || !strings.HasPrefix(table.SQL, "CREATE TABLE s1.a (") {
		t.Errorf("table entry = %+v", table)
	}
	for _, en := range s.Entries {
		if strings.Contains(en.SQL, `\restrict`) || strings.Contains(en.SQL, `\unrestrict`) || strings.Contains(en.SQL, "TOC entry") {
			t.Errorf("entry %d holds script lines: %q", en.ID, en.SQL)
		}
		if en.SQL == "" || !strings.HasSuffix(en.SQL, ";") {
			t.Errorf("entry %d SQL = %q", en.ID, en.SQL)
		}
	}
}

func TestParseScriptPostData(t *testing.T) {
	s := readScript(t, "script-post-data.sql")
	var ids []int
	for _, en := range s.Entries {
		ids = append(ids, en.ID)
	}
	if len(ids) != 12 || ids[0] != 3152 {
		t.Fatalf("ids = %v", ids)
	}
	byID := map[int]ScriptEntry{}
	for _, en := range s.Entries {
		byID[en.ID] = en
	}
	attach := byID[3160]
	if !slices.Equal(attach.Deps, []int{3157, 3156, 221, 220}) || attach.SQL != "ALTER INDEX s1.p_id_idx ATTACH PARTITION s1.p1_id_idx;" {
		t.Errorf("index attach = %+v", attach)
	}
	fk := byID[3161]
	if !slices.Equal(fk.Deps, []int{3152, 219, 218}) || !strings.Contains(fk.SQL, "FOREIGN KEY (a_id) REFERENCES s1.a(id);") {
		t.Errorf("fk = %+v", fk)
	}
	// --no-tablespaces: no entry sets default_tablespace.
	for _, en := range s.Entries {
		if len(en.Settings) != 0 {
			t.Errorf("entry %d settings = %q", en.ID, en.Settings)
		}
	}
	last := s.Entries[len(s.Entries)-1]
	if last.SQL != "REFRESH MATERIALIZED VIEW s1.mv;" {
		t.Errorf("last entry SQL = %q (the script's end must not be in it)", last.SQL)
	}
}

// Scripts of pg_restore 15 have the same shape.
func TestParseScriptOlderTools(t *testing.T) {
	s := readScript(t, "script-15-pre-data.sql")
	if len(s.Entries) != 27 || len(s.Preamble) != 10 {
		t.Errorf("%d entries, preamble %q", len(s.Entries), s.Preamble)
	}
}

// Settings written between entries carry to the entries after them, and a
// later value of the same variable replaces the earlier one.
func TestParseScriptSettings(t *testing.T) {
	in := "SET a = 1;\n\nSET default_tablespace = '';\n\n" + entry(1, "CREATE TABLE t1 ();") +
		"SET default_table_access_method = heap;\n\n" + entry(2, "CREATE TABLE t2 ();") +
		"SET default_tablespace = 'x';\n\n" + entry(3, "CREATE TABLE t3 ();")
	s, err := ParseScript(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"SET default_tablespace = '';"},
		{"SET default_tablespace = '';", "SET default_table_access_method = heap;"},
		{"SET default_table_access_method = heap;", "SET default_tablespace = 'x';"},
	}
	if len(s.Entries) != 3 || !slices.Equal(s.Preamble, []string{"SET a = 1;"}) {
		t.Fatalf("script = %+v", s)
	}
	for i, en := range s.Entries {
		if !slices.Equal(en.Settings, want[i]) || en.SQL != fmt.Sprintf("CREATE TABLE t%d ();", i+1) {
			t.Errorf("entry %d = %+v, want settings %q", i+1, en, want[i])
		}
	}
}

func entry(id int, sql string) string {
	return fmt.Sprintf("--\n-- TOC entry %d (class 1259 OID 1)\n-- Name: t%d; Type: TABLE; Schema: -; Owner: -\n--\n\n%s\n\n\n", id, id, sql)
}

func TestParseScriptNotAHeader(t *testing.T) {
	in := "SET a = 1;\n\n--\n-- TOC entry 5 (class 1 OID 2)\n-- Name: f; Type: FUNCTION; Schema: s; Owner: -\n--\n\n" +
		"CREATE FUNCTION s.f() RETURNS int AS $$\n--\n--\nSELECT 1\n--\n-- just a comment\n--\n$$ LANGUAGE sql;\n"
	s, err := ParseScript(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != 1 || !strings.Contains(s.Entries[0].SQL, "-- just a comment") || !strings.HasSuffix(s.Entries[0].SQL, "$$ LANGUAGE sql;") {
		t.Errorf("entries = %+v", s.Entries)
	}
}

func TestParseScriptRefusesPsqlCommands(t *testing.T) {
	in := "--\n-- TOC entry 5 (class 1 OID 2)\n-- Name: t; Type: TABLE; Schema: s; Owner: -\n--\n\n\\connect other\nCREATE TABLE s.t ();\n"
	if _, err := ParseScript(strings.NewReader(in)); !errors.Is(err, ErrScript) {
		t.Errorf("err = %v, want ErrScript", err)
	}
	if _, err := ParseScript(strings.NewReader("")); !errors.Is(err, ErrScript) {
		t.Errorf("empty: err = %v, want ErrScript", err)
	}
}

// A data section's script: each table's rows follow its COPY up to "\.",
// and are data whatever they look like (a row may start with "--" or a
// backslash, or look like a TOC header).
func TestParseScriptData(t *testing.T) {
	script := "SET statement_timeout = 0;\nSET row_security = off;\n\n" +
		"--\n-- TOC entry 3400 (class 0 OID 16390)\n-- Dependencies: 215\n-- Data for Name: t1; Type: TABLE DATA; Schema: app1; Owner: -\n--\n\n" +
		"COPY app1.t1 (id, note) FROM stdin;\n1\t-- not a comment\n2\t\\\\N\n--\n-- TOC entry 9 (class 0 OID 1)\n--\n3\t\\N\n\\.\n\n\n" +
		"--\n-- TOC entry 3401 (class 0 OID 0)\n-- Dependencies: 216\n-- Name: t1_id_seq; Type: SEQUENCE SET; Schema: app1; Owner: -\n--\n\n" +
		"SELECT pg_catalog.setval('app1.t1_id_seq', 3, true);\n\n\n" +
		"--\n-- TOC entry 3402 (class 0 OID 16400)\n-- Dependencies: 217\n-- Data for Name: empty; Type: TABLE DATA; Schema: app1; Owner: -\n--\n\n" +
		"COPY app1.empty (id) FROM stdin;\n\\.\n\n\n"
	s, err := ParseScript(strings.NewReader(script))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != 3 {
		t.Fatalf("%d entries, want 3: %+v", len(s.Entries), s.Entries)
	}
	t1, seq, empty := s.Entries[0], s.Entries[1], s.Entries[2]
	wantRows := "1\t-- not a comment\n2\t\\\\N\n--\n-- TOC entry 9 (class 0 OID 1)\n--\n3\t\\N\n"
	if t1.ID != 3400 || t1.SQL != "COPY app1.t1 (id, note) FROM stdin;" || string(t1.Copy) != wantRows {
		t.Errorf("table entry = %d %q, rows %q; want rows %q", t1.ID, t1.SQL, t1.Copy, wantRows)
	}
	if seq.ID != 3401 || seq.Copy != nil || !strings.HasPrefix(seq.SQL, "SELECT pg_catalog.setval") {
		t.Errorf("sequence entry = %+v", seq)
	}
	if empty.ID != 3402 || empty.Copy == nil || len(empty.Copy) != 0 {
		t.Errorf("empty table entry = %d, rows %v (want non-nil and empty)", empty.ID, empty.Copy)
	}
	if _, err := ParseScript(strings.NewReader(script[:strings.Index(script, "\\.")])); !errors.Is(err, ErrScript) {
		t.Errorf("rows cut before \\.: err %v, want ErrScript", err)
	}
}

func FuzzParseScript(f *testing.F) {
	for _, name := range []string{"script-pre-data.sql", "script-post-data.sql", "script-15-pre-data.sql"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("SET a = 1;\n--\n-- TOC entry 5 (class 0 OID 1)\n-- Data for Name: t; Type: TABLE DATA; Schema: s; Owner: -\n--\n\nCOPY s.t (a) FROM stdin;\n1\n\\.\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseScript(strings.NewReader(in))
		if err != nil {
			if s != nil {
				t.Fatal("a script with an error")
			}
			return
		}
		for _, en := range s.Entries {
			if en.Copy != nil && !copyFromStdin.MatchString(strings.TrimSpace(en.SQL[strings.LastIndex(en.SQL, "\n")+1:])) {
				t.Fatalf("entry %d has rows but its SQL is %q", en.ID, en.SQL)
			}
			if strings.HasPrefix(en.SQL, `\`) || strings.Contains(en.SQL, "\n\\") {
				t.Fatalf("entry %d holds a psql command: %q", en.ID, en.SQL)
			}
			if len(en.Copy) > 0 && en.Copy[len(en.Copy)-1] != '\n' {
				t.Fatalf("entry %d's rows do not end in a newline", en.ID)
			}
		}
	})
}

// A limit stops the reading with ErrScriptTooLarge once the script is
// longer; a script within it reads as without one.
func TestParseScriptLimit(t *testing.T) {
	script := "SET statement_timeout = 0;\n\n" +
		"--\n-- TOC entry 3361 (class 0 OID 0)\n-- Dependencies: 3360\n-- Data for Name: 16484; Type: BLOBS; Schema: -; Owner: -\n--\n\n" +
		"BEGIN;\n\nSELECT pg_catalog.lo_open('16484', 131072);\nSELECT pg_catalog.lowrite(0, '\\x68656c6c6f');\nSELECT pg_catalog.lo_close(0);\n\nCOMMIT;\n"
	s, err := ParseScriptLimit(strings.NewReader(script), int64(len(script)))
	if err != nil || len(s.Entries) != 1 || s.Entries[0].ID != 3361 || !strings.HasPrefix(s.Entries[0].SQL, "BEGIN;") || !strings.HasSuffix(s.Entries[0].SQL, "COMMIT;") {
		t.Fatalf("within the limit: %+v, %v", s, err)
	}
	if _, err := ParseScriptLimit(strings.NewReader(script), int64(len(script)-1)); !errors.Is(err, ErrScriptTooLarge) {
		t.Errorf("one byte over the limit: err = %v, want ErrScriptTooLarge", err)
	}
}
