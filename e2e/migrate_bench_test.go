//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
)

// Run with (PPG_BENCH_GB sets the size of the large database; default 1):
//   go test -tags e2e -run '^$' -bench Migrate -benchtime 1x -timeout 60m ./e2e/

// BenchmarkMigrate times ppg migrate-from-ea (headless, through ppg's
// tunnel and the gateway emulator) against plain pg_dump -Fc + pg_restore
// run directly against the same servers, as the npm wizard does:
//
//   - size: a database of about PPG_BENCH_GB GiB on disk (a few wide
//     tables and 100 small ones), no added latency: throughput;
//   - latency: 200 small tables through a gateway adding 5 ms each way:
//     round trips, with ppg's default jobs and with --jobs 1.
func BenchmarkMigrate(b *testing.B) {
	gb := 1.0
	if v := os.Getenv("PPG_BENCH_GB"); v != "" {
		var err error
		if gb, err = strconv.ParseFloat(v, 64); err != nil || gb <= 0 {
			b.Fatalf("PPG_BENCH_GB=%q: want a positive number of GiB", v)
		}
	}
	b.Run(fmt.Sprintf("size=%gGiB", gb), func(b *testing.B) { migBenchSize(b, gb) })
	b.Run("latency=5ms/tables=200", migBenchLatency)
}

// migBenchDefaultJobs is ppg's default number of pg_restore jobs
// (migrate.defaultJobs).
func migBenchDefaultJobs() int { return 4 }

func migBenchSize(b *testing.B, gb float64) {
	bed := newResumeBed(b, gateway.Options{})
	src := bed.ea.URL("postgres")
	start := time.Now()
	size := migBenchFillLarge(b, src, int64(gb*(1<<30)))
	b.Logf("source: %.2f GiB on disk (pg_database_size), built in %.0f s", float64(size)/(1<<30), time.Since(start).Seconds())

	for i := range b.N {
		// ppg, through the tunnel.
		bed.dir = b.TempDir()
		bed.newGA(b, fmt.Sprintf("ppg_%d", i))
		m := migBenchRunPPG(b, bed, nil)
		migBenchDropDB(b, bed.ga, bed.gaDB)

		// Plain pg_dump + pg_restore, direct TCP, as the npm wizard.
		d := migBenchDirect(b, bed.ea, bed.ga, fmt.Sprint(i), []int{1, migBenchDefaultJobs()})

		ppgDR := m.dump + m.restore
		dirDR := d.dump + d.restore[1]
		b.ReportMetric(m.dump.Seconds(), "ppg_dump_s")
		b.ReportMetric(m.restore.Seconds(), "ppg_restore_s")
		b.ReportMetric(m.verify.Seconds(), "ppg_verify_s")
		b.ReportMetric(m.total.Seconds(), "ppg_total_s")
		b.ReportMetric(d.dump.Seconds(), "direct_dump_s")
		b.ReportMetric(d.restore[1].Seconds(), "direct_restore_s")
		b.ReportMetric(d.restore[migBenchDefaultJobs()].Seconds(), fmt.Sprintf("direct_restore_j%d_s", migBenchDefaultJobs()))
		b.ReportMetric((d.dump + d.restore[1]).Seconds(), "direct_total_s")
		b.ReportMetric(ppgDR.Seconds()/dirDR.Seconds(), "ppg/direct")
		b.ReportMetric(float64(m.peakRSS)/mb, "ppg_peak_MB")
		b.Logf("%.2f GiB database, %d tables; ppg restores with %d jobs", float64(size)/(1<<30), m.tables, migBenchDefaultJobs())
		b.Logf("ppg (tunnel + gateway): dump %.1f s, restore %.1f s, total %.1f s (all steps), dump file %.0f MB",
			m.dump.Seconds(), m.restore.Seconds(), m.total.Seconds(), float64(m.dumpBytes)/mb)
		b.Logf("ppg verification: %.2f s", m.verify.Seconds())
		b.Logf("direct (TCP): pg_dump -Fc %.1f s, pg_restore %.1f s (-j %d: %.1f s), total %.1f s, dump file %.0f MB",
			d.dump.Seconds(), d.restore[1].Seconds(), migBenchDefaultJobs(), d.restore[migBenchDefaultJobs()].Seconds(),
			(d.dump + d.restore[1]).Seconds(), float64(d.dumpBytes)/mb)
		b.Logf("ratio ppg/direct (dump+restore): %.2f against pg_restore -j 1 (the npm wizard), %.2f against -j %d",
			ppgDR.Seconds()/dirDR.Seconds(), ppgDR.Seconds()/(d.dump+d.restore[migBenchDefaultJobs()]).Seconds(), migBenchDefaultJobs())
		b.Logf("ppg peak RSS: %.1f MB", float64(m.peakRSS)/mb)
	}
}

