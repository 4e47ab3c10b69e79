//go:build e2e

package e2e

// A live migration whose source is reached by API key through the gateway
// emulator: the replication session (replication=database) is an ordinary
// Postgres connection carried by ppg's tunnel, as for an EA source.

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/sandbox"
)

// TestLiveCLIGateway: the source by key through the gateway, the target
// by key too; writers (TRUNCATEs too) run through the dump, the restore
// and the stream; ppg cutover; every table and sequence equal.
func TestLiveCLIGateway(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	g, wsURL := testGateway(t, gateway.Options{})
	srcKey, dstKey := sandbox.NewKey("live-src"), sandbox.NewKey("live-dst")
	g.AddDatabase(srcKey, l.b.source.url)
	g.AddDatabase(dstKey, l.b.target.url)
	l.env = []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN"), "PPG_WS_URL=" + wsURL, "PPG_SOURCE_URL=" + srcKey, "PPG_TARGET_URL=" + dstKey}
	w := startWriters(t, l.b.source, 3)
	waitFor(t, liveTimeout, "writes before the migration", func() bool { return w.txns.Load() >= 20 })
	p := l.start()
	p.waitFor(streamStatus(200))
	// The stream's WAL sender is the gateway's session: ppg has only the
	// key, no address of the source.
	if n := l.b.source.number(`SELECT count(*) FROM pg_stat_replication WHERE application_name = 'ppg live'`); n != 1 {
		t.Errorf("%d WAL senders of ppg on the source, want 1", n)
	}
	if st := g.Stats(); st.Active < 2 {
		t.Errorf("the gateway has %d sessions open while streaming, want the source's and the target's", st.Active)
	}
	w.halt(t)
	l.cutover(p)
}

// TestLiveCLIGatewayRefusesReplication: a gateway that refuses replication
// connections: the plan of --live --dry-run says the source refused one,
// and what to do instead, and creates nothing.
func TestLiveCLIGatewayRefusesReplication(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	g, wsURL := testGateway(t, gateway.Options{RefuseReplication: true})
	srcKey := sandbox.NewKey("live-src")
	g.AddDatabase(srcKey, l.b.source.url)
	env := []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN"), "PPG_WS_URL=" + wsURL, "PPG_SOURCE_URL=" + srcKey, "PPG_TARGET_URL=" + l.b.target.url}
	r := runPPG(t, l.dir, env, "migrate", "--non-interactive", "--live", "--dry-run")
	r.wantExit(5)
	if !strings.Contains(r.stdout, "refused a replication connection") || !strings.Contains(r.stdout, "replication connections are not supported") ||
		!strings.Contains(r.stdout, "Without --live, the frozen copy is still possible") {
		t.Errorf("the plan does not say the replication connection was refused, and what to do:\n%s", r.output())
	}
	l.b.noLeftovers()
}
