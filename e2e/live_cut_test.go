//go:build e2e

package e2e

// The target's connection cut during a live migration's stream, through
// the binary: ppg retries by itself and the cutover ends identical.

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

// applySessionsSQL terminates, from a superuser session, the target's
// sessions of ppg's stream (application_name "ppg live") and counts them.
const applySessionsSQL = `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'ppg live' AND datname = current_database() AND pid <> pg_backend_pid()`

// TestLiveCLITargetCut: the stream's target backend is terminated twice
// while writers run (from before the dump on); each time ppg says it
// retries, goes on applying, and the cutover ends identical.
func TestLiveCLITargetCut(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	w := startWriters(t, l.b.source, 3)
	waitFor(t, liveTimeout, "writes before the migration", func() bool { return w.txns.Load() >= 20 })
	p := l.start()
	last := p.waitFor(streamStatus(1))
	for cut := 1; cut <= 2; cut++ {
		if n := l.b.target.number(applySessionsSQL); n < 1 {
			t.Fatalf("cut %d: no session of ppg's stream on the target to terminate", cut)
		}
		retry := p.waitFor(nthLiveRetry(cut))
		t.Logf("cut %d: ppg retries: %s", cut, retry.Text)
		if strings.Contains(retry.Text, " to . ") {
			t.Errorf("the retry names an empty table: %s", retry.Text)
		}
		// Applying again after the retry: more rows than before the cut.
		last = p.waitFor(eventWhere("rows applied after the retry", func(ev event) bool {
			return ev.Arrived.After(retry.Arrived) && ev.Step == "stream" && ev.Live != nil && ev.Live.Rows > last.Live.Rows
		}))
	}
	w.halt(t)
	l.cutover(p)
}

// nthLiveRetry matches the n-th event saying the stream lost a
// connection and retries.
func nthLiveRetry(n int) eventMatch {
	seen := 0
	return eventWhere("a retry of the stream", func(ev event) bool {
		if ev.Step != "stream" || ev.Notice == nil || ev.Notice.Code != migrate.NoticeLiveRetry {
			return false
		}
		seen++
		return seen == n
	})
}
