package words

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// Notice is the sentence of an engine notice.
func (f Flow) Notice(n *migrate.Notice) string {
	switch n.Code {
	case migrate.NoticeStartingOver:
		return fmt.Sprintf("starting over; the earlier dump %s is kept", n.Path)
	case migrate.NoticeDumpChanged:
		return f.cause(n) + ": dumping again"
	case migrate.NoticeWritesNotMigrated:
		return "writes to the " + f.Source + " after the dump starts are not migrated: " +
			"stop your application's writes (or put it in maintenance mode) until the migration is done"
	case migrate.NoticeNoSharedSnapshot:
		return "the " + f.Source + " does not allow sharing pg_dump's snapshot (" + n.Cause +
			"): row counts are taken separately and may differ if the database is written to meanwhile"
	case migrate.NoticeSnapshotRefused:
		return "pg_dump could not use ppg's snapshot: dumping again without it; row counts are taken separately"
	case migrate.NoticeSourceWritten:
		t := fmt.Sprintf("%s inserted, updated or deleted after the dump's snapshot", Plural(n.Count, "row was", "rows were"))
		if n.Count == 0 {
			t = "the " + f.Source + " was written to after the dump's snapshot"
		}
		if len(n.Names) > 0 {
			t += " (" + strings.Join(first(n.Names, 5), ", ") + ")"
		}
		return t + "; those writes are not in the dump."
	default:
		return f.restoreNotice(n)
	}
}

// restoreNotice is the sentence of a notice of the restore, the verify
// step or the connections (see Notice).
func (f Flow) restoreNotice(n *migrate.Notice) string {
	switch n.Code {
	case migrate.NoticeHarmlessError:
		return n.Cause + ": " + f.Harmless(n.Harmless)
	case migrate.NoticeRestoreNote:
		return f.targetNote(n)
	case migrate.NoticeTargetReset:
		return "the schema restore was interrupted: emptying the " + f.Target + " (it was empty before) to restore the schema again"
	case migrate.NoticeDataResumed:
		return fmt.Sprintf("resuming the data: %d of %d tables already loaded, %d to load", n.Count, n.Of, n.Of-n.Count)
	case migrate.NoticeTablesEmptied:
		return "emptied partly loaded tables to load them again: " + strings.Join(first(n.Names, 10), ", ")
	case migrate.NoticePostDataResumed:
		return fmt.Sprintf("resuming indexes and constraints: %d already created, %d to create", n.Count, n.Of)
	case migrate.NoticeLargeObjectsReloaded:
		return fmt.Sprintf("removed %s that the interrupted run loaded, to load them again", Plural(n.Count, "large object", "large objects"))
	case migrate.NoticeSourceChanged:
		return fmt.Sprintf("the %s was written to after the dump: %s changed (%s); those writes are not in the %s",
			f.Source, Plural(n.Count, "table", "tables"), strings.Join(first(n.Names, 5), ", "), f.Target)
	case migrate.NoticeChangesUnknown:
		return "the " + f.Source + "'s statistics were reset since the dump: ppg cannot tell whether it was written to meanwhile"
	case migrate.NoticeDumpingAgain:
		return "dumping the " + f.Source + " again, with the writes made during the first dump"
	case migrate.NoticeRedumping:
		return "dumping the " + f.Source + " again, then restoring it again into the emptied " + f.Target
	case migrate.NoticeLowDiskSpace:
		return fmt.Sprintf("%s has %s free and the dump may take about %s: it goes on, and stops cleanly if the disk fills", n.Path, Bytes(n.Count), Bytes(n.Of))
	case migrate.NoticeRetrying:
		return fmt.Sprintf("%s: retrying (%d of %d) where it stopped", f.cause(n), n.Count, n.Of)
	case migrate.NoticeDeadlockRetry:
		return fmt.Sprintf("parallel restore jobs deadlocked (a known effect of partitioned tables): restoring what is missing one at a time (try %d of %d)", n.Count, n.Of)
	case migrate.NoticeNoPipeline:
		return "pg_restore restores this part itself, one statement at a time (" + n.Cause + ")"
	case migrate.NoticeSlowConnect:
		return fmt.Sprintf("still waiting for the %s after %d s: the server may be far or busy, or another session holds a lock that ppg's checks wait for (a long transaction or a migration running there)"+standbyNote+"; ppg goes on waiting, Ctrl-C stops",
			f.Side(n.Side), n.Count)
	case migrate.NoticeNoManifest:
		return "no manifest beside the dump (" + filepath.Base(n.Path) + "): the restore is not verified"
	case migrate.NoticeLiveStatus, migrate.NoticeLiveRetry, migrate.NoticeLiveSlotLeft, migrate.NoticeLiveCutoverAsked, migrate.NoticeLiveTriggersFire:
		return f.liveNotice(n)
	case migrate.NoticeRowSecurityBypassed:
		return f.rowSecurityNotice(n)
	default:
		if s, ok := f.compatNotice(n); ok {
			return s
		}
		// A notice these words do not know yet: never its raw fields.
		return fmt.Sprintf("the migration reported something this version of ppg cannot describe (notice %q)", string(n.Code))
	}
}

