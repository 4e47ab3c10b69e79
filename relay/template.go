package relay

import (
	"regexp"
	"strings"
)

// A template is one kind of per-object query pg_dump sends, one round trip
// per object: the exact text pg_dump formats (as in pg_dump.c), a pattern
// that recognises it and extracts the object's key, and a catalog query,
// injected on pg_dump's own connection, that lists the keys of every object
// of that kind in pg_dump's snapshot, in about the order pg_dump asks for
// them (by schema and name).
type template struct {
	// name identifies the kind in events and statistics.
	name string
	// prefix and suffix surround the key in pg_dump's query text.
	prefix, suffix string
	// key is the pattern a key must match: an OID, or a qualified name.
	key *regexp.Regexp
	// list is a catalog query whose first column is the keys, and whose
	// second, if any, estimates each answer's bytes. It runs in pg_dump's
	// transaction with search_path empty, so it names everything with
	// pg_catalog.
	list string
}

// render is pg_dump's query text for the object key.
func (t *template) render(key string) string { return t.prefix + key + t.suffix }

// match reports whether q is this template's query, and for which key. A
// query is recognised only if rendering its key gives q back exactly: the
// cache is keyed by exact text, so a near miss must not count as a hit.
func (t *template) match(q string) (string, bool) {
	if !strings.HasPrefix(q, t.prefix) || !strings.HasSuffix(q, t.suffix) || len(q) < len(t.prefix)+len(t.suffix) {
		return "", false
	}
	key := q[len(t.prefix) : len(q)-len(t.suffix)]
	if !t.key.MatchString(key) || t.render(key) != q {
		return "", false
	}
	return key, true
}

var (
	// oidKey is how pg_dump prints an OID with %u.
	oidKey = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
	// copyKey is a table and its column list as pg_dump's COPY names them:
	// no statement separator or NUL outside double quotes.
	copyKey = regexp.MustCompile(`^(?:[^;"\x00]|"(?:[^"\x00]|"")*")+$`)
	// qualifiedKey is a schema-qualified name as fmtQualifiedId prints it:
	// plain identifiers or double-quoted ones (quotes doubled inside).
	qualifiedKey = regexp.MustCompile(`^(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")\.(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")$`)
)

// userObjects restricts a catalog query on alias c (with namespace alias n)
// to what pg_dump dumps by default: no system schema, no extension member.
const userObjects = ` n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = %s AND d.objid = %s AND d.deptype = 'e')`

// listQuery is a catalog query selecting sel from user objects.
func listQuery(sel, from, classid, objid, where, order string) string {
	return "SELECT " + sel + " FROM " + from + " WHERE " + where + " AND" +
		replaceTwo(userObjects, classid, objid) + " ORDER BY " + order
}

// replaceTwo fills the two %s of format with a and b, in order.
func replaceTwo(format, a, b string) string {
	i := strings.Index(format, "%s")
	format = format[:i] + a + format[i+2:]
	j := strings.Index(format, "%s")
	return format[:j] + b + format[j+2:]
}

const (
	classRel  = "'pg_catalog.pg_class'::pg_catalog.regclass"
	classProc = "'pg_catalog.pg_proc'::pg_catalog.regclass"
	classOpr  = "'pg_catalog.pg_operator'::pg_catalog.regclass"
	classType = "'pg_catalog.pg_type'::pg_catalog.regclass"
	classStat = "'pg_catalog.pg_statistic_ext'::pg_catalog.regclass"
	classRule = "'pg_catalog.pg_rewrite'::pg_catalog.regclass"

	relFrom  = "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	procFrom = "pg_catalog.pg_proc c JOIN pg_catalog.pg_namespace n ON n.oid = c.pronamespace"
	typeFrom = "pg_catalog.pg_type c JOIN pg_catalog.pg_namespace n ON n.oid = c.typnamespace"
)

// relations lists the OIDs of relations of the given relkinds.
func relations(kinds string) string {
	return listQuery("c.oid", relFrom, classRel, "c.oid", "c.relkind IN ("+kinds+")", "n.nspname, c.relname")
}

