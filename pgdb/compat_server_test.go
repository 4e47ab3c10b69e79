package pgdb

import (
	"slices"
	"testing"
)

// On a server before 18 the check reads only row security (the queries of
// 18's catalog columns are not run there), and the role's right to bypass
// it is read as the current role's.
func TestCompatFactsBefore18(t *testing.T) {
	db := connect(t, startServer(t), "pgdb-test-compat")
	exec(t, db, `
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, total numeric GENERATED ALWAYS AS (id * 2) STORED);
CREATE TABLE shop.plain (id int);
CREATE TABLE shop.parts (id int) PARTITION BY RANGE (id);
ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.parts ENABLE ROW LEVEL SECURITY;
DO $$ BEGIN CREATE ROLE compat_plain; EXCEPTION WHEN duplicate_object THEN NULL; END $$;`)
	objs, err := db.CompatFacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []CompatObject{{Kind: CompatRowSecurity, Object: "shop.orders"}, {Kind: CompatRowSecurity, Object: "shop.parts"}}
	if !slices.Equal(objs, want) {
		t.Errorf("CompatFacts = %+v, want %+v", objs, want)
	}
	if b, err := db.BypassesRowSecurity(t.Context()); err != nil || !b {
		t.Errorf("the superuser: BypassesRowSecurity = %v, %v; want true", b, err)
	}
	exec(t, db, "SET ROLE compat_plain")
	if b, err := db.BypassesRowSecurity(t.Context()); err != nil || b {
		t.Errorf("a plain role: BypassesRowSecurity = %v, %v; want false", b, err)
	}
}
