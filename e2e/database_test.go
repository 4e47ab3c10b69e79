//go:build e2e

package e2e

// A database of a test server, reached directly (never through ppg) to
// build test data and to check a migration independently of ppg's own
// verification: row fingerprints, sequences, catalog objects, large
// objects.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
)

// database is one database of a test server. Its methods fail the test
// on errors.
type database struct {
	t      testing.TB
	server *pgserver.Server
	name   string
	url    string // a direct URL, as the server's superuser unless made otherwise
	key    string // the API key that leads to it through the gateway, if any
}

// newDatabase creates an empty database on server.
func newDatabase(t testing.TB, server *pgserver.Server, name string) *database {
	t.Helper()
	admin := &database{t: t, server: server, name: "postgres", url: server.URL("postgres")}
	admin.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize())
	return &database{t: t, server: server, name: name, url: server.URL(name)}
}

// in is d for the (sub)test t.
func (d *database) in(t testing.TB) *database {
	c := *d
	c.t = t
	return &c
}

// as is d reached with another URL (another user's).
func (d *database) as(url string) *database {
	c := *d
	c.url = url
	return &c
}

// drop drops the database, closing its sessions.
func (d *database) drop() {
	d.t.Helper()
	admin := &database{t: d.t, server: d.server, name: "postgres", url: d.server.URL("postgres")}
	admin.exec("DROP DATABASE " + pgx.Identifier{d.name}.Sanitize() + " WITH (FORCE)")
}

// exec runs scripts of SQL statements, one after the other (each a
// transaction unless it commits as it goes).
func (d *database) exec(scripts ...string) {
	d.t.Helper()
	for _, sql := range scripts {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := sandbox.Exec(ctx, d.url, sql)
		cancel()
		if err != nil {
			d.t.Fatalf("exec SQL %.200q...: %v", sql, err)
		}
	}
}

// connect connects with session settings that make text output identical
// across servers (time zone, date and float formats). The connection is
// closed at the end of the test at the latest.
func (d *database) connect() *pgx.Conn {
	d.t.Helper()
	cfg, err := pgx.ParseConfig(d.url)
	if err != nil {
		d.t.Fatal(err)
	}
	for k, v := range map[string]string{
		"TimeZone": "UTC", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres",
		"extra_float_digits": "1", "bytea_output": "hex", "application_name": "ppg-e2e-check",
	} {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		d.t.Fatalf("connect: %v", err)
	}
	d.t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// rows runs a query and returns its rows as text (NULL as "<null>").
func (d *database) rows(sql string, args ...any) [][]string {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	return connRows(d.t, conn, sql, args...)
}

// value is rows for a query of one row and one column.
func (d *database) value(sql string, args ...any) string {
	d.t.Helper()
	rows := d.rows(sql, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		d.t.Fatalf("%s: got %d rows, want one value", sql, len(rows))
	}
	return rows[0][0]
}

// number is value for a query of one integer.
func (d *database) number(sql string, args ...any) int64 {
	d.t.Helper()
	n, err := strconv.ParseInt(d.value(sql, args...), 10, 64)
	if err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func connRows(t testing.TB, conn *pgx.Conn, sql string, args ...any) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				row[i] = "<null>"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

// connColumn is the first column of a query's rows.
func connColumn(t testing.TB, conn *pgx.Conn, sql string) []string {
	t.Helper()
	var out []string
	for _, row := range connRows(t, conn, sql) {
		out = append(out, row[0])
	}
	return out
}

// userSchemasSQL restricts catalog queries to the user's schemas (alias n).
const userSchemasSQL = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'`

// relationsSQL lists the quoted qualified names of the user's relations of
// a kind ('r' ordinary tables, partitions included; 'S' sequences).
func relationsSQL(kind string) string {
	return `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = '` + kind + `' AND ` + userSchemasSQL + ` ORDER BY 1`
}

// tableFingerprint identifies a table's content: its row count and the md5
// of its rows' text, sorted.
type tableFingerprint struct {
	Rows int64
	MD5  string
}

// tableMD5s returns the fingerprint of every ordinary table of the user's
// schemas, by quoted qualified name.
func (d *database) tableMD5s() map[string]tableFingerprint {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string]tableFingerprint{}
	for _, name := range connColumn(d.t, conn, relationsSQL("r")) {
		row := connRows(d.t, conn, `SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '')
			FROM ONLY `+name+` t`)[0]
		rows, _ := strconv.ParseInt(row[0], 10, 64)
		out[name] = tableFingerprint{Rows: rows, MD5: row[1]}
	}
	return out
}

// rowCounts counts the rows of every ordinary table of the user's schemas,
// by quoted qualified name: tableMD5s without the md5, for databases too
// large to fingerprint.
func (d *database) rowCounts() map[string]int64 {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string]int64{}
	for _, name := range connColumn(d.t, conn, relationsSQL("r")) {
		n, _ := strconv.ParseInt(connRows(d.t, conn, "SELECT count(*) FROM ONLY "+name)[0][0], 10, 64)
		out[name] = n
	}
	return out
}

