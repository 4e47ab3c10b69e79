package pgtools

import (
	"sort"
	"strings"
)

// A dump of PostgreSQL 18 restores into 17 unchanged except for a short
// list of forms that 17 does not parse. Translate rewrites those forms, in
// the SQL pg_restore writes for one TOC entry, into the closest form 17
// has, and says what it changed, object by object. What 17 cannot express
// at all (temporal keys without the user's consent, functions new in 18, the
// PG_UNICODE_FAST collation, OLD/NEW in RETURNING) is left as it is: the
// plan finds those in the source's catalog and blocks before the dump.
//
// The rewriting works on tokens: string literals, quoted identifiers,
// dollar-quoted bodies and comments are never looked into, so a function
// body or a default that merely mentions "GENERATED ALWAYS AS (" is left
// alone.

// Translates reports whether ppg restores a dump of a PostgreSQL from
// server into a to server by translating it: only 18 into 17, one major
// version down.
func Translates(from, to int) bool { return from == 18 && to == 17 }

// CheckDowngrade returns a *DowngradeError when a dump of PostgreSQL from
// cannot be restored into to: an older target that Translates does not
// cover. Unknown versions (0) pass.
func CheckDowngrade(from, to int) error {
	if from > 0 && to > 0 && to < from && !Translates(from, to) {
		return &DowngradeError{From: from, To: to}
	}
	return nil
}

// ChangeKind names one kind of translation.
type ChangeKind string

// Changes Translate makes.
const (
	// ChangeVirtualToStored: a virtual generated column becomes a stored
	// one (the same values, now stored on disk). Object: table.column.
	ChangeVirtualToStored ChangeKind = "virtual_to_stored"
	// ChangeNotNullNoInherit: NOT NULL NO INHERIT becomes a plain NOT
	// NULL (17's NOT NULL is inherited). Object: table.column.
	ChangeNotNullNoInherit ChangeKind = "not_null_no_inherit"
	// ChangeNotNullNotValid: a NOT VALID NOT NULL constraint becomes a
	// NOT VALID CHECK (column IS NOT NULL) of the same name. Object:
	// table.constraint.
	ChangeNotNullNotValid ChangeKind = "not_null_not_valid"
	// ChangeNotNullNamed: a table-level named NOT NULL constraint becomes
	// the column's NOT NULL (17 does not name them). Object:
	// table.constraint.
	ChangeNotNullNamed ChangeKind = "not_null_named"
	// ChangeTemporalToExclusion: a PRIMARY KEY or UNIQUE constraint WITH
	// OUT OVERLAPS becomes the exclusion constraint that enforces the same
	// rule (only with TranslateOptions.TemporalKeys). Object:
	// table.constraint.
	ChangeTemporalToExclusion ChangeKind = "temporal_to_exclusion"
)

// Change is one object Translate changed.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// Object is the object's name: "schema.table.column" or
	// "schema.table.constraint", as the entry names them.
	Object string `json:"object"`
}

// TranslateOptions are the user's consents.
type TranslateOptions struct {
	// TemporalKeys accepts a temporal key (WITHOUT OVERLAPS) as an
	// exclusion constraint: it refuses the same rows, but is no longer a
	// primary key or unique constraint.
	TemporalKeys bool
}

// Translate rewrites the SQL of one entry of schema (may be empty) from
// PostgreSQL 18 into 17's forms and returns it with the changes, in the
// order found. SQL without 18-only forms comes back unchanged, with no
// changes.
func Translate(schema, sql string, opt TranslateOptions) (string, []Change) {
	toks := lex(sql)
	var edits []edit
	var changes []Change
	t := translator{sql: sql, toks: toks, schema: schema}
	for i := 0; i < len(toks); i++ {
		e, c, ok := t.at(i, opt)
		if !ok {
			continue
		}
		edits = append(edits, e...)
		changes = append(changes, c)
	}
	if len(edits) == 0 {
		return sql, nil
	}
	return apply(sql, edits), changes
}

// translator holds one entry's tokens while Translate walks them.
type translator struct {
	sql    string
	toks   []token
	schema string
}