// targetNote says what to expect from restoring into an older server.
func (f Flow) targetNote(n *migrate.Notice) string {
	switch n.Note {
	case pgtools.NoteTransactionTimeout:
		return fmt.Sprintf("pg_restore %d sets transaction_timeout, which PostgreSQL %d does not know: "+
			`expect the harmless error 'unrecognized configuration parameter "transaction_timeout"' `+
			"once per connection (with -j N, once for each worker too), counted in \"errors ignored on restore\"", n.Count, n.Of)
	}
	return fmt.Sprintf("the restore into the %s reported something this version of ppg cannot describe (note %q)", f.Target, n.Note.String())
}

func (f Flow) cause(n *migrate.Notice) string {
	if n.Err != nil {
		return f.Explain(n.Err).Headline
	}
	return n.Cause
}

// Harmless says why a restore error does no harm.
func (f Flow) Harmless(r migrate.HarmlessReason) string {
	switch r {
	case migrate.HarmlessTransactionTimeout:
		return "pg_restore 17 sets transaction_timeout, which servers before 17 do not know; nothing depends on it"
	case migrate.HarmlessExtensionComment:
		return "the comment of an extension the " + f.Target + " already has (such as plpgsql) belongs to its owner; only the comment is lost"
	case migrate.HarmlessPublicSchema:
		return "dumps of servers before 15 create the public schema, which every database already has"
	case migrate.HarmlessResumed:
		return "the interrupted run created it already"
	}
	return string(r)
}

// Tools writes the chosen tools: "pg_dump 17.2 (path) and pg_restore 17.2
// (path)".
func Tools(ts migrate.Summary) string {
	if ts.Tools == nil {
		return ""
	}
	return fmt.Sprintf("%s and %s", ts.Tools.Dump, ts.Tools.Restore)
}

// Source describes the source database: "PostgreSQL 16.4, 1.2 GB, 8
// tables, about 5.1M rows".
func Source(db *migrate.Database) string {
	data := ""
	if db.DataBytes > 0 {
		data = fmt.Sprintf(" (%s of table data to copy)", Bytes(db.DataBytes))
	}
	return fmt.Sprintf("PostgreSQL %s, %s on disk%s, %d tables, about %s rows",
		Version(db.ServerVersion), Bytes(db.Size), data, db.Tables, Count(db.EstimatedRows))
}