// sequences returns "last_value is_called" of every sequence of the
// user's schemas, by quoted qualified name.
func (d *database) sequences() map[string]string {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string]string{}
	for _, name := range connColumn(d.t, conn, relationsSQL("S")) {
		row := connRows(d.t, conn, `SELECT last_value, is_called FROM `+name)[0]
		out[name] = row[0] + " " + row[1]
	}
	return out
}

// largeObjects returns the md5 of every large object's content and its
// comment, by oid (pg_dump keeps the oids).
func (d *database) largeObjects() map[string]string {
	d.t.Helper()
	out := map[string]string{}
	for _, row := range d.rows(`SELECT oid::text, md5(lo_get(oid)) || ' ' || coalesce(obj_description(oid, 'pg_largeobject'), '<none>')
		FROM pg_largeobject_metadata`) {
		out[row[0]] = row[1]
	}
	return out
}

// tableLoad is what one table held at some moment: its row count and the
// range of the inserting transaction ids of its rows.
type tableLoad struct {
	rows             int64
	minXmin, maxXmin int64
}

// loads reads the tableLoad of each table (quoted qualified names).
func (d *database) loads(tables []string) map[string]tableLoad {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string]tableLoad{}
	for _, name := range tables {
		row := connRows(d.t, conn, "SELECT count(*), coalesce(min(xmin::text::bigint), 0), coalesce(max(xmin::text::bigint), 0) FROM ONLY "+name)[0]
		var l tableLoad
		l.rows, _ = strconv.ParseInt(row[0], 10, 64)
		l.minXmin, _ = strconv.ParseInt(row[1], 10, 64)
		l.maxXmin, _ = strconv.ParseInt(row[2], 10, 64)
		out[name] = l
	}
	return out
}

// copyBytes is the size of the COPY text of every user table: about what
// pg_dump reads through the tunnel for data.
func (d *database) copyBytes() int64 {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	var n int64
	for _, name := range connColumn(d.t, conn, relationsSQL("r")) {
		size, _ := strconv.ParseInt(connRows(d.t, conn, "SELECT coalesce(sum(octet_length(t::text)), 0) FROM "+name+" t")[0][0], 10, 64)
		n += size
	}
	return n
}

