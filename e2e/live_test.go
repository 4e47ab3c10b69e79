//go:build e2e

package e2e

// End-to-end tests of package live, the logical-replication stream of a
// live migration, driven directly (the engine and the front ends come on
// top of it): a PostgreSQL 16 source with wal_level=logical, a PostgreSQL
// 17 target, writers changing the source all along, the slot's exported
// snapshot copied with the real pg_dump and pg_restore, then the stream,
// faults, cutover, and md5 of every table and every sequence compared.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/live"
)

// liveTimeout bounds each wait of these tests: generous, for a busy
// 2-core machine.
const liveTimeout = 3 * time.Minute

// startServerWith starts a server with extra settings for the test, as
// pgserver.StartT does with none.
func startServerWith(t testing.TB, version int, settings map[string]string) *pgserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: version, Settings: settings})
	if errors.Is(err, pgserver.ErrNotFound) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("missing prerequisite: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("start PostgreSQL %d: %v", version, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL %d on port %d, log tail:\n%s", s.Version, s.Port, lastLines(s.Logs(), 30))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s
}

// logicalSettings make a source that streams, and that streams large
// transactions while in progress early (64 kB, the least), so the spill
// path is taken by far smaller transactions than the 100,000 rows one.
var logicalSettings = map[string]string{"wal_level": "logical", "logical_decoding_work_mem": "64kB"}

// liveSchemaSQL covers the column types the stream must carry: numeric,
// jsonb, bytea, arrays, an enum, a domain, timestamptz, a range, an
// identity column, a serial, a generated column, a TOASTed text; a table
// without a primary key (REPLICA IDENTITY FULL with consent); and a table
// truncated over and over.
const liveSchemaSQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE items (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	price numeric(14, 2) NOT NULL,
	doc jsonb,
	blob bytea,
	tags text[],
	mood mood,
	at timestamptz,
	qty posint,
	span int4range,
	double numeric GENERATED ALWAYS AS (price * 2) STORED,
	big text
);
CREATE TABLE events (id serial PRIMARY KEY, item_id bigint, kind text, payload jsonb, at timestamptz DEFAULT now());
CREATE TABLE bulk (id bigint PRIMARY KEY, pad text);
CREATE TABLE logs (at timestamptz, line text, n int);
CREATE TABLE scratch (id int PRIMARY KEY, v text);
CREATE TABLE marks (id bigint PRIMARY KEY, note text);
`

// liveSeedSQL fills the tables a little before anything starts.
const liveSeedSQL = `
INSERT INTO items (price, doc, blob, tags, mood, at, qty, span, big)
SELECT g * 1.25, jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x')), decode(md5(g::text), 'hex'),
	ARRAY['a' || g, 'b "q"', NULL], (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood,
	'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 hour', 1 + g % 7, int4range(g, g + 10),
	CASE WHEN g % 10 = 0 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 200) i) END