// at tries each rule at token i.
func (t translator) at(i int, opt TranslateOptions) ([]edit, Change, bool) {
	switch {
	case t.words(i, "GENERATED", "ALWAYS", "AS") && t.punct(i+3, "("):
		return t.virtual(i)
	case t.words(i, "NOT", "NULL", "NO", "INHERIT") && !t.words(i-3, "ADD", "CONSTRAINT") && !t.tableNotNullAt(i):
		return []edit{{t.toks[i+1].end, t.toks[i+3].end, ""}}, Change{ChangeNotNullNoInherit, t.object(t.columnOf(i))}, true
	case t.words(i, "ADD", "CONSTRAINT") && t.words(i+3, "NOT", "NULL"):
		return t.tableNotNull(i)
	case opt.TemporalKeys && t.words(i, "ADD", "CONSTRAINT") && (t.words(i+3, "PRIMARY", "KEY") || t.words(i+3, "UNIQUE")):
		return t.temporal(i)
	}
	return nil, Change{}, false
}

// virtual: GENERATED ALWAYS AS (expr) [VIRTUAL] becomes ... STORED.
func (t translator) virtual(i int) ([]edit, Change, bool) {
	closing := t.matching(i + 3)
	if closing < 0 {
		return nil, Change{}, false
	}
	end := t.toks[closing].end
	var e edit
	switch {
	case t.words(closing+1, "STORED"):
		return nil, Change{}, false
	case t.words(closing+1, "VIRTUAL"):
		e = edit{t.toks[closing+1].start, t.toks[closing+1].end, "STORED"}
	default:
		e = edit{end, end, " STORED"}
		if end < len(t.sql) && isIdentPart(t.sql[end]) {
			e.text += " " // keep the next word apart
		}
	}
	return []edit{e}, Change{ChangeVirtualToStored, t.object(t.columnOf(i))}, true
}

// tableNotNullAt reports whether NOT NULL at i belongs to an
// ADD CONSTRAINT name NOT NULL column form (handled by tableNotNull).
func (t translator) tableNotNullAt(i int) bool { return t.words(i-3, "ADD", "CONSTRAINT") }

// tableNotNull: ADD CONSTRAINT name NOT NULL column [NO INHERIT] [NOT
// VALID]. With NOT VALID or NO INHERIT it becomes the CHECK that 17 can
// hold unvalidated or uninherited; else the column's NOT NULL.
func (t translator) tableNotNull(i int) ([]edit, Change, bool) {
	name, col := i+2, i+5
	if col >= len(t.toks) || !t.toks[col].ident() {
		return nil, Change{}, false
	}
	j := col + 1
	noInherit := t.words(j, "NO", "INHERIT")
	if noInherit {
		j += 2
	}
	notValid := t.words(j, "NOT", "VALID")
	if notValid {
		j += 2
	}
	colText := t.text(col)
	obj := t.object(t.text(name))
	if !noInherit && !notValid {
		e := edit{t.toks[i].start, t.toks[col].end, "ALTER COLUMN " + colText + " SET NOT NULL"}
		return []edit{e}, Change{ChangeNotNullNamed, obj}, true
	}
	repl := "ADD CONSTRAINT " + t.text(name) + " CHECK (" + colText + " IS NOT NULL)"
	if noInherit {
		repl += " NO INHERIT"
	}
	if notValid {
		repl += " NOT VALID"
	}
	kind := ChangeNotNullNotValid
	if !notValid {
		kind = ChangeNotNullNoInherit
		obj = t.object(colText)
	}
	return []edit{{t.toks[i].start, t.toks[j-1].end, repl}}, Change{kind, obj}, true
}