// schemaObjectQueries list the user's objects by kind, each row a stable
// description (names, definitions where the text is the stored source).
var schemaObjectQueries = []struct{ kind, sql string }{
	{"schemas", `SELECT n.nspname FROM pg_namespace n WHERE ` + userSchemasSQL},
	{"tables", `SELECT format('%I.%I %s', n.nspname, c.relname, c.relkind) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'f') AND ` + userSchemasSQL},
	{"partitions", `SELECT format('%s of %s %s', c.oid::regclass, i.inhparent::regclass, pg_get_expr(c.relpartbound, c.oid))
		FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relispartition AND c.relkind IN ('r', 'p')`},
	{"views", `SELECT format('%I.%I ', n.nspname, c.relname) || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'v' AND ` + userSchemasSQL},
	{"materialized views", `SELECT format('%I.%I populated=%s ', n.nspname, c.relname, c.relispopulated) || pg_get_viewdef(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ` + userSchemasSQL},
	{"sequences", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'S' AND ` + userSchemasSQL},
	{"indexes", `SELECT format('%I.%I ', n.nspname, c.relname) || pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('i', 'I') AND ` + userSchemasSQL},
	{"constraints", `SELECT format('%s %I %s ', k.conrelid::regclass, k.conname, k.contype) || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE ` + userSchemasSQL},
	{"functions", `SELECT format('%I.%I(%s) %s %s ', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind, l.lanname)
		|| md5(coalesce(p.prosrc, '')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		WHERE ` + userSchemasSQL},
	{"triggers", `SELECT format('%s %I %s %s', t.tgrelid::regclass, t.tgname, t.tgfoid::regproc, t.tgenabled) FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND ` + userSchemasSQL},
	{"enum labels", `SELECT format('%I.%I ', n.nspname, t.typname) || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid WHERE ` + userSchemasSQL + ` GROUP BY n.nspname, t.typname`},
	{"types", `SELECT format('%I.%I %s', n.nspname, t.typname, t.typtype) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) AND ` + userSchemasSQL},
	{"policies", `SELECT format('%s %I %s', p.polrelid::regclass, p.polname, pg_get_expr(p.polqual, p.polrelid)) FROM pg_policy p`},
	{"comments", `SELECT format('%s %s', d.objoid::regclass, d.description) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND ` + userSchemasSQL},
}

// objects returns, by kind, the sorted descriptions of the user's objects
// (see schemaObjectQueries).
func (d *database) objects() map[string][]string {
	d.t.Helper()
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	out := map[string][]string{}
	for _, q := range schemaObjectQueries {
		list := connColumn(d.t, conn, q.sql)
		sort.Strings(list)
		out[q.kind] = list
	}
	return out
}

// catalog lists every object of the user's schemas (schemas, relations,
// functions, types) and every table's fingerprint, to tell whether a
// database changed.
func (d *database) catalog() []string {
	d.t.Helper()
	var out []string
	for kind, list := range d.objects() {
		for _, s := range list {
			out = append(out, kind+": "+s)
		}
	}
	for name, fp := range d.tableMD5s() {
		out = append(out, fmt.Sprintf("rows: %s %d %s", name, fp.Rows, fp.MD5))
	}
	sort.Strings(out)
	return out
}

// compareData checks the target's tables (row counts and the md5 of their
// sorted rows) and sequences against the source's.
func compareData(t testing.TB, src, dst *database) {
	t.Helper()
	want := src.tableMD5s()
	if len(want) == 0 {
		t.Fatal("the source has no tables: nothing to compare")
	}
	compareMaps(t, "table fingerprints (rows, md5 of the sorted rows)", want, dst.tableMD5s())
	compareMaps(t, "sequences (last_value, is_called)", src.sequences(), dst.sequences())
}

// compareCounts checks the target's row counts against the source's: for
// databases too large for compareData.
func compareCounts(t testing.TB, src, dst *database) {
	t.Helper()
	want := src.rowCounts()
	if len(want) == 0 {
		t.Fatal("the source has no tables: nothing to compare")
	}
	compareMaps(t, "row counts", want, dst.rowCounts())
}

// compareMaps reports every key whose value differs between the source's
// map want and the target's map got.
func compareMaps[V comparable](t testing.TB, what string, want, got map[string]V) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing on the target (source %v)", k, w))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: source %v, target %v", k, w, g))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only on the target (%v)", k, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s differ in %d places:\n  %s", what, len(diffs), strings.Join(firstN(diffs, 30), "\n  "))
	}
}

// compareLists reports the differences between two sorted lists.
func compareLists(t testing.TB, what string, want, got []string) {
	t.Helper()
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s differ:\n  missing on the target: %q\n  only on the target: %q", what, firstN(missing, 20), firstN(extra, 20))
	}
}