// functions lists the OIDs of routines of the given prokinds.
func functions(kinds string) string {
	return listQuery("c.oid", procFrom, classProc, "c.oid", "c.prokind IN ("+kinds+")", "n.nspname, c.proname, c.oid")
}

// types lists the OIDs of types of the given typtype: no array types, and
// composite types only standalone ones (a table's row type is dumped with
// the table).
func types(typtype string) string {
	where := "c.typtype = '" + typtype + "'"
	if typtype == "b" {
		// An array type is dumped with its element type, never alone.
		where += " AND NOT (c.typelem <> 0 AND c.typlen = -1)"
	}
	if typtype == "c" {
		where += " AND (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = c.typrelid) = 'c'"
	}
	return listQuery("c.oid", typeFrom, classType, "c.oid", where, "n.nspname, c.typname")
}

// copyList lists the tables whose data pg_dump copies, as dumpTableData_copy
// names them: the qualified name, a space, and fmtCopyColumnList's list of
// the columns neither dropped nor generated (nothing when there are none),
// with the table's size on disk as the estimate: its main fork and its
// TOAST table (not its free space and visibility maps, which a small table
// has whole pages of).
var copyList = listQuery(`pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||)
	pg_catalog.quote_ident(c.relname) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(
	(SELECT '(' OPERATOR(pg_catalog.||) pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) OPERATOR(pg_catalog.||) ')'
	FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), ''),
	pg_catalog.pg_relation_size(c.oid) OPERATOR(pg_catalog.+) COALESCE(pg_catalog.pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)`,
	relFrom, classRel, "c.oid", "c.relkind = 'r'", "n.nspname, c.relname")