FROM generate_series(1, 200) g;
INSERT INTO events (item_id, kind, payload) SELECT g, 'seed', '{"s": 1}' FROM generate_series(1, 100) g;
INSERT INTO logs SELECT '2024-01-01'::timestamptz, 'line ' || (g % 20), g % 5 FROM generate_series(1, 100) g;
INSERT INTO scratch SELECT g, 'v' || g FROM generate_series(1, 10) g;
`

// liveBed is a live migration's two databases and its names.
type liveBed struct {
	t      testing.TB
	source *database
	target *database
	names  live.Names
}

// newLiveBed starts a PostgreSQL 16 source with settings and a 17
// target, creates the database "app" on both, and the schema and seed
// data on the source.
func newLiveBed(t testing.TB, settings map[string]string) *liveBed {
	t.Helper()
	src := startServerWith(t, 16, settings)
	dst := startServerWith(t, 17, nil)
	b := &liveBed{t: t, source: newDatabase(t, src, "app"), target: newDatabase(t, dst, "app"), names: live.NamesFor(strings.ReplaceAll(t.Name(), "/", "_"))}
	b.source.exec(liveSchemaSQL, liveSeedSQL)
	return b
}

// copySnapshot copies the source as of the slot's exported snapshot with
// pg_dump --snapshot, then restores it into the target, and releases the
// snapshot.
func (b *liveBed) copySnapshot(snap *live.Snapshot) {
	b.t.Helper()
	file := filepath.Join(b.t.TempDir(), "app.dump")
	b.tool(b.source.server, "pg_dump", "-Fc", "--no-publications", "--snapshot="+snap.Name, "-d", "app", "-f", file)
	if err := snap.Release(context.Background()); err != nil {
		b.t.Fatalf("release the snapshot: %v", err)
	}
	b.tool(b.target.server, "pg_restore", "--no-owner", "--no-privileges", "-d", "app", file)
}

// tool runs a PostgreSQL 17 client tool against srv, the password in the
// environment.
func (b *liveBed) tool(srv *pgserver.Server, name string, args ...string) {
	b.t.Helper()
	args = append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port), "-U", srv.User}, args...)
	cmd := exec.Command(clientTool(b.t, name), args...)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+srv.Password, "PGSSLMODE=disable")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.t.Fatalf("%s: %v\n%s", name, err, lastLines(string(out), 20))
	}
}

// setup creates the slot and the publication, with consent to REPLICA
// IDENTITY FULL on logs, and copies the snapshot.
func (b *liveBed) setup() *live.Snapshot {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	snap, err := live.Setup(ctx, live.SetupOptions{Source: b.source.url, Names: b.names, FullIdentity: []live.Table{{Schema: "public", Name: "logs"}}})
	if err != nil {
		b.t.Fatalf("setup: %v", err)
	}
	b.t.Cleanup(func() { _ = snap.Release(context.Background()) })
	if snap.Name == "" || snap.ConsistentPoint == 0 {
		b.t.Fatalf("setup returned no snapshot: %+v", snap)
	}
	if len(snap.CopyOnce) != 0 || len(snap.Published) != 6 {
		b.t.Fatalf("published %v, copy once %v; want the 6 tables published", snap.Published, snap.CopyOnce)
	}
	b.copySnapshot(snap)
	return snap
}

// config is the stream's configuration.
func (b *liveBed) config() live.Config {
	return live.Config{Source: b.source.url, Target: b.target.url, Names: b.names, SpillDir: b.t.TempDir(), StatusInterval: 200 * time.Millisecond}
}

// runner is one Run of a stream in a goroutine, its events recorded.
type runner struct {
	stream *live.Stream
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	last   live.Status
	events []live.Event
}

// start runs a new stream on the bed's configuration.
func (b *liveBed) start() *runner {
	b.t.Helper()
	s, err := live.New(b.config())
	if err != nil {
		b.t.Fatal(err)
	}
	return b.run(s)
}

// run runs s until the test ends, recording its events.
func (b *liveBed) run(s *live.Stream) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{stream: s, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- s.Run(ctx, func(ev live.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, ev)
			if ev.Kind == live.EventStatus {
				r.last = ev.Status
			}
		})
	}()
	b.t.Cleanup(func() {
		cancel()
		err := <-r.done
		r.done <- err
	})
	return r
}

// status is the last status event.
func (r *runner) status() live.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// count counts the events of a kind so far.
func (r *runner) count(kind live.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// waitStatus waits until a status satisfies cond, failing if Run ends.
func (r *runner) waitStatus(t testing.TB, what string, cond func(live.Status) bool) live.Status {
	t.Helper()
	deadline := time.Now().Add(liveTimeout)
	for {
		if s := r.status(); cond(s) {
			return s
		}
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("waiting for %s: the stream ended: %v", what, err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last status %+v", what, r.status())
		}
	}
}

// kill ends the Run abruptly, as a killed process would: its connections
// close wherever it was.
func (r *runner) kill(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v, want context.Canceled", err)
	}
	r.done <- context.Canceled
}

// cutover asks for cutover, waits for Run to end, and drops what the
// migration created. It returns the report.
func (b *liveBed) cutover(r *runner) *live.CutoverReport {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	rep, err := r.stream.Cutover(ctx)
	if err != nil {
		b.t.Fatalf("cutover: %v", err)
	}
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			b.t.Fatalf("Run after cutover: %v", err)
		}
	case <-ctx.Done():
		b.t.Fatal("Run did not return after cutover")
	}
	b.t.Logf("cutover: point %s, caught up in %v, %d sequences set, downtime %v", rep.Point, rep.CaughtUp, rep.Sequences, rep.Took)
	// The source was told: its slot keeps no WAL from before the point.
	if confirmed := b.source.value("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", b.names.Slot); mustLSN(b.t, confirmed) < rep.Point {
		b.t.Errorf("the slot's confirmed position %s is before the cutover point %s", confirmed, rep.Point)
	}
	if err := live.Drop(ctx, live.DropOptions{Source: b.source.url, Target: b.target.url, Names: b.names}); err != nil {
		b.t.Fatalf("drop: %v", err)
	}
	return rep
}

// compare checks, independently of the stream, that every table's rows
// and every sequence agree, and that nothing of the migration is left.
func (b *liveBed) compare() {
	b.t.Helper()
	src, dst := b.source.tableMD5s(), b.target.tableMD5s()
	if len(src) != 6 {
		b.t.Fatalf("source tables: %v", src)
	}
	for name, fp := range src {
		if dst[name] != fp {
			b.t.Errorf("table %s: source %d rows md5 %s, target %d rows md5 %s", name, fp.Rows, fp.MD5, dst[name].Rows, dst[name].MD5)
		}
	}
	if len(dst) != len(src) {
		b.t.Errorf("target tables %v, source %v", dst, src)
	}
	ss, ts := b.source.sequences(), b.target.sequences()
	if len(ss) != 2 {
		b.t.Fatalf("source sequences: %v", ss)
	}
	for name, v := range ss {
		if ts[name] != v {
			b.t.Errorf("sequence %s: source %s, target %s", name, v, ts[name])
		}
	}
	b.noLeftovers()
}

// noLeftovers checks pg_replication_slots and pg_publication on the
// source, and the bookkeeping schema on the target.
func (b *liveBed) noLeftovers() {
	b.t.Helper()
	if n := b.source.number("SELECT count(*) FROM pg_replication_slots"); n != 0 {
		b.t.Errorf("%d replication slots left on the source", n)
	}
	if n := b.source.number("SELECT count(*) FROM pg_publication"); n != 0 {
		b.t.Errorf("%d publications left on the source", n)
	}
	if n := b.target.number("SELECT count(*) FROM pg_namespace WHERE nspname = 'ppg_live'"); n != 0 {
		b.t.Errorf("the bookkeeping schema is left on the target")
	}
}

// writers change the source from several connections in multi-statement
// transactions until stopped, each at most writerRate transactions a
// second (an application's load, not a flood that a loaded 2-core
// machine cannot stream as fast as it writes).
type writers struct {
	stop chan struct{}
	wg   sync.WaitGroup
	txns atomic.Int64
	mu   sync.Mutex
	err  error
}

// writerRate is each writer's rate, in transactions a second.
const writerRate = 40

// startWriters starts n writers on d.
func startWriters(t testing.TB, d *database, n int) *writers {
	w := &writers{stop: make(chan struct{})}
	for i := range n {
		conn := d.connect()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			tick := time.NewTicker(time.Second / writerRate)
			defer tick.Stop()
			for {
				select {
				case <-w.stop:
					return
				case <-tick.C:
				}
				err := writeOnce(conn, rng, i)
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) && pgErr.Code == "40P01" {
					continue // writers deadlocked on the same rows: one gives way
				}
				if err != nil {
					w.mu.Lock()
					w.err = errors.Join(w.err, err)
					w.mu.Unlock()
					return
				}
				w.txns.Add(1)
			}
		}()
	}
	t.Cleanup(func() { w.halt(t) })
	return w
}

// halt stops the writers and fails the test on their errors.
func (w *writers) halt(t testing.TB) {
	t.Helper()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.err; err != nil {
		w.err = nil
		t.Fatalf("writers: %v", err)
	}
}

// writeOnce runs one multi-statement transaction of writer i.
func writeOnce(conn *pgx.Conn, rng *rand.Rand, i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := rng.IntN(300) + 1
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		stmts := []string{
			fmt.Sprintf(`INSERT INTO items (price, doc, blob, tags, mood, at, qty, span, big) VALUES
				(%d.5, '{"w": %d, "k": [1, 2.50, null]}', '\x00ff%02x', ARRAY['w%d', NULL, 'x,y'], 'happy', now(), %d, '[1,5)',
				CASE WHEN %d %% 4 = 0 THEN (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200)) END)`, k, i, k%256, i, k, k),
			// Leaves big, TOASTed on some rows, unchanged.
			fmt.Sprintf(`UPDATE items SET price = price + 1, doc = doc || '{"u": true}' WHERE id IN (SELECT id FROM items ORDER BY id DESC LIMIT 3 OFFSET %d)`, k%20),
			fmt.Sprintf(`INSERT INTO events (item_id, kind, payload) VALUES (%d, 'w%d', '{"n": %d}')`, k, i, k),
			fmt.Sprintf(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE item_id = %d ORDER BY id LIMIT 1)`, k),
			fmt.Sprintf(`INSERT INTO logs VALUES (now(), 'w%d', %d)`, i, k%5),
			fmt.Sprintf(`UPDATE logs SET line = line || '.' WHERE n = %d AND length(line) < 40`, k%5),
			fmt.Sprintf(`DELETE FROM logs WHERE ctid IN (SELECT ctid FROM logs WHERE n = %d LIMIT 1)`, (k+1)%5),
		}
		if k%25 == 0 {
			stmts = append(stmts, `TRUNCATE scratch`, fmt.Sprintf(`INSERT INTO scratch SELECT g, 'w%d' FROM generate_series(1, %d) g`, i, k%7+1))
		} else {
			stmts = append(stmts, fmt.Sprintf(`INSERT INTO scratch VALUES (%d, 'u') ON CONFLICT (id) DO UPDATE SET v = scratch.v || 'u'`, k%15))
		}
		if k%10 == 0 {
			// A subtransaction rolled back: its rows must not arrive.
			stmts = append(stmts, `SAVEPOINT s`, fmt.Sprintf(`INSERT INTO events (item_id, kind) VALUES (%d, 'rolled back')`, k), `ROLLBACK TO SAVEPOINT s`)
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%.60s: %w", s, err)
			}
		}
		return nil
	})
}

