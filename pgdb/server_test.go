package pgdb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/pgserver"
)

// These tests run the adapter against a real PostgreSQL 17 server. They
// run when PPG_PG17_BIN names the server's binaries (make test sources
// the toolchain's env file, which sets it) and are skipped otherwise, so
// that go test ./... stays hermetic; under CI=true a missing server fails
// them instead.

// shared is the one server the tests share, each in a database of its
// own; TestMain stops it.
var shared struct {
	once sync.Once
	srv  *pgserver.Server
	err  error
	n    atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop PostgreSQL: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startServer gives the test a new database on the shared PostgreSQL 17
// server (started on first use) and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PPG_PG17_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("missing prerequisite: PPG_PG17_BIN is not set (run `bash e2e/toolchain.sh` and source its env file)")
		}
		t.Skip("skipping: PPG_PG17_BIN is not set (run `bash e2e/toolchain.sh` and source its env file)")
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = pgserver.Start(ctx, pgserver.Options{Version: 17, BinDir: bin})
	})
	if shared.err != nil {
		t.Fatalf("start PostgreSQL 17: %v", shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL log tail:\n%s", shared.srv.Logs())
		}
	})
	name := fmt.Sprintf("test%d", shared.n.Add(1))
	admin := connect(t, shared.srv.URL("postgres"), "pgdb-test-admin")
	exec(t, admin, "CREATE DATABASE "+name)
	return shared.srv.URL(name)
}

// connect opens a DB named app on url, closed at the test's end.
func connect(t *testing.T, url, app string) *DB {
	t.Helper()
	cfg, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Connect(t.Context(), cfg, app, 30*time.Second)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// exec runs statements on db's connection, failing the test on an error.
func exec(t *testing.T, db *DB, sql string) {
	t.Helper()
	if _, err := db.conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

const fixture = `
CREATE SCHEMA app;
CREATE TABLE public.users (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE app.orders (id bigserial PRIMARY KEY, user_id int REFERENCES public.users, total numeric, at timestamptz);
CREATE INDEX orders_user ON app.orders (user_id);
CREATE TABLE app.empty (x int);
CREATE VIEW app.big AS SELECT * FROM app.orders WHERE total > 100;
CREATE FUNCTION app.f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.f();
-- Roles are the server's, shared by the tests' databases.
DO $$ BEGIN CREATE ROLE reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON app.orders TO reader USING (true);
INSERT INTO public.users (name) SELECT 'user ' || g FROM generate_series(1, 30) g;
INSERT INTO app.orders (user_id, total, at) SELECT 1 + g % 30, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 200) g;
SELECT lo_from_bytea(0, 'large object one'), lo_from_bytea(0, 'two');
`

func TestCatalogAgainstServer(t *testing.T) {
	url := startServer(t)
	db := connect(t, url, "pgdb-test")
	ctx := t.Context()

	empty, err := db.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Major() != 17 || empty.UserObjects != 0 || len(empty.UserSchemas) != 0 || empty.SystemID == "" || empty.Size <= 0 {
		t.Errorf("ServerInfo of an empty database = %+v", empty)
	}
	exec(t, db, fixture)

	info, err := db.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserObjects == 0 || !slices.Equal(info.UserSchemas, []string{"app"}) {
		t.Errorf("ServerInfo = %+v, want user objects and the schema app", info)
	}
	tables, err := db.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.QualifiedName())
	}
	if !slices.Equal(names, []string{"app.empty", "app.orders", "public.users"}) {
		t.Errorf("Tables = %q", names)
	}
	rows, err := db.CountRows(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"app.empty": 0, "app.orders": 200, "public.users": 30}; !maps.Equal(rows, want) {
		t.Errorf("CountRows = %v, want %v", rows, want)
	}
	seqs, err := db.Sequences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"public.users_id_seq": 30, "app.orders_id_seq": 200}; !maps.Equal(seqs, want) {
		t.Errorf("Sequences = %v, want %v", seqs, want)
	}
	objs, err := db.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Three tables, one view, two sequences, three indexes (two keys and
	// one of ours), three constraints (two primary keys and the foreign
	// key: NOT NULL is no pg_constraint row before 18), one function, one
	// trigger, plpgsql.
	want := ObjectCounts{"tables": 3, "views": 1, "materialized views": 0, "sequences": 2, "indexes": 3,
		"constraints": 3, "functions": 1, "triggers": 1, "types": 0, "extensions": 1}
	if !maps.Equal(objs, want) {
		t.Errorf("Objects = %v, want %v", objs, want)
	}
	los, err := db.LargeObjects(ctx)
	if err != nil || len(los) != 2 || los[0] >= los[1] {
		t.Errorf("LargeObjects = %v, %v; want two, in order", los, err)
	}
	post, err := db.PostDataObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{PostDataKey("INDEX", "app", "orders_user"), PostDataKey("CONSTRAINT", "app", "orders orders_user_id_fkey"),
		PostDataKey("TRIGGER", "app", "orders t"), PostDataKey("POLICY", "app", "orders mine")} {
		if !post[k] {
			t.Errorf("PostDataObjects lacks %q", k)
		}
	}
	sf, err := db.SourceFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sf.Extensions, []string{"plpgsql"}) || sf.LargeObjects != 2 || len(sf.Policies) != 1 ||
		sf.Policies[0].Schema != "app" || sf.Policies[0].Table != "orders" || sf.Policies[0].Name != "mine" || !slices.Equal(sf.Policies[0].Roles, []string{"reader"}) {
		t.Errorf("SourceFacts = %+v", sf)
	}
	tf, err := db.TargetFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !tf.Superuser || !slices.Contains(tf.Roles, "reader") || !slices.Contains(tf.Available, "plpgsql") || tf.FreeConnections <= 0 {
		t.Errorf("TargetFacts = %+v", tf)
	}
}

