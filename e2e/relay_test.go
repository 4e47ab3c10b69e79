//go:build e2e

package e2e

// The prefetching relay in front of real pg_dump 17 and a real server:
// the archive it helps write is the archive plain pg_dump writes of the
// same snapshot; a query it does not know passes through; a link cut in
// the middle of a prefetch fails the dump cleanly and a retry gives the
// same archive; TLS upstream with SNI; and the numbers.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/relay"
)

// relayExtraSQL adds what manyObjectsSQL lacks and pg_dump asks about one
// by one: functions, aggregates, operators, a partitioned table, rules,
// extended statistics, standalone types (a base type too), materialized
// views, sequences that are not identities, and names that need quoting.
const relayExtraSQL = `
CREATE SCHEMA extra; CREATE SCHEMA "Mixed Case";
DO $$ BEGIN
FOR i IN 1..40 LOOP
	EXECUTE format('CREATE FUNCTION extra.f%s(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS ''SELECT a + b + %s''', i, i);
	EXECUTE format('CREATE SEQUENCE extra.s%s START %s INCREMENT 3', i, i * 7);
	EXECUTE format('SELECT nextval(''extra.s%s'')', i);
END LOOP;
FOR i IN 1..10 LOOP
	EXECUTE format('CREATE AGGREGATE extra.agg%s(int) (SFUNC = extra.f%s, STYPE = int, INITCOND = ''0'')', i, i);
	EXECUTE format('CREATE TYPE extra.e%s AS ENUM (''a'', ''b%s'')', i, i);
	EXECUTE format('CREATE DOMAIN extra.d%s AS int CHECK (VALUE > %s)', i, i);
	EXECUTE format('CREATE TYPE extra.c%s AS (x int, y text)', i);
	EXECUTE format('CREATE MATERIALIZED VIEW extra.mv%s AS SELECT %s AS n, count(*) FROM app1.t10', i, i);
	EXECUTE format('CREATE STATISTICS extra.st%s ON id, qty FROM app%s.t%s', i, i % 10 + 1, i + 10);
END LOOP;
END $$;
CREATE OPERATOR extra.### (LEFTARG = int, RIGHTARG = int, FUNCTION = extra.f1);
CREATE OPERATOR extra.@@@ (LEFTARG = int, RIGHTARG = int, FUNCTION = extra.f2);
CREATE TYPE extra.r1 AS RANGE (subtype = int8);
CREATE TYPE extra.b1;
CREATE FUNCTION extra.b1_in(cstring) RETURNS extra.b1 LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION extra.b1_out(extra.b1) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE extra.b1 (INPUT = extra.b1_in, OUTPUT = extra.b1_out, LIKE = int4);
CREATE TABLE extra.p (k int, v text) PARTITION BY RANGE (k);
CREATE TABLE extra.p1 PARTITION OF extra.p FOR VALUES FROM (0) TO (10);
CREATE TABLE extra.p2 PARTITION OF extra.p FOR VALUES FROM (10) TO (20);
INSERT INTO extra.p SELECT g, md5(g::text) FROM generate_series(0, 19) g;
CREATE TABLE extra.logged (id int, note text);
CREATE RULE r1 AS ON INSERT TO app1.v10 DO INSTEAD INSERT INTO extra.logged VALUES (NEW.qty, 'r1');
CREATE RULE r2 AS ON DELETE TO extra.logged DO INSTEAD NOTHING;
CREATE SEQUENCE "Mixed Case"."Seq ""quoted""" START 42; SELECT nextval('"Mixed Case"."Seq ""quoted"""');
CREATE SEQUENCE "Mixed Case".select; SELECT setval('"Mixed Case".select', 99, false);
CREATE VIEW "Mixed Case"."View" AS SELECT 1 AS one;
ANALYZE;`

// relayBed is a PostgreSQL 17 server with the many-objects database and a
// snapshot exported from a transaction held open for the whole test.
type relayBed struct {
	server   *pgserver.Server
	db       *database
	snapshot string
	// bin holds the pg_dump and pg_restore of the server's major version.
	bin string
}

func newRelayBed(t testing.TB, tables int) *relayBed {
	t.Helper()
	return newRelayBedAt(t, tables, 17, 17)
}

// newRelayBedAt is newRelayBed on a server of major version server, with
// the client tools of major version dump (17 or 18).
func newRelayBedAt(t testing.TB, tables, server, dump int) *relayBed {
	t.Helper()
	bin := clientBin(t, dump)
	s := startServer(t, server)
	b := &relayBed{server: s, db: &database{t: t, server: s, name: "postgres", url: s.URL("postgres")}, bin: bin}
	b.db.exec(manyObjectsSQL(tables), relayExtraSQL)
	b.snapshot = holdSnapshot(t, b.db)
	return b
}

