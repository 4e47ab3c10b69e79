//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBackup times `ppg backup` with an API key, through ppg's tunnel
// and the gateway emulator with a delay added to every message each way
// (0 and 25 ms by default; PPG_BENCH_DELAYS as for BenchmarkMigrate), on
// the many-objects and the application-shaped databases (PPG_BENCH_DBS:
// objects,app), with the relay and without (PPG_RELAY=off) at the largest
// delay. Every archive must be the one a plain pg_dump of the same (still)
// database writes. Run with:
//
//	go test -tags e2e -run '^$' -bench Backup -benchtime 1x -timeout 60m -v ./e2e/
func BenchmarkBackup(b *testing.B) {
	delays := benchDelays(b, "PPG_BENCH_DELAYS", 0, 25*time.Millisecond)
	dbs := "objects,app"
	if v := os.Getenv("PPG_BENCH_DBS"); v != "" {
		dbs = v
	}
	for _, db := range strings.Split(dbs, ",") {
		var fill func(*database)
		switch db {
		case "objects":
			fill = func(d *database) { d.exec(manyObjectsSQL(600)) }
		case "app":
			fill = func(d *database) { d.exec(appShapedSQL) }
		default:
			continue // the large database is all data: BenchmarkMigrate
		}
		b.Run("db="+db, func(b *testing.B) { backupBench(b, delays, fill) })
	}
}

func backupBench(b *testing.B, delays []time.Duration, fill func(*database)) {
	m := newMigration(b)
	fill(m.source)
	plain := filepath.Join(b.TempDir(), "plain.dump")
	cmd := exec.Command(clientTool(b, "pg_dump"), "-Fc", "--no-publications", "--no-subscriptions",
		"-h", m.source.server.Host, "-p", strconv.Itoa(m.source.server.Port), "-U", m.source.server.User, "-d", m.source.name, "-f", plain)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+m.source.server.Password, "PGSSLMODE=disable")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("plain pg_dump: %v\n%s", err, lastLines(string(out), 10))
	}
	b.Logf("plain pg_dump -Fc over direct TCP, no delay: %.1f s", time.Since(start).Seconds())

	for range b.N {
		times := map[string]time.Duration{}
		var peak int64
		last := delays[len(delays)-1]
		for _, delay := range delays {
			for _, relay := range []bool{true, false} {
				if !relay && delay != last {
					continue
				}
				c := migBenchOver(b, m, delay)
				env := append(c.toolEnv(), "PDP_API_KEY="+c.source.key)
				label := fmt.Sprintf("%d ms", delay.Milliseconds())
				if !relay {
					env = append(env, "PPG_RELAY=off")
					label += " without the relay"
				}
				p := startPPG(b, c.dir, env, nil, "backup", "-o", "backup.dump")
				tick := time.NewTicker(50 * time.Millisecond)
				for !p.exited() {
					peak = max(peak, peakRSS(p.pid()))
					<-tick.C
				}
				tick.Stop()
				r := p.wait()
				r.wantExit(0)
				times[label] = r.elapsed
				sameArchive(b, plain, filepath.Join(c.dir, "backup.dump"))
				b.Logf("ppg backup through the tunnel at %s: %.1f s", label, r.elapsed.Seconds())
			}
		}
		if t0, tl := times["0 ms"], times[fmt.Sprintf("%d ms", last.Milliseconds())]; t0 > 0 && tl > 0 {
			b.ReportMetric(tl.Seconds()/t0.Seconds(), fmt.Sprintf("backup_%dms/0ms", last.Milliseconds()))
		}
		b.ReportMetric(float64(peak)/mb, "ppg_peak_MB")
	}
}
