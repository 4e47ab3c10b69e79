package pgdb

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the catalog queries need: a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// userNamespaces restricts catalog queries to the user's schemas.
const userNamespaces = `n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// notExtensionMember excludes objects that belong to an extension (they are
// created by CREATE EXTENSION, not restored one by one).
func notExtensionMember(classid, oid string) string {
	return fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '%s'::regclass AND d.objid = %s AND d.deptype = 'e')`, classid, oid)
}

// listTables returns the ordinary tables (including partitions) of the
// user's schemas: the relations whose rows pg_dump copies.
func listTables(ctx context.Context, conn querier) ([]Table, error) {
	rows, err := conn.Query(ctx, `
		SELECT n.nspname, c.relname, c.reltuples::bigint, pg_table_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND `+userNamespaces+` AND `+notExtensionMember("pg_class", "c.oid")+`
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Table, error) {
		var t Table
		err := r.Scan(&t.Schema, &t.Name, &t.EstimatedRows, &t.Bytes)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return tables, nil
}

// CountBatch bounds the number of tables counted in one statement: a
// caller counting many tables with progress counts this many at a time.
const CountBatch = 200

// countRows returns the exact row count of each table (by qualified name),
// in whatever transaction conn is in. Counts are batched into UNION ALL
// statements, so that thousands of tables cost few round trips.
func countRows(ctx context.Context, conn querier, tables []Table) (map[string]int64, error) {
	counts := make(map[string]int64, len(tables))
	for start := 0; start < len(tables); start += CountBatch {
		batch := tables[start:min(start+CountBatch, len(tables))]
		var sb strings.Builder
		for i, t := range batch {
			if i > 0 {
				sb.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&sb, "SELECT %d, count(*) FROM ONLY %s", start+i, t.Quoted())
		}
		rows, err := conn.Query(ctx, sb.String())
		if err != nil {
			return nil, fmt.Errorf("count rows: %w", err)
		}
		for rows.Next() {
			var i int
			var n int64
			if err := rows.Scan(&i, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count rows: %w", err)
			}
			counts[tables[i].QualifiedName()] = n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count rows: %w", err)
		}
	}
	return counts, nil
}

// objectCountQueries maps each kind to a query counting it in the user's
// schemas, without extension members and internal objects.
var objectCountQueries = [...]struct{ kind, query string }{
	{"tables", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")},
	{"views", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")},
	{"materialized views", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")},
	{"sequences", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")},
	{"indexes", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid")},
	{"constraints", `SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_constraint", "k.oid")},
	{"functions", `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ` + userNamespaces + ` AND ` + notExtensionMember("pg_proc", "p.oid")},
	{"triggers", `SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND ` + userNamespaces},
	{"types", `SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_type", "t.oid")},
	{"extensions", `SELECT count(*) FROM pg_extension`},
}

// countObjects returns the object counts of the database conn is on. The
// counts go out together: two round trips, not two each.
func countObjects(ctx context.Context, conn querier) (ObjectCounts, error) {
	counts := ObjectCounts{}
	b := &pgx.Batch{}
	for _, q := range objectCountQueries {
		b.Queue(q.query).QueryRow(func(r pgx.Row) error {
			var n int64
			if err := r.Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", q.kind, err)
			}
			counts[q.kind] = n
			return nil
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("count objects: %w", err)
	}
	return counts, nil
}

// readSequences returns each sequence's last value ("schema.name" to value;
// sequences never used have no entry).
func readSequences(ctx context.Context, conn querier) (map[string]int64, error) {
	rows, err := conn.Query(ctx, `SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read sequences: %w", err)
	}
	seqs := map[string]int64{}
	for rows.Next() {
		var schema, name string
		var v int64
		if err := rows.Scan(&schema, &name, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read sequences: %w", err)
		}
		seqs[schema+"."+name] = v
	}
	return seqs, rows.Err()
}

func readServerInfo(ctx context.Context, conn querier) (ServerInfo, error) {
	var s ServerInfo
	b := &pgx.Batch{}
	b.Queue(`
		SELECT current_setting('server_version_num')::int,
		       pg_database_size(current_database()),
		       d.oid::int8,
		       coalesce((SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()), 0),
		       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		         WHERE ` + userNamespaces + ` AND ` + notExtensionMember("pg_class", "c.oid") + `)
		     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		         WHERE ` + userNamespaces + ` AND ` + notExtensionMember("pg_proc", "p.oid") + `)
		     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		         WHERE t.typtype IN ('e', 'd', 'r') AND ` + userNamespaces + ` AND ` + notExtensionMember("pg_type", "t.oid") + `)
		FROM pg_database d WHERE d.datname = current_database()`).QueryRow(func(r pgx.Row) error {
		return r.Scan(&s.VersionNum, &s.Size, &s.DatabaseOID, &s.Writes, &s.UserObjects)
	})
	b.Queue(`SELECT n.nspname FROM pg_namespace n WHERE ` + userNamespaces + ` AND n.nspname <> 'public' AND ` + notExtensionMember("pg_namespace", "n.oid") + ` ORDER BY 1`).
		Query(func(rows pgx.Rows) error {
			var err error
			s.UserSchemas, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
	// Both go out together: two round trips, not two each.
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return s, fmt.Errorf("read server information: %w", err)
	}
	sort.Strings(s.UserSchemas)
	// The system identifier tells servers apart; reading it may need
	// privileges a managed database does not grant. A simple query: one
	// round trip.
	var id int64
	if err := conn.QueryRow(ctx, `SELECT system_identifier FROM pg_control_system()`, pgx.QueryExecModeSimpleProtocol).Scan(&id); err == nil {
		s.SystemID = fmt.Sprint(id)
	}
	return s, nil
}

// readWrites returns the database's count of rows written (see
// ServerInfo.Writes). Statistics reach the view up to a second late.
func readWrites(ctx context.Context, conn querier) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, `SELECT coalesce((SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()), 0)`).Scan(&n)
	return n, err
}