// templates17 are pg_dump 17's per-object queries (pg_dump.c of
// REL_17_STABLE: createViewAsClause, dumpSequence, dumpSequenceData,
// dumpFunc, dumpAgg, dumpOpr, dumpTableAttach, dumpRule,
// dumpStatisticsExt, dumpTableSchema, dumpBaseType, dumpEnumType,
// dumpDomain, dumpCompositeType, dumpRangeType, dumpTableData_copy's
// COPY of each table's data, getDomainConstraints per domain, dumpTable's
// getColumnACLs per table with column privileges, and
// getFormattedTypeName's format_type per type a function's signature
// names, once each), as counted with log_statement = all. The EXECUTE ones run statements pg_dump PREPAREs
// before its first EXECUTE, which is what triggers their prefetch.
func templates17() []*template {
	return []*template{
		{name: "viewdef", prefix: "SELECT pg_catalog.pg_get_viewdef('", suffix: "'::pg_catalog.oid) AS viewdef",
			key: oidKey, list: relations("'v', 'm'")},
		{name: "sequence", prefix: "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = '",
			suffix: "'::oid", key: oidKey, list: relations("'S'")},
		{name: "last_value", prefix: "SELECT last_value, is_called FROM ", key: qualifiedKey,
			list: listQuery("pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname)",
				relFrom, classRel, "c.oid", "c.relkind = 'S'", "n.nspname, c.relname")},
		{name: "dumpFunc", prefix: "EXECUTE dumpFunc('", suffix: "')", key: oidKey, list: functions("'f', 'p', 'w'")},
		{name: "dumpAgg", prefix: "EXECUTE dumpAgg('", suffix: "')", key: oidKey, list: functions("'a'")},
		{name: "dumpOpr", prefix: "EXECUTE dumpOpr('", suffix: "')", key: oidKey,
			list: listQuery("c.oid", "pg_catalog.pg_operator c JOIN pg_catalog.pg_namespace n ON n.oid = c.oprnamespace",
				classOpr, "c.oid", "true", "n.nspname, c.oprname, c.oid")},
		{name: "dumpTableAttach", prefix: "EXECUTE dumpTableAttach('", suffix: "')", key: oidKey,
			list: listQuery("c.oid", relFrom, classRel, "c.oid", "c.relispartition", "n.nspname, c.relname")},
		{name: "partkeydef", prefix: "SELECT pg_get_partkeydef('", suffix: "')", key: oidKey, list: relations("'p'")},
		{name: "ruledef", prefix: "SELECT pg_catalog.pg_get_ruledef('", suffix: "'::pg_catalog.oid)", key: oidKey,
			list: listQuery("r.oid", "pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
				classRule, "r.oid", "r.rulename <> '_RETURN'", "n.nspname, c.relname, r.rulename")},
		{name: "statisticsobjdef", prefix: "SELECT pg_catalog.pg_get_statisticsobjdef('", suffix: "'::pg_catalog.oid)", key: oidKey,
			list: listQuery("c.oid", "pg_catalog.pg_statistic_ext c JOIN pg_catalog.pg_namespace n ON n.oid = c.stxnamespace",
				classStat, "c.oid", "true", "n.nspname, c.stxname")},
		{name: "copy", prefix: "COPY ", suffix: " TO stdout;", key: copyKey, list: copyList},
		{name: "dumpBaseType", prefix: "EXECUTE dumpBaseType('", suffix: "')", key: oidKey, list: types("b")},
		{name: "dumpEnumType", prefix: "EXECUTE dumpEnumType('", suffix: "')", key: oidKey, list: types("e")},
		{name: "dumpDomain", prefix: "EXECUTE dumpDomain('", suffix: "')", key: oidKey, list: types("d")},
		{name: "dumpCompositeType", prefix: "EXECUTE dumpCompositeType('", suffix: "')", key: oidKey, list: types("c")},
		{name: "dumpRangeType", prefix: "EXECUTE dumpRangeType('", suffix: "')", key: oidKey, list: types("r")},
		{name: "getDomainConstraints", prefix: "EXECUTE getDomainConstraints('", suffix: "')", key: oidKey, list: types("d")},
		{name: "getColumnACLs", prefix: "EXECUTE getColumnACLs('", suffix: "')", key: oidKey, list: columnACLs},
		{name: "format_type", prefix: "SELECT pg_catalog.format_type('", suffix: "'::pg_catalog.oid, NULL)", key: oidKey,
			list: listQuery("DISTINCT pg_catalog.unnest(c.proargtypes)", procFrom, classProc, "c.oid", "true", "1")},
	}
}

// columnACLs lists the tables with privileges on columns, whose column
// ACLs dumpTable reads one table at a time: the system catalogs' too
// (pg_dump dumps changes to their privileges; pg_subscription's columns
// always have some).
const columnACLs = `SELECT DISTINCT a.attrelid FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attacl IS NOT NULL AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY 1`

// templates18 are pg_dump 18's: 17's, less the sequence parameters, which
// pg_dump 18 reads for all sequences in one query. It reads an 18 server's
// sequence values in that query too, but asks older servers for each
// sequence's last value as 17 does: that template stays, and against an 18
// server it is never triggered (checked against the real pg_dump 18 by
// the e2e tests, on both).
func templates18() []*template {
	var ts []*template
	for _, t := range templates17() {
		if t.name != "sequence" {
			ts = append(ts, t)
		}
	}
	return ts
}

// Templates returns the names of the per-object queries the relay
// prefetches for pg_dump of the given major version; none for a version
// it has no templates for (every query then passes straight through).
func Templates(dumpMajor int) []string {
	var names []string
	for _, t := range templatesFor(dumpMajor) {
		names = append(names, t.name)
	}
	return names
}

// Match returns the names of the templates for pg_dump dumpMajor that
// recognise the query q (at most one, in practice).
func Match(dumpMajor int, q string) []string {
	var names []string
	for _, t := range templatesFor(dumpMajor) {
		if _, ok := t.match(q); ok {
			names = append(names, t.name)
		}
	}
	return names
}

func templatesFor(dumpMajor int) []*template {
	switch dumpMajor {
	case 17:
		return templates17()
	case 18:
		return templates18()
	default:
		return nil
	}
}
