package migrate

import (
	"testing"

	"github.com/ppg-cli/ppg/pgtools"
)

func TestResolveSchemas(t *testing.T) {
	tables := []TableCount{
		{Table: Table{Schema: "Mixed Case", Name: "Order Items"}},
		{Table: Table{Schema: "a b c", Name: "t"}},
		{Table: Table{Schema: "a b", Name: "t"}},
		{Table: Table{Schema: "public", Name: "plain"}},
	}
	// As pgtools parses `pg_restore --list`: the schema is the first word.
	toc := &pgtools.TOC{Entries: []pgtools.Entry{
		{Desc: "TABLE DATA", Schema: "Mixed", Name: "Case Order Items"},
		{Desc: "CONSTRAINT", Schema: "Mixed", Name: "Case Order Items Order Items_pkey"},
		{Desc: "TABLE DATA", Schema: "a", Name: "b c t"},
		{Desc: "TABLE DATA", Schema: "a", Name: "b t"},
		{Desc: "TABLE DATA", Schema: "public", Name: "plain"},
		{Desc: "TABLE DATA", Schema: "Mixed", Name: "Case"}, // schema "Mixed", table "Case"
		{Desc: "SCHEMA", Schema: "", Name: "Mixed Case"},
	}}
	resolveSchemas(toc, tables)
	want := []string{
		"Mixed Case|Order Items",
		"Mixed Case|Order Items Order Items_pkey",
		"a b c|t",
		"a b|t",
		"public|plain",
		"Mixed|Case",
		"|Mixed Case",
	}
	for i, en := range toc.Entries {
		if got := en.Schema + "|" + en.Name; got != want[i] {
			t.Errorf("entry %d: %q, want %q", i, got, want[i])
		}
	}
}
