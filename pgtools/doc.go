// Package pgtools finds, checks and runs PostgreSQL's pg_dump and
// pg_restore, and reads what they print.
//
// The flow of a migration:
//
//  1. [Finder.Find] lists every pg_dump and pg_restore on the machine (an
//     explicit directory, PATH, the usual install locations) with their
//     versions; [Choose] picks a pair that can dump the source server and
//     read what that pg_dump writes, or returns a [*NotFoundError] that
//     says what is missing and what was found (how to install the tools is
//     for the front end to say).
//  2. [Runner.Run] runs a tool: arguments and environment are built by
//     code (never a shell string; the password only in PGPASSWORD),
//     stderr is streamed line by line through a [Parser] into typed
//     [Line]s for the caller's callback, and cancelling the context
//     interrupts the tool, then kills it after a grace period. A failed
//     run is an [*ExitError] with the tail of the tool's output.
//  3. [Runner.ReadTOC] lists an archive's table of contents ([TOC],
//     [Entry]) with sections, and [WriteList] writes a subset back as a
//     list file for pg_restore -L, so a restore can resume with the entries
//     that are left. [ReadArchiveHeader] reads which pg_dump wrote an
//     archive without running pg_restore; [CheckArchive] and
//     [ChooseRestore] check pg_restore against it, and [CheckTarget] the
//     target server, returning typed notes ([TargetNote]) on what to
//     expect there.
//
// The parsers were written against real output of pg_dump and pg_restore
// 15 and 17, kept in testdata/ (see testdata/capture.go for how it was
// made). The tools' messages are parsed in English: Run sets
// LC_MESSAGES=C.
//
// pgtools does no terminal output and keeps no global state; everything it
// starts ends before the function that started it returns.
package pgtools
