// Package pgdb is ppg's adapter to PostgreSQL: every query ppg runs of
// its own, over pgx. It sits below the engine (package migrate) as pgx's
// own layers sit below it (pgproto3, the wire; pgconn, the session; pgx,
// the queries), and it knows nothing of steps, state files or terminals.
//
// A DB is one connection to one side of a migration, opened with Connect
// from a Config (ParseURL for a direct URL, TunnelConfig for a local
// tunnel). Through it the engine reads facts, plain values of this
// package: ServerInfo, Tables, SourceFacts and TargetFacts for the plan,
// row counts, sequences, ObjectCounts, large objects and content hashes
// for the verification, and CompatFacts (what of a PostgreSQL 18 source
// 17 cannot hold as it is, and the tables with row security) with
// BypassesRowSecurity for the check of an 18 source going into 17. A
// restore that must resume uses the few writes: Truncate,
// UnlinkLargeObjects, DropUserSchemas, and Analyze at the end.
//
// Three things open a connection beside the DB's, with the same
// parameters:
//   - Snapshot is a read-only repeatable-read transaction whose exported
//     snapshot pg_dump shares, so that the counts taken in it (Counts)
//     match the dump exactly;
//   - Watcher polls pg_stat_activity and pg_stat_progress_copy for a
//     tool's sessions, found by their application name: progress inside
//     a table, and a link that hangs told from a tool that is busy;
//   - Session speaks the pgconn layer only: Pipeline writes many simple
//     queries (and COPY rows) without waiting, and reads the answers as
//     they come, so a restore across a long link pays a round trip per
//     window of statements, not per statement.
//
// Errors are pgx's, wrapped with what was being done; ServerError tells a
// statement the server refused from a connection that failed, without
// the caller importing pgx. No error text holds a password.
//
// The packages of the two other subsystems sit beside this one, below the
// engine, each with one job: live/ (the logical-replication stream: slot,
// decode, apply, position, cutover) and relay/ (a Postgres protocol relay
// between pg_dump and the server: TLS upstream, prefetch). They are not
// part of this package: the stream needs a replication connection
// (pglogrepl over pgconn) and the relay speaks the wire (pgproto3) between
// two peers, while this package runs ordinary queries. What they may share
// with it are its facts, such as Table and ServerInfo.
package pgdb
