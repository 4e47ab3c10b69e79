// Package migrate moves a database from a Prisma Postgres EA database to a
// GA database, step by step, and resumes where it stopped. It knows nothing
// of the terminal: it reports through [Event]s and asks through a
// [Prompter]; the wizard (package tui) and the headless runner are its faces.
//
// The steps ([Steps]) are check tools, connect source, dump, check archive,
// connect target, restore and verify. Each writes its outcome to the state
// file (ppg-migration.json in the working folder) before the next starts:
// atomically, under a lock, without secrets (a key is kept only as a salted
// hash, to notice a different key on resume). Running again continues from
// the first step not done, after checking the world against the file: a dump
// that is missing or whose checksum changed is dumped again.
//
// The dump shares its snapshot with a transaction of ppg's that counts every
// table's rows, reads the sequences and counts the objects; the result, the
// [Manifest], is what verify compares the target with, so verifying never
// needs the source again. The restore runs section by section (schema, data,
// indexes and constraints) and resumes inside a section: tables whose row
// count already matches are not loaded again, and indexes, constraints and
// triggers that exist are not created again.
//
// Databases are reached through a private tunnel (package tunnel) when the
// user gives an API key, or directly for a postgres:// URL; pg_dump and
// pg_restore are found, chosen and run by package pgtools.
package migrate
