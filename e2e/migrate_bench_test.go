//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

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
	m := newMigration(b)
	start := time.Now()
	size := migBenchFillLarge(m.source, int64(gb*(1<<30)))
	b.Logf("source: %.2f GiB on disk (pg_database_size), built in %.0f s", float64(size)/(1<<30), time.Since(start).Seconds())

	for i := range b.N {
		// ppg, through the tunnel.
		m.dir = b.TempDir()
		m.newTarget(fmt.Sprintf("ppg_%d", i))
		p := migBenchRunPPG(b, m, nil)
		m.target.drop()

		// Plain pg_dump + pg_restore, direct TCP, as the npm wizard.
		d := migBenchDirect(b, m, fmt.Sprint(i), []int{1, migBenchDefaultJobs()})

		ppgDR := p.dump + p.restore
		dirDR := d.dump + d.restore[1]
		b.ReportMetric(p.dump.Seconds(), "ppg_dump_s")
		b.ReportMetric(p.restore.Seconds(), "ppg_restore_s")
		b.ReportMetric(p.verify.Seconds(), "ppg_verify_s")
		b.ReportMetric(p.total.Seconds(), "ppg_total_s")
		b.ReportMetric(d.dump.Seconds(), "direct_dump_s")
		b.ReportMetric(d.restore[1].Seconds(), "direct_restore_s")
		b.ReportMetric(d.restore[migBenchDefaultJobs()].Seconds(), fmt.Sprintf("direct_restore_j%d_s", migBenchDefaultJobs()))
		b.ReportMetric((d.dump + d.restore[1]).Seconds(), "direct_total_s")
		b.ReportMetric(ppgDR.Seconds()/dirDR.Seconds(), "ppg/direct")
		b.ReportMetric(float64(p.peakRSS)/mb, "ppg_peak_MB")
		b.Logf("%.2f GiB database, %d tables; ppg restores with %d jobs", float64(size)/(1<<30), p.tables, migBenchDefaultJobs())
		b.Logf("ppg (tunnel + gateway): dump %.1f s, restore %.1f s, total %.1f s (all steps), dump file %.0f MB",
			p.dump.Seconds(), p.restore.Seconds(), p.total.Seconds(), float64(p.dumpBytes)/mb)
		b.Logf("ppg verification: %.2f s", p.verify.Seconds())
		b.Logf("direct (TCP): pg_dump -Fc %.1f s, pg_restore %.1f s (-j %d: %.1f s), total %.1f s, dump file %.0f MB",
			d.dump.Seconds(), d.restore[1].Seconds(), migBenchDefaultJobs(), d.restore[migBenchDefaultJobs()].Seconds(),
			(d.dump + d.restore[1]).Seconds(), float64(d.dumpBytes)/mb)
		b.Logf("ratio ppg/direct (dump+restore): %.2f against pg_restore -j 1 (the npm wizard), %.2f against -j %d",
			ppgDR.Seconds()/dirDR.Seconds(), ppgDR.Seconds()/(d.dump+d.restore[migBenchDefaultJobs()]).Seconds(), migBenchDefaultJobs())
		b.Logf("ppg peak RSS: %.1f MB", float64(p.peakRSS)/mb)
	}
}

