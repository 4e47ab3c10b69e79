package live

import (
	"strconv"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// Tuple column kinds of pgoutput (protocol message formats, TupleData).
const (
	kindNull      = 'n'
	kindUnchanged = 'u' // a TOASTed value the change left as it was
	kindText      = 't'
)

// Replica identities (pg_class.relreplident).
const (
	identityDefault = 'd'
	identityNothing = 'n'
	identityFull    = 'f'
	identityIndex   = 'i'
)

// relation is a source table as the stream describes it, with what the
// target says of its columns.
type relation struct {
	id       uint32
	table    Table
	identity byte
	cols     []relColumn
}

// sameAs reports whether o describes the table as r does (what the target
// said of its columns aside).
func (r *relation) sameAs(o *relation) bool {
	if r.table != o.table || r.identity != o.identity || len(r.cols) != len(o.cols) {
		return false
	}
	for i, c := range r.cols {
		if c.name != o.cols[i].name || c.key != o.cols[i].key || c.typ != o.cols[i].typ {
			return false
		}
	}
	return true
}

// relColumn is one column of a relation message.
type relColumn struct {
	name string
	key  bool   // part of the replica identity
	typ  uint32 // the source's type OID
	// skip is true for a column generated on the target: never written.
	skip bool
	// asText is true for a type without an equality operator (json, xml,
	// point): compared as text when the whole row identifies it.
	asText bool
}

// noEquality are built-in types without an equality operator.
var noEquality = map[uint32]bool{114: true, 199: true, 142: true, 143: true, 600: true, 1017: true}

// newRelation builds a relation from a relation message.
func newRelation(m *pglogrepl.RelationMessage) *relation {
	r := &relation{id: m.RelationID, table: Table{m.Namespace, m.RelationName}, identity: m.ReplicaIdentity}
	for _, c := range m.Columns {
		r.cols = append(r.cols, relColumn{name: c.Name, key: c.Flags&1 == 1, typ: c.DataType, asText: noEquality[c.DataType]})
	}
	return r
}

// statement is one SQL statement with its parameters, as text (nil for
// NULL); the target infers each parameter's type from the statement.
type statement struct {
	sql    string
	params [][]byte
	// copy is, for an insert, the COPY that loads the same columns: a run
	// of inserts into one table goes as one COPY.
	copy string
}

// insertStatement inserts a new tuple. OVERRIDING SYSTEM VALUE lets it
// write identity columns GENERATED ALWAYS with the source's values.
func insertStatement(r *relation, tuple *pglogrepl.TupleData) statement {
	var names, values []string
	var params [][]byte
	for i, c := range r.cols {
		if c.skip || i >= len(tuple.Columns) || tuple.Columns[i].DataType == kindUnchanged {
			continue
		}
		params = append(params, value(tuple.Columns[i]))
		names = append(names, pgx.Identifier{c.name}.Sanitize())
		values = append(values, "$"+strconv.Itoa(len(params)))
	}
	// COPY, like OVERRIDING SYSTEM VALUE, writes identity columns as given.
	return statement{
		sql: "INSERT INTO " + r.table.Sanitize() + " (" + strings.Join(names, ", ") +
			") OVERRIDING SYSTEM VALUE VALUES (" + strings.Join(values, ", ") + ")",
		params: params,
		copy:   "COPY " + r.table.Sanitize() + " (" + strings.Join(names, ", ") + ") FROM STDIN",
	}
}

// updateStatement updates the row old identifies (or, without an old
// tuple, the row the new tuple's key identifies) to the new tuple. TOASTed
// values left unchanged are not written, nor, when the key did not change,
// the key columns (an identity column GENERATED ALWAYS refuses even its
// own value). ok is false when nothing is left to write.
func updateStatement(r *relation, old, tuple *pglogrepl.TupleData) (statement, bool) {
	var sets []string
	var params [][]byte
	for i, c := range r.cols {
		if c.skip || i >= len(tuple.Columns) || tuple.Columns[i].DataType == kindUnchanged || (old == nil && c.key) {
			continue
		}
		params = append(params, value(tuple.Columns[i]))
		sets = append(sets, pgx.Identifier{c.name}.Sanitize()+" = $"+strconv.Itoa(len(params)))
	}
	if len(sets) == 0 {
		return statement{}, false
	}
	ident := old
	if ident == nil {
		ident = tuple
	}
	where, params := whereClause(r, ident, old != nil && r.identity == identityFull, params)
	return statement{sql: "UPDATE " + r.table.Sanitize() + " SET " + strings.Join(sets, ", ") + " WHERE " + where, params: params}, true
}

// deleteStatement deletes the row old identifies.
func deleteStatement(r *relation, old *pglogrepl.TupleData) statement {
	where, params := whereClause(r, old, r.identity == identityFull, nil)
	return statement{sql: "DELETE FROM " + r.table.Sanitize() + " WHERE " + where, params: params}
}

// whereClause identifies one row: by its key columns, or, when the whole
// old row identifies it (REPLICA IDENTITY FULL), by every column the tuple
// carries, through the first matching row's ctid since such a table can
// hold the same row twice and the source changed only one of them.
func whereClause(r *relation, t *pglogrepl.TupleData, full bool, params [][]byte) (string, [][]byte) {
	var conds []string
	for i, c := range r.cols {
		if i >= len(t.Columns) || c.skip || (!full && !c.key) {
			continue
		}
		col := t.Columns[i]
		name := pgx.Identifier{c.name}.Sanitize()
		switch {
		case col.DataType == kindUnchanged:
			continue
		case col.DataType == kindNull:
			conds = append(conds, name+" IS NULL")
			continue
		}
		params = append(params, value(col))
		p := "$" + strconv.Itoa(len(params))
		if c.asText {
			conds = append(conds, name+"::text = "+p)
		} else {
			conds = append(conds, name+" = "+p)
		}
	}
	cond := strings.Join(conds, " AND ")
	if cond == "" {
		cond = "true"
	}
	if !full {
		return cond, params
	}
	return "ctid = (SELECT ctid FROM " + r.table.Sanitize() + " WHERE " + cond + " LIMIT 1)", params
}

// truncateStatement truncates tables as a TRUNCATE on the source did;
// options are the message's flags (1 CASCADE, 2 RESTART IDENTITY).
func truncateStatement(tables []Table, options uint8) statement {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Sanitize()
	}
	sql := "TRUNCATE ONLY " + strings.Join(names, ", ")
	if options&2 != 0 {
		sql += " RESTART IDENTITY"
	}
	if options&1 != 0 {
		sql += " CASCADE"
	}
	return statement{sql: sql}
}

