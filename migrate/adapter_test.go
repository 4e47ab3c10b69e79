package migrate

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/pgdb"
)

// The engine's DB over the real adapter, against a PostgreSQL 17 server:
// run when PPG_PG17_BIN is set (make test sets it), skipped otherwise, and
// failed under CI=true without it.
func TestAdapterAgainstServer(t *testing.T) {
	bin := os.Getenv("PPG_PG17_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("missing prerequisite: PPG_PG17_BIN is not set (run `bash e2e/toolchain.sh` and source its env file)")
		}
		t.Skip("skipping: PPG_PG17_BIN is not set (run `bash e2e/toolchain.sh` and source its env file)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, pgserver.Options{Version: 17, BinDir: bin})
	if err != nil {
		t.Fatalf("start PostgreSQL 17: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	cfg, err := pgdb.ParseURL(srv.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgdb.Connect(ctx, cfg, "ppg-test", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	db := NewDB(conn)
	defer db.Close()
	setup, err := db.Session(ctx, "ppg-test-setup")
	if err != nil {
		t.Fatal(err)
	}
	err = setup.Pipeline(ctx, []Statement{
		{SQL: "CREATE TABLE t (id int)"},
		{SQL: "COPY t FROM stdin", Copy: []byte("1\n2\n3\n")},
		{SQL: "SELECT lo_create(9001), lo_create(9002), lo_create(9004)"},
	}, func(i int, err error) {
		if err != nil {
			t.Errorf("setup statement %d: %v", i, err)
		}
	})
	setup.Close()
	if err != nil {
		t.Fatal(err)
	}

	snap, err := db.Snapshot(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	tables, err := snap.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := snap.Manifest(ctx, tables, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tables) != 1 || m.Tables[0].QualifiedName() != "public.t" || m.Tables[0].Rows != 3 || m.Version != 1 {
		t.Errorf("manifest tables %+v", m.Tables)
	}
	want := []OIDRange{{First: 9001, Last: 9002}, {First: 9004, Last: 9004}}
	if len(m.LargeObjects) != 2 || m.LargeObjects[0] != want[0] || m.LargeObjects[1] != want[1] {
		t.Errorf("large objects %+v, want %+v", m.LargeObjects, want)
	}
	if m.Content["public.t"] == "" || m.LargeObjectsContent == "" || m.Objects["tables"] != 1 {
		t.Errorf("manifest %+v", m)
	}
	if err := snap.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// A failed open is a nil interface, not a typed nil the engine would
	// call Close on.
	cancelled, stop := context.WithCancel(ctx)
	stop()
	if s, err := db.Session(cancelled, "ppg-test"); err == nil || s != nil {
		t.Errorf("Session on a cancelled context = %v, %v", s, err)
	}
	if w, err := db.Watcher(cancelled); err == nil || w != nil {
		t.Errorf("Watcher on a cancelled context = %v, %v", w, err)
	}
}