func TestContentHashesSeeOneByte(t *testing.T) {
	db := connect(t, startServer(t), "pgdb-test")
	ctx := t.Context()
	exec(t, db, fixture)
	tables, err := db.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, lo, err := db.ContentHashes(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	again, lo2, err := db.ContentHashes(ctx, tables)
	if err != nil || !maps.Equal(before, again) || lo != lo2 {
		t.Fatalf("ContentHashes differ on the same data: %v %q, %v %q (%v)", before, lo, again, lo2, err)
	}
	if !strings.HasPrefix(before["app.orders"], "200:") || before["app.empty"] != "0:0" {
		t.Errorf("hashes %v", before)
	}
	exec(t, db, `UPDATE public.users SET name = 'user 1!' WHERE id = 1`)
	after, lo3, err := db.ContentHashes(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	if after["public.users"] == before["public.users"] || after["app.orders"] != before["app.orders"] || lo3 != lo {
		t.Errorf("after one changed row: %v, was %v", after, before)
	}
}

// The writes a resumed restore needs: emptying a table, large objects,
// the user's schemas; and ANALYZE.
func TestResetWrites(t *testing.T) {
	db := connect(t, startServer(t), "pgdb-test")
	ctx := t.Context()
	exec(t, db, fixture)
	tables, err := db.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Analyze(ctx, tables); err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	analyzed, err := db.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(analyzed, func(tb Table) bool { return tb.Name == "orders" }); analyzed[i].EstimatedRows != 200 {
		t.Errorf("after ANALYZE orders has an estimate of %d rows", analyzed[i].EstimatedRows)
	}
	orders := tables[slices.IndexFunc(tables, func(tb Table) bool { return tb.Name == "orders" })]
	if err := db.Truncate(ctx, orders); err != nil {
		t.Fatalf("Truncate: %v", err)
	}
	if n, err := db.CountRows(ctx, tables); err != nil || n["app.orders"] != 0 || n["public.users"] != 30 {
		t.Errorf("after Truncate: %v, %v", n, err)
	}
	los, err := db.LargeObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One that exists and one that does not.
	if err := db.UnlinkLargeObjects(ctx, []uint32{los[0], 4000000000}); err != nil {
		t.Fatalf("UnlinkLargeObjects: %v", err)
	}
	if left, err := db.LargeObjects(ctx); err != nil || !slices.Equal(left, los[1:]) {
		t.Errorf("large objects left %v, want %v (%v)", left, los[1:], err)
	}
	if err := db.DropUserSchemas(ctx); err != nil {
		t.Fatalf("DropUserSchemas: %v", err)
	}
	info, err := db.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserObjects != 0 || len(info.UserSchemas) != 0 {
		t.Errorf("after DropUserSchemas: %+v", info)
	}
	exec(t, db, `CREATE TABLE public.again (x int)`)
}

// A snapshot's counts are the database as it was when the snapshot was
// taken, whatever is written after, and pg_dump can import it.
func TestSnapshot(t *testing.T) {
	url := startServer(t)
	db := connect(t, url, "pgdb-test")
	other := connect(t, url, "pgdb-writer")
	ctx := t.Context()
	exec(t, db, fixture)
	s, err := db.Snapshot(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ID() == "" {
		t.Fatalf("no exported snapshot: %s", s.Why())
	}
	exec(t, other, `INSERT INTO public.users (name) VALUES ('late'); DELETE FROM app.orders WHERE id <= 10`)
	// Another session imports the snapshot, as pg_dump --snapshot does.
	tx, err := other.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET TRANSACTION SNAPSHOT '%s'`, s.ID())); err != nil {
		t.Fatalf("import the snapshot: %v", err)
	}
	var seen int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM app.orders`).Scan(&seen); err != nil || seen != 200 {
		t.Errorf("the importing session sees %d orders (%v), want 200", seen, err)
	}
	tables, err := s.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Counts(ctx, tables, true)
	if err != nil {
		t.Fatal(err)
	}
	// A sequence is not transactional: its value is read when the
	// snapshot is taken, before the late insert (pg_dump, later, would
	// read 31).
	if c.Rows["public.users"] != 30 || c.Rows["app.orders"] != 200 || c.Sequences["public.users_id_seq"] != 30 || len(c.LargeObjects) != 2 ||
		c.Objects["tables"] != 3 || !strings.HasPrefix(c.Content["app.orders"], "200:") || c.LargeObjectsContent == "" {
		t.Errorf("Counts in the snapshot = %+v", c)
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountRows(ctx, tables); err != nil || n["app.orders"] != 190 {
		t.Errorf("after the snapshot: %v, %v", n, err)
	}

	// Without export, there is no id, and the reason says so.
	s2, err := db.Snapshot(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.ID() != "" || s2.Why() == "" {
		t.Errorf("unexported snapshot: id %q, why %q", s2.ID(), s2.Why())
	}
}

// Pipeline answers each statement on its own, in order, a COPY's rows
// included; one statement's error touches no other.
func TestPipeline(t *testing.T) {
	url := startServer(t)
	db := connect(t, url, "pgdb-test")
	ctx := t.Context()
	s, err := db.Session(ctx, "pgdb-pipeline")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stmts := []Statement{
		{SQL: "CREATE TABLE p (id int PRIMARY KEY, v text)"},
		{SQL: "COPY p (id, v) FROM stdin", Copy: []byte("1\tone\n2\ttwo\n")},
		{SQL: "INSERT INTO missing VALUES (1)"},
		// A COPY whose rows the server refuses: its error, and the next
		// statement runs all the same.
		{SQL: "COPY p (id, v) FROM stdin", Copy: []byte("3\tthree\nnot a number\tx\n")},
		{SQL: "INSERT INTO p VALUES (4, 'four')"},
	}
	// Many small statements: more than a window's worth.
	for i := range 1500 {
		stmts = append(stmts, Statement{SQL: fmt.Sprintf("INSERT INTO p VALUES (%d, 'n')", 100+i)})
	}
	var order []int
	errs := map[int]string{}
	err = s.Pipeline(ctx, stmts, func(i int, err error) {
		order = append(order, i)
		if err != nil {
			code, _, ok := ServerError(err)
			if !ok {
				t.Errorf("statement %d: %v is not the server's", i, err)
			}
			errs[i] = code
		}
	})
	if err != nil {
		t.Fatalf("Pipeline: %v", err)
	}
	if len(order) != len(stmts) || !slices.IsSorted(order) {
		t.Errorf("done called %d times, in order %v", len(order), slices.IsSorted(order))
	}
	if want := map[int]string{2: "42P01", 3: "22P02"}; !maps.Equal(errs, want) {
		t.Errorf("errors %v, want %v", errs, want)
	}
	var n int64
	if err := db.conn.QueryRow(ctx, `SELECT count(*) FROM p`).Scan(&n); err != nil || n != 3+1500 {
		t.Errorf("%d rows (%v), want %d: the refused COPY's rows must all be rolled back", n, err, 3+1500)
	}
}

// A Watcher sees a session busy on a statement; cancelling the pipeline
// stops the statement and returns at once.
func TestWatcherAndCancel(t *testing.T) {
	url := startServer(t)
	db := connect(t, url, "pgdb-test")
	w, err := db.Watcher(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s, err := db.Session(t.Context(), "pgdb-busy")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		ended <- s.Pipeline(ctx, []Statement{{SQL: "SELECT pg_sleep(600)"}}, func(int, error) {})
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		a, err := w.Activity(t.Context(), "pgdb-busy")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Sessions) == 1 && a.Sessions[0].Working {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher never saw the session working: %+v", a)
		}
		select {
		case err := <-ended:
			t.Fatalf("the pipeline ended early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Pipeline = %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the cancelled pipeline did not return")
	}
	// The server stopped the statement: the session is gone or idle.
	for {
		a, err := w.Activity(t.Context(), "pgdb-busy")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Sessions) == 0 || !a.Sessions[0].Working {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the statement still runs after the cancel: %+v", a)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConnectRefusedPassword(t *testing.T) {
	u, err := neturl.Parse(startServer(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	u.User = neturl.UserPassword(u.User.Username(), "wrong-"+pw)
	cfg, err := ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Connect(t.Context(), cfg, "pgdb-test", 30*time.Second)
	if err == nil || !AuthFailed(err) {
		t.Fatalf("Connect with a wrong password = %v, want the password refused", err)
	}
	// The server sent the error, but no statement failed: the connection
	// did.
	if _, _, ok := ServerError(err); ok {
		t.Errorf("ServerError(%v) holds a statement's error", err)
	}
}
