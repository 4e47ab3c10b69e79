package pgtools

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fixture is a captured tool run, as listed in testdata/fixtures.txt.
type fixture struct {
	name    string
	exit    int
	command string
}

func (f fixture) serial() bool { return !strings.Contains(f.command, " -j ") }

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []fixture
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("bad fixtures.txt line %q", line)
		}
		code, err := strconv.Atoi(strings.TrimPrefix(parts[1], "exit "))
		if err != nil {
			t.Fatalf("bad fixtures.txt line %q", line)
		}
		if strings.HasPrefix(parts[0], "pg_") {
			fs = append(fs, fixture{parts[0], code, parts[2]})
		}
	}
	return fs
}

func fixtureLines(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// parseFixture runs a fixture's stderr through a Parser as Run would.
func parseFixture(t testing.TB, f fixture) []Line {
	t.Helper()
	var out []Line
	p := NewParser(f.serial(), func(l Line) { out = append(out, l) })
	ignored := false
	for _, raw := range fixtureLines(t, f.name) {
		p.Feed(raw)
	}
	for _, l := range out {
		ignored = ignored || l.Kind == KindErrorsIgnored
	}
	p.Close(f.exit == 0 || ignored)
	return out
}

func ofKind(lines []Line, k LineKind) []Line {
	var out []Line
	for _, l := range lines {
		if l.Kind == k {
			out = append(out, l)
		}
	}
	return out
}

var ignoredRe = regexp.MustCompile(`errors ignored on restore: (\d+)`)

// TestParserFixtures checks invariants over every captured run.
func TestParserFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	if len(fixtures) < 20 {
		t.Fatalf("only %d fixtures", len(fixtures))
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			input := fixtureLines(t, f.name)
			lines := parseFixture(t, f)

			// Nothing is lost or reordered: the non-blank lines of the
			// emitted Raw texts are the non-blank input lines.
			var got, want []string
			for _, l := range lines {
				if l.Kind == KindContinuation {
					t.Errorf("Parser emitted a continuation: %q", l.Raw)
				}
				if l.Inferred {
					if l.Raw != "" || l.Kind != KindTableDataFinished {
						t.Errorf("inferred line %+v", l)
					}
					continue
				}
				for _, s := range strings.Split(l.Raw, "\n") {
					if strings.TrimSpace(s) != "" {
						got = append(got, s)
					}
				}
			}
			for _, s := range input {
				if strings.TrimSpace(s) != "" {
					want = append(want, s)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("emitted lines differ from input:\n got %d lines\nwant %d lines", len(got), len(want))
			}

			ignored := ofKind(lines, KindErrorsIgnored)
			m := ignoredRe.FindStringSubmatch(strings.Join(input, "\n"))
			switch {
			case m == nil && len(ignored) != 0:
				t.Errorf("errors-ignored lines %+v", ignored)
			case m != nil:
				n, _ := strconv.Atoi(m[1])
				if len(ignored) != 1 || ignored[0].Count != n {
					t.Errorf("errors-ignored lines %+v, want one with %d", ignored, n)
				}
				// Serial runs report each error once; parallel ones not
				// (see pg_restore-17-j2.txt: 6 errors printed, 10 counted).
				if errs := ofKind(lines, KindError); f.serial() && len(errs) != n {
					t.Errorf("%d errors, pg_restore counted %d", len(errs), n)
				}
			}

			started := ofKind(lines, KindTableDataStarted)
			finished := ofKind(lines, KindTableDataFinished)
			// Parallel workers' interleaved writes can garble a
			// "processing data" line beyond recognition.
			if f.serial() && (f.exit == 0 || len(ignored) > 0) {
				if len(finished) != len(started) {
					t.Errorf("%d tables started, %d finished", len(started), len(finished))
				}
			}
			for _, l := range finished {
				if l.Inferred == !f.serial() {
					t.Errorf("finish line %+v in a run with serial=%v", l, f.serial())
				}
			}
			for _, l := range ofKind(lines, KindError) {
				if l.Message == "" {
					t.Errorf("error without message: %+v", l)
				}
			}
		})
	}
}

