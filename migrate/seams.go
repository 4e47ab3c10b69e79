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
// NewOpener, starts a private tunnel for an API key and connects through
// package pgdb.
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

// DB is what the engine asks of one side's database: the roles below,
// each declared beside the code that uses it, so that each part of the
// engine says what it needs and a function that takes a role (as
// compareTarget takes a targetCounter) can be tested with a fake of that
// role alone. The real one is the adapter, package pgdb (see NewDB).
type DB interface {
	serverReader    // connect.go: version, size, emptiness, tables
	factsReader     // plan.go: what the plan checks
	writesCounter   // dump.go: writes during and after the dump
	snapshotter     // dump.go: the dump's shared snapshot
	activityWatcher // watch.go: a tool's sessions, seen from the server
	sessionOpener   // pipeline.go: sessions for pipelined statements
	targetResetter  // restore.go: emptying what an interrupted restore left
	analyzer        // restore.go: the planner's statistics
	targetCounter   // verify.go: counts and hashes to compare
	// Close ends the connection.
	Close()
}
