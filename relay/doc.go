// Package relay is a PostgreSQL protocol relay between pg_dump and the
// server that hides pg_dump's per-object round trips.
//
// pg_dump runs its catalog queries one at a time on one connection, and
// several of them once per object: pg_get_viewdef per view, the parameters
// and last_value per sequence, EXECUTE dumpFunc / dumpAgg / dumpOpr /
// dumpTableAttach / dumpBaseType ... per function, aggregate, operator,
// partition, type, and pg_get_ruledef, pg_get_statisticsobjdef,
// pg_get_partkeydef, and a COPY per table. Across a 50 ms round trip,
// 2,000 objects cost 100 s.
//
// # What a connection goes through
//
// A [Relay] listens on loopback TCP or a Unix socket. For each client:
//
//  1. It answers SSLRequest and GSSENCRequest with 'N' (the local hop is
//     plain; TLS is the relay's business upstream), relays a CancelRequest
//     on a new upstream connection, and on the StartupMessage opens the
//     server connection with its [Dialer]: [DialURL] speaks libpq's sslmode
//     semantics with SNI set to the URL's host name (Prisma Postgres routes
//     direct connections by SNI); a tunnel's dial fits the same type.
//  2. It relays the authentication exchange message by message: the client
//     authenticates with the server itself (SCRAM, MD5 or a password), so
//     the relay never holds a password and the listener grants nothing to
//     whoever connects to it. (Authenticating with the URL's password
//     instead would let any local process that reaches the port in.)
//  3. It parses both directions with pgproto3 (Backend towards the client,
//     Frontend towards the server). Each simple query is looked up in the
//     cache by its exact text. A hit is answered locally: the server's own
//     messages, then ReadyForQuery. Anything else goes to the server.
//
// # Prefetch
//
// Templates of pg_dump's per-object queries are pinned per pg_dump major
// version ([Config.DumpMajor], which the caller knows from pg_dump
// --version: the startup message does not say). pg_dump 17's were counted
// with log_statement = all; pg_dump 18's are 17's less the sequence
// parameters, which 18 reads in one query (the e2e tests check every
// template against what the real pg_dump 17 and 18 send).
//
// The first query matching a template, inside a transaction with nothing
// in flight, is forwarded, and behind it, in the same write, the relay
// sends SAVEPOINT and, once a transaction, every template's catalog query
// listing its objects (in pg_dump's transaction, hence its snapshot,
// ordered by schema and name as pg_dump asks), each followed by ROLLBACK TO
// SAVEPOINT. When the keys arrive it pipelines pg_dump's exact query text
// for the objects of that kind, then ROLLBACK TO SAVEPOINT and RELEASE
// SAVEPOINT, so a failing query cannot abort pg_dump's transaction. (One
// savepoint per batch, not per query: Prisma Postgres bills each
// statement, and after an error the rest of the batch merely passes
// through.) A later kind's first query goes out with its batch.
//
// A template whose query EXECUTEs a statement pg_dump prepares (dumpFunc,
// getDomainConstraints...) starts its batch at pg_dump's PREPARE of it,
// which it follows in the same write, rather than at the first EXECUTE.
//
// # Runs of catalog queries
//
// Before its per-object queries pg_dump reads the catalogs in some fifty
// bulk SELECTs of fixed text (roles, extensions, schemas, tables; then,
// after its LOCK TABLE, functions, types, operators..., dependencies,
// comments, the database). runs.json pins them per pair of pg_dump and
// server major versions (pg_dump 17 against 16 and 17, 18 against 16, 17
// and 18), as runs: statements both of two real dumps send with the same
// text (one as a superuser with default options, one as a role with
// pg_read_all_data and ppg's options, on another database, so a text that
// names an object is not the same in both), that [Prefetchable] accepts
// (one read-only SELECT) and no template covers, with no barrier between
// them in either dump: anything but SELECT, PREPARE and EXECUTE, LOCK TABLE
// and SET included. So nothing pg_dump reads after taking its locks is
// read before them. The e2e test TestRelayRunsPinned captures them and
// checks the file (-update rewrites it).
//
// The relay learns the server's version from its server_version at login.
// When pg_dump sends a statement of a run, inside a transaction with
// nothing in flight, the relay forwards it and, behind it, the run's later
// statements in a savepoint, rolled back and released after them, as a
// template's batch; pg_dump's next statements are answered from the cache
// by exact text. A pg_dump minor release, or options, whose texts differ
// only lose the prefetch of those statements: they pass through. Left out,
// and one round trip each: the connection's SETs, BEGIN and SET
// TRANSACTION, the LOCK TABLE, the PREPAREs, the queries that list the
// tables they are about (columns, defaults, indexes, constraints,
// triggers, policies) or name the database, what only a superuser or only
// some options send (publications, subscriptions), and the first statement
// of each run and each template.
//
// A SET, RESET, set_config, DISCARD or DEALLOCATE drops every prefetched
// answer, as the end of the transaction does: pg_dump sends none while it
// reads, and for another client the answers may no longer be the server's.
//
// # The cache
//
// The answers fill the cache as they come; an error, or an answer past the
// byte budget ([Config.CacheBytes], per connection) is not kept, and
// pg_dump's own query then passes through. Objects are prefetched in
// chunks of at most 5,000 and, where the catalog query estimates each
// answer's size (a table's size for its COPY), of at most half the budget,
// starting after the one asked; the next query of that kind not in the
// cache starts the next chunk; a table larger than half the budget is
// never prefetched. A miss costs a round trip, never correctness: the
// archive is the one plain pg_dump writes of the same snapshot. Answers
// belong to the transaction they were fetched in, and are dropped when it
// ends.
//
// Ordering is the protocol's: the client gets exactly the answers to what
// it sent, in order. One goroutine writes to the server and queues, for
// every request, where its answer goes; one reads the server and routes
// each answer (to the client, into the cache, or away); one writes the
// client's answers in the order it asked. A message of the extended
// protocol makes the rest of the session a plain copy.
//
// The relay is for one pg_dump connection, as ppg's dump step runs it
// (--format=custom). Under -Fd -j N each worker's connection would
// prefetch the data of tables other workers copy: correct, but wasteful.
//
// # Failures
//
// A broken server link closes the client's connection at once (pg_dump
// fails with "connection to server lost") and is reported as an
// [*UpstreamError] by [Relay.Err] and a SessionEnded [Event]. pg_dump cannot
// resume a connection: the caller runs the whole dump again.
//
// # Wiring (migrate's dump step, migrate/relay.go)
//
// The engine starts a relay for each run of pg_dump:
//
//	dial, _ := relay.DialURL(sourceURL)
//	r, _ := relay.Listen("unix", filepath.Join(privateDir, ".s.PGSQL.5432"),
//		relay.Config{Dial: dial, DumpMajor: dumpVersion.Major})
//	defer r.Close()
//
// and runs pg_dump with host=privateDir port=5432 sslmode=disable, the
// source's user and database, and its password in PGPASSWORD as before.
// For a source behind an API key, Dial connects to ppg's private tunnel
// (its Unix socket, sslmode=disable), which opens one WebSocket to the
// gateway per connection. After pg_dump fails, an *UpstreamError from
// r.Err() makes the failure a lost connection, and the dump step is
// retried. PPG_RELAY=off runs pg_dump straight to the source.
package relay
