package pgdb

import "github.com/jackc/pgx/v5"

// The facts the adapter reads: plain values, no connection, for the
// engine to compare, record and report.

// Table is a table that holds data, with its size on the server.
type Table struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// EstimatedRows is the planner's estimate (reltuples), -1 if never
	// analysed.
	EstimatedRows int64 `json:"estimated_rows"`
	// Bytes is pg_table_size: heap and TOAST, without indexes.
	Bytes int64 `json:"bytes"`
}

// QualifiedName is "schema.name" as pg_dump and pg_restore print it.
func (t Table) QualifiedName() string { return t.Schema + "." + t.Name }

// Quoted is the table's name for SQL.
func (t Table) Quoted() string {
	return pgx.Identifier{t.Schema, t.Name}.Sanitize()
}

// ServerInfo is what connecting to a server learns of it.
type ServerInfo struct {
	VersionNum  int // e.g. 160004
	Size        int64
	SystemID    string
	DatabaseOID uint32
	// Writes is the rows inserted, updated and deleted in the database
	// since statistics were reset: a later, larger value means the database
	// was written to meanwhile (reads do not move it).
	Writes int64
	// UserObjects counts relations, types and functions in user schemas
	// (0 for an empty database).
	UserObjects int64
	// UserSchemas lists schemas other than public and the system's.
	UserSchemas []string
}

// Major is the server's major version.
func (s ServerInfo) Major() int { return s.VersionNum / 10000 }

// ObjectCounts counts the user's objects by kind, to compare source and
// target after a restore.
type ObjectCounts map[string]int64

// ObjectKinds lists the kinds ObjectCounts holds, in display order.
func ObjectKinds() []string {
	kinds := make([]string, len(objectCountQueries))
	for i, q := range objectCountQueries {
		kinds[i] = q.kind
	}
	return kinds
}

// SourceFacts is what a migration's plan needs of the source.
type SourceFacts struct {
	Extensions    []string
	Policies      []PolicyRoles
	EventTriggers []string
	Publications  []string
	Subscriptions []string
	LargeObjects  int64
}

// PolicyRoles is a row-level-security policy and the roles it is for.
type PolicyRoles struct {
	Schema, Table, Name string
	Roles               []string
}

// TargetFacts is what a migration's plan needs of the target.
type TargetFacts struct {
	// Available lists the extensions the target offers.
	Available []string
	// Roles lists the target's roles.
	Roles []string
	// Superuser is set when the target's user is a superuser.
	Superuser bool
	// FreeConnections is how many more connections the target takes (the
	// lowest of the server's, the database's and the role's limits), -1
	// when unknown.
	FreeConnections int
}

// SessionActivity is what one session of a tool is doing.
type SessionActivity struct {
	// Table is the table a COPY is running on ("public.orders"), if any.
	Table string
	// Tuples and Bytes are the COPY's progress so far.
	Tuples, Bytes int64
	// Working is set when the server is busy on the session's query (not
	// waiting for the client).
	Working bool
}

// Activity is a snapshot of a tool's sessions.
type Activity struct {
	Sessions []SessionActivity
}

// Statement is one simple query of a pipeline: SQL, and for a
// COPY ... FROM STDIN the rows it reads, in COPY's text format.
type Statement struct {
	SQL  string
	Copy []byte
}

// Counts is what a Snapshot counts: rows by qualified name, sequences'
// last values, objects by kind, the large objects' OIDs in order, and each
// table's write counter; with content, the rows' and large objects'
// hashes too (see Snapshot.Counts).
type Counts struct {
	Rows                map[string]int64
	Sequences           map[string]int64
	Objects             ObjectCounts
	LargeObjects        []uint32
	Writes              map[string]int64
	Content             map[string]string
	LargeObjectsContent string
}

// PostDataKey names a post-data object the way DB.PostDataObjects and an
// archive's entries can both be keyed: its kind, schema and name as
// pg_restore --list shows them.
func PostDataKey(kind, schema, name string) string { return kind + "\x00" + schema + "\x00" + name }
