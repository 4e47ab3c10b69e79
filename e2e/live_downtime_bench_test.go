//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLiveDowntime runs whole live migrations through the binary
// (ppg migrate --live, then ppg cutover from another process) from a
// PostgreSQL 16 source with wal_level=logical into 17, on two databases:
// the many-objects one (manyObjectsSQL(600): 600 tables, views and
// sequences, 20 large objects) and about PPG_BENCH_GB GiB
// (migBenchFillLarge), each with the live schema the writers change
// (liveSchemaSQL). ppg reaches both servers through a proxy adding each
// delay of PPG_BENCH_LIVE_DELAYS (ms each way, default "0,25"); the
// writers reach the source directly. Per database and delay:
//   - the copy: writers at a fixed rate (2 connections, 40 transactions/s
//     each) from the end of the dump, through the restore and the verify
//     (during the dump an application's TRUNCATE waits for pg_dump's
//     locks: over a minute on the many-objects database at 25 ms);
//   - steady state: the stream's status events (one every 2 s) for 20 s,
//     the writers still running: lag in bytes and seconds, rows/s;
//   - throughput: ppg interrupted (Ctrl-C keeps the slot), a backlog of
//     100 transactions of 1,000 rows and one of 100,000 rows written,
//     ppg started again; the time until the target holds the backlog's
//     last row (polled on the target directly), in rows/s and MB/s of WAL;
//   - cutover: writers run again until the stream applied rows, stop;
//     then ppg cutover. The downtime as ppg reports it (from the request
//     to done: caught up, sequences set, counts verified, slot,
//     publication and bookkeeping dropped), and as seen from outside:
//     from just before ppg cutover starts until it exits, and until ppg
//     migrate exits.
//
// The target is then compared with the source independently of ppg: md5
// of every table's rows (of the sorted row md5s on the large database),
// every sequence, the large objects; nothing of the migration is left.
//
// Run with (PPG_BENCH_LIVE_DBS=objects,1GB by default):
//
//	go test -tags e2e -run '^$' -bench LiveDowntime -benchtime 1x -timeout 60m -v ./e2e/
func BenchmarkLiveDowntime(b *testing.B) {
	delays := liveBenchDelays(b)
	gb := 1.0
	if v := os.Getenv("PPG_BENCH_GB"); v != "" {
		var err error
		if gb, err = strconv.ParseFloat(v, 64); err != nil || gb <= 0 {
			b.Fatalf("PPG_BENCH_GB=%q: want a positive number of GiB", v)
		}
	}
	dbs := "objects,1GB"
	if v := os.Getenv("PPG_BENCH_LIVE_DBS"); v != "" {
		dbs = v
	}
	for _, db := range strings.Split(dbs, ",") {
		var fill func(*database)
		large := false
		switch db {
		case "objects":
			fill = func(d *database) { d.exec(manyObjectsSQL(600)) }
		case "1GB":
			fill, large = func(d *database) { migBenchFillLarge(d, int64(gb*(1<<30))) }, true
		default:
			b.Fatalf("PPG_BENCH_LIVE_DBS: unknown database %q (objects, 1GB)", db)
		}
		b.Run("db="+db, func(b *testing.B) {
			bed := newLiveBed(b, map[string]string{"wal_level": "logical"})
			began := time.Now()
			fill(bed.source)
			b.Logf("source: %.1f MB (pg_database_size), %d tables, %d sequences, built in %.0f s",
				float64(bed.source.number("SELECT pg_database_size(current_database())"))/mb,
				bed.source.number("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "+userSchemasSQL),
				bed.source.number("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND "+userSchemasSQL),
				time.Since(began).Seconds())
			for range b.N {
				var runs []liveDowntimeRun
				for k, d := range delays {
					runs = append(runs, liveDowntimeOnce(b, bed, d, k, large))
				}
				b.Logf("\n%s", liveDowntimeTable(runs))
			}
		})
	}
}

// liveBenchDelays are the delays of PPG_BENCH_LIVE_DELAYS (default 0 and
// 25 ms).
func liveBenchDelays(b *testing.B) []time.Duration {
	return benchDelays(b, "PPG_BENCH_LIVE_DELAYS", 0, 25*time.Millisecond)
}