func fixtureByName(t *testing.T, name string) fixture {
	t.Helper()
	for _, f := range loadFixtures(t) {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no fixture %s", name)
	return fixture{}
}

// tableData returns the qualified names and IDs of a list fixture's TABLE
// DATA entries.
func tableData(t *testing.T, list string) (names []string, ids map[string]int) {
	t.Helper()
	ids = make(map[string]int)
	for _, e := range readTOCFixture(t, list).Entries {
		if e.Desc == "TABLE DATA" {
			names = append(names, e.QualifiedName())
			ids[e.Name] = e.ID
		}
	}
	sort.Strings(names)
	return names, ids
}

func qualifiedNames(lines []Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.QualifiedName())
	}
	sort.Strings(out)
	return out
}

func TestDumpFixtures(t *testing.T) {
	for _, tc := range []struct{ fixture, list string }{
		{"pg_dump-15.txt", "list-15.txt"},
		{"pg_dump-17.txt", "list-17.txt"},
		{"pg_dump-17-dir-j2.txt", "list-17.txt"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := fixtureByName(t, tc.fixture)
			lines := parseFixture(t, f)
			want, ids := tableData(t, tc.list)
			started := ofKind(lines, KindTableDataStarted)
			if got := qualifiedNames(started); !reflect.DeepEqual(got, want) {
				t.Errorf("tables started %q, want %q", got, want)
			}
			weird := started[len(started)-1]
			if f.serial() && (weird.Schema != "public" || weird.Name != `we"ird.name` || weird.Tool != "pg_dump") {
				t.Errorf("last table %+v", weird)
			}
			finished := ofKind(lines, KindTableDataFinished)
			if len(finished) != len(want) {
				t.Fatalf("%d tables finished, want %d", len(finished), len(want))
			}
			for _, l := range finished {
				if l.Failed {
					t.Errorf("failed: %+v", l)
				}
				if !f.serial() && l.EntryID != ids[l.Name] {
					t.Errorf("finished %+v, want entry %d", l, ids[l.Name])
				}
			}
			if n := len(ofKind(lines, KindError)) + len(ofKind(lines, KindWarning)); n != 0 {
				t.Errorf("%d errors and warnings", n)
			}
		})
	}
}