// holdSnapshot exports a snapshot from a transaction that stays open until
// the end of the test, so that several dumps see the same database.
func holdSnapshot(t testing.TB, d *database) string {
	t.Helper()
	ctx := context.Background()
	conn := d.connect()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	var name string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// startRelay starts a relay for pg_dump 17 in front of upstream (a
// postgres:// URL without credentials), closed at the end of the test.
func startRelay(t *testing.T, upstream string, cfg relay.Config) *relay.Relay {
	t.Helper()
	dial, err := relay.DialURL(upstream)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial = dial
	if cfg.DumpMajor == 0 {
		cfg.DumpMajor = 17
	}
	r, err := relay.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close relay: %v", err)
		}
	})
	return r
}

// delayed starts a delay proxy of latency each way in front of the server
// and returns a credential-free URL of it.
func delayed(t testing.TB, s *pgserver.Server, latency time.Duration) (*gateway.DelayProxy, string) {
	t.Helper()
	p, err := gateway.StartDelayProxy(net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), latency)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, "postgres://" + p.Addr() + "/postgres?sslmode=disable"
}

// pgDump runs pg_dump 17 -Fc of the snapshot against addr (host:port) as
// the server's superuser, with its password in the environment, and
// returns the archive's path, the time it took and its error with the
// tail of its output.
func pgDump(t testing.TB, b *relayBed, addr string, timeout time.Duration) (string, time.Duration, error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	file := filepath.Join(t.TempDir(), "dump")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.tool(t, "pg_dump"), "-Fc", "--snapshot="+b.snapshot,
		"-h", host, "-p", port, "-U", b.server.User, "-d", "postgres", "-f", file)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+b.server.Password, "PGCONNECT_TIMEOUT=20")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", time.Since(start), fmt.Errorf("pg_dump: %w\n%s", err, lastLines(string(out), 10))
	}
	return file, time.Since(start), nil
}

// tool is the path of the bed's client tool name.
func (b *relayBed) tool(t testing.TB, name string) string {
	if b.bin == "" {
		return clientTool(t, name)
	}
	return filepath.Join(b.bin, name)
}

// direct is the server's own address.
func (b *relayBed) direct() string {
	return net.JoinHostPort(b.server.Host, strconv.Itoa(b.server.Port))
}

