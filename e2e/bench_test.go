//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
)

// Run with: make bench, or
//   go test -tags e2e -run '^$' -bench Tunnel -benchtime 1x ./e2e/

// copyOut streams a whole table with COPY ... TO STDOUT from the server at
// port (direct or through a tunnel) and returns the bytes and time.
func copyOut(b *testing.B, connString, table string) (int64, time.Duration) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, connString)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	start := time.Now()
	if _, err := conn.CopyTo(ctx, io.Discard, "COPY "+table+" TO STDOUT"); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	return countingBytes(b, conn, table), elapsed
}

// cpuTime is the user+system CPU time a process has used so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	p, ok := readProc(pid)
	if !ok {
		b.Fatalf("process %d is gone", pid)
	}
	return p.cpu()
}

// countingBytes is the size of the table's COPY text, computed server-side
// once per connection string (cheap next to the copy itself).
func countingBytes(b *testing.B, conn *pgconn.PgConn, table string) int64 {
	res := conn.ExecParams(context.Background(),
		"select sum(octet_length(t::text) - 1)::bigint from "+table+" t", nil, nil, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 {
		b.Fatalf("size of %s: %v", table, res.Err)
	}
	n, _ := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	return n
}

// livePeakRSS is peakRSS of a process that must still run.
func livePeakRSS(b *testing.B, pid int) int64 {
	n := peakRSS(pid)
	if n == 0 {
		b.Fatalf("no peak memory (VmHWM) for process %d", pid)
	}
	return n
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

const mb = 1 << 20

// BenchmarkTunnelCopy streams a table of about 330 MB with COPY TO STDOUT
// directly, through ppg tunnel + the gateway emulator, and through the npm
// @prisma/ppg-tunnel + the same gateway, and reports throughputs and the
// tunnels' peak memory.
func BenchmarkTunnelCopy(b *testing.B) {
	srv := newBenchServer(b)
	if err := sandbox.Exec(context.Background(), srv.URL("postgres"), `
		CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, repeat(md5((g * 7)::text), 6) AS b
		FROM generate_series(1, 1400000) g`); err != nil {
		b.Fatal(err)
	}
	g, wsURL := benchGateway(b)
	key := sandbox.NewKey("bench")
	g.AddDatabase(key, srv.URL("postgres"))
	tun := startTunnel(b, wsURL, key)
	direct := srv.URL("postgres")
	viaTunnel := fmt.Sprintf("postgres://x@127.0.0.1:%d/postgres?sslmode=disable", tun.port)
	var npm *tunnelProc
	if path := os.Getenv("PPG_NPM_TUNNEL"); path != "" {
		npm = startProc(b, []string{"PPG_WS_URL=" + wsURL, "PDP_API_KEY=" + key}, path, "--port", "0")
	}

	copyOut(b, direct, "big") // warm the cache
	const rounds = 5
	for range b.N {
		var dDirect, dTunnel, dNPM []time.Duration
		var size int64
		for range rounds {
			n, d := copyOut(b, direct, "big")
			size, dDirect = n, append(dDirect, d)
			selfCPU, tunCPU := cpuTime(b, os.Getpid()), cpuTime(b, tun.cmd.Process.Pid)
			_, d = copyOut(b, viaTunnel, "big")
			dTunnel = append(dTunnel, d)
			b.Logf("through the tunnel: %.2f s; CPU: ppg tunnel %.2f s, gateway+client %.2f s",
				d.Seconds(), (cpuTime(b, tun.cmd.Process.Pid) - tunCPU).Seconds(), (cpuTime(b, os.Getpid()) - selfCPU).Seconds())
		}
		if npm != nil {
			_, d := copyOut(b, fmt.Sprintf("postgres://x@127.0.0.1:%d/postgres?sslmode=disable", npm.port), "big")
			dNPM = append(dNPM, d)
		}
		rate := func(d time.Duration) float64 { return float64(size) / mb / d.Seconds() }
		direct, through := rate(median(dDirect)), rate(median(dTunnel))
		peak := livePeakRSS(b, tun.cmd.Process.Pid)
		b.ReportMetric(float64(size)/mb, "MB/copy")
		b.ReportMetric(direct, "direct_MB/s")
		b.ReportMetric(through, "tunnel_MB/s")
		b.ReportMetric(100*through/direct, "tunnel_%_of_direct")
		b.ReportMetric(float64(peak)/mb, "tunnel_peak_MB")
		b.Logf("COPY of %.0f MB, median of %d: direct %.0f MB/s, ppg tunnel %.0f MB/s (%.0f%%), ppg tunnel peak RSS %.1f MB after %.0f MB carried",
			float64(size)/mb, rounds, direct, through, 100*through/direct, float64(peak)/mb, float64(size*rounds)/mb)
		// The best of each is less sensitive to other load on the machine:
		// four busy processes (server, gateway, tunnel, client) share its
		// cores through the tunnel, two directly.
		bestDirect, bestTunnel := rate(slices.Min(dDirect)), rate(slices.Min(dTunnel))
		b.ReportMetric(100*bestTunnel/bestDirect, "best_tunnel_%_of_best_direct")
		b.Logf("best of %d: direct %.0f MB/s, ppg tunnel %.0f MB/s (%.0f%%)", rounds, bestDirect, bestTunnel, 100*bestTunnel/bestDirect)
		if npm != nil {
			n := rate(dNPM[0])
			b.ReportMetric(n, "npm_MB/s")
			npmPeak := livePeakRSS(b, npm.cmd.Process.Pid)
			b.ReportMetric(float64(npmPeak)/mb, "npm_peak_MB")
			b.Logf("npm @prisma/ppg-tunnel: %.0f MB/s (%.0f%%), peak RSS %.1f MB", n, 100*n/direct, float64(npmPeak)/mb)
		}
	}
}

// BenchmarkTunnelDumpManyTables times pg_dump -Fc of a schema with 300
// tables directly and through ppg tunnel (and the npm tunnel): a dump of
// many small objects is bound by round trips, where Nagle's algorithm or
// per-message overhead shows.
func BenchmarkTunnelDumpManyTables(b *testing.B) {
	pgDump := clientTool(b, "pg_dump")
	srv := newBenchServer(b)
	if err := sandbox.Exec(context.Background(), srv.URL("postgres"), `
		DO $$ BEGIN
		FOR i IN 1..300 LOOP
			EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, name text NOT NULL, created timestamptz DEFAULT now())', i);
			EXECUTE format('CREATE INDEX t%s_name ON t%s (name)', i, i);
			EXECUTE format('INSERT INTO t%s SELECT g, ''row '' || g FROM generate_series(1, 20) g', i);
		END LOOP; END $$`); err != nil {
		b.Fatal(err)
	}
	g, wsURL := benchGateway(b)
	key := sandbox.NewKey("bench")
	g.AddDatabase(key, srv.URL("postgres"))
	tun := startTunnel(b, wsURL, key)
	dir := b.TempDir()
	dump := func(env []string, args ...string) time.Duration {
		cmd := exec.Command(pgDump, append([]string{"-Fc", "-f", filepath.Join(dir, "db.dump"), "-d", "postgres"}, args...)...)
		cmd.Env = append(baseEnv(), env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_dump: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	directEnv := []string{"PGPASSWORD=" + srv.Password}
	directArgs := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port), "-U", srv.User}
	tunnelArgs := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(tun.port), "-U", "x"}
	dump(directEnv, directArgs...) // warm up
	for range b.N {
		var dDirect, dTunnel []time.Duration
		for range 3 {
			dDirect = append(dDirect, dump(directEnv, directArgs...))
			dTunnel = append(dTunnel, dump(nil, tunnelArgs...))
		}
		b.ReportMetric(median(dDirect).Seconds(), "direct_s")
		b.ReportMetric(median(dTunnel).Seconds(), "tunnel_s")
		b.Logf("pg_dump -Fc of 300 tables, median of 3: direct %.2f s, ppg tunnel %.2f s (%.2fx)",
			median(dDirect).Seconds(), median(dTunnel).Seconds(), median(dTunnel).Seconds()/median(dDirect).Seconds())
		if path := os.Getenv("PPG_NPM_TUNNEL"); path != "" {
			npm := startProc(b, []string{"PPG_WS_URL=" + wsURL, "PDP_API_KEY=" + key}, path, "--port", "0")
			d := dump([]string{"PGSSLMODE=disable"}, "-h", "127.0.0.1", "-p", strconv.Itoa(npm.port), "-U", "x")
			b.ReportMetric(d.Seconds(), "npm_s")
			b.Logf("npm @prisma/ppg-tunnel: %.2f s (%.2fx)", d.Seconds(), d.Seconds()/median(dDirect).Seconds())
			npm.stop(b)
		}
	}
}

func newBenchServer(b *testing.B) *pgserver.Server {
	return startServer(b, 17)
}

func benchGateway(b *testing.B) (*gateway.Gateway, string) {
	return testGateway(b, gateway.Options{Logf: func(string, ...any) {}})
}
