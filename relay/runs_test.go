package relay

import (
	"strings"
	"sync"
	"testing"
)

func TestPrefetchable(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT oid, rolname FROM pg_catalog.pg_roles ORDER BY 1":            true,
		"WITH RECURSIVE w AS (SELECT 1) SELECT * FROM w":                     true,
		"SELECT p.pubinsert, p.pubupdate, p.pubdelete FROM pg_publication p": true,
		"SELECT 1;":                           true,
		"SELECT 1; SELECT 2":                  false,
		"LOCK TABLE a.t IN ACCESS SHARE MODE": false,
		"SET search_path = ''":                false,
		"SELECT pg_catalog.set_config('search_path', '', false);": false,
		"SELECT nextval('s')":                                   false,
		"SELECT pg_advisory_lock(1)":                            false,
		"SELECT * FROM t FOR UPDATE":                            false,
		"SELECT 1 INTO t":                                       false,
		"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d": false,
		"select proname, oid from pg_catalog.pg_proc where proname in ('lo_open')": false,
		"PREPARE dumpFunc(pg_catalog.oid) AS SELECT 1":                             false,
		"EXECUTE dumpFunc('1')": false,
		"COPY a.t TO stdout;":   false,
		"selectivity":           false,
		"":                      false,
	} {
		if got := Prefetchable(q); got != want {
			t.Errorf("Prefetchable(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestServerMajor(t *testing.T) {
	for v, want := range map[string]int{"17.2": 17, "16.6 (Debian 16.6-1.pgdg120+1)": 16, "18beta1": 18, "": 0, "x": 0} {
		if got := serverMajor(v); got != want {
			t.Errorf("serverMajor(%q) = %d, want %d", v, got, want)
		}
	}
}

// The pinned runs: for each pg_dump and server pair captured, every
// statement one the relay may send ahead, none covered by a template, the
// first run pg_dump's getRoles... up to its tables, the second from its
// functions on (after its LOCK TABLE).
func TestRunsPinned(t *testing.T) {
	for _, pair := range [][2]int{{17, 16}, {17, 17}, {18, 16}, {18, 17}, {18, 18}} {
		runs := Runs(pair[0], pair[1])
		if len(runs) < 2 || len(runs[1]) < 20 {
			t.Errorf("pg_dump %d, server %d: %d runs", pair[0], pair[1], len(runs))
			continue
		}
		if !strings.Contains(runs[0][0], "pg_roles") || !strings.Contains(runs[1][0], "p.proname") {
			t.Errorf("pg_dump %d, server %d: runs start %.60q and %.60q", pair[0], pair[1], runs[0][0], runs[1][0])
		}
		for _, run := range pinnedRuns()[keyOf(pair[0], pair[1])] {
			for _, q := range run {
				if !Prefetchable(q) || len(Match(pair[0], q)) > 0 {
					t.Errorf("pg_dump %d, server %d: %.80q is pinned", pair[0], pair[1], q)
				}
			}
		}
	}
	if len(Runs(16, 16)) != 0 || len(Runs(17, 15)) != 0 || len(Runs(17, 0)) != 0 {
		t.Error("runs for a pair nobody captured")
	}
}

// A statement of a run, inside a transaction, brings the run's later
// statements in its write; the client's next ones are answered from the
// cache, whatever it sends in between; a new transaction prefetches
// again; outside one, nothing is.
func TestRelayPrefetchesRuns(t *testing.T) {
	srv := startFakeServer(t)
	srv.version = "17.4"
	var mu sync.Mutex
	var events []Event
	r, conn := relayTo(t, srv, &mu, &events)
	run := Runs(17, 17)[1]
	answer := func(q string) string { return "answer to " + q }
	steps := []struct{ q, want string }{
		{run[1], answer(run[1])}, // outside a transaction: passes through
		{"BEGIN", "BEGIN"},
		{run[0], answer(run[0])}, // the trigger
		{run[1], answer(run[1])}, // from the cache
		{"SELECT other", answer("SELECT other")},
		{run[3], answer(run[3])}, // from the cache
		{run[0], answer(run[0])}, // the run was prefetched: from the server
		{"ROLLBACK", "ROLLBACK"},
		{"BEGIN", "BEGIN"},
		{run[2], answer(run[2])}, // a new transaction: from run[2] on
		{run[4], answer(run[4])},
	}
	for _, s := range steps {
		if got := exec(t, conn, s.q); got != s.want {
			t.Fatalf("%.60s: got %.60q, want %.60q", s.q, got, s.want)
		}
	}
	waitEvents(t, &mu, &events, "run2", 2)
	got := srv.received()
	for q, n := range map[string]int{run[0]: 2, run[1]: 2, run[2]: 2, run[3]: 2, run[4]: 2, run[len(run)-1]: 2} {
		if c := count(got, q); c != n {
			t.Errorf("the server ran %.60q %d times, want %d", q, c, n)
		}
	}
	if st := r.Stats(); st.Hits != 3 || st.Prefetched != int64(len(run)-1+len(run)-3) {
		t.Errorf("stats %+v: want 3 hits of %d prefetched", st, len(run)-1+len(run)-3)
	}
}

// A PREPARE of a statement a template executes brings that template's
// batch in its write; a SET drops what was prefetched, and the next
// query of the kind starts a new prefetch.
func TestRelayPrefetchesAfterPrepare(t *testing.T) {
	srv := startFakeServer(t)
	dumpFunc := templateNamed(templatesFor(17), "dumpFunc")
	srv.lists = map[string][]string{dumpFunc.list: {"201", "202", "203"}}
	var mu sync.Mutex
	var events []Event
	r, conn := relayTo(t, srv, &mu, &events)
	prepare := "PREPARE dumpFunc(pg_catalog.oid) AS\nSELECT 1"
	answer := func(q string) string { return "answer to " + q }
	for _, s := range []struct{ q, want string }{
		{"BEGIN", "BEGIN"},
		{prepare, answer(prepare)},
		{dumpFunc.render("201"), answer(dumpFunc.render("201"))}, // from the cache
		{"SET DateStyle = German", answer("SET DateStyle = German")},
		{dumpFunc.render("202"), answer(dumpFunc.render("202"))}, // a new trigger
		{dumpFunc.render("203"), answer(dumpFunc.render("203"))}, // from the cache
	} {
		if got := exec(t, conn, s.q); got != s.want {
			t.Fatalf("%.60s: got %.60q, want %.60q", s.q, got, s.want)
		}
	}
	waitEvents(t, &mu, &events, "dumpFunc", 2)
	got := srv.received()
	for q, n := range map[string]int{dumpFunc.render("201"): 2, dumpFunc.render("202"): 2, dumpFunc.render("203"): 2} {
		if c := count(got, q); c != n {
			t.Errorf("the server ran %s %d times, want %d", q, c, n)
		}
	}
	if st := r.Stats(); st.Hits != 2 {
		t.Errorf("stats %+v: want 2 hits", st)
	}
}