// Summary is the sentence of a finished step's summary, as the headless
// front end prints it after "done:".
func (f Flow) Summary(st migrate.Step, s *migrate.Summary) string {
	if s == nil {
		return ""
	}
	switch {
	case s.Tools != nil:
		return Tools(*s)
	case s.Database != nil && st == migrate.StepConnectSource:
		return Source(s.Database)
	case s.Database != nil:
		t := fmt.Sprintf("PostgreSQL %s, %s", Version(s.Database.ServerVersion), Bytes(s.Database.Size))
		switch {
		case s.TargetResumed:
			return t + ", holding this migration's interrupted restore (it will be restored again)"
		case s.Database.ConfirmedNonEmpty:
			return t + ", not empty (confirmed)"
		}
		return t + ", empty"
	case s.Dump != nil:
		d := s.Dump
		sum := d.SHA256
		if len(sum) > 16 {
			sum = sum[:16]
		}
		return fmt.Sprintf("%s, %s compressed, %d tables, %s rows, sha256 %s", d.Path, Bytes(d.Size), d.Tables, Count(d.Rows), sum)
	case s.Archive != nil:
		a := s.Archive
		return fmt.Sprintf("%d entries, data of %d tables, written by pg_dump %s from PostgreSQL %s; read with %s",
			a.Entries, a.DataEntries, a.DumpedBy, a.DumpedFrom, a.Restore)
	case s.Restore != nil:
		r := s.Restore
		t := fmt.Sprintf("%d tables loaded with %d parallel jobs", r.Tables, r.Jobs)
		if r.AnalyzeSeconds > 0 {
			t += fmt.Sprintf(", statistics gathered (ANALYZE) in %.1f s", r.AnalyzeSeconds)
		}
		if r.Warnings > 0 {
			t += fmt.Sprintf("; %s reported as warnings", Plural(int64(r.Warnings), "harmless error", "harmless errors"))
		}
		if len(r.Skipped) > 0 {
			t += "; " + f.Skipped(r)
		}
		return t
	case s.Cutover != nil:
		return f.CutoverSummary(s.Cutover)
	case s.Verified != nil:
		v := s.Verified
		t := fmt.Sprintf("%d tables and %s rows match, %d sequences match, object counts match", v.Tables, Count(v.Rows), v.Sequences)
		if v.LargeObjects > 0 {
			t += fmt.Sprintf(", %s match", Plural(v.LargeObjects, "large object", "large objects"))
		}
		switch {
		case v.Content && len(v.CountedOnly) > 0:
			t += fmt.Sprintf(", and the content of the other tables' rows and of the large objects matches (hashes); %s counted, not hashed: %s (an application's statement waited for pg_dump's lock on it before ppg could read it, so its rows were counted in the dump file)",
				Plural(int64(len(v.CountedOnly)), "table was", "tables were"), strings.Join(v.CountedOnly, ", "))
		case v.Content:
			t += ", and every row's content matches (hashes of all rows and large objects)"
		}
		return t + keptWords(v)
	}
	return ""
}

// Mismatch writes one difference: "table public.a: 10 on the EA database,
// 3 on the GA database".
func (f Flow) Mismatch(m migrate.Mismatch) string {
	counts := fmt.Sprintf("%d on the %s, %d on the %s", m.Source, f.Source, m.Target, f.Target)
	switch m.Kind {
	// --verify=content: the hashes differ, the counts say nothing.
	case migrate.MismatchTableContent:
		return fmt.Sprintf("table %s: the content of its rows differs from the %s's (%s in the dump)", m.Name, f.Source, Plural(m.Source, "row", "rows"))
	case migrate.MismatchLargeObjectContent:
		return fmt.Sprintf("large objects: the content of one or more differs from the %s's (%s in the dump)", f.Source, Plural(m.Source, "large object", "large objects"))
	case migrate.MismatchTable:
		return fmt.Sprintf("table %s: %s", m.Name, counts)
	case migrate.MismatchSequence:
		return fmt.Sprintf("sequence %s: %s", m.Name, counts)
	case migrate.MismatchObjects:
		return fmt.Sprintf("%s: %s", m.Object, counts)
	case migrate.MismatchLargeObjects:
		return "large objects: " + counts
	}
	return fmt.Sprintf("a difference ppg has no words for (%q): %s", string(m.Kind), counts)
}

