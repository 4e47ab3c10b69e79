//go:build e2e

package e2e

// The database of the fault matrix (faults_test.go): what a restore
// interrupted at any point must still carry whole.

import (
	"context"
	"sort"
	"testing"
)

// faultSchemaSQL builds, on an empty PostgreSQL 16 database, schema
// faults: a table with row level security (two policies) and extended
// statistics, a table with a rule, a materialized view, a
// range-partitioned table with three partitions and an index on the
// parent; large objects (one empty, one of about 1.1 MB, five small
// ones).
//
// The materialized view calls faults.refresh_pause(), which sleeps for
// the seconds of the setting ppg_e2e.refresh_pause (none unless set): a
// target database given that setting keeps its restore busy refreshing
// the view, the last item of the post-data section, after the policies
// and statistics were created.
const faultSchemaSQL = `
CREATE SCHEMA faults;

CREATE TABLE faults.accounts (
	id int PRIMARY KEY,
	owner text NOT NULL,
	region text NOT NULL,
	plan text NOT NULL,
	balance numeric(12, 2) NOT NULL
);
INSERT INTO faults.accounts
SELECT g, 'owner' || g % 97, (ARRAY['eu', 'us', 'ap'])[1 + g % 3], (ARRAY['free', 'pro', 'team'])[1 + g % 3], g * 1.25
FROM generate_series(1, 3000) g;
ALTER TABLE faults.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_owner ON faults.accounts USING (owner = current_user);
CREATE POLICY accounts_positive ON faults.accounts FOR INSERT WITH CHECK (balance >= 0);
CREATE STATISTICS faults.accounts_region_plan (dependencies, ndistinct, mcv) ON region, plan FROM faults.accounts;

CREATE TABLE faults.notes (id bigserial PRIMARY KEY, account int NOT NULL, body text NOT NULL);
INSERT INTO faults.notes (account, body) SELECT 1 + g % 3000, 'note ' || md5(g::text) FROM generate_series(1, 2000) g;
CREATE RULE notes_keep AS ON DELETE TO faults.notes DO INSTEAD NOTHING;

CREATE FUNCTION faults.refresh_pause() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_catalog.pg_sleep(coalesce(nullif(pg_catalog.current_setting('ppg_e2e.refresh_pause', true), ''), '0')::float8);
	RETURN 1;
END
$$;
CREATE MATERIALIZED VIEW faults.plan_totals AS
	SELECT a.plan, a.region, count(*) AS n, sum(a.balance) AS total, p.paused
	FROM faults.accounts a CROSS JOIN (SELECT faults.refresh_pause() AS paused) p
	GROUP BY a.plan, a.region, p.paused;

CREATE TABLE faults.readings (id bigint NOT NULL, at date NOT NULL, value numeric NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE faults.readings_2024 PARTITION OF faults.readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE faults.readings_2025 PARTITION OF faults.readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE faults.readings_other PARTITION OF faults.readings DEFAULT;
CREATE INDEX readings_at ON faults.readings (at);
INSERT INTO faults.readings SELECT g, date '2024-01-01' + g % 900, g / 7.0 FROM generate_series(1, 6000) g;

SELECT lo_from_bytea(0, ''::bytea);
SELECT lo_from_bytea(0, (SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea) FROM generate_series(1, 70000) g));
SELECT lo_from_bytea(0, convert_to('small large object ' || g, 'UTF8')) FROM generate_series(1, 5) g;
ANALYZE;
`

// faultLargeObjects is how many large objects faultSchemaSQL creates.
const faultLargeObjects = 7

// faultTables are the data of the fault matrix: three tables of about
// 1.5 MB, which take a few seconds through a gateway capped at 2 MB/s a
// session, and twelve small ones.
func faultTables() []tableSpec {
	return tableSpecs("f", 15, 100, func(i int) int {
		if i < 3 {
			return 15000
		}
		return 300 + 50*i
	})
}

// faultSourceSQL is the whole source of the fault matrix: faultTables,
// faultSchemaSQL and 300 small tables linked by 300 foreign keys (schema
// fk), each script run on its own.
func faultSourceSQL() []string {
	return append([]string{tablesSQL(faultTables()), faultSchemaSQL}, manyForeignKeysSQL(300)...)
}

// faultObjectQueries list what the fault matrix checks besides the
// tables' rows: each row a stable description.
var faultObjectQueries = []struct{ kind, sql string }{
	{"row level security", `SELECT format('%s %s %s', c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity AND ` + userSchemasSQL},
	{"policies", `SELECT format('%s.%s %s %s %s %s %s', schemaname, tablename, policyname, permissive, cmd, qual, with_check) FROM pg_policies`},
	{"extended statistics", `SELECT format('%s.%s on %s (%s) kinds %s', n.nspname, s.stxname, s.stxrelid::regclass, s.stxkeys, s.stxkind)
		FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace`},
	{"rules", `SELECT format('%s.%s %s ', schemaname, tablename, rulename) || definition FROM pg_rules WHERE ` +
		`schemaname NOT IN ('pg_catalog', 'information_schema')`},
	{"materialized views", `SELECT format('%s.%s populated=%s ', schemaname, matviewname, ispopulated) || definition FROM pg_matviews`},
	{"materialized view rows", `SELECT 'faults.plan_totals ' || md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM faults.plan_totals t`},
	{"partitions", `SELECT format('%s of %s %s', c.oid::regclass, i.inhparent::regclass, pg_get_expr(c.relpartbound, c.oid))
		FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relispartition AND c.relkind IN ('r', 'p')`},
	{"partitioned indexes", `SELECT format('%s ', c.oid::regclass) || pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relkind = 'I'`},
	{"foreign keys", `SELECT count(*)::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
		WHERE k.contype = 'f' AND ` + userSchemasSQL},
}

// faultObjects returns, by kind, the sorted descriptions of
// faultObjectQueries.
func (d *database) faultObjects() map[string][]string {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string][]string{}
	for _, q := range faultObjectQueries {
		list := connColumn(d.t, conn, q.sql)
		sort.Strings(list)
		out[q.kind] = list
	}
	return out
}

// compareFaultTarget checks the target independently of ppg: every
// table's rows (count and md5 of the sorted rows), the sequences, every
// large object's md5, and the objects of faultObjectQueries.
func compareFaultTarget(t testing.TB, src, dst *database) {
	t.Helper()
	compareData(t, src, dst)
	want := src.largeObjects()
	if len(want) != faultLargeObjects {
		t.Fatalf("the source has %d large objects, want %d", len(want), faultLargeObjects)
	}
	compareMaps(t, "large objects (md5, comment)", want, dst.largeObjects())
	srcObjs, dstObjs := src.faultObjects(), dst.faultObjects()
	for _, q := range faultObjectQueries {
		if len(srcObjs[q.kind]) == 0 {
			t.Fatalf("the source has no %s", q.kind)
		}
		compareLists(t, q.kind, srcObjs[q.kind], dstObjs[q.kind])
	}
}
