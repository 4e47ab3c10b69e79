package words

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/migrate"
)

// liveSampleNotices are the live migration's notices, for the goldens.
func liveSampleNotices() []migrate.Notice {
	return []migrate.Notice{
		{Code: migrate.NoticeLiveStatus},
		{Code: migrate.NoticeLiveRetry, Cause: "target: connection reset by peer", Count: 2},
		{Code: migrate.NoticeLiveSlotLeft, Path: "ppg_abc123", Count: 48 << 20, Cause: live.DropSQL(live.NamesFor("abc123"))},
		{Code: migrate.NoticeLiveCutoverAsked},
		{Code: migrate.NoticeLiveTriggersFire},
	}
}

// liveLines are the live migration's other sentences: steps, plan items,
// status, cutover and failures.
func liveLines(f Flow) []string {
	out := []string{fmt.Sprintf("step %s: %s", migrate.StepStream, f.Step(migrate.StepStream))}
	items := []migrate.CheckItem{
		{Code: migrate.CheckLive, Verdict: migrate.VerdictOK, Source: 160004},
		{Code: migrate.CheckLive, Verdict: migrate.VerdictBlocks, Blockers: []migrate.LiveBlocker{
			{Kind: string(live.BlockWALLevel), Have: "replica", Need: "logical"},
			{Kind: string(live.BlockRole), Have: "no", Need: "REPLICATION"},
			{Kind: string(live.BlockSlots), Have: "0 free", Need: "1"},
			{Kind: string(live.BlockSenders), Have: "0 free", Need: "1"},
			{Kind: string(live.BlockCreate)},
			{Kind: string(live.BlockOwnership), Tables: []string{"public.a"}},
			{Kind: string(live.BlockServerVersion), Have: "9.6"},
		}},
		{Code: migrate.CheckLiveIdentityFull, Verdict: migrate.VerdictHandled, Names: []string{"public.events"}},
		{Code: migrate.CheckLiveCopyOnce, Verdict: migrate.VerdictWarn, Names: []string{"public.log", "public.audit"}},
		{Code: migrate.CheckLiveNotStreamed, Verdict: migrate.VerdictWarn, Names: []string{"public.cache"}, Count: 2},
	}
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s %s: %s", Mark(it.Verdict), it.Code, f.PlanItem(it)))
	}
	out = append(out,
		"status: "+LiveStatus(&migrate.LiveStatus{LagBytes: 1 << 20, LagSeconds: 1.5, Rows: 120_000, RowsPerSecond: 4200, WALHeld: 64 << 20}),
		"status: "+LiveStatus(&migrate.LiveStatus{InSync: true, Rows: 120_000, WALHeld: 1 << 20}),
		"cutover: "+f.CutoverSummary(&migrate.CutoverSummary{DowntimeSeconds: 2.4, CaughtUpSeconds: 0.8, Sequences: 3, Tables: 12,
			Rows: 1_000_000, CopyOnceChecked: 1, DroppedSlot: "ppg_abc123", DroppedPublication: "ppg_abc123"}))
	for _, e := range []struct {
		name string
		err  error
	}{
		{"ddl", &live.DDLError{Table: live.Table{Schema: "public", Name: "orders"}, Missing: []string{"note"}}},
		{"slot missing", live.ErrSlotMissing},
		{"slot active", &live.SlotActiveError{Slot: "ppg_abc123", PID: 4242}},
		{"blocked", &live.BlockedError{Blockers: []live.Blocker{{Kind: live.BlockWALLevel, Have: "replica", Need: "logical"}}}},
		{"copy once changed", &migrate.CopyOnceChangedError{Tables: []string{"public.log"}}},
		{"frozen, not live", &migrate.FrozenNotLiveError{Dir: "/home/me/shop"}},
		{"snapshot refused", migrate.ErrLiveSnapshotRefused},
	} {
		x := f.Explain(e.err)
		out = append(out, fmt.Sprintf("%s [%s, exit %d]\n  headline: %s\n  hint: %s", e.name, x.Class, x.Status, x.Headline, x.Hint))
	}
	return out
}

// TestLiveBlockersSayWhatToChange: every blocker kind has its own words,
// and the wal_level one names the providers' settings.
func TestLiveBlockersSayWhatToChange(t *testing.T) {
	for _, k := range []live.BlockerKind{live.BlockServerVersion, live.BlockWALLevel, live.BlockRole, live.BlockSlots,
		live.BlockSenders, live.BlockCreate, live.BlockOwnership, live.BlockReplicationConnection} {
		s := Migrate.Blocker(migrate.LiveBlocker{Kind: string(k), Have: "x", Need: "y"})
		if s == fmt.Sprintf("%s (x; needs y)", k) {
			t.Errorf("blocker %s has no words: %q", k, s)
		}
	}
	wal := Migrate.Blocker(migrate.LiveBlocker{Kind: string(live.BlockWALLevel), Have: "replica", Need: "logical"})
	for _, want := range []string{"wal_level = logical", "rds.logical_replication", "Neon", "Supabase"} {
		if !strings.Contains(wal, want) {
			t.Errorf("the wal_level blocker %q does not say %q", wal, want)
		}
	}
}