// PlanItem is the sentence of one preflight check.
func (f Flow) PlanItem(it migrate.CheckItem) string {
	switch it.Code {
	case migrate.CheckVersions:
		if it.Target == 0 {
			return fmt.Sprintf("%s: PostgreSQL %s", f.Source, Version(it.Source))
		}
		t := fmt.Sprintf("%s: PostgreSQL %s; %s: PostgreSQL %s", f.Source, Version(it.Source), f.Target, Version(it.Target))
		if it.Verdict == migrate.VerdictBlocks {
			t += fmt.Sprintf("; the %s is older: restore into PostgreSQL %d or newer", f.Target, oldestTarget(it.Source/10000))
		}
		return t + f.versionsNote(it)
	case migrate.CheckSwapped:
		if it.Count == 0 {
			return fmt.Sprintf("the %s holds no tables: is this the %s's key? (the %s is the new, empty one)", f.Source, f.Target, f.Target)
		}
		return fmt.Sprintf("the %s runs PostgreSQL %s, newer than an %s runs: is this the %s's key?", f.Source, Version(it.Source), f.Source, f.Target)
	case migrate.CheckSameDatabase:
		return fmt.Sprintf("the %s is the %s itself: paste the key of the new database", f.Target, f.Source)
	case migrate.CheckTargetEmpty:
		if it.Verdict == migrate.VerdictOK {
			return fmt.Sprintf("the %s is empty", f.Target)
		}
		t := fmt.Sprintf("the %s is not empty: it holds %s", f.Target, Plural(it.Count, "object", "objects"))
		if len(it.Names) > 0 {
			t += " (schemas " + strings.Join(first(it.Names, 5), ", ") + ")"
		}
		if it.Verdict == migrate.VerdictBlocks {
			t += "; use an empty database, or confirm with --allow-non-empty-target"
		} else {
			t += "; you will be asked to confirm"
		}
		return t
	case migrate.CheckDiskSpace:
		switch it.Verdict {
		case migrate.VerdictBlocks:
			return fmt.Sprintf("%s has %s free; the dump needs at least %s: free some space or use another folder", it.Path, Bytes(it.Count), Bytes(it.Of))
		case migrate.VerdictWarn:
			return fmt.Sprintf("%s has %s free; the dump may take about %s", it.Path, Bytes(it.Count), Bytes(it.Of))
		}
		return fmt.Sprintf("%s has %s free for a dump of about %s", it.Path, Bytes(it.Count), Bytes(it.Of))
	case migrate.CheckConnections:
		switch it.Verdict {
		case migrate.VerdictBlocks:
			return fmt.Sprintf("the %s accepts only %s more: close other sessions (or raise its limit) first", f.Target, Plural(it.Count, "connection", "connections"))
		case migrate.VerdictHandled:
			return fmt.Sprintf("the %s accepts %s more: the restore runs %d parallel jobs", f.Target, Plural(it.Count, "connection", "connections"), it.Of)
		}
		return fmt.Sprintf("the %s accepts %s more: enough for %d parallel jobs", f.Target, Plural(it.Count, "connection", "connections"), it.Of)
	default:
		if t := f.objectsItem(it); t != "" {
			return t
		}
		if t := f.liveItem(it); t != "" {
			return t
		}
		if t, ok := f.compatItem(it); ok {
			return t
		}
		return fmt.Sprintf("a check this version of ppg cannot describe (%q)", string(it.Code))
	}
}

// objectsItem is the sentence of a check on the objects of the dump
// (extensions, roles, event triggers, publications, large objects); "" for
// the other checks.
func (f Flow) objectsItem(it migrate.CheckItem) string {
	switch it.Code {
	case migrate.CheckExtensions:
		if len(it.Names) == 0 {
			return fmt.Sprintf("the %s offers every extension the %s uses", f.Target, f.Source)
		}
		return fmt.Sprintf("the %s does not offer the extension%s %s that the %s uses: the restore would fail; remove %s from the %s (or its use), or choose a target that offers %s",
			f.Target, plural(len(it.Names)), strings.Join(it.Names, ", "), f.Source, them(len(it.Names)), f.Source, them(len(it.Names)))
	case migrate.CheckRoles:
		if len(it.Names) == 0 {
			return "no policy names a role the " + f.Target + " lacks"
		}
		return fmt.Sprintf("%s for roles the %s lacks (%s): not restored; their statements go to %s, to run once the roles exist (%s)",
			Plural(int64(len(it.Names)), "policy is", "policies are"), f.Target, strings.Join(it.Roles, ", "), filepath.Base(it.Path), strings.Join(first(it.Names, 5), "; "))
	case migrate.CheckEventTriggers:
		if it.Verdict == migrate.VerdictOK {
			return fmt.Sprintf("%s restored (the %s user is a superuser)", Plural(int64(len(it.Names)), "event trigger is", "event triggers are"), f.Target)
		}
		need := "needs"
		if len(it.Names) != 1 {
			need = "need"
		}
		return fmt.Sprintf("%s (%s) %s a superuser, which a managed database does not give: not restored; their statements go to %s",
			Plural(int64(len(it.Names)), "event trigger", "event triggers"), strings.Join(first(it.Names, 5), ", "), need, filepath.Base(it.Path))
	case migrate.CheckPublications:
		return fmt.Sprintf("publications and subscriptions (%s) are not migrated: they are the old database's replication setup", strings.Join(first(it.Names, 5), ", "))
	case migrate.CheckLargeObjects:
		return fmt.Sprintf("%s, restored with their OIDs and compared", Plural(it.Count, "large object", "large objects"))
	default:
		return ""
	}
}