// value is a tuple column's value as a parameter: its text, or nil for
// NULL.
func value(c *pglogrepl.TupleDataColumn) []byte {
	if c.DataType == kindNull {
		return nil
	}
	if c.Data == nil {
		return []byte{}
	}
	return c.Data
}

// publicationSQL creates the publication: for the given tables, for all
// tables when tables is nil, or for none (yet) when it is empty.
func publicationSQL(name string, tables []Table) string {
	q := "CREATE PUBLICATION " + pgx.Identifier{name}.Sanitize()
	if tables == nil {
		return q + " FOR ALL TABLES"
	}
	if len(tables) == 0 {
		return q
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Sanitize()
	}
	return q + " FOR TABLE " + strings.Join(names, ", ")
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// DropSQL is the SQL that removes what a live migration left on the
// source: its slot and its publication. Front ends show it to the user.
func DropSQL(n Names) string {
	return "SELECT pg_drop_replication_slot(" + quoteLiteral(n.Slot) + ");\nDROP PUBLICATION IF EXISTS " +
		pgx.Identifier{n.Publication}.Sanitize() + ";"
}

// appendCopyRow appends one row in COPY's text format: values separated by
// tabs, NULL as \N, backslash, newline, carriage return and tab escaped.
func appendCopyRow(b []byte, values [][]byte) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, '\t')
		}
		if v == nil {
			b = append(b, '\\', 'N')
			continue
		}
		for _, c := range v {
			switch c {
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, c)
			}
		}
	}
	return append(b, '\n')
}
