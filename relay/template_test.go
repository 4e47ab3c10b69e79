package relay

import (
	"strings"
	"testing"
)

// pg_dump 17's per-object queries as counted with log_statement = all.
var dump17Queries = map[string]string{
	"SELECT pg_catalog.pg_get_viewdef('16400'::pg_catalog.oid) AS viewdef":                                                                                     "viewdef",
	"SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = '16407'::oid": "sequence",
	"SELECT last_value, is_called FROM a.s1":                             "last_value",
	`SELECT last_value, is_called FROM "Mixed Case"."Seq ""quoted"""`:    "last_value",
	"EXECUTE dumpFunc('16409')":                                          "dumpFunc",
	"EXECUTE dumpAgg('16411')":                                           "dumpAgg",
	"EXECUTE dumpOpr('16413')":                                           "dumpOpr",
	"EXECUTE dumpTableAttach('16418')":                                   "dumpTableAttach",
	"SELECT pg_get_partkeydef('16415')":                                  "partkeydef",
	"SELECT pg_catalog.pg_get_ruledef('16428'::pg_catalog.oid)":          "ruledef",
	"SELECT pg_catalog.pg_get_statisticsobjdef('16429'::pg_catalog.oid)": "statisticsobjdef",
	"EXECUTE dumpEnumType('16432')":                                      "dumpEnumType",
	"EXECUTE dumpDomain('16438')":                                        "dumpDomain",
	"EXECUTE dumpCompositeType('16442')":                                 "dumpCompositeType",
	"COPY a.t (id, x, y) TO stdout;":                                     "copy",
	"COPY a.empty  TO stdout;":                                           "copy",
	`COPY "a;b"."t ""x""" ("c;d", e) TO stdout;`:                         "copy",
	"EXECUTE dumpRangeType('16446')":                                     "dumpRangeType",
	"EXECUTE getDomainConstraints('16952')":                              "getDomainConstraints",
	"EXECUTE getColumnACLs('6100')":                                      "getColumnACLs",
	"SELECT pg_catalog.format_type('2275'::pg_catalog.oid, NULL)":        "format_type",
}

func matchAny(ts []*template, q string) (string, string, bool) {
	for _, t := range ts {
		if key, ok := t.match(q); ok {
			return t.name, key, true
		}
	}
	return "", "", false
}

func TestTemplatesRecognisePgDump17(t *testing.T) {
	ts := templatesFor(17)
	for q, want := range dump17Queries {
		name, key, ok := matchAny(ts, q)
		if !ok || name != want {
			t.Errorf("%q: matched %q (%v), want %q", q, name, ok, want)
			continue
		}
		if got := templateNamed(ts, name).render(key); got != q {
			t.Errorf("%q: renders back as %q", q, got)
		}
	}
}

func templateNamed(ts []*template, name string) *template {
	for _, t := range ts {
		if t.name == name {
			return t
		}
	}
	return nil
}

func TestTemplatesLeaveOtherQueriesAlone(t *testing.T) {
	ts := templatesFor(17)
	for _, q := range []string{
		"SELECT pg_catalog.pg_get_viewdef('16400'::pg_catalog.oid) AS viewdef ",
		"SELECT pg_catalog.pg_get_viewdef('0'::pg_catalog.oid) AS viewdef",
		"SELECT pg_catalog.pg_get_viewdef('16400' || '1'::pg_catalog.oid) AS viewdef",
		"select pg_catalog.pg_get_viewdef('16400'::pg_catalog.oid) AS viewdef",
		"EXECUTE dumpFunc('16409'); DROP TABLE x; --')",
		"EXECUTE dumpFunc('')",
		"SELECT last_value, is_called FROM a.s1; DELETE FROM t",
		"SELECT last_value, is_called FROM s1",
		"SELECT last_value, is_called FROM a.s1 WHERE false",
		"PREPARE dumpFunc(pg_catalog.oid) AS",
		"COPY a.t (id, x, y) TO stdout",
		"COPY a.t (id, x, y) FROM stdin;",
		"COPY a.t; DROP TABLE a.t; COPY a.u TO stdout;",
		"BEGIN",
	} {
		if name, _, ok := matchAny(ts, q); ok {
			t.Errorf("%q was taken for a %s query", q, name)
		}
	}
}

