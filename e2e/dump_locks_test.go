//go:build e2e

package e2e

// The dump's counting transaction and an application's TRUNCATE while
// pg_dump starts: ppg must not hold a table that pg_dump has not locked
// yet, or the TRUNCATE queues behind ppg, pg_dump's LOCK TABLE behind the
// TRUNCATE, and ppg waits for pg_dump forever.

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dumpLocksSchemaSQL: zz_gate, created first, is the first table pg_dump
// locks (it locks in the order of the tables' OIDs); it is partitioned,
// without partitions, so ppg, which counts ordinary tables, never reads
// it. aa_data, which ppg counts first (by name), is the one truncated.
const dumpLocksSchemaSQL = `
CREATE TABLE zz_gate (id int) PARTITION BY RANGE (id);
CREATE TABLE aa_data (id int PRIMARY KEY, v text);
CREATE TABLE mm_kept (id int PRIMARY KEY, v text);
INSERT INTO aa_data SELECT g, 'row ' || g FROM generate_series(1, 500) g;
INSERT INTO mm_kept SELECT g, 'kept ' || g FROM generate_series(1, 300) g;
`

// dumpLocksBudget bounds the migration once pg_dump may go on: it takes
// seconds; past the budget, ppg hangs.
const dumpLocksBudget = 2 * time.Minute

// TestDumpTruncateBeforePgDumpLocks: another session holds zz_gate, so
// pg_dump waits at its start, before it locks aa_data; ppg's counting
// transaction is under way (it counts or polls); an application truncates
// aa_data; the blocker lets go. The migration must finish, verified by
// content, and the target equal the source (aa_data empty on both: a
// TRUNCATE committed before pg_dump's lock empties the table for pg_dump
// and for ppg's snapshot alike).
func TestDumpTruncateBeforePgDumpLocks(t *testing.T) {
	m := newMigration(t)
	m.source.exec(dumpLocksSchemaSQL)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()

	blocker := m.source.connect()
	btx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = btx.Rollback(context.Background()) }()
	if _, err := btx.Exec(ctx, `LOCK TABLE zz_gate IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	p := m.ppg(fromSource(m.source.url), toTarget(m.target.url)).start("--non-interactive", "--json", "--verify", "content")
	waitFor(t, time.Minute, "pg_dump to wait for its lock on zz_gate", func() bool {
		return m.source.number(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE a.application_name LIKE 'ppg-dump-%' AND l.relation = 'zz_gate'::regclass AND NOT l.granted`) == 1
	})
	// ppg's transaction is counting in the snapshot: it holds aa_data
	// (as ppg did before pg_dump's locks) or polls pg_dump's locks (the
	// poll's last statement releases its savepoint, ppg_dump_locks).
	waitFor(t, time.Minute, "ppg's snapshot transaction to count or poll", func() bool {
		return m.source.number(`SELECT count(*) FROM pg_stat_activity a WHERE a.application_name = 'ppg' AND a.state LIKE '%in transaction%'
			AND (a.query LIKE '%ppg_dump_locks%' OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.relation = 'aa_data'::regclass AND l.granted))`) >= 1
	})

	truncated := make(chan error, 1)
	app := m.source.connect()
	go func() {
		_, err := app.Exec(ctx, `TRUNCATE aa_data`)
		truncated <- err
	}()
	// The TRUNCATE either commits at once (ppg holds nothing pg_dump does
	// not) or waits behind ppg's lock.
	var done bool
	waitFor(t, time.Minute, "the TRUNCATE to commit or wait", func() bool {
		select {
		case err := <-truncated:
			if err != nil {
				t.Fatalf("TRUNCATE aa_data: %v", err)
			}
			done = true
			return true
		default:
		}
		return m.source.number(`SELECT count(*) FROM pg_locks WHERE relation = 'aa_data'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted`) == 1
	})
	if !done {
		t.Log("the TRUNCATE waits behind a lock on aa_data")
	}
	if err := btx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	r := finishedWithin(t, m, p)
	if !done {
		if err := <-truncated; err != nil {
			t.Fatalf("TRUNCATE aa_data: %v", err)
		}
	}
	r.wantExit(0)
	r.wantVerified()
	if n := m.source.number(`SELECT count(*) FROM aa_data`); n != 0 {
		t.Errorf("aa_data holds %d rows on the source after the TRUNCATE", n)
	}
	compareData(t, m.source, m.target)
}