// Mark is the plan verdict's mark: ✓, handled (→), warning (!) or ✗.
func Mark(v migrate.Verdict) string {
	switch v {
	case migrate.VerdictOK:
		return "✓"
	case migrate.VerdictHandled:
		return "→"
	case migrate.VerdictWarn:
		return "!"
	}
	return "✗"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// Skipped says which objects the restore left out, why, and what to do.
func (f Flow) Skipped(r *migrate.RestoreSummary) string {
	if s, ok := f.skippedDowngrade(r); ok {
		return s
	}
	var names, roles []string
	superuser := false
	for _, s := range r.Skipped {
		n := s.Name
		if s.Schema != "" {
			n = s.Schema + "." + n
		}
		names = append(names, strings.ToLower(s.Desc)+" "+n)
		for _, ro := range s.Roles {
			if !slices.Contains(roles, ro) {
				roles = append(roles, ro)
			}
		}
		superuser = superuser || s.Superuser
	}
	t := fmt.Sprintf("%s not restored (%s)", Plural(int64(len(r.Skipped)), "object was", "objects were"), strings.Join(first(names, 5), ", "))
	var need []string
	if len(roles) > 0 {
		need = append(need, "create the roles "+strings.Join(roles, ", "))
	}
	if superuser {
		need = append(need, "connect as a superuser")
	}
	file := r.SkippedFile
	if file == "" {
		file = migrate.SkippedFileName
	}
	return t + fmt.Sprintf(": %s, then run psql -f %s", strings.Join(need, " and "), file)
}

// Cutover lists what to do once the target is verified: the objects the
// restore left out, the application's URL, .env lines still on retired
// Accelerate, the target's version and the moment after which the source's
// writes are not in the target.
func (f Flow) Cutover(v *migrate.VerifySummary, env []migrate.EnvFinding) []string {
	var out []string
	if v != nil && len(v.Skipped) > 0 {
		t := f.Skipped(&migrate.RestoreSummary{Skipped: v.Skipped, SkippedFile: v.SkippedFile})
		out = append(out, strings.ToUpper(t[:1])+t[1:]+".")
	}
	out = append(out, "Point your application's DATABASE_URL at the "+f.Target+" (for Prisma Postgres: its pooled URL for the application, its direct URL for tools such as prisma migrate), and restart it.")
	out = append(out, f.rowSecurityCutover(v)...)
	for _, e := range env {
		out = append(out, fmt.Sprintf("%s line %d (%s) still holds a hosted Accelerate URL (prisma+postgres://accelerate.prisma-data.net), retired on 1 December 2026: replace it with the %s's URL.",
			e.Path, e.Line, e.Name, f.Target))
	}
	if v != nil && v.TargetVersion > 0 {
		out = append(out, fmt.Sprintf("The %s runs PostgreSQL %s.", f.Target, Version(v.TargetVersion)))
	}
	if v != nil && !v.DumpedAt.IsZero() {
		out = append(out, fmt.Sprintf("The dump's snapshot was taken at %s: writes to the %s after that moment are not in the %s. Keep them paused until the application runs on the %s.",
			moment(v.DumpedAt), f.Source, f.Target, f.Target))
	}
	return out
}