// liveBulkSQL is one transaction of more than 100,000 rows: 100,000 inserts
// of pad bytes and more each, a rolled-back subtransaction, updates and
// deletes of rows it inserted, and last a row in marks, which nothing else
// writes.
func liveBulkSQL(base, pad int) string {
	return fmt.Sprintf(`BEGIN;
INSERT INTO bulk SELECT g, repeat('p', %[2]d) || g FROM generate_series(%[1]d + 1, %[1]d + 100000) g;
SAVEPOINT s;
INSERT INTO bulk SELECT g, 'never' FROM generate_series(%[1]d + 100001, %[1]d + 100500) g;
ROLLBACK TO SAVEPOINT s;
UPDATE bulk SET pad = 'updated' WHERE id BETWEEN %[1]d + 1 AND %[1]d + 1000;
DELETE FROM bulk WHERE id BETWEEN %[1]d + 1001 AND %[1]d + 1100;
INSERT INTO marks VALUES (%[1]d, 'bulk done');
COMMIT;`, base, pad)
}

// heapPeak samples the process's heap in use until stopped.
type heapPeak struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func sampleHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > h.peak.Load() {
				h.peak.Store(m.HeapInuse)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapPeak) end() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// TestLiveMigration: writers run through setup, dump, restore and stream,
