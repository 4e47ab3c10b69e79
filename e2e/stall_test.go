//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/ppg-cli/ppg/words"
)

// TestMigrateStalledDumpIsCalledStalled: the gateway stops relaying in the
// middle of the dump without closing anything, as a hung link does. With
// --stall-timeout=3s and no retries, ppg stops pg_dump within a few
// seconds, says the connection stalled (not "failed" with a tool's
// words), and exits with the connection status; the same command, once
// the link works again, resumes and verifies.
func TestMigrateStalledDumpIsCalledStalled(t *testing.T) {
	m := newMigration(t, withBandwidth(wizSlowRate))
	m.source.exec(wizResumeSQL)
	args := []string{"--non-interactive", "--json", "--stall-timeout=3s", "--retries=0"}

	p := m.start(args...)
	p.waitFor(eventWhere("the dump copying a table", func(ev event) bool {
		return progressOf("dump").matches(ev) && ev.Progress.Current != ""
	}))
	m.gateway.Freeze(true)
	frozen := time.Now()
	r := p.wait()
	took := time.Since(frozen)
	m.gateway.Freeze(false)
	r.wantExit(words.StatusConnect)
	if !r.has(stepFailed("dump").saying("stalled", "pg_dump", "3s")) {
		t.Errorf("the dump's failure does not say the connection stalled:\n%s", describe(r.events))
	}
	// The watchdog's 3 s, its checks, and stopping pg_dump: well under the
	// default 2 minutes that a hung link would otherwise cost.
	if took > 30*time.Second {
		t.Errorf("ppg took %s to stop a dump stalled for a 3 s timeout", took.Round(time.Second))
	}

	r = m.run(args...)
	r.wantExit(0)
	r.wantVerified()
	compareData(t, m.source, m.target)
}
