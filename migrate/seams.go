package migrate

import (
	"context"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// The engine reaches the outside world through these interfaces: real
// processes, tunnels and servers in ppg, fakes in the engine's unit tests.

// Finder finds the pg_dump and pg_restore executables; pgtools.Finder is
// the real one.
type Finder interface {
	Find(ctx context.Context) ([]pgtools.Tool, error)
}

// Tools runs pg_dump and pg_restore; *pgtools.Runner is the real one.
type Tools interface {
	// Run runs one tool to its end (see pgtools.Runner.Run).
	Run(ctx context.Context, c pgtools.Cmd) error
	// ReadTOC lists an archive's table of contents with restore.
	ReadTOC(ctx context.Context, restore pgtools.Tool, archive string) (*pgtools.TOC, error)
}

// Opener opens one side's database for a migration. The real one,
// NewOpener, starts a private tunnel for an API key and connects with pgx.
type Opener interface {
	// Open checks the credential and connects; its errors are
	// *ConnectError. The caller closes the Endpoint.
	Open(ctx context.Context, side Side, cred tunnel.Credential) (*Endpoint, error)
}

// Endpoint is one open database: the parameters the tools connect with and
// the engine's own connection.
type Endpoint struct {
	// Cred is the credential it was opened with.
	Cred tunnel.Credential
	// Conn is what pg_dump and pg_restore connect with.
	Conn pgtools.Conn
	// DB is the engine's own connection.
	DB DB
	// close releases the connection and the tunnel.
	close func()
}

// NewEndpoint returns an endpoint whose Close calls closeFn (nil: nothing).
func NewEndpoint(cred tunnel.Credential, conn pgtools.Conn, db DB, closeFn func()) *Endpoint {
	return &Endpoint{Cred: cred, Conn: conn, DB: db, close: closeFn}
}

// Close ends the connection and the tunnel; a nil Endpoint is fine.
func (ep *Endpoint) Close() {
	if ep != nil && ep.close != nil {
		ep.close()
		ep.close = nil
	}
}

// DB is what the engine asks of a database. The real one runs catalog
// queries over pgx (see pgdb.go).
type DB interface {
	// ServerInfo reads the version, size, identity and emptiness.
	ServerInfo(ctx context.Context) (ServerInfo, error)
	// Tables lists the tables whose rows pg_dump copies.
	Tables(ctx context.Context) ([]Table, error)
	// Writes returns the database's count of rows written (see
	// ServerInfo.Writes).
	Writes(ctx context.Context) (int64, error)
	// TableWrites returns each table's write counter, by qualified name.
	TableWrites(ctx context.Context) (map[string]int64, error)
	// Snapshot begins a read-only repeatable-read transaction and, if
	// export, exports its snapshot for pg_dump to share.
	Snapshot(ctx context.Context, export bool) (Snapshot, error)
	// CountRows returns the exact row count of each table, by qualified
	// name.
	CountRows(ctx context.Context, tables []Table) (map[string]int64, error)
	// Sequences returns each used sequence's last value by qualified name.
	Sequences(ctx context.Context) (map[string]int64, error)
	// Objects counts the user's objects by kind (see ObjectKinds).
	Objects(ctx context.Context) (ObjectCounts, error)
	// PostDataObjects returns the keys (see postDataKey) of the indexes,
	// constraints and triggers that exist.
	PostDataObjects(ctx context.Context) (map[string]bool, error)
	// Truncate empties one table.
	Truncate(ctx context.Context, t Table) error
	// DropUserSchemas drops every user schema, and creates an empty
	// public schema again with the owner, grants and comment it had
	// (a new database's, when the migration found it empty); see
	// publicAsItIsSQL. Large objects live outside schemas: they stay.
	DropUserSchemas(ctx context.Context) error
	// LargeObjects returns the OIDs of the large objects, in order.
	LargeObjects(ctx context.Context) ([]uint32, error)
	// UnlinkLargeObjects removes the large objects of oids that exist.
	UnlinkLargeObjects(ctx context.Context, oids []uint32) error
	// Analyze gathers the planner's statistics of tables.
	Analyze(ctx context.Context, tables []Table) error
	// Partitions lists the partitioned tables that are no partition
	// themselves (roots), and every partition below them, by qualified
	// name. ANALYZE of a root gathers the statistics of the whole tree
	// and of each partition in it.
	Partitions(ctx context.Context) (roots []Table, partitions map[string]bool, err error)
	// ContentHashes hashes each table's rows and the large objects (see
	// contentHashes), in a transaction of its own.
	ContentHashes(ctx context.Context, tables []Table) (map[string]string, string, error)
	// Watcher opens a second connection to follow a tool's sessions.
	Watcher(ctx context.Context) (Watcher, error)
	// Session opens another connection, named app, for pipelined
	// statements (see Session); errNoSessions when the DB has none.
	Session(ctx context.Context, app string) (Session, error)
	// SourceFacts and TargetFacts read what the plan checks.
	SourceFacts(ctx context.Context) (SourceFacts, error)
	TargetFacts(ctx context.Context) (TargetFacts, error)
	// Close ends the connection.
	Close()
}

// Snapshot is a read-only transaction whose snapshot pg_dump shares, so
// that ppg's counts match the dump exactly.
type Snapshot interface {
	// ID is the exported snapshot's id; "" when it could not be exported
	// (then Why says why).
	ID() string
	Why() string
	// Writes is the source's write counter when the snapshot was taken.
	Writes() int64
	// Tables lists the tables, as the snapshot sees them.
	Tables(ctx context.Context) ([]Table, error)
	// Manifest counts rows, sequences and objects in the snapshot, and
	// with content hashes the rows and large objects too. It may run
	// while pg_dump runs.
	Manifest(ctx context.Context, tables []Table, content bool) (*Manifest, error)
	// Commit ends the transaction.
	Commit(ctx context.Context) error
	// Close rolls back a transaction not committed.
	Close()
}
