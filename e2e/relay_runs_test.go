//go:build e2e

package e2e

// The relay's pinned runs of catalog queries (relay/runs.json) are what
// the real pg_dump 17 and 18 send to 16, 17 and 18 servers: this test
// captures them and checks the file, or with -update rewrites it.

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/relay"
)

var updateRuns = flag.Bool("update", false, "rewrite relay/runs.json from what the real pg_dump sends")

// runsFile is the relay's pinned runs, from the e2e folder.
const runsFile = "../relay/runs.json"

// runsOtherSQL is a second, smaller database, owned by a role that is not
// a superuser: its object identifiers differ from the first's, so a
// statement naming one of them is not the same text in both.
const runsOtherSQL = `
CREATE SCHEMA s;
CREATE TABLE s.a (id int PRIMARY KEY, note text);
CREATE TABLE s.b (id int REFERENCES s.a, n int);
CREATE VIEW s.v AS SELECT id FROM s.a;
CREATE SEQUENCE s.q;
CREATE DOMAIN s.d AS int CHECK (VALUE > 0);
CREATE FUNCTION s.f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
COMMENT ON TABLE s.a IS 'a';`

// TestRelayRunsPinned: for each pg_dump and server pair, pg_dump runs
// twice, logged with log_statement = all: as the superuser with default
// options on the relay bed's database, and as a role with
// pg_read_all_data, with ppg's options, on a second database. A statement
// joins a run if both dumps send it, with the same text, and it is one the
// relay may send ahead (relay.Prefetchable) and no template covers; a
// statement of either dump that is not a SELECT, PREPARE or EXECUTE (its
// LOCK TABLE, a SET) ends the run, as does a change of order.
func TestRelayRunsPinned(t *testing.T) {
	pairs := map[int][]int{16: {17, 18}, 17: {17, 18}, 18: {18}}
	got := map[string][][]string{}
	for _, server := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("server%d", server), func(t *testing.T) {
			captures := captureDumps(t, server, pairs[server])
			for _, dump := range pairs[server] {
				runs := buildRuns(dump, captures[dump])
				got[fmt.Sprintf("%d/%d", dump, server)] = runs
				n := 0
				for _, run := range runs {
					n += len(run)
				}
				t.Logf("pg_dump %d, server %d: %d runs, %d statements", dump, server, len(runs), n)
				if !*updateRuns && !reflect.DeepEqual(runs, relay.Runs(dump, server)) {
					t.Errorf("pg_dump %d's runs against a %d server are not the pinned ones: go test -tags e2e -run TestRelayRunsPinned ./e2e/ -update", dump, server)
				}
			}
		})
	}
	if !*updateRuns || t.Failed() {
		return
	}
	pinned := map[string][][]string{}
	if old, err := os.ReadFile(runsFile); err == nil {
		_ = json.Unmarshal(old, &pinned)
	}
	for k, v := range got {
		pinned[k] = v
	}
	out, err := json.MarshalIndent(pinned, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runsFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// captureDumps starts a server of major version server logging every
// statement as JSON, runs each pg_dump of dumps twice (see
// TestRelayRunsPinned), and returns by pg_dump version the statements of
// each of its two sessions.
func captureDumps(t *testing.T, server int, dumps []int) map[int][][]string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: server, Settings: map[string]string{
		"log_statement": "all", "logging_collector": "on", "log_destination": "jsonlog",
		"log_directory": "log", "log_filename": "statements.log"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	b := &relayBed{server: s, db: &database{t: t, server: s, name: "postgres", url: s.URL("postgres")}}
	b.db.exec(manyObjectsSQL(20), relayExtraSQL,
		"CREATE ROLE dumper LOGIN PASSWORD 'dumper' IN ROLE pg_read_all_data", "CREATE DATABASE other OWNER dumper")
	b.snapshot = holdSnapshot(t, b.db)
	dumper := url.URL{Scheme: "postgres", User: url.UserPassword("dumper", "dumper"),
		Host: b.direct(), Path: "/other", RawQuery: "sslmode=disable"}
	(&database{t: t, server: s, name: "other", url: dumper.String()}).exec(runsOtherSQL)

	for _, dump := range dumps {
		b.bin = clientBin(t, dump)
		for i, args := range [][]string{
			{"-Fc", "--snapshot=" + b.snapshot, "-U", s.User, "-d", "postgres"},
			{"--format=custom", "--verbose", "--no-publications", "--no-subscriptions", "-U", "dumper", "-d", "other"},
		} {
			password := s.Password
			if i == 1 {
				password = "dumper"
			}
			app := fmt.Sprintf("capture%d-%d", dump, i)
			cmd := exec.CommandContext(ctx, b.tool(t, "pg_dump"), append(args, "-h", s.Host, "-p", fmt.Sprint(s.Port),
				"-f", filepath.Join(t.TempDir(), "dump"))...)
			cmd.Env = append(baseEnv(), "PGPASSWORD="+password, "PGAPPNAME="+app)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("pg_dump %d %v: %v\n%s", dump, args, err, lastLines(string(out), 10))
			}
		}
	}
	byApp := readStatementLog(t, filepath.Join(s.DataDir, "log", "statements.json"))
	captures := map[int][][]string{}
	for _, dump := range dumps {
		for i := range 2 {
			stmts := byApp[fmt.Sprintf("capture%d-%d", dump, i)]
			if len(stmts) < 50 {
				t.Fatalf("pg_dump %d's session %d logged %d statements", dump, i, len(stmts))
			}
			captures[dump] = append(captures[dump], stmts)
		}
	}
	return captures
}