func TestRestoreFixtures(t *testing.T) {
	for _, v := range clientVersions {
		t.Run(v, func(t *testing.T) {
			want, ids := tableData(t, "list-"+v+".txt")
			toc := readTOCFixture(t, "list-"+v+".txt")

			lines := parseFixture(t, fixtureByName(t, "pg_restore-"+v+".txt"))
			if got := qualifiedNames(ofKind(lines, KindTableDataStarted)); !reflect.DeepEqual(got, want) {
				t.Errorf("tables started %q, want %q", got, want)
			}
			if got := qualifiedNames(ofKind(lines, KindTableDataFinished)); !reflect.DeepEqual(got, want) {
				t.Errorf("tables finished %q, want %q", got, want)
			}

			// Every object created matches an entry of the archive.
			for _, l := range ofKind(lines, KindObjectCreated) {
				found := false
				for _, e := range toc.Entries {
					if e.Desc == l.ObjectType && (e.QualifiedName() == l.QualifiedName() || l.Schema == "" && e.Name == l.Name) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no TOC entry for %+v", l)
				}
			}

			errs := ofKind(lines, KindError)
			if len(errs) != 6 {
				t.Fatalf("%d errors, want 6", len(errs))
			}
			first := errs[0]
			wantFirst := Line{
				Raw: `pg_restore: error: could not execute query: ERROR:  role "ea_owner" does not exist` + "\n" +
					"Command was: ALTER TABLE app.audit OWNER TO ea_owner;",
				Kind: KindError, Tool: "pg_restore", ObjectType: "TABLE", Name: "audit",
				EntryID: findEntry(t, toc, "TABLE", "app", "audit").ID,
				Message: `could not execute query: ERROR:  role "ea_owner" does not exist`,
				Command: "ALTER TABLE app.audit OWNER TO ea_owner;",
			}
			if first != wantFirst {
				t.Errorf("first error\n got %+v\nwant %+v", first, wantFirst)
			}
			for _, e := range errs {
				if e.EntryID == 0 || e.Command == "" || !strings.Contains(e.Message, `role "ea_owner" does not exist`) {
					t.Errorf("error %+v", e)
				}
			}
			last := errs[len(errs)-1]
			if last.ObjectType != "DEFAULT ACL" || last.Name != "DEFAULT PRIVILEGES FOR TABLES" {
				t.Errorf("last error %+v", last)
			}

			warnings := ofKind(lines, KindWarning)
			if len(warnings) != 1 || warnings[0].Message != `"wal_level" is insufficient to publish logical changes` ||
				warnings[0].Detail != `HINT:  Set "wal_level" to "logical" before creating subscriptions.` {
				t.Errorf("warnings %+v", warnings)
			}

			// The same restore run again: every CREATE fails, and so does
			// loading the tables that have a primary key.
			lines = parseFixture(t, fixtureByName(t, "pg_restore-"+v+"-errors.txt"))
			if n := len(ofKind(lines, KindError)); n != 50 {
				t.Errorf("%d errors, want 50", n)
			}
			var failed []string
			for _, l := range ofKind(lines, KindTableDataFinished) {
				if l.Failed {
					failed = append(failed, l.QualifiedName())
				}
			}
			sort.Strings(failed)
			if wantFailed := []string{"app.audit", "app.customers", "app.order items", "app.orders", `public.we"ird.name`}; !reflect.DeepEqual(failed, wantFailed) {
				t.Errorf("failed tables %q, want %q", failed, wantFailed)
			}
			for _, l := range ofKind(lines, KindError) {
				if strings.HasPrefix(l.Message, "COPY failed") {
					if l.ObjectType != "TABLE DATA" || l.EntryID != ids[l.Name] || !strings.HasPrefix(l.Detail, "DETAIL:  Key (") {
						t.Errorf("COPY error %+v", l)
					}
				}
				if l.ObjectType == "TYPE" {
					if want := "CREATE TYPE app.status AS ENUM (\n    'new',\n    'paid',\n    'shipped'\n);"; l.Command != want {
						t.Errorf("command %q, want %q", l.Command, want)
					}
				}
			}

			// Parallel: tables' ends are printed, with their entries. (How
			// the workers' lines interleave differs from capture to
			// capture: see TestParserInterleaved for what the parser makes
			// of garbled lines.)
			lines = parseFixture(t, fixtureByName(t, "pg_restore-"+v+"-j2.txt"))
			finished := ofKind(lines, KindTableDataFinished)
			if len(finished) == 0 || len(finished) > len(want) {
				t.Errorf("%d tables finished, want up to %d", len(finished), len(want))
			}
			for _, l := range finished {
				if l.Inferred || l.EntryID != ids[l.Name] || l.Failed {
					t.Errorf("finished %+v", l)
				}
			}

			// By section, into one database.
			pre := parseFixture(t, fixtureByName(t, "pg_restore-"+v+"-pre-data.txt"))
			data := parseFixture(t, fixtureByName(t, "pg_restore-"+v+"-data.txt"))
			post := parseFixture(t, fixtureByName(t, "pg_restore-"+v+"-post-data.txt"))
			if n := len(ofKind(pre, KindTableDataStarted)) + len(ofKind(post, KindTableDataStarted)); n != 0 {
				t.Errorf("%d tables loaded outside the data section", n)
			}
			if got := qualifiedNames(ofKind(data, KindTableDataFinished)); !reflect.DeepEqual(got, want) {
				t.Errorf("data section finished %q, want %q", got, want)
			}
		})
	}
}

