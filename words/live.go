package words

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/migrate"
)

// The words of a live migration: the plan's live items, the stream's
// notices, the cutover's summary and the stream's failures.

func init() {
	// The stream's failures come before the connection families: a
	// *DDLError is not a lost connection.
	rules = append([]rule{Flow.stopped, Flow.live}, rules...)
}

// liveStep names the stream step.
func (f Flow) liveStep(st migrate.Step) string {
	if st == migrate.StepStream {
		return "Stream the changes to the " + f.Target
	}
	return ""
}

// liveItem is the sentence of a live migration's plan item; "" for the
// other items.
func (f Flow) liveItem(it migrate.CheckItem) string {
	switch it.Code {
	case migrate.CheckLive:
		if it.Verdict == migrate.VerdictOK {
			return "the " + f.Source + " can stream its changes (logical replication): the downtime is the cutover alone"
		}
		var why []string
		for _, b := range it.Blockers {
			why = append(why, f.Blocker(b))
		}
		return "a live migration is impossible on this " + f.Source + ": " + strings.Join(why, "; ") +
			"; nothing was created. Without --live, the frozen copy is still possible"
	case migrate.CheckLiveIdentityFull:
		return fmt.Sprintf("%s without a primary key (%s) will be set to REPLICA IDENTITY FULL on the %s, as you consented, so their updates and deletes stream",
			Plural(int64(len(it.Names)), "table", "tables"), strings.Join(first(it.Names, 5), ", "), f.Source)
	case migrate.CheckLiveCopyOnce:
		return fmt.Sprintf("%s without a primary key (%s) will be copied once, not streamed, and checked at cutover: write to them and the cutover fails; to stream them, consent with --replica-identity-full=%s (or all)",
			Plural(int64(len(it.Names)), "table", "tables"), strings.Join(first(it.Names, 5), ", "), strings.Join(first(it.Names, 5), ","))
	case migrate.CheckLiveNotStreamed:
		var parts []string
		if len(it.Names) > 0 {
			parts = append(parts, "unlogged tables ("+strings.Join(first(it.Names, 5), ", ")+")")
		}
		if it.Count > 0 {
			parts = append(parts, Plural(it.Count, "large object", "large objects"))
		}
		return strings.Join(parts, " and ") + " are copied once and not streamed: do not write to them until cutover"
	default:
		return ""
	}
}

// Blocker says why the source cannot stream, and what to change.
func (f Flow) Blocker(b migrate.LiveBlocker) string {
	switch live.BlockerKind(b.Kind) {
	case live.BlockServerVersion:
		return "PostgreSQL " + b.Have + " cannot stream changes; PostgreSQL 10 or newer can"
	case live.BlockWALLevel:
		return fmt.Sprintf("wal_level is %s, and must be logical: set wal_level = logical and restart the server "+
			"(on Amazon RDS and Aurora set rds.logical_replication = 1 in the parameter group; on Neon enable logical replication in the project's settings; "+
			"on Supabase and other managed services, their logical-replication setting)", b.Have)
	case live.BlockRole:
		return "the " + f.Source + "'s user has neither REPLICATION nor superuser: grant it (ALTER ROLE … REPLICATION; on RDS GRANT rds_replication), or connect as a user that has it"
	case live.BlockSlots:
		return fmt.Sprintf("no replication slot is free (%s, %s needed): drop an unused slot or raise max_replication_slots", b.Have, b.Need)
	case live.BlockSenders:
		return fmt.Sprintf("no WAL sender is free (%s, %s needed): raise max_wal_senders or end another replication connection", b.Have, b.Need)
	case live.BlockCreate:
		return "the " + f.Source + "'s user may not create a publication: grant it CREATE on the database"
	case live.BlockReplicationConnection:
		return "the " + f.Source + " refused a replication connection (" + b.Have + "), and the stream needs one: " +
			"a pooler or a gateway in between may not carry it (whether Prisma's gateway for Early Access databases does is not known); " +
			"connect to the " + f.Source + " directly"
	case live.BlockOwnership:
		return fmt.Sprintf("the %s's user does not own %s (%s), and a publication needs ownership: connect as their owner",
			f.Source, Plural(int64(len(b.Tables)), "table", "tables"), strings.Join(first(b.Tables, 5), ", "))
	}
	return fmt.Sprintf("%s (%s; needs %s)", b.Kind, b.Have, b.Need)
}

