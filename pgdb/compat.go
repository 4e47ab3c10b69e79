package pgdb

// The catalog queries of the check of a PostgreSQL 18 source going into
// 17 (which constructs 17 cannot hold as they are), and of the target's
// own rules (row security).

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CompatKind is one kind of construct the 18-into-17 check looks for.
type CompatKind string

// Constructs of PostgreSQL 18 that 17 cannot hold as they are.
const (
	// CompatVirtualColumn: a virtual generated column; becomes stored.
	CompatVirtualColumn CompatKind = "virtual_column"
	// CompatNotNullNoInherit: NOT NULL NO INHERIT; becomes a plain NOT
	// NULL, or blocks when the table has inheritance children (17's NOT
	// NULL would reach them).
	CompatNotNullNoInherit CompatKind = "not_null_no_inherit"
	// CompatNotNullNotValid: a NOT VALID NOT NULL; becomes a NOT VALID
	// CHECK (column IS NOT NULL) of the same name.
	CompatNotNullNotValid CompatKind = "not_null_not_valid"
	// CompatNotNullNamed: a NOT NULL constraint with a name of its own;
	// 17 keeps the NOT NULL, not the name.
	CompatNotNullNamed CompatKind = "not_null_named"
	// CompatNotEnforced: a NOT ENFORCED CHECK or foreign key; it checks
	// nothing, and 17 has no such form: left out, its statement kept in
	// the skipped-statements file.
	CompatNotEnforced CompatKind = "not_enforced"
	// CompatTemporalKey: a PRIMARY KEY or UNIQUE constraint WITHOUT
	// OVERLAPS; blocks, unless Config.AcceptTemporalKeys: then the
	// exclusion constraint that refuses the same rows.
	CompatTemporalKey CompatKind = "temporal_key"
	// CompatTemporalForeignKey: a foreign key with PERIOD; blocks, unless
	// Config.AcceptTemporalKeys: then left out (kept in the
	// skipped-statements file).
	CompatTemporalForeignKey CompatKind = "temporal_foreign_key"
	// CompatNewFunction: an object using a function new in 18 (Detail);
	// blocks.
	CompatNewFunction CompatKind = "new_function"
	// CompatUnicodeFast: an object using the PG_UNICODE_FAST collation
	// (Detail: the collation's name); blocks.
	CompatUnicodeFast CompatKind = "unicode_fast"
	// CompatReturningOldNew: a function or rule using OLD or NEW in
	// RETURNING; blocks.
	CompatReturningOldNew CompatKind = "returning_old_new"
	// CompatNotValidPartitionedFK: a NOT VALID foreign key on a
	// partitioned table, which 17 refuses; blocks.
	CompatNotValidPartitionedFK CompatKind = "not_valid_partitioned_fk"
	// CompatDatabaseCollation: the source database's default collation is
	// PG_UNICODE_FAST (Detail); text without a collation of its own takes
	// the target's default (pg_dump does not carry a database's default).
	CompatDatabaseCollation CompatKind = "database_collation"
	// CompatRowSecurity: a table with row security (any version).
	CompatRowSecurity CompatKind = "row_security"
)

// CompatFacts reads the source's objects that PostgreSQL 17 cannot hold
// as they are, and its tables with row security.
func (d *DB) CompatFacts(ctx context.Context) ([]CompatObject, error) {
	return readCompat(ctx, d.conn)
}

// BypassesRowSecurity reports whether the connected role is a superuser
// or has BYPASSRLS: row security does not restrict it.
func (d *DB) BypassesRowSecurity(ctx context.Context) (bool, error) {
	var b bool
	err := d.conn.QueryRow(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&b)
	return b, err
}

// CompatObject is one object of the source that the check found.
type CompatObject struct {
	Kind CompatKind
	// Object is its name: schema.table.column, schema.table.constraint,
	// or what pg_describe_object says of it.
	Object string
	// Detail is what the kind needs: the function new in 18 it uses;
	// "children" for a NOT NULL NO INHERIT on a table with children.
	Detail string
	// Desc, Schema and Tag are the object's TOC entry, for the kinds
	// whose entry is left out (as pg_restore --list shows them).
	Desc, Schema, Tag string
}