func TestRestoreIntoOlderServer(t *testing.T) {
	for name, wantErrors := range map[string]int{"pg_restore-17-into16.txt": 1, "pg_restore-17-into16-j2.txt": 4} {
		lines := parseFixture(t, fixtureByName(t, name))
		errs := ofKind(lines, KindError)
		if len(errs) != wantErrors {
			t.Errorf("%s: %d errors, want %d", name, len(errs), wantErrors)
		}
		for _, e := range errs {
			if !HarmlessError(e, 17, 16) {
				t.Errorf("%s: not harmless: %+v", name, e)
			}
			if HarmlessError(e, 17, 17) || HarmlessError(e, 16, 16) {
				t.Errorf("%s: harmless for the wrong versions: %+v", name, e)
			}
		}
		if name == "pg_restore-17-into16.txt" && errs[0].EntryID != 0 {
			t.Errorf("an error while initializing is about no entry: %+v", errs[0])
		}
	}
}

func TestFailureFixtures(t *testing.T) {
	tests := []struct {
		fixture, message, detail string
	}{
		{"pg_dump-15-server16.txt", "aborting because of server version mismatch",
			"server version: 16.14; pg_dump version: 15.18 (Debian 15.18-0+deb12u1)"},
		{"pg_dump-17-badpassword.txt",
			`connection to server at "127.0.0.1", port PORT failed: FATAL:  password authentication failed for user "postgres"`, ""},
		{"pg_restore-15-too-old.txt", "unsupported version (1.16) in file header", ""},
	}
	for _, tt := range tests {
		lines := parseFixture(t, fixtureByName(t, tt.fixture))
		if len(lines) != 1 || lines[0].Kind != KindError || lines[0].Message != tt.message || lines[0].Detail != tt.detail {
			t.Errorf("%s: %+v", tt.fixture, lines)
		}
	}
}

func TestInterruptedFixtures(t *testing.T) {
	lines := parseFixture(t, fixtureByName(t, "pg_restore-17-interrupted.txt"))
	if n := len(ofKind(lines, KindTableDataStarted)); n != 4 {
		t.Errorf("%d tables started, want 4", n)
	}
	got := qualifiedNames(ofKind(lines, KindTableDataFinished))
	if want := []string{"app.audit", "app.customers", "app.order items"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tables finished %q, want %q (app.orders was being loaded)", got, want)
	}
	// Even had the run counted as complete, the interrupted table would
	// not be finished.
	var out []Line
	p := NewParser(true, func(l Line) { out = append(out, l) })
	for _, raw := range fixtureLines(t, "pg_restore-17-interrupted.txt") {
		p.Feed(raw)
	}
	p.Close(true)
	if n := len(ofKind(out, KindTableDataFinished)); n != 3 {
		t.Errorf("%d tables finished after Close(true), want 3", n)
	}
	lines = parseFixture(t, fixtureByName(t, "pg_dump-17-interrupted.txt"))
	if last := lines[len(lines)-1]; last.Raw != "pg_dump: terminated by user" || last.Kind != KindOther {
		t.Errorf("last line %+v", last)
	}
}