// with a transaction of 100,000 rows; then cutover, and every table's md5
// and every sequence agree.
func TestLiveMigration(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	probe, err := live.ProbeSource(ctx, b.source.url)
	if err != nil {
		t.Fatal(err)
	}
	if !probe.Possible() || len(probe.NoIdentity()) != 1 || probe.NoIdentity()[0].Name != "logs" {
		t.Fatalf("probe: possible %v, blockers %+v, no identity %v", probe.Possible(), probe.Blockers, probe.NoIdentity())
	}
	w := startWriters(t, b.source, 3)
	waitFor(t, liveTimeout, "writes before setup", func() bool { return w.txns.Load() >= 20 })
	b.setup()
	r := b.start()
	r.waitStatus(t, "a stream applying the writers' transactions", func(s live.Status) bool { return s.Transactions >= 50 })

	// About 100 MB of changes in one transaction: what the stream holds
	// in memory meanwhile is checked against it.
	heap := sampleHeap()
	b.source.exec(liveBulkSQL(0, 1000))
	bulkAt := b.source.value("SELECT pg_current_wal_insert_lsn()::text")
	st := r.waitStatus(t, "the 100,000-row transaction applied", func(s live.Status) bool {
		return s.Streamed >= 1 && lsnAtLeast(s.Applied, bulkAt)
	})
	peak := heap.end()
	t.Logf("100,000-row transaction: %d transactions streamed in progress, %d bytes spilled to disk; heap in use peaked at %d MiB",
		st.Streamed, st.Spilled, peak>>20)
	if st.Spilled < 100e6 {
		t.Errorf("spilled %d bytes; the 100,000-row transaction should have gone to disk (more than 100 MB)", st.Spilled)
	}
	// The whole test process (writers included), sampled every 50 ms:
	// holding the transaction would take more than its spilled size.
	if peak > uint64(st.Spilled)/4 {
		t.Errorf("heap in use peaked at %d MiB while a transaction of %d MiB was applied: not bounded", peak>>20, st.Spilled>>20)
	}
	r.waitStatus(t, "more writes after the bulk", func(s live.Status) bool { return s.Transactions >= st.Transactions+50 })
	w.halt(t)
	rep := b.cutover(r)
	if rep.Sequences != 2 || rep.Took <= 0 {
		t.Errorf("cutover report %+v", rep)
	}
	last := r.status()
	t.Logf("applied %d rows in %d transactions; WAL held at the last status %d bytes; lag %d bytes, %.3f s", last.Rows, last.Transactions, last.WALHeld, last.LagBytes, last.LagSeconds)
	b.compare()
	if n := b.target.number("SELECT count(*) FROM bulk"); n != 100000-100 {
		t.Errorf("bulk on the target: %d rows, want 99,900", n)
	}
}