// liveDowntimeRun is what one live migration measured.
type liveDowntimeRun struct {
	delay                   time.Duration
	load                    []string // load average at the start, the cutover
	copyTook                time.Duration
	lagBytes                []int64
	lagSecs                 []float64
	rowsPerSec              []float64
	backlogRows             int64
	backlogWAL              int64
	backlogTook             time.Duration
	resumeTook              time.Duration // from ppg's start to the stream's first status
	caughtUp, downtime      float64       // as ppg reports them
	cutoverExit, migrateEnd time.Duration
	tables, sequences       int
}

// liveDowntimeOnce runs one live migration of bed's source into a new
// database of its target's server, at delay each way; k numbers the run
// (its backlog's keys).
func liveDowntimeOnce(b *testing.B, bed *liveBed, delay time.Duration, k int, large bool) liveDowntimeRun {
	run := liveDowntimeRun{delay: delay, load: []string{loadAverage()}}
	target := newDatabase(b, bed.target.server, fmt.Sprintf("app_%dms_%d", delay.Milliseconds(), k))
	src, dst := migBenchProxied(b, bed.source, delay), migBenchProxied(b, target, delay)
	dir := b.TempDir()
	env := []string{"PPG_PG_BIN=" + need(b, "PPG_CLIENT_BIN"), "PPG_SOURCE_URL=" + src, "PPG_TARGET_URL=" + dst}

	// The copy; the writers start once the dump is done: pg_dump holds a
	// lock on every table until it ends, and a writer's TRUNCATE waits
	// for it.
	start := time.Now()
	p := startPPG(b, dir, env, nil, liveArgs...)
	p.waitFor(stepFinished("dump"))
	w := startWriters(b, bed.source, 2)
	run.copyTook = p.waitFor(liveStreamStarted).Arrived.Sub(start)

	// Steady state: 10 statuses after the first, 2 s apart.
	seen := 0
	p.waitFor(eventWhere("ten statuses", func(ev event) bool {
		if ev.Step == "stream" && ev.Live != nil {
			if seen++; seen > 1 {
				run.lagBytes = append(run.lagBytes, ev.Live.LagBytes)
				run.lagSecs = append(run.lagSecs, ev.Live.LagSeconds)
				run.rowsPerSec = append(run.rowsPerSec, ev.Live.RowsPerSecond)
			}
		}
		return seen > 10
	}))
	w.halt(b)

	// Throughput on a backlog written while ppg is stopped.
	p.signalPPG(syscall.SIGINT)
	p.wait().wantExit(130)
	from := bed.source.value("SELECT pg_current_wal_insert_lsn()::text")
	base := 10_000_000 * (2*k + 1)
	for i := range 100 {
		lo := base + i*1000
		bed.source.exec(fmt.Sprintf("INSERT INTO bulk SELECT g, repeat('p', 100) || g FROM generate_series(%d, %d) g", lo, lo+999))
	}
	bed.source.exec(liveBulkSQL(base+1_000_000, 100))
	run.backlogWAL = lsnBytes(b, bed.source.value("SELECT pg_current_wal_insert_lsn()::text")) - lsnBytes(b, from)
	run.backlogRows = 100*1000 + 100_000 + 1000 + 100 + 1
	began := time.Now()
	p = startPPG(b, dir, env, nil, liveArgs...)
	waitFor(b, liveTimeout, "the backlog on the target", func() bool {
		return target.number(fmt.Sprintf("SELECT count(*) FROM marks WHERE id = %d", base+1_000_000)) == 1
	})
	run.backlogTook = time.Since(began)
	run.resumeTook = p.waitFor(streamStatus(0)).Arrived.Sub(began)

	// Cutover, once the writers' rows stream again.
	w = startWriters(b, bed.source, 2)
	p.waitFor(streamStatus(run.backlogRows + 500))
	w.halt(b)
	run.load = append(run.load, loadAverage())
	requested := time.Now()
	c := runPPG(b, dir, nil, "cutover", "--dir", dir)
	run.cutoverExit = time.Since(requested)
	c.wantExit(0)
	r := p.wait()
	r.wantExit(0)
	p.mu.Lock()
	run.migrateEnd = p.end.Sub(requested)
	p.mu.Unlock()
	done := r.all(stepFinished("stream"))
	if len(done) != 1 || done[0].Summary == nil || done[0].Summary.Cutover == nil {
		b.Fatalf("no cutover summary:\n%s", r.show())
	}
	sum := done[0].Summary.Cutover
	run.caughtUp, run.downtime, run.tables, run.sequences = sum.CaughtUpSeconds, sum.DowntimeSeconds, sum.Tables, sum.Sequences
	b.Logf("at %v: %s; ppg cutover: %s", delay, done[0].Text, strings.TrimSpace(c.stdout))

	migBenchCheck(b, bed.source, target, large)
	(&liveBed{t: b, source: bed.source, target: target}).noLeftovers()
	b.Logf("at %v each way (load average %s): copy %v; steady lag bytes %v, seconds %v, rows/s %v; backlog %d rows, %.1f MB of WAL in %v (the stream started after %v); cutover: caught up %.2f s, downtime %.2f s (ppg), ppg cutover exited after %v, ppg migrate after %v",
		delay, strings.Join(run.load, ", "), run.copyTook.Round(time.Millisecond), run.lagBytes, run.lagSecs, run.rowsPerSec,
		run.backlogRows, float64(run.backlogWAL)/1e6, run.backlogTook.Round(time.Millisecond), run.resumeTook.Round(time.Millisecond),
		run.caughtUp, run.downtime, run.cutoverExit.Round(time.Millisecond), run.migrateEnd.Round(time.Millisecond))
	ms := fmt.Sprintf("_%dms", delay.Milliseconds())
	b.ReportMetric(run.downtime, "downtime_s"+ms)
	b.ReportMetric(run.migrateEnd.Seconds(), "exit_s"+ms)
	b.ReportMetric(float64(run.backlogRows)/(run.backlogTook-run.resumeTook).Seconds(), "rows/s"+ms)
	return run
}

