// Package live is the logical-replication stream of a live migration: the
// source keeps taking writes while its data moves, and the downtime is the
// cutover alone.
//
// It knows nothing of the terminal, of command names or of the step
// engine. It reports facts (positions, lag, rows applied, WAL held) as
// Events through a callback, and returns typed errors; front ends choose
// the words.
//
// # The flow
//
//  1. ProbeSource reads, creating nothing, what live migration needs of
//     the source: wal_level = logical, a role with REPLICATION (or
//     superuser), a free replication slot and WAL sender, the right to
//     create a publication (CREATE on the database; FOR TABLE needs
//     ownership of the tables). Probe.Blockers says what blocks and why,
//     with the value the source has and the one it needs; Possible is
//     true when none does. It also lists the tables without a primary key
//     or replica identity (NoIdentity), the unlogged tables (Unlogged) and
//     the large objects: none of these stream.
//
//  2. Setup creates the publication (FOR TABLE the migrated tables) and a
//     logical slot with pgoutput, both named after the migration
//     (NamesFor: ppg_<id>), on a replication session
//     (CREATE_REPLICATION_SLOT … LOGICAL pgoutput (SNAPSHOT 'export')). A
//     table without identity goes in the publication only with the user's
//     consent to REPLICA IDENTITY FULL (SetupOptions.FullIdentity):
//     otherwise the source would refuse its UPDATEs and DELETEs. Without
//     consent it is not published; Snapshot.CopyOnce lists it, to be
//     checked at cutover. The returned Snapshot holds the replication
//     session open and idle: its Name is valid for pg_dump --snapshot=Name
//     until Release.
//
//  3. The engine copies with pg_dump --snapshot=Snapshot.Name and
//     restores as for a frozen copy, then calls Release (the snapshot must
//     stay valid until pg_dump has imported it, as it starts; holding it
//     through the whole dump is simplest and safe). The copy and the
//     stream meet exactly at Snapshot.ConsistentPoint.
//
//  4. New(Config) and Stream.Run(ctx, emit) apply every change committed
//     after that point, in the source's commit order, each source
//     transaction whole, all or nothing, inside one target transaction of
//     ordinary SQL (no subscription, no replication origin, no superuser
//     on the target).
//     The applied position is written to the bookkeeping table
//     ppg_live.position on the target in the same transaction, so a crash
//     applies each change exactly once; a new Run resumes from the later
//     of that position and the slot's confirmed one. Source transactions
//     that arrive back to back share one target transaction (each still
//     whole), statements go in pipelined batches, prepared once, and runs
//     of inserts into a table as one COPY: a link's round trip is paid per
//     batch, not per row or per transaction. Values travel as
//     text and the target casts them; generated columns and TOASTed values
//     an UPDATE left unchanged are not written; TRUNCATE is applied.
//     Transactions larger than the source's logical_decoding_work_mem are
//     streamed while in progress (protocol 2, PostgreSQL 14 and later) and
//     spilled to a temporary file until they commit, so memory stays
//     bounded whatever their size. Status updates tell the source what is
//     applied, so the WAL it keeps stays bounded. A lost connection to
//     either side is retried with backoff (EventRetry).
//
//  5. When a table's columns on the source no longer match the target's
//     (DDL on the source), Run stops before applying the change with a
//     *DDLError naming the table and the columns. Once the user has run
//     the same DDL on the target, a new Run resumes.
//
//  6. Stream.Cutover, called while Run runs, once the application has
//     stopped writing: it reads the source's position, waits until
//     everything committed before it is applied, sets every sequence on
//     the target from the source's value, and returns a CutoverReport
//     (with the measured downtime); Run then returns nil.
//
//  7. Drop removes the slot and the publication on the source and the
//     bookkeeping on the target. Abandon does the same for a user who
//     gives up, setting the replica identities Setup changed back.
//
// # How the engine and the front ends drive it
//
// The engine runs a live migration as steps around this package and keeps
// in its state file what must survive a restart: the migration's Names,
// the Snapshot's CopyOnce and IdentityFull tables, and whether the copy is
// done. Never a URL with a password.
//
//	p, err := live.ProbeSource(ctx, src)       // plan: show p.Blockers, p.NoIdentity()
//	snap, err := live.Setup(ctx, live.SetupOptions{Source: src, Names: n, FullIdentity: consented})
//	copied, err := snap.Fingerprints(ctx, src, snap.CopyOnce) // as the copy holds them
//	// dump with --snapshot=snap.Name, then snap.Release(ctx); restore
//	s, err := live.New(live.Config{Source: src, Target: dst, Names: n})
//	go func() { done <- s.Run(ctx, func(ev live.Event) { events <- ev }) }()
//	// on the user's request (the wizard's key, or ppg cutover):
//	rep, err := s.Cutover(ctx)                 // then <-done is nil
//	now, err := live.Fingerprints(ctx, src, snap.CopyOnce) // changed since the copy?
//	err = live.Drop(ctx, live.DropOptions{Source: src, Target: dst, Names: n})
//
// Run's events carry facts for the screens: EventStatus every
// Config.StatusInterval (lag in bytes and seconds, rows per second, WAL
// held on the source) for the streaming screen and its lag chart, and the
// headless front end prints them as JSON events; EventRetry when a
// connection was lost; EventCutover with the report. Cancelling ctx (the
// user's Ctrl-C) stops the stream and keeps the slot: running the same
// migration again resumes it. Resuming after a restart is the same New and
// Run; the stream starts from where the target recorded it got.
//
// Errors say what happened; package words turns them into a headline and
// advice: *BlockedError (wraps ErrNotPossible) lists the blockers,
// *DDLError the table and columns, *ApplyError a change the target
// refused, ErrSlotMissing a slot someone dropped (the copy must start
// again), *SlotActiveError a slot another stream holds. Retryable says
// which failures retrying can get past.
//
// Wherever ppg stops with a slot left behind, the front end calls
// Leftovers: the slot's name, the WAL it holds on the source, and the SQL
// that removes it (DropSQL), so the user always knows the slot is there
// and how to remove it.
//
// # Caveats
//
// Logical replication carries no DDL, no sequence values (set at cutover)
// and no large objects; unlogged tables are not streamed. Values travel as
// text under fixed session settings (ISO dates, UTC, hex bytea), so types
// whose text depends on other settings (money and lc_monetary) must be
// set alike on both sides. On the target the stream sets
// session_replication_role = replica where it may (Event.TriggersFire
// says when it may not): the target's triggers then do not fire again on
// changes whose effects arrive through the stream themselves.
package live
