package pgtools

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// clientVersions are the client versions fixtures were captured with.
var clientVersions = []string{"15", "17"}

func readTOCFixture(t *testing.T, name string) *TOC {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	toc, err := ParseTOC(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ParseTOC(%s): %v", name, err)
	}
	return toc
}

func findEntry(t *testing.T, toc *TOC, desc, schema, name string) Entry {
	t.Helper()
	for _, e := range toc.Entries {
		if e.Desc == desc && e.Schema == schema && e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %s %s %q", desc, schema, name)
	return Entry{}
}

func TestParseTOCFixtures(t *testing.T) {
	for _, v := range clientVersions {
		t.Run(v, func(t *testing.T) {
			toc := readTOCFixture(t, "list-"+v+".txt")
			if len(toc.Entries) != 65 {
				t.Errorf("%d entries, want 65", len(toc.Entries))
			}
			h := toc.Header
			if h.Format != "CUSTOM" || h.Database != "postgres" || h.Entries != 70 {
				t.Errorf("header %+v", h)
			}
			wantBy, wantFrom, wantFormat := 17, 16, "1.16-0"
			if v == "15" {
				wantBy, wantFrom, wantFormat = 15, 15, "1.14-0"
			}
			if h.DumpedBy.Major != wantBy || h.DumpedFrom.Major != wantFrom || h.FormatVersion != wantFormat {
				t.Errorf("header versions %+v", h)
			}

			var data []string
			for _, e := range toc.Entries {
				if e.Desc == "TABLE DATA" {
					data = append(data, e.QualifiedName())
				}
			}
			want := []string{"app.audit", "app.customers", "app.order items", "app.orders",
				"public.empty_table", "public.events_2024", "public.events_2025", `public.we"ird.name`}
			if !reflect.DeepEqual(data, want) {
				t.Errorf("TABLE DATA entries %q, want %q", data, want)
			}

			weird := findEntry(t, toc, "TABLE", "public", `we"ird.name`)
			if weird.Owner != "postgres" || weird.Section != SectionPreData {
				t.Errorf("weird table %+v", weird)
			}
			pk := findEntry(t, toc, "CONSTRAINT", "app", "order items order items_pkey")
			if pk.Section != SectionPostData || pk.Owner != "postgres" {
				t.Errorf("constraint %+v", pk)
			}
			fk := findEntry(t, toc, "FK CONSTRAINT", "app", "order items order items_order_id_fkey")
			if fk.Section != SectionPostData {
				t.Errorf("fk %+v", fk)
			}
			dacl := findEntry(t, toc, "DEFAULT ACL", "app", "DEFAULT PRIVILEGES FOR TABLES")
			if dacl.Section != SectionPostData {
				t.Errorf("default acl %+v", dacl)
			}
			audit := findEntry(t, toc, "TABLE", "app", "audit")
			if audit.Owner != "ea_owner" || audit.TableOID != 1259 || audit.OID != 16437 {
				t.Errorf("audit %+v", audit)
			}
			schema := findEntry(t, toc, "SCHEMA", "", "app")
			if schema.ID != 6 || schema.TableOID != 2615 {
				t.Errorf("schema %+v", schema)
			}
			mv := findEntry(t, toc, "MATERIALIZED VIEW DATA", "app", "status_counts")
			if mv.Section != SectionPostData {
				t.Errorf("matview data %+v", mv)
			}
			acl := findEntry(t, toc, "ACL", "app", "TABLE customers")
			if acl.Section != SectionPreData { // no section of its own: the one before
				t.Errorf("acl %+v", acl)
			}
			if v == "15" {
				blobs := findEntry(t, toc, "BLOBS", "", "BLOBS")
				if blobs.Owner != "" || blobs.Section != SectionData {
					t.Errorf("blobs %+v", blobs)
				}
			}
		})
	}
}

// TestSectionsMatchPgRestore checks the sections ParseTOC infers against
// what pg_restore --list --section printed for each section.
func TestSectionsMatchPgRestore(t *testing.T) {
	for _, v := range clientVersions {
		t.Run(v, func(t *testing.T) {
			all := readTOCFixture(t, "list-"+v+".txt")
			want := make(map[int]Section)
			for _, s := range []Section{SectionPreData, SectionData, SectionPostData} {
				for _, e := range readTOCFixture(t, "list-"+v+"-"+s.String()+".txt").Entries {
					want[e.ID] = s
				}
			}
			if len(want) != len(all.Entries) {
				t.Errorf("section lists hold %d entries, the full list %d", len(want), len(all.Entries))
			}
			for _, e := range all.Entries {
				if e.Section != want[e.ID] {
					t.Errorf("%s: section %s, pg_restore says %s", e.Raw, e.Section, want[e.ID])
				}
			}
		})
	}
}

func TestParseTOCLine(t *testing.T) {
	tests := []struct {
		line string
		want Entry
	}{
		{"3425; 0 16390 TABLE DATA public foo postgres",
			Entry{ID: 3425, OID: 16390, Section: SectionData, Desc: "TABLE DATA", Schema: "public", Name: "foo", Owner: "postgres"}},
		{"215; 1259 16386 TABLE public foo postgres",
			Entry{ID: 215, TableOID: 1259, OID: 16386, Section: SectionPreData, Desc: "TABLE", Schema: "public", Name: "foo", Owner: "postgres"}},
		// A TABLE in a schema named DATA is not TABLE DATA.
		{"215; 1259 16386 TABLE DATA foo postgres",
			Entry{ID: 215, TableOID: 1259, OID: 16386, Section: SectionPreData, Desc: "TABLE", Schema: "DATA", Name: "foo", Owner: "postgres"}},
		{"3439; 0 0 BLOBS - BLOBS ",
			Entry{ID: 3439, Section: SectionData, Desc: "BLOBS", Name: "BLOBS"}},
		{"7; 0 0 COMMENT - SCHEMA app postgres",
			Entry{ID: 7, Section: SectionNone, Desc: "COMMENT", Name: "SCHEMA app", Owner: "postgres"}},
		{"3346; 6106 16479 PUBLICATION TABLE app customers_pub customers postgres",
			Entry{ID: 3346, TableOID: 6106, OID: 16479, Section: SectionPostData, Desc: "PUBLICATION TABLE", Schema: "app", Name: "customers_pub customers", Owner: "postgres"}},
		{"12; 0 0 SOMETHING NEW - thing postgres",
			Entry{ID: 12, Section: SectionNone, Desc: "SOMETHING", Schema: "NEW", Name: "- thing", Owner: "postgres"}},
		{"5; 1259 1 STATISTICS DATA public foo ",
			Entry{ID: 5, TableOID: 1259, OID: 1, Section: SectionNone, Desc: "STATISTICS DATA", Schema: "public", Name: "foo"}},
	}
	for _, tt := range tests {
		got, err := ParseTOCLine(tt.line)
		if err != nil {
			t.Errorf("ParseTOCLine(%q): %v", tt.line, err)
			continue
		}
		tt.want.Raw = tt.line
		if got != tt.want {
			t.Errorf("ParseTOCLine(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
	for _, bad := range []string{"", ";", "; Archive created at", "abc; 0 0 TABLE a b c", "0; 0 0 TABLE a b c",
		"1; x 0 TABLE a b c", "1; 0 0", "1; 0 0 TABLE", "1; 0 0 TABLE a", "1;0 0 TABLE a b c"} {
		if e, err := ParseTOCLine(bad); !errors.Is(err, ErrTOCLine) {
			t.Errorf("ParseTOCLine(%q) = %+v, %v; want ErrTOCLine", bad, e, err)
		}
	}
}

func TestParseTOCRejectsGarbage(t *testing.T) {
	_, err := ParseTOC(strings.NewReader(";\n1; 0 0 TABLE a b c\nnot a toc line\n"))
	if !errors.Is(err, ErrTOCLine) {
		t.Fatalf("err = %v, want ErrTOCLine", err)
	}
}

func TestWriteListRoundTrip(t *testing.T) {
	toc := readTOCFixture(t, "list-17.txt")
	var subset []Entry
	for _, e := range toc.Entries {
		if e.Section != SectionPreData {
			subset = append(subset, e)
		}
	}
	// Entries without Raw are rebuilt in --list format.
	rebuilt := append([]Entry(nil), subset...)
	for i := range rebuilt {
		if i%2 == 0 {
			rebuilt[i].Raw = ""
		}
	}
	for name, entries := range map[string][]Entry{"raw": subset, "rebuilt": rebuilt} {
		var buf bytes.Buffer
		if err := WriteList(&buf, entries); err != nil {
			t.Fatal(err)
		}
		back, err := ParseTOC(&buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(back.Entries) != len(subset) {
			t.Fatalf("%s: %d entries back, want %d", name, len(back.Entries), len(subset))
		}
		for i, e := range back.Entries {
			if e != subset[i] {
				t.Errorf("%s: entry %d\n got %+v\nwant %+v", name, i, e, subset[i])
			}
		}
	}
	if err := WriteList(&bytes.Buffer{}, []Entry{{Desc: "TABLE"}}); err == nil {
		t.Error("WriteList of an entry without ID succeeded")
	}
}

func FuzzParseTOCLine(f *testing.F) {
	for _, v := range clientVersions {
		b, err := os.ReadFile(filepath.Join("testdata", "list-"+v+".txt"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseTOCLine(line)
		if err != nil {
			if !errors.Is(err, ErrTOCLine) {
				t.Fatalf("error %v does not wrap ErrTOCLine", err)
			}
			return
		}
		if e.ID <= 0 || e.Desc == "" || e.Raw == "" {
			t.Fatalf("bad entry %+v from %q", e, line)
		}
		if strings.ContainsAny(e.Raw, "\r\n") || !strings.HasPrefix(line, e.Raw) {
			t.Fatalf("Raw %q is not the line %q", e.Raw, line)
		}
		// Writing the entry as a list and reading it back keeps its ID,
		// description and section.
		var buf bytes.Buffer
		if err := WriteList(&buf, []Entry{e}); err != nil {
			t.Fatal(err)
		}
		back, err := ParseTOC(&buf)
		if err != nil {
			t.Fatalf("ParseTOC(WriteList(%+v)): %v", e, err)
		}
		if len(back.Entries) != 1 || back.Entries[0].ID != e.ID {
			t.Fatalf("round trip of %q: %+v", line, back.Entries)
		}
	})
}