// TestParserInterleaved feeds lines as parallel pg_restore runs printed
// them, with two workers' writes interleaved mid-line.
func TestParserInterleaved(t *testing.T) {
	lines := feedAll(false, true,
		// pg_restore 17 -j 2 (testdata/pg_restore-17-j2.txt, first capture)
		`pg_restore: launching item 2087 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES`,
		`pg_restore: launching item 3371 ACL TABLE customers`,
		`pg_restore: creating ACL "app.TABLE customers"`,
		`pg_restore: creating DEFAULT ACL "app.DEFAULT PRIVILEGES FOR TABLES"`,
		`pg_restore: from TOC entry 3371; 0 0 ACL TABLE customers postgres`,
		`pg_restore: error: pg_restore:could not execute query: ERROR:  role "ea_owner" does not exist`,
		`Command was: GRANT SELECT ON TABLE app.customers TO ea_owner;`,
		``,
		``,
		` from TOC entry 2087; 826 16445 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES postgres`,
		`pg_restore: error: could not execute query: ERROR:  role "ea_owner" does not exist`,
		`Command was: ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA app GRANT SELECT ON TABLES TO ea_owner;`,
		// pg_restore 15 -j 2 (testdata/pg_restore-15-j2.txt)
		`pg_restore:pg_restore: launching item 3449 ACL TABLE customers`,
		` creating DEFAULT ACL "app.DEFAULT PRIVILEGES FOR TABLES"`,
		`pg_restore: pg_restore: from TOC entry 3449; 0 0 ACL TABLE customers postgres`,
		// pg_restore 17 -j 2 (a later capture)
		`pg_restore:pg_restore:  processing data for table "app.orders"`,
		`processing data for table "app.customers"`,
	)
	var got []string
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%s %d %s %s", l.Kind, l.EntryID, l.ObjectType, l.QualifiedName()))
	}
	want := []string{
		"item-started 2087 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES",
		"item-started 3371 ACL TABLE customers",
		"object-created 0 ACL app.TABLE customers",
		"object-created 0 DEFAULT ACL app.DEFAULT PRIVILEGES FOR TABLES",
		"other 3371 ACL TABLE customers",
		"error 3371 ACL TABLE customers",
		"other 2087 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES",
		"error 2087 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES",
		"item-started 3449 ACL TABLE customers",
		"object-created 0 DEFAULT ACL app.DEFAULT PRIVILEGES FOR TABLES",
		"other 3449 ACL TABLE customers",
		"table-data-started 0 TABLE DATA app.orders",
		"table-data-started 0 TABLE DATA app.customers",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		raw  string
		want Line
	}{
		{`pg_dump: dumping contents of table "public.foo"`,
			Line{Kind: KindTableDataStarted, Tool: "pg_dump", ObjectType: "TABLE DATA", Schema: "public", Name: "foo"}},
		{`pg_restore: processing data for table "public.we"ird.name"`,
			Line{Kind: KindTableDataStarted, Tool: "pg_restore", ObjectType: "TABLE DATA", Schema: "public", Name: `we"ird.name`}},
		{`pg_restore: creating FK CONSTRAINT "app.order items order items_order_id_fkey"`,
			Line{Kind: KindObjectCreated, Tool: "pg_restore", ObjectType: "FK CONSTRAINT", Schema: "app", Name: "order items order items_order_id_fkey"}},
		{`pg_restore: creating SCHEMA "my.schema"`,
			Line{Kind: KindObjectCreated, Tool: "pg_restore", ObjectType: "SCHEMA", Name: "my.schema"}},
		{`pg_restore: creating MATERIALIZED VIEW DATA "app.status_counts"`,
			Line{Kind: KindObjectCreated, Tool: "pg_restore", ObjectType: "MATERIALIZED VIEW DATA", Schema: "app", Name: "status_counts"}},
		{`pg_restore: executing SEQUENCE SET audit_id_seq`,
			Line{Kind: KindObjectCreated, Tool: "pg_restore", ObjectType: "SEQUENCE SET", Name: "audit_id_seq"}},
		{`pg_restore: launching item 3352 TABLE DATA order items`,
			Line{Kind: KindItemStarted, Tool: "pg_restore", ObjectType: "TABLE DATA", Name: "order items", EntryID: 3352}},
		{`pg_dump: finished item 3357 TABLE DATA we"ird.name`,
			Line{Kind: KindTableDataFinished, Tool: "pg_dump", ObjectType: "TABLE DATA", Name: `we"ird.name`, EntryID: 3357}},
		{`pg_restore: finished item 3196 FK CONSTRAINT order items order items_order_id_fkey`,
			Line{Kind: KindItemFinished, Tool: "pg_restore", ObjectType: "FK CONSTRAINT", Name: "order items order items_order_id_fkey", EntryID: 3196}},
		{`pg_restore: processing item 3364 ENCODING ENCODING`,
			Line{Kind: KindOther, Tool: "pg_restore", ObjectType: "ENCODING", Name: "ENCODING", EntryID: 3364}},
		{`pg_restore: from TOC entry 2087; 826 16445 DEFAULT ACL DEFAULT PRIVILEGES FOR TABLES postgres`,
			Line{Kind: KindOther, Tool: "pg_restore", ObjectType: "DEFAULT ACL", Name: "DEFAULT PRIVILEGES FOR TABLES", EntryID: 2087}},
		{`pg_restore: error: COPY failed for table "order items": ERROR:  duplicate key`,
			Line{Kind: KindError, Tool: "pg_restore", ObjectType: "TABLE DATA", Name: "order items", Message: `COPY failed for table "order items": ERROR:  duplicate key`}},
		{`pg_restore: warning: errors ignored on restore: 3`,
			Line{Kind: KindErrorsIgnored, Tool: "pg_restore", Count: 3}},
		{`pg_restore: WARNING: errors ignored on restore: 12`,
			Line{Kind: KindErrorsIgnored, Tool: "pg_restore", Count: 12}},
		{`pg_dump: warning: there are circular foreign-key constraints on this table:`,
			Line{Kind: KindWarning, Tool: "pg_dump", Message: "there are circular foreign-key constraints on this table:"}},
		{`pg_restore: fatal: could not open input file`,
			Line{Kind: KindError, Tool: "pg_restore", Message: "could not open input file"}},
		{`pg_dump: detail: Query was: LOCK TABLE x`, Line{Kind: KindContinuation, Tool: "pg_dump"}},
		{`pg_dump: error: query was: LOCK TABLE x`, Line{Kind: KindContinuation, Tool: "pg_dump"}},
		{`Command was: SET transaction_timeout = 0;`, Line{Kind: KindContinuation}},
		{``, Line{Kind: KindContinuation}},
		{`pg_dump: reading extensions`, Line{Kind: KindOther, Tool: "pg_dump"}},
		{`pg_restore: creating`, Line{Kind: KindOther, Tool: "pg_restore"}},
		{`pg_restore: launching item x TABLE foo`, Line{Kind: KindOther, Tool: "pg_restore"}},
	}
	for _, tt := range tests {
		tt.want.Raw = tt.raw
		if got := ParseLine(tt.raw); got != tt.want {
			t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tt.raw, got, tt.want)
		}
	}
}

