// Package migrate moves a PostgreSQL database into another, step by step,
// and resumes where it stopped: a Prisma Postgres Early Access database
// into a GA one (ppg migrate-from-ea), any PostgreSQL into Prisma Postgres
// (ppg migrate), and the one-shot backup and restore of a dump file
// (Engine.Backup, Engine.RestoreFile). It knows nothing of the terminal:
// it reports facts through [Event]s and asks through a [Prompter]; the
// wizard (package tui) and the headless and JSON runner (package cli) are
// its faces, and package words gives the facts their sentences.
//
// The steps ([Steps]) are check tools, connect source, dump, check archive,
// connect target, restore and verify. Before the dump, a [Plan] checks the
// source against the target (versions, emptiness, disk space, extensions,
// roles, event triggers, connections); --dry-run stops there. Each step
// writes its outcome to the state file (ppg-migration.json in the working
// folder) before the next starts: atomically, under a lock, without secrets
// (a key is kept only as a salted hash, to notice a different key on
// resume). Running again continues from the first step not done, after
// checking the world against the file: a dump that is missing or whose
// checksum changed is dumped again. A step that fails on a connection that
// broke or stalled is retried.
//
// The dump shares its snapshot with a transaction of ppg's that counts every
// table's rows, reads the sequences and counts the objects; the result, the
// [Manifest], is what verify compares the target with, so verifying never
// needs the source again. It counts a table only once pg_dump holds it (see
// count.go): a table it held first could make an application's TRUNCATE
// and pg_dump wait on each other through ppg. The restore runs section by section (schema, data,
// indexes and constraints, then ANALYZE) and resumes inside a section:
// tables whose row count already matches are not loaded again, and indexes,
// constraints and triggers that exist are not created again. The schema,
// the post-data and the small tables' data are pipelined: pg_restore writes
// their SQL and ppg sends it over sessions of its own, many statements to a
// round trip; the rest goes through pg_restore.
//
// The engine reaches the outside world through small interfaces: pg_dump
// and pg_restore through [Tools] and [Finder] (package pgtools), each side's
// database through an [Opener] and the roles of its [DB], each declared
// beside the code that uses it (serverReader, factsReader, writesCounter,
// snapshotter, activityWatcher, sessionOpener, targetResetter, analyzer,
// targetCounter). The real database is package pgdb, the only one that
// imports pgx; the engine's tests fake the roles, and a scripted session
// stands in for the pipelined restore. Databases are reached through a
// private tunnel (package tunnel) when the user gives an API key, or
// directly for a postgres:// URL.
//
// A live migration (Config.Live, see live.go and stream.go) drives package
// live: the plan probes the source (CheckLive says what blocks it, before
// anything is created); the dump step creates the publication and the slot
// and copies in the slot's exported snapshot (the manifest's counts in the
// same snapshot, imported); restore and verify run as for a frozen copy,
// without the late-write rule (the stream carries the writes); then the
// step stream applies the changes until a cutover request in the working
// folder (CutoverRequestFile, which ppg cutover and the wizard write), cuts
// over, compares exact counts and the tables copied once, and drops slot,
// publication and the target's bookkeeping. The state file records the
// slot's and the publication's names (LiveState), never a URL. relay/, a
// Postgres protocol relay between pg_dump and the server, is a package of
// its own below this one too.
package migrate