// largeObjectOIDs returns the OIDs of the database's large objects, in
// order.
func largeObjectOIDs(ctx context.Context, conn querier) ([]uint32, error) {
	rows, err := conn.Query(ctx, `SELECT oid::int8 FROM pg_largeobject_metadata ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list large objects: %w", err)
	}
	oids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint32, error) {
		var n int64
		err := r.Scan(&n)
		return uint32(n), err
	})
	if err != nil {
		return nil, fmt.Errorf("list large objects: %w", err)
	}
	return oids, nil
}

// tableWrites returns each user table's count of rows inserted, updated and
// deleted since statistics were reset (pg_stat_user_tables), by qualified
// name. Like ServerInfo.Writes, it only grows while the table is written
// to, and it reaches the view up to a second late.
func tableWrites(ctx context.Context, conn querier) (map[string]int64, error) {
	rows, err := conn.Query(ctx, `SELECT schemaname, relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("read table statistics: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var schema, name string
		var n int64
		if err := rows.Scan(&schema, &name, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read table statistics: %w", err)
		}
		out[schema+"."+name] = n
	}
	return out, rows.Err()
}

// contentSettings make a row's text the same on every server ppg compares:
// the output of dates, intervals, floats and bytea depends on them.
var contentSettings = [...]string{
	"SET LOCAL TimeZone = 'UTC'", "SET LOCAL DateStyle = 'ISO, MDY'", "SET LOCAL IntervalStyle = 'postgres'",
	"SET LOCAL extra_float_digits = 1", "SET LOCAL bytea_output = 'hex'",
}

// setContentSettings puts contentSettings in force for the rest of conn's
// transaction.
func setContentSettings(ctx context.Context, conn querier) error {
	for _, s := range contentSettings {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare the content hashes: %w", err)
		}
	}
	return nil
}

// contentHashes returns, for each table, a hash of its rows: the sum of
// the first 64 bits of each row's md5 (as text), with the row count. A sum
// does not depend on the order rows come in, so no key or sort is needed,
// and duplicate rows count as many times as they occur; one changed byte
// changes its row's md5 and so the sum. conn must be in a transaction
// where setContentSettings ran.
func contentHashes(ctx context.Context, conn querier, tables []Table) (map[string]string, error) {
	out := make(map[string]string, len(tables))
	for _, t := range tables {
		var h string
		err := conn.QueryRow(ctx, `SELECT count(*)::text || ':' || coalesce(sum(('x' || substr(md5(r::text), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM ONLY `+t.Quoted()+` r`).Scan(&h)
		if err != nil {
			return nil, fmt.Errorf("hash the rows of %s: %w", t.QualifiedName(), err)
		}
		out[t.QualifiedName()] = h
	}
	return out, nil
}

// largeObjectsHash is contentHashes for the large objects: their OIDs and
// contents.
func largeObjectsHash(ctx context.Context, conn querier) (string, error) {
	var h string
	err := conn.QueryRow(ctx, `SELECT count(*)::text || ':' || coalesce(sum(('x' || substr(md5(oid::text || ':' || md5(lo_get(oid))), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM pg_largeobject_metadata`).Scan(&h)
	if err != nil {
		return "", fmt.Errorf("hash the large objects: %w", err)
	}
	return h, nil
}