// liveNotice is the sentence of a live migration's notice; "" for the
// other notices.
func (f Flow) liveNotice(n *migrate.Notice) string {
	switch n.Code {
	case migrate.NoticeLiveStatus:
		return "streaming"
	case migrate.NoticeLiveRetry:
		return "the stream lost a connection (" + n.Cause + "): retrying where it stopped"
	case migrate.NoticeLiveSlotLeft:
		t := "the replication slot " + n.Path + " stays on the " + f.Source
		if n.Count > 0 {
			t += " and holds " + Bytes(n.Count) + " of WAL there"
		}
		return t + ", and goes on holding WAL until it is dropped: run " + f.Command + " again in this folder to resume, " +
			"or remove it with " + f.Command + " --abandon-live (or run on the " + f.Source + ": " + n.Cause + ")"
	case migrate.NoticeLiveCutoverAsked:
		return "cutover asked for: applying the last changes, then setting the sequences"
	case migrate.NoticeLiveTriggersFire:
		return "the " + f.Target + " refused session_replication_role = replica: its triggers fire on every change the stream applies"
	default:
		return ""
	}
}

// LiveStatus is the stream's status line.
func LiveStatus(s *migrate.LiveStatus) string {
	state := "catching up"
	if s.InSync {
		state = "in sync"
	}
	return fmt.Sprintf("streaming, %s: lag %s (%.1f s), %.0f rows/s, %s rows applied, %s of WAL held on the source; run 'ppg cutover' in this folder once the application has stopped writing",
		state, Bytes(s.LagBytes), s.LagSeconds, s.RowsPerSecond, Count(s.Rows), Bytes(s.WALHeld))
}

// CutoverSummary is the sentence of a cutover done.
func (f Flow) CutoverSummary(c *migrate.CutoverSummary) string {
	t := fmt.Sprintf("cut over in %.1f s of downtime (caught up in %.1f s, %s set); %d tables and %s rows match the %s exactly",
		c.DowntimeSeconds, c.CaughtUpSeconds, Plural(int64(c.Sequences), "sequence", "sequences"), c.Tables, Count(c.Rows), f.Source)
	if c.CopyOnceChecked > 0 {
		t += fmt.Sprintf(", %s copied once unchanged", Plural(int64(c.CopyOnceChecked), "table", "tables"))
	}
	return t + fmt.Sprintf("; replication slot %s and publication %s dropped", c.DroppedSlot, c.DroppedPublication)
}

// live words the stream's failures.
func (f Flow) live(err error, out *Failure) bool {
	var ddl *live.DDLError
	var active *live.SlotActiveError
	var blocked *live.BlockedError
	var changed *migrate.CopyOnceChangedError
	var frozen *migrate.FrozenNotLiveError
	switch {
	case errors.Is(err, migrate.ErrLiveSnapshotRefused):
		out.Hint = "connect to the " + f.Source + " directly, not through a connection pooler (PgBouncer, a pooled port), for a live migration; or run without --live"
	case errors.As(err, &frozen):
		out.Hint = "run " + f.Command + " without --live to resume it, or start a live migration over with " + f.Command + " --live --restart"
	case errors.As(err, &ddl):
		out.Hint = "run the same DDL on the " + f.Target + ", then run " + f.again() + ": the stream resumes where it stopped"
	case errors.As(err, &active):
		out.Hint = "another ppg streams from this slot: stop it first, or wait for it"
	case errors.Is(err, live.ErrSlotMissing):
		out.Hint = "the slot was dropped, and the changes since are lost to this migration: start over with " + f.Command + " --live --restart --reset-target"
	case errors.As(err, &blocked):
		var why []string
		for _, b := range blocked.Blockers {
			why = append(why, f.Blocker(migrate.LiveBlocker{Kind: string(b.Kind), Have: b.Have, Need: b.Need}))
		}
		out.Headline = "a live migration is impossible on this " + f.Source + ": " + strings.Join(why, "; ")
		out.Hint = "change that, or run without --live for a frozen copy"
	case errors.As(err, &changed):
		out.Headline = "tables copied once were written to since the copy: " + strings.Join(first(changed.Tables, 5), ", ")
		out.Hint = "start over with " + f.Command + " --live --restart --reset-target and --replica-identity-full for those tables, so their changes stream"
	default:
		return false
	}
	return true
}
