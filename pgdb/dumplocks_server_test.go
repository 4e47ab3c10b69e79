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
// CountRest to Counts. CountRest keeps no lock on a sequence. LockTables
// does not queue behind a TRUNCATE that waits for pg_dump.
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
	// The sequences were read without a lock that lasts; the tables
	// counted stay locked.
	var pid int
	if err := s.tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	var seqLocks, tableLocks int
	if err := other.conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE relation = 'public.users_id_seq'::regclass), count(*) FILTER (WHERE relation = 'app.orders'::regclass)
		FROM pg_locks WHERE pid = $1`, pid).Scan(&seqLocks, &tableLocks); err != nil || seqLocks != 0 || tableLocks != 1 {
		t.Errorf("the snapshot's session holds %d locks on the sequence (want 0) and %d on app.orders (want 1): %v", seqLocks, tableLocks, err)
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

	// An application's TRUNCATE of app.empty waits behind pg_dump's lock:
	// LockTables does not queue behind it, and locks the others.
	s2, err := db.Snapshot(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	app := connect(t, url, "pgdb-app")
	truncated := make(chan error, 1)
	go func() {
		_, err := app.conn.Exec(ctx, `TRUNCATE app.empty`)
		truncated <- err
	}()
	for waiting := int64(0); waiting == 0; {
		if err := other.conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE relation = 'app.empty'::regclass AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	// The contended table in the middle: found by halves.
	order := []Table{tables[1], tables[0], tables[2]}
	locked, contended, err := s2.LockTables(ctx, order)
	if err != nil {
		t.Fatal(err)
	}
	name := func(ts []Table) (out []string) {
		for _, t := range ts {
			out = append(out, t.QualifiedName())
		}
		return out
	}
	if !slices.Equal(name(locked), []string{"app.orders", "public.users"}) || !slices.Equal(name(contended), []string{"app.empty"}) {
		t.Errorf("LockTables = %v locked, %v contended", name(locked), name(contended))
	}
	if order[0] != tables[1] || order[1] != tables[0] || order[2] != tables[2] {
		t.Errorf("LockTables changed its argument: %v", name(order))
	}
	if c, err := s2.CountTables(ctx, locked, false); err != nil || c.Rows["app.orders"] != 200 {
		t.Errorf("CountTables after LockTables = %+v, %v", c, err)
	}
	if err := s2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dtx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-truncated; err != nil {
		t.Errorf("TRUNCATE app.empty: %v", err)
	}
}
