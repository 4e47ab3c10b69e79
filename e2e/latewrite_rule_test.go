//go:build e2e

package e2e

// The late-write rule, end to end: a write to the source while pg_dump
// runs, after its snapshot, is governed by --on-source-change (default
// fail, exit 8), and the moment printed and saved as the cutover's is the
// snapshot's, not the dump's end.
//
// "While pg_dump runs" is made certain, not hoped for: a session of the
// test holds an ACCESS EXCLUSIVE lock on a partitioned table without
// partitions. ppg's own queries never read it (it holds no rows), but
// pg_dump locks every table after it has imported ppg's snapshot and
// before it copies any data, so it waits there until the test lets go.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// heldSQL is the table the test locks to hold pg_dump.
const heldSQL = `CREATE TABLE public.held (id int) PARTITION BY RANGE (id);`

// dumpHold holds pg_dump on the source until release.
type dumpHold struct {
	t   testing.TB
	src *database
	tx  pgx.Tx
}

// holdDump takes the lock: pg_dump started from now on waits on it.
func holdDump(t testing.TB, src *database) *dumpHold {
	t.Helper()
	conn := src.connect()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE ONLY public.held IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	h := &dumpHold{t: t, src: src, tx: tx}
	t.Cleanup(h.release)
	return h
}

// waitBlocked waits until pg_dump waits on the lock, and returns when its
// transaction began, by the server's clock: ppg's snapshot, which pg_dump
// imported first, is no later than that.
func (h *dumpHold) waitBlocked() time.Time {
	h.t.Helper()
	const blocked = `FROM pg_stat_activity WHERE application_name LIKE 'ppg-dump-%' AND wait_event_type = 'Lock'`
	waitFor(h.t, runTimeout, "pg_dump waiting on the test's lock", func() bool {
		return h.src.number(`SELECT count(*) `+blocked) == 1
	})
	var began time.Time
	conn := h.src.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	if err := conn.QueryRow(context.Background(), `SELECT xact_start `+blocked).Scan(&began); err != nil {
		h.t.Fatal(err)
	}
	return began
}

// release lets pg_dump go on.
func (h *dumpHold) release() {
	_ = h.tx.Rollback(context.Background())
}

// writeRow inserts a row into public.customers and makes the server
// publish the write's statistics before it answers (they otherwise reach
// the statistics views up to a second late), returning the row's moment.
func writeRow(t testing.TB, src *database, name string) time.Time {
	t.Helper()
	conn := src.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	ctx := context.Background()
	var at time.Time
	if err := conn.QueryRow(ctx, `INSERT INTO public.customers (name) VALUES ($1) RETURNING clock_timestamp()`, name).Scan(&at); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	return at
}

// TestLateWriteDuringDumpHeadless: a row written while pg_dump runs, with
// the default --on-source-change, ends the run with exit 8 at the dump,
// naming the table, before anything is restored. With
// --on-source-change=redump the dump is taken again and the row is in the
// target.
func TestLateWriteDuringDumpHeadless(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL, heldSQL)

	t.Run("default fails", func(t *testing.T) {
		m := m.sub(t)
		h := holdDump(t, m.source)
		p := m.start("--non-interactive", "--json")
		h.waitBlocked()
		writeRow(t, m.source, "written during the dump")
		h.release()
		r := p.wait()
		r.wantExit(words.StatusChanged)
		if !r.has(stepFailed("dump").saying("public.customers")) {
			t.Errorf("the dump's failure does not name the write:\n%s", r.show())
		}
		if !r.has(warningOf("dump").saying("after the dump's snapshot", "public.customers")) {
			t.Errorf("no warning names the write:\n%s", r.show())
		}
		if r.has(stepStarted("restore")) || r.has(stepFinished("verify")) {
			t.Errorf("the run went on past the dump:\n%s", r.show())
		}
		if !strings.Contains(r.stderr, "--on-source-change=redump") {
			t.Errorf("stderr does not name the way on:\n%s", r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "as you chose") {
			t.Errorf("the output says a choice was made:\n%s", r.show())
		}
		if n := m.target.number(`SELECT count(*) FROM pg_class WHERE relname = 'customers'`); n != 0 {
			t.Errorf("the target holds a customers table after a run that failed at the dump")
		}
	})

	t.Run("redump", func(t *testing.T) {
		m := m.sub(t)
		h := holdDump(t, m.source)
		p := m.start("--non-interactive", "--json", "--on-source-change=redump")
		h.waitBlocked()
		writeRow(t, m.source, "written during the dump, dumped again")
		h.release()
		r := p.wait()
		r.wantExit(0)
		r.wantVerified()
		if n := m.target.number(`SELECT count(*) FROM public.customers WHERE name = 'written during the dump, dumped again'`); n != 1 {
			t.Errorf("the row written during the dump is on the target %d times, want once", n)
		}
		compareData(t, m.source, m.target)
		s := m.state()
		if len(s.SourceChanges) != 1 || s.SourceChanges[0].Choice != migrate.ChangeRedump || s.SourceChanges[0].Asked {
			t.Errorf("choices on record %+v, want the configured redump", s.SourceChanges)
		}
		if s.Verified == nil || len(s.Verified.SourceChanges) != 1 {
			t.Errorf("the verdict does not carry the choice: %+v", s.Verified)
		}
	})
}

