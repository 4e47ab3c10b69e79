package words

import (
	"fmt"
	"strings"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/migrate"
)

// The words of the live choice on the wizard's plan screen: the two ways
// to migrate, the tables without a primary key and the consent asked for
// them, and why live is not offered.

// LiveChoiceHeading heads the choice.
func (f Flow) LiveChoiceHeading() string { return "How to migrate" }

// FrozenChoice is the frozen copy, as a choice.
func (f Flow) FrozenChoice() string {
	return "Frozen copy: your application stays stopped for the whole copy"
}

// LiveChoice is a live migration, as a choice.
func (f Flow) LiveChoice() string {
	return "Live: your application keeps running; the downtime is the cutover alone"
}

// LiveNoIdentity names the tables without a primary key or replica
// identity, and says what a publication would do to them.
func (f Flow) LiveNoIdentity(names []string) string {
	return fmt.Sprintf("%s without a primary key (%s): published, their updates and deletes would fail on the %s.",
		Plural(int64(len(names)), "table", "tables"), strings.Join(first(names, 5), ", "), f.Source)
}

// LiveIdentityChoice says what happens to the tables without a primary
// key: with consent they are set to REPLICA IDENTITY FULL, else copied
// once and checked at cutover.
func (f Flow) LiveIdentityChoice(consent bool) string {
	if consent {
		return "ppg sets REPLICA IDENTITY FULL on them on the " + f.Source + ", so their changes stream (a change to the " +
			f.Source + " that stays after the cutover; --abandon-live sets it back)."
	}
	return "They are copied once, not streamed, and checked at cutover: do not write to them until then, or the cutover fails. " +
		"Or consent to REPLICA IDENTITY FULL on them, so their changes stream."
}

// LiveChoiceNote replaces the frozen copy's "stop your writes" once live
// is chosen: what live creates on the source, and how it goes.
func (f Flow) LiveChoiceNote() string {
	return "The dump is written to this folder. Live creates a publication and a replication slot on the " + f.Source +
		" (the slot holds WAL there until the cutover drops both, or " + f.Command + " --abandon-live). " +
		"Your application keeps writing; once the copy is done and the changes stream, stop its writes and cut over."
}

// LiveUnavailable says in a line or two why the plan does not offer live
// migration, and that the frozen copy is available.
func (f Flow) LiveUnavailable(o *migrate.LiveOffer) string {
	why := "the check of the " + f.Source + " failed"
	switch {
	case o.Error != "":
		why += " (" + shortProbeError(o.Error) + ")"
	case len(o.Blockers) > 0:
		why = f.blockerShort(o.Blockers[0])
		if n := len(o.Blockers) - 1; n > 0 {
			why += fmt.Sprintf(" (and %s)", Plural(int64(n), "more reason", "more reasons"))
		}
	}
	return "Live migration is not possible: " + why + ". The frozen copy is available."
}

// blockerShort is Blocker in a few words: what blocks, and what it needs.
func (f Flow) blockerShort(b migrate.LiveBlocker) string {
	switch live.BlockerKind(b.Kind) {
	case live.BlockServerVersion:
		return "PostgreSQL " + b.Have + " cannot stream changes (10 or newer can)"
	case live.BlockWALLevel:
		return "wal_level is " + b.Have + ", and must be logical"
	case live.BlockRole:
		return "the " + f.Source + "'s user has neither REPLICATION nor superuser"
	case live.BlockSlots:
		return "no replication slot is free (max_replication_slots)"
	case live.BlockSenders:
		return "no WAL sender is free (max_wal_senders)"
	case live.BlockCreate:
		return "the " + f.Source + "'s user may not create a publication"
	case live.BlockOwnership:
		return fmt.Sprintf("the %s's user does not own %s", f.Source, Plural(int64(len(b.Tables)), "table", "tables"))
	case live.BlockReplicationConnection:
		return "the " + f.Source + " refused a replication connection"
	}
	return fmt.Sprintf("%s is %s, and must be %s", b.Kind, b.Have, b.Need)
}

// shortProbeError is the last part of a probe's error: its cause.
func shortProbeError(s string) string {
	if strings.Contains(s, "context deadline exceeded") {
		return fmt.Sprintf("no answer within %.0f s", migrate.LiveOfferTimeout.Seconds())
	}
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// ResumeHeading heads the start screen's record of a migration begun at
// the clock time at.
func (f Flow) ResumeHeading(live bool, at string) string {
	if live {
		return "A live migration was started in this folder at " + at
	}
	return "A migration was started in this folder at " + at
}