// lsnAtLeast reports whether lsn is at or past the position text.
func lsnAtLeast(lsn live.LSN, text string) bool {
	var hi, lo uint64
	if _, err := fmt.Sscanf(text, "%X/%X", &hi, &lo); err != nil {
		return false
	}
	return uint64(lsn) >= hi<<32|lo
}

// wait waits for Run to end and returns its error.
func (r *runner) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(liveTimeout):
		t.Fatal("the stream did not stop")
		return nil
	}
}

// holdMarks locks the table marks on the target until release is called:
// the stream, applying the 100,000-row transaction, waits there after all
// its rows, in the middle of its target transaction.
func (b *liveBed) holdMarks() (release func()) {
	b.t.Helper()
	conn := b.target.connect()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "LOCK TABLE marks IN ACCESS EXCLUSIVE MODE")
	}
	if err != nil {
		b.t.Fatalf("lock marks on the target: %v", err)
	}
	return func() { _ = tx.Rollback(ctx) }
}

// blockedInBulk reports whether the stream's target session waits for the
// lock on marks inside a transaction that has written.
func (b *liveBed) blockedInBulk() bool {
	return b.target.number(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ppg live'
		AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL`) > 0
}

// bulkInBackground runs liveBulkSQL on the source; the returned channel
// gets its error.
func (b *liveBed) bulkInBackground(base int) chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, b.source.url)
		if err != nil {
			done <- err
			return
		}
		defer func() { _ = conn.Close(context.Background()) }()
		_, err = conn.Exec(ctx, liveBulkSQL(base, 100))
		done <- err
	}()
	return done
}

// TestLiveResume: the stream is killed twice, once among the writers'
// transactions and once in the middle of applying the 100,000-row
// transaction (held there by a lock on the target), and resumed each
// time: nothing lost, nothing twice.
func TestLiveResume(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	w := startWriters(t, b.source, 3)
	b.setup()
	r := b.start()
	r.waitStatus(t, "transactions applied", func(s live.Status) bool { return s.Transactions >= 30 })
	r.kill(t)

	r = b.start()
	r.waitStatus(t, "transactions applied after the first resume", func(s live.Status) bool { return s.Transactions >= 10 })
	release := b.holdMarks()
	if err := <-b.bulkInBackground(0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, liveTimeout, "the stream in the middle of the 100,000-row transaction", b.blockedInBulk)
	r.kill(t)
	release()
	// The killed transaction left nothing on the target: all or nothing.
	if n := b.target.number("SELECT count(*) FROM bulk"); n != 0 {
		t.Fatalf("%d rows of the killed transaction on the target", n)
	}

	r = b.start()
	bulkAt := b.source.value("SELECT pg_current_wal_insert_lsn()::text")
	r.waitStatus(t, "the 100,000-row transaction applied after the second resume", func(s live.Status) bool { return lsnAtLeast(s.Applied, bulkAt) })
	w.halt(t)
	b.cutover(r)
	b.compare()
}

// TestLiveTargetCut: the target's session is terminated twice during the
// stream, once while it applies the 100,000-row transaction, then the
// source's WAL sender: the stream retries by itself and ends identical.
func TestLiveTargetCut(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	w := startWriters(t, b.source, 3)
	b.setup()
	r := b.start()
	r.waitStatus(t, "transactions applied", func(s live.Status) bool { return s.Transactions >= 30 })
	terminate := `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'ppg live' AND datname = 'app'`
	if n := b.target.number(terminate); n != 1 {
		t.Fatalf("terminated %d sessions on the target, want the stream's one", n)
	}
	waitFor(t, liveTimeout, "a retry", func() bool { return r.count(live.EventRetry) >= 1 })
	applied := r.status().Transactions
	r.waitStatus(t, "transactions applied after the retry", func(s live.Status) bool { return s.Transactions >= applied+10 })

	release := b.holdMarks()
	if err := <-b.bulkInBackground(0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, liveTimeout, "the stream in the middle of the 100,000-row transaction", b.blockedInBulk)
	if n := b.target.number(terminate); n != 1 {
		t.Fatalf("terminated %d sessions on the target, want the stream's one", n)
	}
	release()
	waitFor(t, liveTimeout, "a second retry", func() bool { return r.count(live.EventRetry) >= 2 })
	bulkAt := b.source.value("SELECT pg_current_wal_insert_lsn()::text")
	r.waitStatus(t, "the 100,000-row transaction applied", func(s live.Status) bool { return lsnAtLeast(s.Applied, bulkAt) })

	// The source side too: its WAL sender terminated.
	if n := b.source.number(`SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = $1`, b.names.Slot); n != 1 {
		t.Fatalf("terminated %d WAL senders on the source, want the stream's one", n)
	}
	waitFor(t, liveTimeout, "a third retry", func() bool { return r.count(live.EventRetry) >= 3 })
	applied = r.status().Transactions
	r.waitStatus(t, "transactions applied after the source's retry", func(s live.Status) bool { return s.Transactions >= applied+10 })
	w.halt(t)
	b.cutover(r)
	b.compare()
}

// TestLiveDDL: a column added on the source during the stream stops it,
// naming the table and the column; once the same DDL is run on the
// target, a new stream resumes and ends identical.
func TestLiveDDL(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	w := startWriters(t, b.source, 2)
	b.setup()
	r := b.start()
	r.waitStatus(t, "transactions applied", func(s live.Status) bool { return s.Transactions >= 20 })
	b.source.exec("ALTER TABLE items ADD COLUMN note text DEFAULT 'n'", "UPDATE items SET note = 'noted' WHERE id % 7 = 0")
	err := r.wait(t)
	var ddl *live.DDLError
	if !errors.As(err, &ddl) {
		t.Fatalf("Run: %v, want a *live.DDLError", err)
	}
	if ddl.Table != (live.Table{Schema: "public", Name: "items"}) || len(ddl.Missing) != 1 || ddl.Missing[0] != "note" {
		t.Fatalf("DDL error %+v, want public.items missing note", ddl)
	}
	if !strings.Contains(err.Error(), "public.items") || !strings.Contains(err.Error(), "note") {
		t.Errorf("error %q names neither the table nor the column", err)
	}
	t.Logf("stream stopped: %v", err)

	b.target.exec("ALTER TABLE items ADD COLUMN note text DEFAULT 'n'")
	r = b.start()
	r.waitStatus(t, "transactions applied after the DDL", func(s live.Status) bool { return s.Transactions >= 20 })
	w.halt(t)
	b.cutover(r)
	b.compare()
}

// TestLiveProbeReplica: on a source with wal_level=replica the probe says
// within 5 s that live migration is impossible and why, and nothing is
// created; a role without REPLICATION is named too.
func TestLiveProbeReplica(t *testing.T) {
	src := startServerWith(t, 16, nil)
	d := newDatabase(t, src, "app")
	d.exec(liveSchemaSQL, `CREATE ROLE plain LOGIN PASSWORD 'plain-pw'`)
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	start := time.Now()
	p, err := live.ProbeSource(ctx, d.url)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > 5*time.Second {
		t.Errorf("probe took %v, want under 5 s", took)
	}
	t.Logf("probe took %v: blockers %+v", took, p.Blockers)
	if p.Possible() || len(p.Blockers) != 1 || p.Blockers[0].Kind != live.BlockWALLevel || p.Blockers[0].Have != "replica" || p.Blockers[0].Need != "logical" {
		t.Fatalf("blockers %+v, want wal_level replica, need logical", p.Blockers)
	}
	names := live.NamesFor("replica")
	_, err = live.Setup(ctx, live.SetupOptions{Source: d.url, Names: names})
	var blocked *live.BlockedError
	if !errors.As(err, &blocked) || !errors.Is(err, live.ErrNotPossible) || blocked.Blockers[0].Kind != live.BlockWALLevel {
		t.Fatalf("Setup: %v, want a *live.BlockedError for wal_level", err)
	}
	if n := d.number("SELECT count(*) FROM pg_replication_slots"); n != 0 {
		t.Errorf("%d slots on the source", n)
	}
	if n := d.number("SELECT count(*) FROM pg_publication"); n != 0 {
		t.Errorf("%d publications on the source", n)
	}

	plain := strings.Replace(d.url, "postgres:"+src.Password+"@", "plain:plain-pw@", 1)
	p, err = live.ProbeSource(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[live.BlockerKind]bool{}
	for _, bl := range p.Blockers {
		kinds[bl.Kind] = true
	}
	if !kinds[live.BlockWALLevel] || !kinds[live.BlockRole] || !kinds[live.BlockOwnership] {
		t.Errorf("blockers for a plain role %+v, want wal_level, the replication role and ownership", p.Blockers)
	}
}

// TestLiveAbandon: a live migration given up leaves no slot and no
// publication; before that, Leftovers tells what is left and how to
// remove it, and a slot in use is not dropped from under its stream.
func TestLiveAbandon(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	snap := b.setup()
	if b.source.value("SELECT relreplident::text FROM pg_class WHERE relname = 'logs'") != "f" {
		t.Fatal("logs is not REPLICA IDENTITY FULL after setup")
	}
	r := b.start()
	b.source.exec("UPDATE items SET price = price + 1 WHERE id < 10")
	r.waitStatus(t, "a transaction applied", func(s live.Status) bool { return s.Transactions >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	opts := live.DropOptions{Source: b.source.url, Target: b.target.url, Names: b.names, RestoreIdentity: snap.IdentityFull}
	var active *live.SlotActiveError
	if err := live.Abandon(ctx, opts); !errors.As(err, &active) {
		t.Fatalf("Abandon while streaming: %v, want *live.SlotActiveError", err)
	}
	r.kill(t)

	left, err := live.Leftovers(ctx, b.source.url, b.names)
	if err != nil {
		t.Fatal(err)
	}
	if left == nil || !left.SlotExists || left.Publication != b.names.Publication || !strings.Contains(left.DropSQL, b.names.Slot) {
		t.Fatalf("leftovers %+v, want the slot and the publication", left)
	}
	t.Logf("left on the source: slot %s holding %d bytes of WAL; to remove it:\n%s", left.Slot, left.WALHeld, left.DropSQL)
	waitFor(t, liveTimeout, "the slot released by the killed stream", func() bool {
		err := live.Abandon(ctx, opts)
		return !errors.As(err, &active) && err == nil
	})
	b.noLeftovers()
	if got := b.source.value("SELECT relreplident::text FROM pg_class WHERE relname = 'logs'"); got != "d" {
		t.Errorf("logs replica identity %q after abandon, want d (as before)", got)
	}
	if left, err := live.Leftovers(ctx, b.source.url, b.names); err != nil || left != nil {
		t.Errorf("leftovers after abandon: %+v, %v", left, err)
	}
}

// mustLSN parses an LSN's text.
func mustLSN(t testing.TB, text string) live.LSN {
	t.Helper()
	var hi, lo uint64
	if _, err := fmt.Sscanf(text, "%X/%X", &hi, &lo); err != nil {
		t.Fatalf("parse LSN %q: %v", text, err)
	}
	return live.LSN(hi<<32 | lo)
}

// TestLiveCopyOnce: a table without a key whose owner did not consent to
// REPLICA IDENTITY FULL is not published, so the source keeps taking its
// UPDATEs and DELETEs; it is copied once, fingerprinted in the copy's
// snapshot, and at cutover the fingerprints tell that it changed on the
// source since the copy, and that the target holds the copy.
func TestLiveCopyOnce(t *testing.T) {
	b := newLiveBed(t, logicalSettings)
	b.source.exec(`CREATE TABLE nokey (a int, b text)`, `INSERT INTO nokey SELECT g, 'x' FROM generate_series(1, 100) g`)
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	snap, err := live.Setup(ctx, live.SetupOptions{Source: b.source.url, Names: b.names, FullIdentity: []live.Table{{Schema: "public", Name: "logs"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snap.Release(context.Background()) })
	nokey := live.Table{Schema: "public", Name: "nokey"}
	if len(snap.CopyOnce) != 1 || snap.CopyOnce[0] != nokey || len(snap.Published) != 6 {
		t.Fatalf("copy once %v, published %v", snap.CopyOnce, snap.Published)
	}
	// After the snapshot: the source takes UPDATE and DELETE on the table
	// (it is in no publication), and the snapshot does not see them.
	b.source.exec(`INSERT INTO nokey VALUES (0, 'after')`, `UPDATE nokey SET b = 'y' WHERE a = 1`, `DELETE FROM nokey WHERE a = 2`)
	copied, err := snap.Fingerprints(ctx, b.source.url, snap.CopyOnce)
	if err != nil {
		t.Fatal(err)
	}
	if copied[nokey].Rows != 100 {
		t.Fatalf("fingerprint in the snapshot: %+v, want the 100 rows before the changes", copied[nokey])
	}
	b.copySnapshot(snap)
	r := b.start()
	b.source.exec("UPDATE items SET price = price + 1 WHERE id < 10")
	r.waitStatus(t, "a transaction applied", func(s live.Status) bool { return s.Transactions >= 1 })
	b.cutover(r)

	now, err := live.Fingerprints(ctx, b.source.url, snap.CopyOnce)
	if err != nil {
		t.Fatal(err)
	}
	target, err := live.Fingerprints(ctx, b.target.url, snap.CopyOnce)
	if err != nil {
		t.Fatal(err)
	}
	if now[nokey] == copied[nokey] {
		t.Errorf("the source's nokey changed since the copy, the fingerprints say not: %+v", now[nokey])
	}
	if target[nokey] != copied[nokey] {
		t.Errorf("the target's nokey %+v is not the copy %+v", target[nokey], copied[nokey])
	}
	// The fingerprint agrees with an independent md5 of the same rows.
	if want := b.target.value(`SELECT coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM (SELECT md5(t::text) AS h FROM nokey t) s`); target[nokey].MD5 != want {
		t.Errorf("fingerprint md5 %s, independent %s", target[nokey].MD5, want)
	}
}