func migBenchLatency(b *testing.B) {
	const latency = 5 * time.Millisecond
	bed := newResumeBed(b, gateway.Options{Latency: latency})
	src := bed.ea.URL("postgres")
	resumeFill(b, src, resumeTables("s", 200, 100, func(i int) int { return 50 + 2*i }))
	var size int64
	migBenchQueryRow(b, src, "SELECT pg_database_size(current_database())", &size)

	for i := range b.N {
		var runs []migBenchPPG
		for _, jobs := range []int{migBenchDefaultJobs(), 1, 2} {
			bed.dir = b.TempDir()
			bed.newGA(b, fmt.Sprintf("ppg_%d_j%d", i, jobs))
			runs = append(runs, migBenchRunPPG(b, bed, []string{"--jobs", strconv.Itoa(jobs)}))
			migBenchDropDB(b, bed.ga, bed.gaDB)
		}
		d := migBenchDirect(b, bed.ea, bed.ga, fmt.Sprint(i), []int{1, migBenchDefaultJobs()})
		def, one, two := runs[0], runs[1], runs[2]
		b.ReportMetric(def.dump.Seconds(), "ppg_dump_s")
		b.ReportMetric(def.restore.Seconds(), "ppg_restore_s")
		b.ReportMetric(def.verify.Seconds(), "ppg_verify_s")
		b.ReportMetric(def.total.Seconds(), "ppg_total_s")
		b.ReportMetric(one.restore.Seconds(), "ppg_j1_restore_s")
		b.ReportMetric(one.total.Seconds(), "ppg_j1_total_s")
		b.ReportMetric(two.restore.Seconds(), "ppg_j2_restore_s")
		b.ReportMetric(d.dump.Seconds(), "direct_dump_s")
		b.ReportMetric(d.restore[1].Seconds(), "direct_restore_s")
		b.ReportMetric((d.dump + d.restore[1]).Seconds(), "direct_total_s")
		b.ReportMetric((def.dump+def.restore).Seconds()/(d.dump+d.restore[1]).Seconds(), "ppg/direct")
		b.ReportMetric(float64(def.peakRSS)/mb, "ppg_peak_MB")
		b.Logf("%d tables, %.1f MB database; the gateway adds %s each way (ppg), direct connections none", def.tables, float64(size)/mb, latency)
		for _, r := range []struct {
			name string
			m    migBenchPPG
		}{{fmt.Sprintf("ppg --jobs %d (default)", migBenchDefaultJobs()), def}, {"ppg --jobs 1", one}, {"ppg --jobs 2", two}} {
			b.Logf("%s: dump %.1f s, restore %.1f s, total %.1f s (all steps), peak RSS %.1f MB", r.name,
				r.m.dump.Seconds(), r.m.restore.Seconds(), r.m.total.Seconds(), float64(r.m.peakRSS)/mb)
			b.Logf("%s verification: %.2f s", r.name, r.m.verify.Seconds())
		}
		b.Logf("direct (TCP, no added latency): pg_dump -Fc %.2f s, pg_restore %.2f s (-j %d: %.2f s), total %.2f s",
			d.dump.Seconds(), d.restore[1].Seconds(), migBenchDefaultJobs(), d.restore[migBenchDefaultJobs()].Seconds(), (d.dump + d.restore[1]).Seconds())
		b.Logf("ratio ppg/direct (dump+restore): %.1f with --jobs %d, %.1f with --jobs 1",
			(def.dump+def.restore).Seconds()/(d.dump+d.restore[1]).Seconds(), migBenchDefaultJobs(),
			(one.dump+one.restore).Seconds()/(d.dump+d.restore[1]).Seconds())
	}
}

// migBenchPPG is one headless ppg migration's timings.
type migBenchPPG struct {
	dump, restore, verify, total time.Duration
	peakRSS                      int64
	dumpBytes                    int64
	tables                       int
}

// migBenchRunPPG runs a whole migration on bed's working folder and GA
// database, polls ppg's peak RSS (VmHWM) while it runs, and fails unless
// it ends verified.
func migBenchRunPPG(b *testing.B, bed *resumeBed, args []string) migBenchPPG {
	b.Helper()
	start := time.Now()
	p := bed.start(b, resumeRunOpts{args: args})
	var m migBenchPPG
	pid := p.cmd.Process.Pid
	tick := time.NewTicker(50 * time.Millisecond)
	for done := false; !done; {
		// VmHWM only grows: the last reading before exit is the peak.
		if n := migBenchVmHWM(pid); n > m.peakRSS {
			m.peakRSS = n
		}
		select {
		case <-p.exited:
			done = true
		case <-tick.C:
		}
	}
	tick.Stop()
	m.total = time.Since(start)
	r := p.wait(b, time.Minute)
	r.expectExit(b, "ppg migrate-from-ea", 0)
	r.expectVerified(b, "ppg migrate-from-ea")
	m.dump, m.restore, m.verify = r.stepTime("dump"), r.stepTime("restore"), r.stepTime("verify")
	s := resumeState(b, bed.dir)
	m.dumpBytes, m.tables = s.Dump.Size, s.Source.Tables
	return m
}

