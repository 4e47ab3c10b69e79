//go:build e2e

package e2e

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/live"
)

// BenchmarkLive measures the live stream (package live) from a PostgreSQL
// 16 source to 17, at each added delay (PPG_BENCH_LIVE_DELAYS, in ms each
// way, default "0,25") on both of the stream's links, source and target;
// the application's writers reach the source directly. Per delay:
//   - steady state: writers at a fixed rate for 20 s, the lag sampled
//     every second;
//   - throughput: with the stream stopped, a backlog of 100 transactions
//     of 1,000 rows and one of 100,000 rows; then the time to apply it,
//     in rows/s and MB/s of the source's WAL;
//   - cutover: the writers run 5 s more and stop; the downtime is from
//     the cutover request until the sequences are set, and to Drop done.
//
// The target is then compared with the source by md5 of every table and
// every sequence.
//
// Run with:
//
//	go test -tags e2e -run '^$' -bench Live -benchtime 1x -timeout 30m -v ./e2e/
func BenchmarkLive(b *testing.B) {
	delays := liveBenchDelays(b)
	for range b.N {
		for _, d := range delays {
			liveBenchOnce(b, d)
		}
	}
}

// liveBenchOnce runs the three phases at one delay.
func liveBenchOnce(b *testing.B, delay time.Duration) {
	bed := newLiveBed(b, map[string]string{"wal_level": "logical"})
	bed.names = live.NamesFor(fmt.Sprintf("bench_%d", delay.Milliseconds()))
	bed.setup()
	cfg := bed.config()
	cfg.Source, cfg.Target = liveBenchProxied(b, bed.source.url, delay), liveBenchProxied(b, bed.target.url, delay)
	cfg.StatusInterval = time.Second
	start := func() *runner { return bed.startConfig(cfg) }

	// Steady state.
	r := start()
	w := startWriters(b, bed.source, 2)
	var lagBytes []int64
	var lagSecs []float64
	for s := range 20 {
		st := r.waitStatus(b, "a status", func(st live.Status) bool { return st.At.After(time.Now().Add(-100 * time.Millisecond)) })
		if s > 0 {
			lagBytes, lagSecs = append(lagBytes, st.LagBytes), append(lagSecs, st.LagSeconds)
		}
		waitFor(b, liveTimeout, "the next status", func() bool { return r.status().At.After(st.At) })
	}
	w.halt(b)
	steady := r.status()
	r.kill(b)

	// Throughput on a backlog.
	from := bed.source.value("SELECT pg_current_wal_insert_lsn()::text")
	for i := range 100 {
		bed.source.exec(fmt.Sprintf("INSERT INTO bulk SELECT g, repeat('p', 100) || g FROM generate_series(%d, %d) g", 10_000_000+i*1000, 10_000_000+i*1000+999))
	}
	bed.source.exec(liveBulkSQL(20_000_000, 100))
	to := bed.source.value("SELECT pg_current_wal_insert_lsn()::text")
	wal := lsnBytes(b, to) - lsnBytes(b, from)
	began := time.Now()
	r = start()
	st := r.waitStatus(b, "the backlog applied", func(s live.Status) bool { return lsnAtLeast(s.Applied, to) })
	took := time.Since(began)
	rows := st.Rows

	// Cutover.
	w = startWriters(b, bed.source, 2)
	r.waitStatus(b, "writes after the backlog", func(s live.Status) bool { return s.Transactions >= st.Transactions+100 })
	w.halt(b)
	requested := time.Now()
	rep := bed.cutover(r)
	dropped := time.Since(requested)
	bed.compare()

	b.Logf("live at %v each way (load average %s): steady state at 80 transactions/s: lag bytes median %d max %d, lag seconds median %.3f max %.3f, %.0f rows/s at the end",
		delay, loadAverage(), medianOf(lagBytes), slices.Max(lagBytes), medianOf(lagSecs), slices.Max(lagSecs), steady.RowsPerSecond)
	b.Logf("  lag over time (bytes, one a second): %v", lagBytes)
	b.Logf("  backlog: %d rows, %.1f MB of WAL applied in %v: %.0f rows/s, %.2f MB/s of WAL", rows, float64(wal)/1e6, took.Round(time.Millisecond),
		float64(rows)/took.Seconds(), float64(wal)/1e6/took.Seconds())
	b.Logf("  cutover: caught up %v, sequences set %v after the request, slot and publication dropped %v after it",
		rep.CaughtUp.Round(time.Millisecond), rep.Took.Round(time.Millisecond), dropped.Round(time.Millisecond))
	ms := fmt.Sprintf("_%dms", delay.Milliseconds())
	b.ReportMetric(float64(rows)/took.Seconds(), "rows/s"+ms)
	b.ReportMetric(float64(wal)/1e6/took.Seconds(), "walMB/s"+ms)
	b.ReportMetric(rep.Took.Seconds(), "downtime_s"+ms)
}

// startConfig runs a stream with cfg.
func (b *liveBed) startConfig(cfg live.Config) *runner {
	b.t.Helper()
	s, err := live.New(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.run(s)
}

// liveBenchProxied is u reached through a proxy adding delay each way
// (none for 0).
func liveBenchProxied(b *testing.B, u string, delay time.Duration) string {
	if delay == 0 {
		return u
	}
	parsed, err := url.Parse(u)
	if err != nil {
		b.Fatal(err)
	}
	p, err := gateway.StartDelayProxy(parsed.Host, delay)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	parsed.Host = p.Addr()
	return parsed.String()
}

// lsnBytes is an LSN's text as a number of bytes.
func lsnBytes(b *testing.B, text string) int64 {
	var hi, lo uint64
	if _, err := fmt.Sscanf(text, "%X/%X", &hi, &lo); err != nil {
		b.Fatalf("parse LSN %q: %v", text, err)
	}
	return int64(hi<<32 | lo)
}

func medianOf[T int64 | float64](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// loadAverage is the machine's load over the last minute, as the kernel
// reports it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
