//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/relay"
)

// pg_dump 18 through the relay: the templates pinned for 18 (read from its
// source) are checked against what the real pg_dump 18 sends, to an 18
// server and to a 17 one (ppg runs the newest pg_dump it finds, so a user
// with the 18 tools dumps a 17 source with pg_dump 18), and the archive is
// the one plain pg_dump 18 writes of the same snapshot.

// TestRelayArchiveIdentity18: pg_dump 18 through the relay with 25 ms each
// way writes the archive plain pg_dump 18 writes of the same snapshot, and
// the relay answers the per-object queries from its cache.
func TestRelayArchiveIdentity18(t *testing.T) {
	for _, server := range []int{18, 17} {
		t.Run(fmt.Sprintf("server%d", server), func(t *testing.T) {
			b := newRelayBedAt(t, 300, server, 18)
			plain, _ := mustDump(t, b, b.direct())

			_, upstream := delayed(t, b.server, 25*time.Millisecond)
			r := startRelay(t, upstream, relay.Config{DumpMajor: 18})
			through, took := mustDump(t, b, r.Addr().String())
			sameArchiveBy(t, b.tool(t, "pg_restore"), plain, through)

			st := r.Stats()
			t.Logf("pg_dump 18 through the relay at 25 ms, server %d: %.1f s; %+v", server, took.Seconds(), st)
			// 310 views' definitions and 303 tables' data, besides the
			// functions, types and rules; a 17 server is also asked
			// each of its 341 sequences' last value.
			want := int64(650)
			if server < 18 {
				want += 300
			}
			if st.Hits < want {
				t.Errorf("the relay answered %d of pg_dump 18's queries from its cache, want at least %d: %+v", st.Hits, want, st)
			}
			if st.Prefetched > st.Hits+20 {
				t.Errorf("the relay prefetched %d answers for %d hits: %+v", st.Prefetched, st.Hits, st)
			}
			if err := r.Err(); err != nil {
				t.Errorf("relay: %v", err)
			}
		})
	}
}

// TestRelayTemplatesMatchPgDump18: every template of the relay for pg_dump
// 18 matches a statement the installed pg_dump 18 sends, to an 18 server
// and to a 17 one.
func TestRelayTemplatesMatchPgDump18(t *testing.T) {
	t.Run("server18", func(t *testing.T) { relayTemplatesMatch(t, 18, 18) })
	t.Run("server17", func(t *testing.T) { relayTemplatesMatch(t, 17, 18) })
}