// readStatementLog reads a JSON server log's statements by application
// name.
func readStatementLog(t *testing.T, path string) map[string][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	byApp := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			App     string `json:"application_name"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if stmt, ok := strings.CutPrefix(line.Message, "statement: "); ok {
			byApp[line.App] = append(byApp[line.App], stmt)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return byApp
}

// barrier reports whether pg_dump's statement q orders what comes after
// it: anything but a plain SELECT, PREPARE or EXECUTE (LOCK TABLE, SET,
// BEGIN, COPY, a SELECT that sets something).
func barrier(q string) bool {
	word, _, _ := strings.Cut(strings.TrimSpace(q), " ")
	switch strings.ToUpper(word) {
	case "PREPARE", "EXECUTE":
		return false
	}
	return !relay.Prefetchable(q)
}

// buildRuns finds the runs in the captures of one pg_dump: the statements
// of the first capture that every capture sends with the same text,
// relay.Prefetchable and matched by no template, split wherever a capture
// has a barrier between two of them or sends them in another order. A run
// of one statement is left out (its only statement is its trigger).
func buildRuns(dump int, captures [][]string) [][]string {
	type capture struct {
		pos      map[string]int
		barriers []int // barriers before each statement
	}
	cs := make([]capture, len(captures))
	for i, stmts := range captures {
		c := capture{pos: map[string]int{}, barriers: make([]int, len(stmts))}
		n := 0
		for j, q := range stmts {
			c.barriers[j] = n
			if barrier(q) {
				n++
			}
			if _, dup := c.pos[q]; !dup {
				c.pos[q] = j
			}
		}
		cs[i] = c
	}
	var runs [][]string
	var run []string
	prev := ""
	seen := map[string]bool{}
	for _, q := range captures[0] {
		if seen[q] || !relay.Prefetchable(q) || len(relay.Match(dump, q)) > 0 {
			continue
		}
		seen[q] = true
		everywhere := true
		for _, c := range cs {
			if _, ok := c.pos[q]; !ok {
				everywhere = false
			}
		}
		if !everywhere {
			continue
		}
		split := prev == ""
		for _, c := range cs {
			if prev != "" && (c.pos[q] < c.pos[prev] || c.barriers[c.pos[q]] != c.barriers[c.pos[prev]]) {
				split = true
			}
		}
		if split && len(run) > 1 {
			runs = append(runs, run)
		}
		if split {
			run = nil
		}
		run = append(run, q)
		prev = q
	}
	if len(run) > 1 {
		runs = append(runs, run)
	}
	return runs
}

// TestRelayRunsArchiveIdentity: for every pinned pair of pg_dump and
// server, pg_dump through the relay writes plain pg_dump's archive of the
// same snapshot, and the relay prefetched every run whole, each statement
// of it after the first answered from its cache.
func TestRelayRunsArchiveIdentity(t *testing.T) {
	pairs := map[int][]int{16: {17, 18}, 17: {17, 18}, 18: {18}}
	for _, server := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("server%d", server), func(t *testing.T) {
			b := newRelayBedAt(t, 30, server, pairs[server][0])
			upstream := "postgres://" + b.direct() + "/postgres?sslmode=disable"
			for _, dump := range pairs[server] {
				b.bin = clientBin(t, dump)
				plain, _ := mustDump(t, b, b.direct())
				var mu sync.Mutex
				started := map[string]int{}
				r := startRelay(t, upstream, relay.Config{DumpMajor: dump, Observe: func(ev relay.Event) {
					if ev.Kind == relay.PrefetchStarted && strings.HasPrefix(ev.Template, "run") {
						mu.Lock()
						started[ev.Template] += ev.Objects
						mu.Unlock()
					}
				}})
				through, _ := mustDump(t, b, r.Addr().String())
				sameArchiveBy(t, b.tool(t, "pg_restore"), plain, through)
				st := r.Stats()
				t.Logf("pg_dump %d, server %d: %d of %d statements crossed one at a time; runs %v", dump, server, st.Queries-st.Hits, st.Queries, started)
				mu.Lock()
				for i, run := range relay.Runs(dump, server) {
					if n := started[fmt.Sprintf("run%d", i+1)]; n != len(run)-1 {
						t.Errorf("pg_dump %d, server %d: run %d prefetched %d statements, want %d", dump, server, i+1, n, len(run)-1)
					}
				}
				mu.Unlock()
				if st.Misses != 0 || st.Dropped != 0 {
					t.Errorf("pg_dump %d, server %d: %+v", dump, server, st)
				}
			}
		})
	}
}