// readCompat runs the queries of compatQueries on conn; those whose
// catalog columns a server before 18 lacks are not run there (an older
// source has none of the constructs, except row security).
func readCompat(ctx context.Context, conn *pgx.Conn) ([]CompatObject, error) {
	var major int
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int / 10000`).Scan(&major); err != nil {
		return nil, fmt.Errorf("read the server version: %w", err)
	}
	var out []CompatObject
	for _, q := range compatQueries {
		if major < q.since {
			continue
		}
		rows, err := conn.Query(ctx, q.sql, newIn18)
		if err != nil {
			return nil, fmt.Errorf("look for %s: %w", q.kind, err)
		}
		objs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CompatObject, error) {
			o := CompatObject{Kind: q.kind}
			err := r.Scan(&o.Object, &o.Detail, &o.Desc, &o.Schema, &o.Tag)
			return o, err
		})
		if err != nil {
			return nil, fmt.Errorf("look for %s: %w", q.kind, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// userRel restricts a query to relations (alias c, namespace n) of the
// user's schemas that no extension owns.
const userRel = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`

// compatExprs is a CTE "exprs" (obj, tree) of the stored expression trees
// of the user's objects: defaults and generated columns, views and rules,
// check constraints, index expressions and predicates, BEGIN ATOMIC
// bodies, policies and trigger conditions.
const compatExprs = `exprs (obj, tree) AS (
	SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname), d.adbin::text
	FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE ` + userRel + `
	UNION ALL
	SELECT format(CASE WHEN r.rulename = '_RETURN' THEN 'view %I.%I' ELSE 'rule %3$I on %1$I.%2$I' END, n.nspname, c.relname, r.rulename), r.ev_action::text
	FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userRel + `
	UNION ALL
	SELECT format('constraint %I.%I.%I', n.nspname, c.relname, k.conname), k.conbin::text
	FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.conbin IS NOT NULL AND ` + userRel + `
	UNION ALL
	SELECT format('index %I.%I', n.nspname, c.relname), coalesce(i.indexprs::text, '') || coalesce(i.indpred::text, '')
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AND ` + userRel + `
	UNION ALL
	SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.prosqlbody::text
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE p.prosqlbody IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
	UNION ALL
	SELECT format('policy %I on %I.%I', p.polname, n.nspname, c.relname), coalesce(p.polqual::text, '') || coalesce(p.polwithcheck::text, '')
	FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userRel + `
	UNION ALL
	SELECT format('trigger %I on %I.%I', t.tgname, n.nspname, c.relname), t.tgqual::text
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE t.tgqual IS NOT NULL AND NOT t.tgisinternal AND ` + userRel + `
)`

// compatQueries each return object, detail, desc, schema, tag. $1 is
// newIn18 (queries that do not use it still see it: "$1 IS NOT NULL").
var compatQueries = [...]struct {
	kind  CompatKind
	since int
	sql   string
}{
	{CompatVirtualColumn, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname), '', '', '', ''
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE a.attgenerated = 'v' AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatNotNullNoInherit, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname),
			CASE WHEN EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) THEN 'children' ELSE '' END, '', '', ''
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
		WHERE k.contype = 'n' AND k.connoinherit AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatNotNullNotValid, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '', '', '', ''
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'n' AND NOT k.convalidated AND NOT k.connoinherit AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatNotNullNamed, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '', '', '', ''
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
		WHERE k.contype = 'n' AND k.convalidated AND NOT k.connoinherit AND k.conislocal
		  AND k.conname <> left(c.relname || '_' || a.attname || '_not_null', 63) AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatNotEnforced, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '',
			CASE k.contype WHEN 'f' THEN 'FK CONSTRAINT' ELSE 'CHECK CONSTRAINT' END, n.nspname, c.relname || ' ' || k.conname
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype IN ('c', 'f') AND NOT k.conenforced AND k.conislocal AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatTemporalKey, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '', '', '', ''
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype IN ('p', 'u') AND k.conperiod AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatTemporalForeignKey, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '', 'FK CONSTRAINT', n.nspname, c.relname || ' ' || k.conname
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND k.conperiod AND k.conislocal AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	// Built-in functions and collations are pinned: pg_depend records no
	// use of them, so the stored expression trees (compatExprs) are
	// searched for their OIDs. Function bodies in quotes are not parsed
	// when created, and are searched by name.
	{CompatNewFunction, 18, `WITH ` + compatExprs + `, newf AS (SELECT oid, oid::regprocedure::text AS sig FROM pg_proc WHERE oid::regprocedure::text = ANY ($1))
		SELECT DISTINCT e.obj, f.sig, '', '', ''
		FROM exprs e CROSS JOIN LATERAL regexp_matches(e.tree, ':(?:funcid|aggfnoid|opfuncid) (\d+)', 'g') m JOIN newf f ON f.oid = m[1]::oid
		UNION
		SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), m[1] || '()', '', '', ''
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		CROSS JOIN LATERAL regexp_matches(p.prosrc, '\m(uuidv7|uuidv4|casefold|array_sort|array_reverse|crc32c?|gamma|lgamma)\s*\(', 'gi') m
		WHERE p.prosqlbody IS NULL AND p.prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('internal', 'c')) AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
		ORDER BY 1, 2`},
	{CompatUnicodeFast, 18, `WITH ` + compatExprs + `, uf AS (SELECT oid, collname FROM pg_collation WHERE collprovider = 'b' AND upper(colllocale) = 'PG_UNICODE_FAST')
		SELECT DISTINCT e.obj, uf.collname, '', '', ''
		FROM exprs e CROSS JOIN LATERAL regexp_matches(e.tree, 'collid (\d+)', 'g') m JOIN uf ON uf.oid = m[1]::oid
		UNION
		SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname), uf.collname, '', '', ''
		FROM pg_attribute a JOIN uf ON uf.oid = a.attcollation JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND ` + userRel + `
		UNION
		SELECT format('type %I.%I', n.nspname, t.typname), uf.collname, '', '', ''
		FROM pg_type t JOIN uf ON uf.oid = t.typcollation JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE t.typtype = 'd' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		UNION
		SELECT format('collation %I.%I', n.nspname, co.collname), co.collname, '', '', ''
		FROM pg_collation co JOIN uf ON uf.oid = co.oid JOIN pg_namespace n ON n.oid = co.collnamespace
		WHERE n.nspname <> 'pg_catalog' AND $1::text[] IS NOT NULL
		ORDER BY 1`},
	{CompatReturningOldNew, 18, `SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '', '', '', ''
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' AND $1::text[] IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
		  AND ((l.lanname = 'sql' AND CASE WHEN p.prosqlbody IS NULL THEN p.prosrc ELSE pg_get_functiondef(p.oid) END
		          ~* '\mRETURNING\M[^;]*(\m(old|new)\s*\.|WITH\s*\(\s*(old|new)\M)')
		    OR p.prosrc ~* '\mRETURNING\s+WITH\s*\(\s*(old|new)\M')
		UNION
		SELECT format('rule %I on %I.%I', r.rulename, n.nspname, c.relname), '', '', '', ''
		FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE r.rulename <> '_RETURN' AND ` + userRel + `
		  AND pg_get_ruledef(r.oid) ~* '\mRETURNING\M[^;]*(\m(old|new)\s*\.|WITH\s*\(\s*(old|new)\M)'
		ORDER BY 1`},
	{CompatNotValidPartitionedFK, 18, `SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname), '', '', '', ''
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND NOT k.convalidated AND k.conenforced AND c.relkind = 'p' AND k.conparentid = 0 AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
	{CompatDatabaseCollation, 18, `SELECT format('database %I', datname), datlocale, '', '', ''
		FROM pg_database WHERE datname = current_database() AND datlocprovider = 'b' AND upper(datlocale) = 'PG_UNICODE_FAST' AND $1::text[] IS NOT NULL`},
	{CompatRowSecurity, 9, `SELECT format('%I.%I', n.nspname, c.relname), '', '', '', ''
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relrowsecurity AND c.relkind IN ('r', 'p') AND ` + userRel + ` AND $1::text[] IS NOT NULL ORDER BY 1`},
}

// newIn18 lists the functions of pg_catalog that PostgreSQL 18.4 has and
// 17.10 does not, as regprocedure prints them (taken from the catalogs of
// both).
var newIn18 = []string{
	`array_append_support(internal)`,
	`array_prepend_support(internal)`,
	`array_reverse(anyarray)`,
	`array_sort(anyarray)`,
	`array_sort(anyarray,boolean)`,
	`array_sort(anyarray,boolean,boolean)`,
	`array_subscript_handler_support(internal)`,
	`btboolskipsupport(internal)`,
	`btcharskipsupport(internal)`,
	`btint2skipsupport(internal)`,
	`btint4skipsupport(internal)`,
	`btint8skipsupport(internal)`,
	`btoidskipsupport(internal)`,
	`bytea(bigint)`,
	`bytea(integer)`,
	`bytea(smallint)`,
	`bytea_larger(bytea,bytea)`,
	`bytea_smaller(bytea,bytea)`,
	`casefold(text)`,
	`crc32(bytea)`,
	`crc32c(bytea)`,
	`date_skipsupport(internal)`,
	`gamma(double precision)`,
	`generate_series_numeric_support(internal)`,
	`generate_series_timestamp_support(internal)`,
	`gist_translate_cmptype_common(integer)`,
	`has_largeobject_privilege(name,oid,text)`,
	`has_largeobject_privilege(oid,oid,text)`,
	`has_largeobject_privilege(oid,text)`,
	`hashbool(boolean)`,
	`hashboolextended(boolean,bigint)`,
	`hashbytea(bytea)`,
	`hashbyteaextended(bytea,bigint)`,
	`hashcid(cid)`,
	`hashcidextended(cid,bigint)`,
	`hashdate(date)`,
	`hashdateextended(date,bigint)`,
	`hashxid(xid)`,
	`hashxid8(xid8)`,
	`hashxid8extended(xid8,bigint)`,
	`hashxidextended(xid,bigint)`,
	`int2(bytea)`,
	`int4(bytea)`,
	`int8(bytea)`,
	`json_strip_nulls(json,boolean)`,
	`jsonb_strip_nulls(jsonb,boolean)`,
	`lgamma(double precision)`,
	`max(bytea)`,
	`max(record)`,
	`min(bytea)`,
	`min(record)`,
	`pg_clear_attribute_stats(text,text,text,boolean)`,
	`pg_clear_relation_stats(text,text)`,
	`pg_get_acl(oid,oid,integer)`,
	`pg_get_aios()`,
	`pg_get_loaded_modules()`,
	`pg_get_sequence_data(regclass)`,
	`pg_get_shmem_allocations_numa()`,
	`pg_ls_summariesdir()`,
	`pg_numa_available()`,
	`pg_restore_attribute_stats("any")`,
	`pg_restore_relation_stats("any")`,
	`pg_stat_get_backend_io(integer)`,
	`pg_stat_get_backend_wal(integer)`,
	`pg_stat_get_checkpointer_num_performed()`,
	`pg_stat_get_checkpointer_slru_written()`,
	`pg_stat_get_db_parallel_workers_launched(oid)`,
	`pg_stat_get_db_parallel_workers_to_launch(oid)`,
	`pg_stat_get_total_analyze_time(oid)`,
	`pg_stat_get_total_autoanalyze_time(oid)`,
	`pg_stat_get_total_autovacuum_time(oid)`,
	`pg_stat_get_total_vacuum_time(oid)`,
	`pg_stat_have_stats(text,oid,bigint)`,
	`pg_stat_reset_backend_stats(integer)`,
	`pg_timezone_abbrevs_abbrevs()`,
	`pg_timezone_abbrevs_zone()`,
	`range_sortsupport(internal)`,
	`record_larger(record,record)`,
	`record_smaller(record,record)`,
	`reverse(bytea)`,
	`timestamp_skipsupport(internal)`,
	`timestamptz_hash(timestamp with time zone)`,
	`timestamptz_hash_extended(timestamp with time zone,bigint)`,
	`uuid_skipsupport(internal)`,
	`uuidv4()`,
	`uuidv7()`,
	`uuidv7(interval)`,
}