// TestCutoverMomentIsTheSnapshots: a row written a second after the
// snapshot, while pg_dump still runs, is reported as after the cutover
// moment: the moment saved (state file, verification report) and printed
// is no later than the snapshot.
func TestCutoverMomentIsTheSnapshots(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL, heldSQL)
	h := holdDump(t, m.source)
	p := m.start("--non-interactive", "--on-source-change=keep")
	began := h.waitBlocked()
	check := m.source.connect()
	waitFor(t, time.Minute, "a second past the snapshot", func() bool {
		var past bool
		if err := check.QueryRow(context.Background(), `SELECT clock_timestamp() >= $1::timestamptz + interval '1 second'`, began).Scan(&past); err != nil {
			t.Fatal(err)
		}
		return past
	})
	wrote := writeRow(t, m.source, "written a second after the snapshot")
	h.release()
	r := p.wait()
	r.wantExit(0)

	s := m.state()
	d := s.Dump
	if d == nil || d.SnapshotAt.IsZero() {
		t.Fatalf("the state file records no snapshot moment: %+v", d)
	}
	if d.SnapshotAt.After(began) || !d.SnapshotAt.Before(wrote) {
		t.Errorf("saved snapshot moment %s; pg_dump's transaction began %s, the row was written %s", d.SnapshotAt, began, wrote)
	}
	if !d.FinishedAt.After(wrote) {
		t.Fatalf("the dump ended %s, not after the row (%s): the test proves nothing", d.FinishedAt, wrote)
	}
	if s.Verified == nil || !s.Verified.DumpedAt.Equal(d.SnapshotAt) {
		t.Errorf("the verdict's moment %+v, want the snapshot's %s", s.Verified, d.SnapshotAt)
	}
	rep := readVerifyFile(t, m.dir)
	if !rep.Verified.DumpedAt.Equal(d.SnapshotAt) {
		t.Errorf("%s says the dump is from %s, want the snapshot's %s", migrate.VerifyFileName, rep.Verified.DumpedAt, d.SnapshotAt)
	}

	// The printed moment, to the second.
	match := regexp.MustCompile(`snapshot was taken at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Za-z0-9+-]+)`).FindStringSubmatch(r.stdout)
	if match == nil {
		t.Fatalf("the output does not print the snapshot's moment:\n%s", r.show())
	}
	printed, err := time.ParseInLocation("2006-01-02 15:04:05 MST", match[1], time.Local)
	if err != nil {
		t.Fatal(err)
	}
	// The row came a second or more after the snapshot: the printed
	// second is before the row's.
	if !printed.Equal(d.SnapshotAt.Truncate(time.Second)) || !printed.Before(wrote.Truncate(time.Second)) {
		t.Errorf("printed moment %s; snapshot %s, row written %s", printed, d.SnapshotAt, wrote)
	}
	if !strings.Contains(r.stdout, "as --on-source-change=keep says, 1 row written during the dump is not migrated") || strings.Contains(r.stdout, "writes after the dump to") {
		t.Errorf("the verdict does not say what was kept:\n%s", r.show())
	}
	if n := m.target.number(`SELECT count(*) FROM public.customers WHERE name = 'written a second after the snapshot'`); n != 0 {
		t.Errorf("the row written after the snapshot is on the target, kept out by choice")
	}
}

// readVerifyFile reads the verification report ppg wrote in dir.
func readVerifyFile(t testing.TB, dir string) (rep struct {
	Verified migrate.VerifySummary `json:"verified"`
}) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, migrate.VerifyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}
