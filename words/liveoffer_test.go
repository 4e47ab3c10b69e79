package words

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/migrate"
)

// liveOfferLines are the sentences of the live choice on the plan screen,
// for the goldens.
func liveOfferLines(f Flow) []string {
	out := []string{
		"heading: " + f.LiveChoiceHeading(),
		"frozen: " + f.FrozenChoice(),
		"live: " + f.LiveChoice(),
		"no identity: " + f.LiveNoIdentity([]string{"public.logs", "public.audit"}),
		"consent: " + f.LiveIdentityChoice(true),
		"no consent: " + f.LiveIdentityChoice(false),
		"note: " + f.LiveChoiceNote(),
		"resume: " + f.ResumeHeading(true, "10:42"),
	}
	for _, o := range []*migrate.LiveOffer{
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockWALLevel), Have: "replica", Need: "logical"}}},
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockRole)}, {Kind: string(live.BlockCreate)}, {Kind: string(live.BlockSlots)}}},
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockServerVersion), Have: "9"}}},
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockSenders)}}},
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockOwnership), Tables: []string{"public.a", "public.b"}}}},
		{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockReplicationConnection), Have: "refused"}}},
		{Error: "probe the source for live migration: connect to the source: failed to connect to `user=app database=shop`: 10.0.0.5:5432: dial tcp: connection refused"},
		{Error: "probe the source for live migration: context deadline exceeded"},
	} {
		out = append(out, "unavailable: "+f.LiveUnavailable(o))
	}
	return out
}

// TestLiveUnavailableFitsTwoLines: why live is not offered fits two lines
// of the 80-column plan screen, for every blocker.
func TestLiveUnavailableFitsTwoLines(t *testing.T) {
	for _, f := range []Flow{FromEA, Migrate} {
		for _, l := range liveOfferLines(f) {
			if s, ok := strings.CutPrefix(l, "unavailable: "); ok && len([]rune(s)) > 2*76 {
				t.Errorf("%d characters, more than two lines: %s", len([]rune(s)), s)
			}
		}
	}
}