// mustDump is pgDump that fails the test on error.
func mustDump(t testing.TB, b *relayBed, addr string) (string, time.Duration) {
	t.Helper()
	file, d, err := pgDump(t, b, addr, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return file, d
}

// restoreOutputBy runs the pg_restore at pgRestore with args on an archive. Lines that differ
// between any two runs of pg_restore on one archive are left out: the
// header of -l (archive time, name), and the random keys of the plain
// script's \restrict and \unrestrict lines.
func restoreOutputBy(t testing.TB, pgRestore, archive string, args ...string) string {
	t.Helper()
	out, err := exec.Command(pgRestore, append(args, archive)...).Output()
	if err != nil {
		t.Fatalf("pg_restore %v: %v", args, err)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, ";") || strings.HasPrefix(line, `\restrict `) || strings.HasPrefix(line, `\unrestrict `) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// sameArchive compares two archives' tables of contents and their whole
// content as a plain script.
func sameArchive(t testing.TB, want, got string) {
	t.Helper()
	sameArchiveBy(t, clientTool(t, "pg_restore"), want, got)
}

// sameArchiveBy is sameArchive with the pg_restore at pgRestore.
func sameArchiveBy(t testing.TB, pgRestore, want, got string) {
	t.Helper()
	for _, args := range [][]string{{"-l"}, {"-f", "-"}} {
		w, g := restoreOutputBy(t, pgRestore, want, args...), restoreOutputBy(t, pgRestore, got, args...)
		if w == "" || w != g {
			t.Errorf("pg_restore %v differs (%d and %d bytes):\n%s", args, len(w), len(g), firstDiff(w, g))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d and %d lines)", len(al), len(bl))
}

// TestRelayArchiveIdentity: pg_dump 17 through the relay, with 25 ms each
// way between the relay and the server, writes the archive plain pg_dump
// writes of the same snapshot; the relay answered most per-object queries
// from its cache.
func TestRelayArchiveIdentity(t *testing.T) {
	b := newRelayBed(t, 600)
	plain, _ := mustDump(t, b, b.direct())

	_, upstream := delayed(t, b.server, 25*time.Millisecond)
	r := startRelay(t, upstream, relay.Config{})
	through, took := mustDump(t, b, r.Addr().String())
	sameArchive(t, plain, through)

	st := r.Stats()
	t.Logf("through the relay at 25 ms: %.1f s; %+v", took.Seconds(), st)
	// 610 views and materialized views, 641 sequences twice, 603 tables'
	// data, 40 functions, 10 aggregates...: each kind's first query passes
	// through.
	if st.Hits < 2500 {
		t.Errorf("the relay answered %d queries from its cache, want at least 2500: %+v", st.Hits, st)
	}
	// What it fetched and pg_dump never asked for: a few routines pg_dump
	// leaves to their types (a range type's constructors), no more.
	if st.Prefetched > st.Hits+20 {
		t.Errorf("the relay prefetched %d answers for %d hits: %+v", st.Prefetched, st.Hits, st)
	}
	if err := r.Err(); err != nil {
		t.Errorf("relay: %v", err)
	}
}

// TestRelayUnknownQueriesPassThrough: with the templates of pg_dump 18
// (which reads sequence parameters in one query), pg_dump 17's
// per-sequence query is unknown and passes through; with a cache of 4 KiB
// most answers exceed the budget and pass through too. A client's own
// queries, known or not, get the server's answers, in order, whatever
// the relay prefetched. The archives are the same.
func TestRelayUnknownQueriesPassThrough(t *testing.T) {
	b := newRelayBed(t, 60)
	plain, _ := mustDump(t, b, b.direct())
	upstream := "postgres://" + b.direct() + "/postgres?sslmode=disable"

	t.Run("pg_dump 18's templates", func(t *testing.T) {
		var mu sync.Mutex
		kinds := map[string]bool{}
		r := startRelay(t, upstream, relay.Config{DumpMajor: 18, Observe: func(ev relay.Event) {
			if ev.Kind == relay.PrefetchStarted {
				mu.Lock()
				kinds[ev.Template] = true
				mu.Unlock()
			}
		}})
		through, _ := mustDump(t, b, r.Addr().String())
		sameArchive(t, plain, through)
		mu.Lock()
		defer mu.Unlock()
		if st := r.Stats(); st.Hits == 0 || kinds["sequence"] || !kinds["last_value"] {
			t.Errorf("stats %+v, prefetched %v: want hits, last values and no sequence parameters", st, kinds)
		}
	})
	t.Run("a small cache", func(t *testing.T) {
		r := startRelay(t, upstream, relay.Config{CacheBytes: 4 << 10})
		through, _ := mustDump(t, b, r.Addr().String())
		sameArchive(t, plain, through)
		if st := r.Stats(); st.Dropped == 0 || st.CachePeak > 4<<10 {
			t.Errorf("stats %+v: want answers dropped, and the cache within 4 KiB", st)
		}
	})
	t.Run("a client's own queries", func(t *testing.T) {
		r := startRelay(t, upstream, relay.Config{})
		compareSessions(t, b, r.Addr().String())
		if st := r.Stats(); st.Hits < 10 {
			t.Errorf("stats %+v: the views' definitions were not answered from the cache", st)
		}
	})
}

// compareSessions runs the same script of queries directly and through
// the relay, each in a repeatable-read transaction on the snapshot, and
// compares every answer: a view's definition (which starts a prefetch),
// queries nobody prefetches in between, an error the relay must pass on,
// and the other views' definitions.
func compareSessions(t *testing.T, b *relayBed, addr string) {
	t.Helper()
	views := b.db.rows(`SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'v' AND n.nspname LIKE 'app%' ORDER BY n.nspname, c.relname LIMIT 20`)
	viewdef := func(oid string) string {
		return "SELECT pg_catalog.pg_get_viewdef('" + oid + "'::pg_catalog.oid) AS viewdef"
	}
	script := []string{viewdef(views[5][0]), "SELECT count(*) FROM pg_class", viewdef(views[0][0]),
		"SELECT 1/0", viewdef(views[1][0])}
	for _, v := range views[2:] {
		script = append(script, viewdef(v[0]), "SELECT txid_current_if_assigned() IS NULL")
	}
	run := func(addr string) []string {
		host, port, _ := net.SplitHostPort(addr)
		url := fmt.Sprintf("postgres://%s:%s@%s/postgres?sslmode=disable", b.server.User, b.server.Password, net.JoinHostPort(host, port))
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url+"&default_query_exec_mode=simple_protocol")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(ctx) }()
		var answers []string
		for _, q := range append([]string{"BEGIN ISOLATION LEVEL REPEATABLE READ",
			"SET TRANSACTION SNAPSHOT '" + b.snapshot + "'", "SET search_path = ''"}, script...) {
			if q == "SELECT 1/0" {
				_, err := conn.Exec(ctx, q)
				answers = append(answers, fmt.Sprint(err))
				_, _ = conn.Exec(ctx, "ROLLBACK")
				_, _ = conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ")
				_, _ = conn.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+b.snapshot+"'")
				continue
			}
			rows, err := conn.Query(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			for rows.Next() {
				answers = append(answers, fmt.Sprint(rows.RawValues()))
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return answers
	}
	want, got := run(b.direct()), run(addr)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("answers through the relay differ:\n%s", firstDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

// cutProxy forwards TCP connections to an upstream address until Cut
// closes them all; later connections go through.
type cutProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	conns    []net.Conn
}

func startCutProxy(t *testing.T, upstream string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, upstream: upstream}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// Cut closes every connection open now.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestRelayLinkCutDuringPrefetch: the link between the relay and the
// server breaks while the views' definitions are being prefetched. pg_dump
// fails promptly, the relay says why with a typed error, and the caller's
// retry of the whole dump (pg_dump cannot resume a connection) writes the
// archive plain pg_dump writes.
func TestRelayLinkCutDuringPrefetch(t *testing.T) {
	b := newRelayBed(t, 200)
	plain, _ := mustDump(t, b, b.direct())

	delay, _ := delayed(t, b.server, 5*time.Millisecond)
	cut := startCutProxy(t, delay.Addr())
	var once sync.Once
	cutAt := make(chan relay.Event, 1)
	r := startRelay(t, "postgres://"+cut.ln.Addr().String()+"/postgres?sslmode=disable", relay.Config{
		Observe: func(ev relay.Event) {
			if ev.Kind == relay.PrefetchStarted && ev.Template == "viewdef" {
				once.Do(func() { cutAt <- ev; go cut.Cut() })
			}
		},
	})
	start := time.Now()
	_, _, err := pgDump(t, b, r.Addr().String(), 2*time.Minute)
	if err == nil {
		t.Fatal("pg_dump succeeded although the link was cut")
	}
	if took := time.Since(start); took > time.Minute || !strings.Contains(err.Error(), "connection") {
		t.Fatalf("pg_dump failed after %s, want promptly and for the lost connection: %v", took, err)
	}
	select {
	case ev := <-cutAt:
		t.Logf("cut during the prefetch of %d %s queries; pg_dump failed after %.1f s: %v", ev.Objects, ev.Template, time.Since(start).Seconds(), err)
	default:
		t.Fatalf("the link was never cut (no viewdef prefetch): %v", err)
	}
	var up *relay.UpstreamError
	waitFor(t, 30*time.Second, "the relay's error", func() bool { return r.Err() != nil })
	if !errors.As(r.Err(), &up) || !up.Retryable() {
		t.Fatalf("relay error %v (%T), want a retryable *relay.UpstreamError", r.Err(), r.Err())
	}

	// The retry: the same relay, a healed link.
	retried, _ := mustDump(t, b, r.Addr().String())
	sameArchive(t, plain, retried)
}

// TestRelayExtendedProtocolAndCancel: a client of the extended protocol
// (pgx's default) is relayed transparently, after a prefetch on the same
// connection; and a cancel request through the relay reaches the server.
func TestRelayExtendedProtocolAndCancel(t *testing.T) {
	b := newRelayBed(t, 20)
	r := startRelay(t, "postgres://"+b.direct()+"/postgres?sslmode=disable", relay.Config{})
	ctx := context.Background()
	url := fmt.Sprintf("postgres://%s:%s@%s/postgres?sslmode=disable", b.server.User, b.server.Password, r.Addr())
	conn, err := pgx.Connect(ctx, url+"&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var oids []uint32
	rows, err := conn.Query(ctx, "SELECT c.oid FROM pg_class c WHERE c.relkind = 'v' AND c.relnamespace::regnamespace::text LIKE 'app%' ORDER BY c.relname")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var oid uint32
		if err := rows.Scan(&oid); err != nil {
			t.Fatal(err)
		}
		oids = append(oids, oid)
	}
	if err := rows.Err(); err != nil || len(oids) < 3 {
		t.Fatalf("views: %v %v", oids, err)
	}
	want := map[uint32]string{}
	for _, oid := range oids {
		want[oid] = b.db.value("SELECT pg_get_viewdef($1::oid)", oid)
	}
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	var def string
	q := fmt.Sprintf("SELECT pg_catalog.pg_get_viewdef('%d'::pg_catalog.oid) AS viewdef", oids[0])
	if err := conn.QueryRow(ctx, q).Scan(&def); err != nil || def != want[oids[0]] {
		t.Fatalf("the prefetch's trigger: %q, %v", def, err)
	}
	// The extended protocol from here on: parameters, prepared statements.
	for _, oid := range oids[1:] {
		if err := conn.QueryRow(ctx, "SELECT pg_get_viewdef($1::oid)", pgx.QueryExecModeCacheStatement, oid).Scan(&def); err != nil || def != want[oid] {
			t.Fatalf("view %d through the extended protocol: %q, %v", oid, def, err)
		}
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Prefetched < int64(len(oids)-1) {
		t.Errorf("stats %+v: the trigger started no prefetch of the other views", st)
	}

	// A cancel request, sent to the relay as psql or pg_dump sends one.
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
		done <- err
	}()
	waitFor(t, 30*time.Second, "the sleep to start", func() bool {
		return b.db.value("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'") == "1"
	})
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
			t.Fatalf("the cancelled query ended with %v, want 57014 query_canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the cancel request did not reach the server")
	}
	if err := r.Err(); err != nil {
		t.Errorf("relay: %v", err)
	}
}

// TestRelayTemplatesMatchPgDump: every template of the relay for pg_dump
// 17 matches a statement the installed pg_dump sends, as the server logs
// them with log_statement = all: a pg_dump whose queries drifted would
// only lose the prefetch, and this says so.
func TestRelayTemplatesMatchPgDump(t *testing.T) { relayTemplatesMatch(t, 17, 17) }

// clientBin is the folder of the client tools of major version major.
func clientBin(t testing.TB, major int) string {
	if major >= 18 {
		return need(t, "PPG_CLIENT18_BIN")
	}
	return need(t, "PPG_CLIENT_BIN")
}

// relayTemplatesMatch runs pg_dump of major version major against a
// server of major version server logging every statement, and checks that
// each of the relay's templates for that pg_dump matches one of them.
func relayTemplatesMatch(t *testing.T, server, major int) {
	bin := clientBin(t, major)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: server, Settings: map[string]string{
		"log_statement": "all", "logging_collector": "on", "log_destination": "jsonlog",
		"log_directory": "log", "log_filename": "statements.log"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	b := &relayBed{server: s, db: &database{t: t, server: s, name: "postgres", url: s.URL("postgres")}, bin: bin}
	b.db.exec(manyObjectsSQL(20), relayExtraSQL)
	b.snapshot = holdSnapshot(t, b.db)
	mustDump(t, b, b.direct())
	statements := readStatementLog(t, filepath.Join(s.DataDir, "log", "statements.json"))["pg_dump"]
	// A statement of a pinned run after its first is prefetched with it.
	inRun := map[string]bool{}
	for _, run := range relay.Runs(major, server) {
		for _, q := range run[1:] {
			inRun[q] = true
		}
	}
	dumpMatches := map[string]int{}
	var through []string
	ran := 0
	for _, stmt := range statements {
		names := relay.Match(major, stmt)
		for _, name := range names {
			dumpMatches[name]++
		}
		switch {
		case inRun[stmt]:
			ran++
		case len(names) == 0:
			through = append(through, fmt.Sprintf("%.100s", strings.Join(strings.Fields(stmt), " ")))
		}
	}
	// What no template or run covers crosses the link one statement at a
	// time, as does the first statement of each template and run.
	t.Logf("of pg_dump %d's %d statements, %d are in a pinned run after its first, %d match no template nor run:\n%s",
		major, len(statements), ran, len(through), strings.Join(through, "\n"))
	for _, name := range relay.Templates(major) {
		if name == "last_value" && server >= 18 {
			// pg_dump 18 reads an 18 server's sequence values in one
			// query; it asks older servers one sequence at a time.
			if dumpMatches[name] != 0 {
				t.Errorf("pg_dump %d asked a %d server for last values one by one (%d times)", major, server, dumpMatches[name])
			}
			continue
		}
		if dumpMatches[name] == 0 {
			t.Errorf("no statement of pg_dump %d matches the relay's %q template", major, name)
		}
	}
	t.Logf("%d statements logged; matches per template: %v", len(statements), dumpMatches)
}
