//go:build e2e

package e2e

// What the restore leaves in the target besides the data: statistics for
// everything that holds rows, and, after the target was emptied to restore
// again, a public schema as a new database has it.

import (
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// statsSQL holds data in a plain table, two partitions and a materialized
// view, beside an empty table and a materialized view without data.
const statsSQL = `
CREATE TABLE public.plain AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g;
CREATE TABLE public.nothing (id int);
CREATE TABLE public.parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE public.parted_low PARTITION OF public.parted FOR VALUES FROM (1) TO (1001);
CREATE TABLE public.parted_high PARTITION OF public.parted FOR VALUES FROM (1001) TO (3001);
INSERT INTO public.parted SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
CREATE MATERIALIZED VIEW public.plain_buckets AS SELECT id % 10 AS bucket, count(*) AS n FROM public.plain GROUP BY 1;
CREATE MATERIALIZED VIEW public.not_populated AS SELECT 1 AS x WITH NO DATA;
`

// autovacuumOff turns autovacuum off on d's server and waits until a new
// session sees it off.
func autovacuumOff(t testing.TB, d *database) {
	t.Helper()
	d.exec(`ALTER SYSTEM SET autovacuum = off`, `SELECT pg_reload_conf()`)
	waitFor(t, time.Minute, "autovacuum off", func() bool {
		return d.value(`SELECT setting FROM pg_settings WHERE name = 'autovacuum'`) == "off"
	})
}

// TestEverythingWithDataIsAnalyzed: into a target whose autovacuum is off,
// every table, partition and materialized view that holds rows has
// statistics after the migration: rows in pg_statistic, and a manual
// ANALYZE on record; the partitioned table has those of its whole tree.
func TestEverythingWithDataIsAnalyzed(t *testing.T) {
	m := newMigration(t)
	autovacuumOff(t, m.target)
	m.source.exec(statsSQL)
	r := m.run("--non-interactive", "--json")
	r.wantExit(0)
	r.wantVerified()

	rels := m.target.rows(`
		SELECT c.oid::regclass::text, c.relkind::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm') AND c.relispopulated AND n.nspname = 'public'
		ORDER BY 1`)
	kinds := map[string]int{}
	var holding []string
	for _, rel := range rels {
		if m.target.number(`SELECT count(*) FROM `+rel[0]) == 0 {
			continue
		}
		holding = append(holding, rel[0])
		kinds[rel[1]]++
		if n := m.target.number(`SELECT count(*) FROM pg_statistic WHERE starelid = $1::regclass`, rel[0]); n == 0 {
			t.Errorf("%s holds rows and has no statistics", rel[0])
		}
	}
	if kinds["r"] != 3 || kinds["m"] != 1 {
		t.Fatalf("relations holding rows %v: want the plain table, both partitions and the materialized view", holding)
	}
	// The partitioned table's statistics of the whole tree, which
	// autovacuum never gathers.
	if n := m.target.number(`SELECT count(*) FROM pg_statistic WHERE starelid = 'public.parted'::regclass AND stainherit`); n == 0 {
		t.Error("the partitioned table has no statistics of its whole tree")
	}
	// The statistics views get ANALYZE's record when ppg's session ends,
	// a moment after ppg exits.
	waitFor(t, 30*time.Second, "a manual ANALYZE on record for every relation holding rows", func() bool {
		for _, rel := range holding {
			if m.target.value(`SELECT (last_analyze IS NOT NULL AND last_autoanalyze IS NULL)::text FROM pg_stat_all_tables WHERE relid = $1::regclass`, rel) != "true" {
				return false
			}
		}
		return true
	})
}

// publicSchema is the public schema's owner, privileges and comment.
func publicSchema(d *database) []string {
	return d.rows(`SELECT nspowner::regrole::text, coalesce(nspacl::text, '<default>'), coalesce(obj_description(oid, 'pg_namespace'), '<none>')
		FROM pg_namespace WHERE nspname = 'public'`)[0]
}

// TestResetTargetKeepsPublic: a migration whose restore is done is found
// stale at its verify step (the source was written to), and dumped again:
// the target is emptied and restored again. Its public schema then has
// the owner, privileges and comment of a new database's on the same
// server.
func TestResetTargetKeepsPublic(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	fresh := newDatabase(t, m.target.server, "reference")
	want := publicSchema(fresh)
	if want[0] != "pg_database_owner" {
		t.Fatalf("a new database's public schema belongs to %s: the comparison would prove little", want[0])
	}
	if got := publicSchema(m.target); !slices.Equal(got, want) {
		t.Fatalf("the target's public schema before the migration %q, a new database's %q", got, want)
	}

	// Dump only (no target key yet), write to the source, then restore:
	// the verify step fails with exit 8.
	r := m.ppg(toTarget("")).run("--non-interactive", "--json")
	if !r.has(stepFinished("dump")) {
		t.Fatalf("the run without the target's key did not dump:\n%s", r.show())
	}
	m.source.exec(`INSERT INTO public.customers (name) VALUES ('after the dump'); SELECT pg_stat_force_next_flush();`)
	r = m.run("--non-interactive", "--json")
	r.wantExit(words.StatusChanged)
	if !r.has(stepFinished("restore")) {
		t.Fatalf("the restore did not finish:\n%s", r.show())
	}

	// Dump again: the target is emptied first.
	r = m.run("--non-interactive", "--json", "--on-source-change=redump")
	r.wantExit(0)
	r.wantVerified()
	if !r.has(eventWhere("the target emptied", func(ev event) bool {
		return ev.Notice != nil && ev.Notice.Code == migrate.NoticeTargetReset
	})) {
		t.Fatalf("the target was not emptied before the second restore:\n%s", r.show())
	}
	compareData(t, m.source, m.target)
	if got := publicSchema(m.target); !slices.Equal(got, want) {
		t.Errorf("after the reset the public schema is (owner, privileges, comment) %q; a new database's is %q", got, want)
	}
	// Roles other than the owner still use public, as in a new database.
	m.target.exec(`CREATE ROLE app_user LOGIN`)
	if v := m.target.value(`SELECT has_schema_privilege('app_user', 'public', 'USAGE')::text`); v != "true" {
		t.Errorf("another role lost USAGE on public: %s", v)
	}
}

// TestResumedRedumpKeepsPublic: a migration stopped during its restore's
// data, whose dump is then damaged, is resumed: the resume dumps again
// and empties the target first. Its public schema then has the owner,
// privileges and comment of a new database's on the same server.
func TestResumedRedumpKeepsPublic(t *testing.T) {
	m := newMigration(t, withBandwidth(1<<20))
	m.source.exec(smallSchemaSQL + bulkSQL(1, 20000))
	want := publicSchema(newDatabase(t, m.target.server, "reference"))

	p := m.start("--non-interactive", "--json")
	p.waitFor(eventWhere("the restore loading data", func(ev event) bool {
		return progressOf("restore").matches(ev) && ev.Progress.Phase == migrate.PhaseData
	}))
	p.signalPPG(syscall.SIGINT)
	p.wait().wantExit(words.StatusStopped)
	s := m.state()
	path := dumpPath(m.dir, s)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 2; i < len(data)/2+16; i++ {
		data[i] ^= 0x5a
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	r := m.run("--non-interactive", "--json")
	r.wantExit(0)
	r.wantVerified()
	if !r.has(eventWhere("the target emptied", func(ev event) bool {
		return ev.Notice != nil && ev.Notice.Code == migrate.NoticeTargetReset
	})) {
		t.Fatalf("the resume did not empty the target:\n%s", r.show())
	}
	compareData(t, m.source, m.target)
	if got := publicSchema(m.target); !slices.Equal(got, want) {
		t.Errorf("after the reset the public schema is (owner, privileges, comment) %q; a new database's is %q", got, want)
	}
}
