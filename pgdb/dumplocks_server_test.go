package pgdb

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// DumpLocks, polled from the snapshot's transaction, sees the tables a
// session named like pg_dump holds, as they are locked, a session that
// appeared after the transaction's first poll included; other sessions'
// locks are not its. It works for a role without privileges, a failed
// poll leaves the transaction usable, and the tables' counts add up with
// CountRest to Counts.
func TestDumpLocks(t *testing.T) {
	url := startServer(t)
	db := connect(t, url, "pgdb-test")
	ctx := t.Context()
	exec(t, db, fixture)
	exec(t, db, `DO $$ BEGIN CREATE ROLE plain NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
		GRANT USAGE ON SCHEMA app TO plain; GRANT SELECT ON ALL TABLES IN SCHEMA app, public TO plain;
		GRANT SELECT ON ALL SEQUENCES IN SCHEMA app, public TO plain; SET ROLE plain`)
	s, err := db.Snapshot(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	poll := func(want ...string) {
		t.Helper()
		got, err := s.DumpLocks(ctx, "ppg-dump-m1")
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
			t.Errorf("DumpLocks = %v, want %v", keys, want)
		}
	}
	poll()

	// pg_dump's session connects after the first poll, and imports the
	// snapshot; another session holds a lock of its own.
	dump, other := connect(t, url, "ppg-dump-m1"), connect(t, url, "pgdb-other")
	dtx, err := dump.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dtx.Rollback(ctx) }()
	for _, q := range []string{`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`, `SET TRANSACTION SNAPSHOT '` + s.ID() + `'`, `LOCK TABLE app.orders IN ACCESS SHARE MODE`} {
		if _, err := dtx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	otx, err := other.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = otx.Rollback(ctx) }()
	if _, err := otx.Exec(ctx, `LOCK TABLE public.users IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	poll("app.orders")
	if _, err := dtx.Exec(ctx, `LOCK TABLE public.users, app.empty IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	poll("app.empty", "app.orders", "public.users")

	// A poll that fails (a name the server refuses) leaves the
	// transaction usable.
	if _, err := s.DumpLocks(ctx, "ppg-dump-\x00"); err == nil {
		t.Error("DumpLocks with a NUL in the name did not fail")
	}
	poll("app.empty", "app.orders", "public.users")

	// The large objects' contents are the owner's to read.
	if _, err := s.tx.Exec(ctx, `RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	tables, err := s.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CountTables(ctx, tables[:1], true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rows["app.empty"] != 0 || len(c.Rows) != 1 || c.Content["app.empty"] != "0:0" || c.Sequences != nil {
		t.Errorf("CountTables(app.empty) = %+v", c)
	}
	c, err = s.CountTables(ctx, tables[1:], true)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := s.CountRest(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rows["app.orders"] != 200 || c.Rows["public.users"] != 30 || !strings.HasPrefix(c.Content["app.orders"], "200:") ||
		rest.Sequences["public.users_id_seq"] != 30 || rest.Objects["tables"] != 3 || len(rest.LargeObjects) != 2 || rest.LargeObjectsContent == "" || rest.Rows != nil {
		t.Errorf("CountTables = %+v, CountRest = %+v", c, rest)
	}
	all, err := s.Counts(ctx, tables, true)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(all.Content, map[string]string{"app.empty": "0:0", "app.orders": c.Content["app.orders"], "public.users": c.Content["public.users"]}) ||
		all.LargeObjectsContent != rest.LargeObjectsContent {
		t.Errorf("Counts = %+v", all)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