// temporal: ADD CONSTRAINT name PRIMARY KEY|UNIQUE (a, b, p WITHOUT
// OVERLAPS) becomes EXCLUDE USING gist (a WITH =, b WITH =, p WITH &&),
// the constraint PostgreSQL 18 builds for it.
func (t translator) temporal(i int) ([]edit, Change, bool) {
	open := i + 5
	if t.words(i+3, "UNIQUE") {
		open = i + 4
	}
	if !t.punct(open, "(") {
		return nil, Change{}, false
	}
	closing := t.matching(open)
	if closing < 0 || !t.words(closing-2, "WITHOUT", "OVERLAPS") {
		return nil, Change{}, false
	}
	var cols []string
	start := open + 1
	for k := open + 1; k <= closing; k++ {
		if k == closing || t.punct(k, ",") {
			cols = append(cols, t.sql[t.toks[start].start:t.toks[k-1].end])
			start = k + 1
		}
	}
	parts := make([]string, len(cols))
	for k, c := range cols {
		if k == len(cols)-1 {
			c = strings.TrimSpace(t.sql[t.toks[closing-3].start:t.toks[closing-3].end])
			parts[k] = c + " WITH &&"
			continue
		}
		parts[k] = c + " WITH ="
	}
	e := edit{t.toks[i+3].start, t.toks[closing].end, "EXCLUDE USING gist (" + strings.Join(parts, ", ") + ")"}
	return []edit{e}, Change{ChangeTemporalToExclusion, t.object(t.text(i + 2))}, true
}

// columnOf names the column whose definition holds token i: the first
// token after the nearest "(" or "," at the table's depth, or after
// ADD COLUMN.
func (t translator) columnOf(i int) string {
	depth := 0
	for k := i - 1; k >= 0; k-- {
		switch {
		case t.punct(k, ")"):
			depth++
		case t.punct(k, "(") && depth > 0:
			depth--
		case depth == 0 && (t.punct(k, "(") || t.punct(k, ",") || t.words(k, "COLUMN")):
			if k+1 < i {
				return t.text(k + 1)
			}
			return ""
		}
	}
	return ""
}

// object qualifies a column or constraint name with the entry's table.
func (t translator) object(name string) string {
	table := t.table()
	switch {
	case table == "":
		return name
	case name == "":
		return table
	}
	return table + "." + name
}

// table is the table the entry's statement is about: the name after
// CREATE TABLE or ALTER TABLE [ONLY] (schema-qualified as written).
func (t translator) table() string {
	for k := 0; k+1 < len(t.toks); k++ {
		if !t.words(k, "TABLE") || k == 0 || !(t.words(k-1, "CREATE") || t.words(k-1, "ALTER") || t.words(k-1, "UNLOGGED")) {
			continue
		}
		n := k + 1
		if t.words(n, "ONLY") {
			n++
		}
		if t.words(n, "IF", "NOT", "EXISTS") {
			n += 3
		}
		end := n
		for end+2 < len(t.toks) && t.punct(end+1, ".") {
			end += 2
		}
		if n < len(t.toks) {
			return t.sql[t.toks[n].start:t.toks[end].end]
		}
	}
	return ""
}

// words reports whether the tokens from i are the keywords ws (any case).
func (t translator) words(i int, ws ...string) bool {
	if i < 0 || i+len(ws) > len(t.toks) {
		return false
	}
	for k, w := range ws {
		tk := t.toks[i+k]
		if tk.kind != tokWord || !strings.EqualFold(t.sql[tk.start:tk.end], w) {
			return false
		}
	}
	return true
}

func (t translator) punct(i int, p string) bool {
	return i >= 0 && i < len(t.toks) && t.toks[i].kind == tokPunct && t.sql[t.toks[i].start:t.toks[i].end] == p
}

func (t translator) text(i int) string {
	if i < 0 || i >= len(t.toks) {
		return ""
	}
	return t.sql[t.toks[i].start:t.toks[i].end]
}

// matching is the index of the ")" closing the "(" at i, or -1.
func (t translator) matching(i int) int {
	depth := 0
	for k := i; k < len(t.toks); k++ {
		switch {
		case t.punct(k, "("):
			depth++
		case t.punct(k, ")"):
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// edit replaces sql[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// apply makes the edits, which must not overlap.
func apply(sql string, edits []edit) string {
	sort.SliceStable(edits, func(a, b int) bool { return edits[a].start < edits[b].start })
	var b strings.Builder
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			continue // overlapping: keep the first
		}
		b.WriteString(sql[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.WriteString(sql[pos:])
	return b.String()
}