func feedAll(serial bool, completed bool, raw ...string) []Line {
	var out []Line
	p := NewParser(serial, func(l Line) { out = append(out, l) })
	for _, r := range raw {
		p.Feed(r)
	}
	p.Close(completed)
	return out
}

func TestParserInfersTableEnd(t *testing.T) {
	lines := feedAll(true, false,
		`pg_restore: processing data for table "public.a"`,
		`pg_restore: WARNING:  something`,
		`pg_restore: processing data for table "public.b"`,
		`pg_restore: from TOC entry 5; 0 16400 TABLE DATA b postgres`,
		`pg_restore: error: COPY failed for table "b": ERROR:  boom`,
		`CONTEXT:  COPY b, line 1`,
		`pg_restore: processing data for table "public.c"`,
	)
	var got []string
	for _, l := range lines {
		got = append(got, l.Kind.String()+" "+l.QualifiedName()+" "+strconv.FormatBool(l.Failed))
	}
	want := []string{
		"table-data-started public.a false",
		"warning  false",
		"table-data-finished public.a false",
		"table-data-started public.b false",
		"other b false",
		"error b false",
		"table-data-finished public.b true",
		"table-data-started public.c false",
		// Not completed: c is not reported finished.
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Completed: the last table is finished at Close.
	lines = feedAll(true, true, `pg_dump: dumping contents of table "public.c"`)
	if len(lines) != 2 || lines[1].Kind != KindTableDataFinished || !lines[1].Inferred || lines[1].Name != "c" {
		t.Errorf("lines %+v", lines)
	}
	// Parallel runs infer nothing.
	lines = feedAll(false, true, `pg_dump: dumping contents of table "public.c"`, `pg_dump: dumping contents of table "public.d"`)
	if len(ofKind(lines, KindTableDataFinished)) != 0 {
		t.Errorf("lines %+v", lines)
	}
}

func TestParserGroupingBounds(t *testing.T) {
	raw := []string{`pg_restore: error: could not execute query: ERROR:  x`, "Command was: CREATE FUNCTION f() AS $$"}
	for i := range 1000 {
		raw = append(raw, "  line "+strconv.Itoa(i))
	}
	raw = append(raw, "", "", `pg_restore: creating TABLE "public.t"`)
	lines := feedAll(true, true, raw...)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	e := lines[0]
	if n := strings.Count(e.Raw, "\n") + 1; n > maxGroupLines+1 {
		t.Errorf("error holds %d lines", n)
	}
	if !strings.HasSuffix(e.Raw, "(804 more lines)") {
		t.Errorf("error ends %q", e.Raw[len(e.Raw)-40:])
	}
	if !strings.HasPrefix(e.Command, "CREATE FUNCTION f() AS $$\n  line 0\n") {
		t.Errorf("command %q", e.Command[:60])
	}
	// pg_dump's failed queries.
	lines = feedAll(true, false,
		`pg_dump: dumping contents of table "public.t"`,
		`pg_dump: error: Dumping the contents of table "t" failed: PQgetResult() failed.`,
		`pg_dump: detail: Error message from server: ERROR:  permission denied for table t`,
		`pg_dump: detail: Command was: COPY public.t (id) TO stdout;`,
	)
	if len(lines) != 2 || lines[1].Kind != KindError || lines[1].Command != "COPY public.t (id) TO stdout;" ||
		lines[1].Detail != "Error message from server: ERROR:  permission denied for table t" {
		t.Errorf("lines %+v", lines)
	}
	// A continuation with nothing to continue stands alone.
	lines = feedAll(true, true, "stray line")
	if len(lines) != 1 || lines[0].Kind != KindOther || lines[0].Raw != "stray line" {
		t.Errorf("lines %+v", lines)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		file, err := os.Open(filepath.Join("testdata", fx.name))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		if err := sc.Err(); err != nil {
			f.Fatal(err)
		}
		if err := file.Close(); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		l := ParseLine(raw)
		if l.Raw != raw {
			t.Fatalf("Raw %q, want %q", l.Raw, raw)
		}
		if l.Kind < KindOther || l.Kind > KindContinuation || l.EntryID < 0 || l.Count < 0 {
			t.Fatalf("bad line %+v", l)
		}
		if (l.Kind == KindTableDataStarted || l.Kind == KindTableDataFinished) && l.ObjectType != "TABLE DATA" {
			t.Fatalf("table line without TABLE DATA: %+v", l)
		}
		if l.Tool != "" && !strings.HasPrefix(raw, l.Tool+":") {
			t.Fatalf("tool %q not the prefix of %q", l.Tool, raw)
		}
		if !strings.Contains(raw, l.Name) || !strings.Contains(raw, l.Schema) ||
			l.ObjectType != "TABLE DATA" && !strings.Contains(raw, l.ObjectType) {
			t.Fatalf("names not from the line: %+v", l)
		}
		// Fed as several lines, through a Parser: no panic, no
		// continuation out, nothing lost.
		var out []Line
		p := NewParser(len(raw)%2 == 0, func(l Line) { out = append(out, l) })
		parts := strings.Split(raw, "\n")
		for _, s := range parts {
			p.Feed(s)
		}
		p.Close(true)
		n := 0
		for _, l := range out {
			if l.Kind == KindContinuation {
				t.Fatalf("continuation emitted: %+v", l)
			}
			if !l.Inferred {
				n++
			}
		}
		if n == 0 || n > len(parts) {
			t.Fatalf("%d lines emitted for %d fed", n, len(parts))
		}
	})
}