// migBenchVmHWM returns a process's peak resident set size in bytes, 0 once it
// is gone.
func migBenchVmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// migBenchDirectTimes is plain pg_dump + pg_restore's timings; restore by
// number of jobs.
type migBenchDirectTimes struct {
	dump      time.Duration
	restore   map[int]time.Duration
	dumpBytes int64
}

// migBenchDirect dumps ea's postgres database with pg_dump -Fc and restores
// it into a new database of ga once per jobs value, as the npm wizard
// does (pg_dump -Fc --no-publications -v; pg_restore -v --no-publications),
// over direct TCP connections.
func migBenchDirect(b *testing.B, ea, ga *pgserver.Server, suffix string, jobs []int) migBenchDirectTimes {
	b.Helper()
	file := filepath.Join(b.TempDir(), "direct.dump")
	d := migBenchDirectTimes{restore: map[int]time.Duration{}}
	d.dump = migBenchTool(b, ea, clientTool(b, "pg_dump"), "-Fc", "--no-publications", "-v", "-d", "postgres", "-f", file)
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	d.dumpBytes = st.Size()
	for _, j := range jobs {
		db := fmt.Sprintf("direct_%s_j%d", suffix, j)
		resumeExec(b, ga.URL("postgres"), "CREATE DATABASE "+db)
		args := []string{"-v", "--no-publications", "-d", db}
		if j > 1 {
			args = append(args, "-j", strconv.Itoa(j))
		}
		d.restore[j] = migBenchTool(b, ga, clientTool(b, "pg_restore"), append(args, file)...)
		resumeCompareCounts(b, ea.URL("postgres"), ga.URL(db))
		migBenchDropDB(b, ga, db)
	}
	os.Remove(file)
	return d
}

// migBenchTool runs a client tool against srv over TCP and times it.
func migBenchTool(b *testing.B, srv *pgserver.Server, tool string, args ...string) time.Duration {
	b.Helper()
	args = append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port), "-U", srv.User}, args...)
	cmd := exec.Command(tool, args...)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+srv.Password, "PGSSLMODE=disable")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", filepath.Base(tool), err, resumeLastLines(out.String(), 20))
	}
	return time.Since(start)
}

func migBenchDropDB(b *testing.B, srv *pgserver.Server, name string) {
	b.Helper()
	resumeExec(b, srv.URL("postgres"), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func migBenchQueryRow(b *testing.B, url, sql string, dest ...any) {
	b.Helper()
	conn := resumeConnect(b, url)
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql).Scan(dest...); err != nil {
		b.Fatal(err)
	}
}

// migBenchFillLarge fills the database at url to about target bytes on disk:
// 100 small tables of 200 rows, then 4 wide tables (about 230 bytes a row,
// a primary key and a secondary index) grown in turn by batches of 100,000
// rows until pg_database_size reaches target. It returns the final size.
func migBenchFillLarge(b *testing.B, url string, target int64) int64 {
	b.Helper()
	resumeExec(b, url, `
		DO $$ BEGIN
		FOR i IN 1..100 LOOP
			EXECUTE format('CREATE TABLE small%s (id int PRIMARY KEY, name text NOT NULL, note text, created timestamptz NOT NULL DEFAULT ''2024-01-01'')', lpad(i::text, 3, '0'));
			EXECUTE format('CREATE INDEX small%s_name ON small%s (name)', lpad(i::text, 3, '0'), lpad(i::text, 3, '0'));
			EXECUTE format('INSERT INTO small%s SELECT g, ''name '' || g, md5(g::text) FROM generate_series(1, 200) g', lpad(i::text, 3, '0'));
		END LOOP; END $$;
		CREATE TABLE wide1 (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(12, 2) NOT NULL,
			created timestamptz NOT NULL, label text NOT NULL, payload text NOT NULL);
		CREATE TABLE wide2 (LIKE wide1 INCLUDING ALL);
		CREATE TABLE wide3 (LIKE wide1 INCLUDING ALL);
		CREATE TABLE wide4 (LIKE wide1 INCLUDING ALL);
		CREATE INDEX wide1_account ON wide1 (account);
		CREATE INDEX wide2_account ON wide2 (account);`)
	const batch = 100_000
	next := [4]int64{}
	var size int64
	migBenchQueryRow(b, url, "SELECT pg_database_size(current_database())", &size)
	for i := 0; size < target; i++ {
		w := i % 4
		lo := next[w] + 1
		next[w] += batch
		resumeExec(b, url, fmt.Sprintf(`INSERT INTO wide%d
			SELECT g, g %% 5000, (g %% 1000000) / 100.0, '2024-01-01'::timestamptz + g * interval '17 seconds',
				'label ' || (g * 7919 %% 100003), md5(g::text) || md5((g + 1)::text) || md5((g * 3)::text) || md5((g * 5)::text) || ' ' || g
			FROM generate_series(%d::bigint, %d::bigint) g`, w+1, lo, next[w]))
		migBenchQueryRow(b, url, "SELECT pg_database_size(current_database())", &size)
	}
	resumeExec(b, url, "VACUUM ANALYZE")
	migBenchQueryRow(b, url, "SELECT pg_database_size(current_database())", &size)
	return size
}