func TestTemplatesPinnedPerVersion(t *testing.T) {
	if len(Templates(16)) != 0 || len(Templates(19)) != 0 {
		t.Error("templates for a pg_dump the relay was not written for")
	}
	seq := dump17Queries
	for q, name := range seq {
		if name != "sequence" {
			continue
		}
		if got, _, ok := matchAny(templatesFor(18), q); ok {
			t.Errorf("pg_dump 18 batches sequence parameters, yet %q matched %s", q, got)
		}
	}
	if len(Templates(18)) != len(Templates(17))-1 {
		t.Errorf("templates: 17 %v, 18 %v", Templates(17), Templates(18))
	}
}

// The catalog queries run with search_path empty and must name every
// catalog with pg_catalog; each lists one column.
func TestListQueriesQualifyTheCatalog(t *testing.T) {
	for _, tpl := range templatesFor(17) {
		q := tpl.list
		if !strings.HasPrefix(q, "SELECT ") || !strings.Contains(q, " ORDER BY ") {
			t.Errorf("%s: %q", tpl.name, q)
		}
		for _, word := range strings.Fields(strings.NewReplacer("(", " ", ")", " ", ",", " ").Replace(q)) {
			if strings.HasPrefix(word, "pg_") && !strings.HasPrefix(word, "pg_catalog.") {
				t.Errorf("%s: %q is not qualified in %q", tpl.name, word, q)
			}
		}
		if strings.Contains(q, "%s") {
			t.Errorf("%s: unfilled placeholder in %q", tpl.name, q)
		}
	}
}

// FuzzTemplateMatch: whatever the query, a match renders back to exactly
// the query, and its key is a plain OID or a qualified name.
func FuzzTemplateMatch(f *testing.F) {
	for q := range dump17Queries {
		f.Add(q)
	}
	f.Add(`SELECT last_value, is_called FROM "a"".b".c`)
	f.Add(`SELECT last_value, is_called FROM "a"."b"; SELECT 1 FROM "c"."d"`)
	ts := templatesFor(17)
	f.Fuzz(func(t *testing.T, q string) {
		for _, tpl := range ts {
			key, ok := tpl.match(q)
			if !ok {
				continue
			}
			if tpl.render(key) != q {
				t.Fatalf("%s: %q renders back as %q", tpl.name, q, tpl.render(key))
			}
			if strings.ContainsAny(unquoted(key), ";\x00") {
				t.Fatalf("%s: key %q has a separator outside quotes", tpl.name, key)
			}
		}
	})
}

func TestNextChunk(t *testing.T) {
	keys := []keyed{{"a", 10}, {"b", 10}, {"c", 100}, {"d", 10}, {"e", 10}, {"f", 10}}
	for _, tt := range []struct {
		asked    string
		limit    int64
		want     string
		wantRest string
	}{
		// After the asked key, wrapping around; the big one never.
		{"b", 30, "d e f", "a"},
		{"e", 30, "f a b", "d"},
		{"zz", 1000, "a b c d e f", ""},
		{"c", 25, "d e", "a b f"},
	} {
		chunk, rest := nextChunk(keys, tt.asked, tt.limit, 10)
		var names []string
		for _, k := range rest {
			names = append(names, k.key)
		}
		if got, gotRest := strings.Join(chunk, " "), strings.Join(names, " "); got != tt.want || gotRest != tt.wantRest {
			t.Errorf("asked %s, limit %d: chunk %q rest %q; want %q and %q", tt.asked, tt.limit, got, gotRest, tt.want, tt.wantRest)
		}
	}
	// Sizes unknown (0): everything in one chunk.
	chunk, rest := nextChunk([]keyed{{"1", 0}, {"2", 0}, {"3", 0}}, "2", 8, 10)
	if strings.Join(chunk, " ") != "3 1" || len(rest) != 0 {
		t.Errorf("chunk %q rest %v", chunk, rest)
	}
	// At most n objects a chunk.
	chunk, rest = nextChunk([]keyed{{"1", 0}, {"2", 0}, {"3", 0}, {"4", 0}}, "1", 8, 2)
	if strings.Join(chunk, " ") != "2 3" || len(rest) != 1 || rest[0].key != "4" {
		t.Errorf("chunk %q rest %v", chunk, rest)
	}
}

// unquoted is key without its double-quoted parts.
func unquoted(key string) string {
	var b strings.Builder
	in := false
	for _, r := range key {
		if r == '"' {
			in = !in
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	return b.String()
}