// finishedWithin waits for the migration p to end within dumpLocksBudget,
// or kills it and fails the test, showing the locks on the tables.
func finishedWithin(t *testing.T, m *migration, p *process) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(dumpLocksBudget):
		locks := m.source.rows(`SELECT a.application_name, l.mode, l.granted, coalesce(l.relation::regclass::text, l.locktype)
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'relation' AND l.relation IN ('aa_data'::regclass, 'mm_kept'::regclass, 'zz_gate'::regclass) ORDER BY 1, 4`)
		var sb strings.Builder
		for _, l := range locks {
			sb.WriteString("  " + strings.Join(l, " ") + "\n")
		}
		p.kill()
		<-p.done
		t.Fatalf("the migration did not finish within %v of pg_dump's start: ppg's count, the TRUNCATE and pg_dump wait on each other; locks:\n%s%s",
			dumpLocksBudget, sb.String(), p.result().show())
	}
	return p.result()
}

// lockAccessExclusive begins a transaction on a new connection to d that
// holds table in ACCESS EXCLUSIVE mode; the caller rolls it back.
func lockAccessExclusive(t *testing.T, ctx context.Context, d *database, table string) pgx.Tx {
	t.Helper()
	tx, err := d.connect().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, `LOCK TABLE `+table+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return tx
}

// dumpWaitsFor reports whether pg_dump's session waits for a lock on table.
func dumpWaitsFor(d *database, table string) bool {
	return d.number(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE a.application_name LIKE 'ppg-dump-%' AND l.relation = $1::regclass AND NOT l.granted`, table) == 1
}

// TestDumpTruncateQueuedBehindPgDump: a TRUNCATE of aa_data queues behind
// pg_dump's lock before ppg counts aa_data (pg_dump's LOCK TABLE waits
// behind one blocker, the TRUNCATE behind pg_dump's request, and the
// blocker lets go). ppg must not count aa_data after the TRUNCATE (empty,
// while the dump holds its rows): it counts it in the dump file. The
// migration verifies, and the target holds aa_data as the snapshot did.
func TestDumpTruncateQueuedBehindPgDump(t *testing.T) {
	m := newMigration(t)
	m.source.exec(dumpLocksSchemaSQL)
	before := m.source.tableMD5s()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()

	gate := lockAccessExclusive(t, ctx, m.source, "zz_gate")
	p := m.ppg(fromSource(m.source.url), toTarget(m.target.url)).start("--non-interactive", "--json", "--verify", "content")
	waitFor(t, time.Minute, "pg_dump to wait for its lock on zz_gate", func() bool { return dumpWaitsFor(m.source, "zz_gate") })
	// ppg has listed its tables (before pg_dump started) and holds none
	// that pg_dump does not: aa_data is free to lock.
	lockCtx, lockCancel := context.WithTimeout(ctx, time.Minute)
	defer lockCancel()
	hold := lockAccessExclusive(t, lockCtx, m.source, "aa_data")
	if err := gate.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "pg_dump to wait for its lock on aa_data", func() bool { return dumpWaitsFor(m.source, "aa_data") })
	truncated := make(chan error, 1)
	app := m.source.connect()
	go func() {
		_, err := app.Exec(ctx, `TRUNCATE aa_data`)
		truncated <- err
	}()
	waitFor(t, time.Minute, "the TRUNCATE to queue behind pg_dump", func() bool {
		return m.source.number(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE a.application_name = 'ppg-e2e-check' AND l.relation = 'aa_data'::regclass AND l.mode = 'AccessExclusiveLock' AND NOT l.granted`) == 1
	})
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	r := finishedWithin(t, m, p)
	if err := <-truncated; err != nil {
		t.Fatalf("TRUNCATE aa_data: %v", err)
	}
	r.wantExit(0)
	r.wantVerified()
	st := m.state()
	data, err := os.ReadFile(st.Dump.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		FromDump []string `json:"counted_in_dump"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil || !slices.Equal(manifest.FromDump, []string{"public.aa_data"}) {
		t.Errorf("the manifest's tables counted in the dump file: %v (%v), want public.aa_data", manifest.FromDump, err)
	}
	if n := m.source.number(`SELECT count(*) FROM aa_data`); n != 0 {
		t.Errorf("aa_data holds %d rows on the source after the TRUNCATE", n)
	}
	// The TRUNCATE came after the snapshot: the target holds the rows the
	// snapshot saw, the other tables as the source does.
	got := m.target.tableMD5s()
	compareMaps(t, "table fingerprints (rows, md5 of the sorted rows) against the source's before the TRUNCATE", before, got)
}