// liveStreamStarted matches the stream step's start.
var liveStreamStarted = eventWhere("the stream", func(ev event) bool { return ev.Kind == kindStepStarted && ev.Step == "stream" })

// liveDowntimeTable is the runs as a markdown table, one column a delay.
func liveDowntimeTable(runs []liveDowntimeRun) string {
	var sb strings.Builder
	sb.WriteString("| added delay each way |")
	for _, r := range runs {
		fmt.Fprintf(&sb, " %v |", r.delay)
	}
	sb.WriteString("\n|---|" + strings.Repeat("---|", len(runs)) + "\n")
	row := func(name string, cell func(r liveDowntimeRun) string) {
		sb.WriteString("| " + name + " |")
		for _, r := range runs {
			sb.WriteString(" " + cell(r) + " |")
		}
		sb.WriteString("\n")
	}
	row("load average (start, cutover)", func(r liveDowntimeRun) string { return strings.Join(r.load, ", ") })
	row("copy (dump, restore, verify) until the stream", func(r liveDowntimeRun) string { return fmt.Sprintf("%.1f s", r.copyTook.Seconds()) })
	row("steady lag, bytes: median / max", func(r liveDowntimeRun) string {
		return fmt.Sprintf("%.2f MB / %.2f MB", float64(medianOf(r.lagBytes))/1e6, float64(slices.Max(r.lagBytes))/1e6)
	})
	row("steady lag, seconds: median / max", func(r liveDowntimeRun) string {
		return fmt.Sprintf("%.2f s / %.2f s", medianOf(r.lagSecs), slices.Max(r.lagSecs))
	})
	row("steady rows/s: median", func(r liveDowntimeRun) string { return fmt.Sprintf("%.0f", medianOf(r.rowsPerSec)) })
	row("backlog: ppg started again, the stream starts after", func(r liveDowntimeRun) string { return fmt.Sprintf("%.1f s", r.resumeTook.Seconds()) })
	row("backlog applied (from the stream's start): rows/s", func(r liveDowntimeRun) string {
		return fmt.Sprintf("%.0f", float64(r.backlogRows)/(r.backlogTook-r.resumeTook).Seconds())
	})
	row("backlog applied: MB/s of source WAL", func(r liveDowntimeRun) string {
		return fmt.Sprintf("%.2f", float64(r.backlogWAL)/1e6/(r.backlogTook-r.resumeTook).Seconds())
	})
	row("cutover: caught up (ppg)", func(r liveDowntimeRun) string { return fmt.Sprintf("%.2f s", r.caughtUp) })
	row("cutover: downtime (ppg)", func(r liveDowntimeRun) string { return fmt.Sprintf("%.2f s", r.downtime) })
	row("cutover: ppg cutover exits", func(r liveDowntimeRun) string { return fmt.Sprintf("%.2f s", r.cutoverExit.Seconds()) })
	row("cutover: ppg migrate exits", func(r liveDowntimeRun) string { return fmt.Sprintf("%.2f s", r.migrateEnd.Seconds()) })
	row("tables counted, sequences set", func(r liveDowntimeRun) string { return fmt.Sprintf("%d, %d", r.tables, r.sequences) })
	return sb.String()
}