func migBenchLatency(b *testing.B) {
	const latency = 5 * time.Millisecond
	m := newMigration(b, withLatency(latency))
	m.source.exec(tablesSQL(tableSpecs("s", 200, 100, func(i int) int { return 50 + 2*i })))
	size := m.source.number("SELECT pg_database_size(current_database())")

	for i := range b.N {
		var runs []migBenchPPG
		for _, jobs := range []int{migBenchDefaultJobs(), 1, 2} {
			m.dir = b.TempDir()
			m.newTarget(fmt.Sprintf("ppg_%d_j%d", i, jobs))
			runs = append(runs, migBenchRunPPG(b, m, []string{"--jobs", strconv.Itoa(jobs)}))
			m.target.drop()
		}
		d := migBenchDirect(b, m, fmt.Sprint(i), []int{1, migBenchDefaultJobs()})
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

// migBenchRunPPG runs a whole migration on m's working folder and target,
// polls ppg's peak RSS (VmHWM) while it runs, and fails unless it ends
// verified.
func migBenchRunPPG(b *testing.B, m *migration, args []string) migBenchPPG {
	b.Helper()
	p := m.start(append([]string{"--non-interactive", "--json"}, args...)...)
	var res migBenchPPG
	tick := time.NewTicker(50 * time.Millisecond)
	for !p.exited() {
		// VmHWM only grows: the last reading before exit is the peak.
		res.peakRSS = max(res.peakRSS, peakRSS(p.pid()))
		<-tick.C
	}
	tick.Stop()
	r := p.wait()
	r.wantExit(0)
	r.wantVerified()
	res.total = r.elapsed
	res.dump, res.restore, res.verify = r.stepTime("dump"), r.stepTime("restore"), r.stepTime("verify")
	s := m.state()
	res.dumpBytes, res.tables = s.Dump.Size, s.Source.Tables
	return res
}

// migBenchDirectTimes is plain pg_dump + pg_restore's timings; restore by
// number of jobs.
type migBenchDirectTimes struct {
	dump      time.Duration
	restore   map[int]time.Duration
	dumpBytes int64
}

// migBenchDirect dumps the source with pg_dump -Fc and restores it into a
// new database of the target's server once per jobs value, as the npm
// wizard does (pg_dump -Fc --no-publications -v; pg_restore -v
// --no-publications), over direct TCP connections.
func migBenchDirect(b *testing.B, m *migration, suffix string, jobs []int) migBenchDirectTimes {
	b.Helper()
	file := filepath.Join(b.TempDir(), "direct.dump")
	d := migBenchDirectTimes{restore: map[int]time.Duration{}}
	d.dump = migBenchTool(b, m.source.server, clientTool(b, "pg_dump"), "-Fc", "--no-publications", "-v", "-d", m.source.name, "-f", file)
	st, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	d.dumpBytes = st.Size()
	for _, j := range jobs {
		db := newDatabase(b, m.target.server, fmt.Sprintf("direct_%s_j%d", suffix, j))
		args := []string{"-v", "--no-publications", "-d", db.name}
		if j > 1 {
			args = append(args, "-j", strconv.Itoa(j))
		}
		d.restore[j] = migBenchTool(b, db.server, clientTool(b, "pg_restore"), append(args, file)...)
		compareCounts(b, m.source, db)
		db.drop()
	}
	_ = os.Remove(file)
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
		b.Fatalf("%s: %v\n%s", filepath.Base(tool), err, lastLines(out.String(), 20))
	}
	return time.Since(start)
}

// migBenchFillLarge fills the database d to about target bytes on disk:
// 100 small tables of 200 rows, then 4 wide tables (about 230 bytes a row,
// a primary key and a secondary index) grown in turn by batches of 100,000
// rows until pg_database_size reaches target. It returns the final size.
func migBenchFillLarge(d *database, target int64) int64 {
	d.t.Helper()
	const sizeSQL = "SELECT pg_database_size(current_database())"
	d.exec(`
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
	for i, size := 0, d.number(sizeSQL); size < target; i, size = i+1, d.number(sizeSQL) {
		w := i % 4
		lo := next[w] + 1
		next[w] += batch
		d.exec(fmt.Sprintf(`INSERT INTO wide%d
			SELECT g, g %% 5000, (g %% 1000000) / 100.0, '2024-01-01'::timestamptz + g * interval '17 seconds',
				'label ' || (g * 7919 %% 100003), md5(g::text) || md5((g + 1)::text) || md5((g * 3)::text) || md5((g * 5)::text) || ' ' || g
			FROM generate_series(%d::bigint, %d::bigint) g`, w+1, lo, next[w]))
	}
	d.exec("VACUUM ANALYZE")
	return d.number(sizeSQL)
}
