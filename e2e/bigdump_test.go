//go:build e2e

package e2e

// The dump of a database whose largest table holds most of its bytes, in
// a real terminal: the bar moves while that one table is copied (ppg
// follows the COPY on the source's side), the speed shows, and the time
// left, once shown after the first fifth of the bytes, is close to the
// truth. The same dump headless prints the same kind of numbers.
//
//	go test -tags e2e -count=1 -run TestWizardBigTableDumpProgress ./e2e/
//
// PPG_E2E_BIG_MB sets the big table's size on disk in MB (default 500);
// PPG_E2E_BIG_RATE the gateway's cap in MB/s (default 25), which sets how
// long the dump lasts (about 20 s at the defaults).

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// bigTable is the big table's name, as the progress shows it.
const bigTable = "public.wide"

// bigRowBytes is about what a row of bigTableSQL takes on disk: 896
// characters of text (below the TOAST threshold: stored as is), its
// header and line pointer; eight rows fill a page.
const bigRowBytes = 1024

// bigTableSQL creates bigTable with rows enough for about mb MB on disk,
// plus smallSchemaSQL's small tables, and analyzes it (the dump's
// progress inside a table counts rows against the planner's estimate).
func bigTableSQL(mb int) string {
	rows := mb * 1_000_000 / bigRowBytes
	return smallSchemaSQL + fmt.Sprintf(`
CREATE TABLE public.wide (id int NOT NULL, body text NOT NULL);
ALTER TABLE public.wide ALTER COLUMN body SET STORAGE PLAIN;
INSERT INTO public.wide SELECT g, repeat(md5(g::text), 28) FROM generate_series(1, %d) g;
ANALYZE;`, rows)
}

// envInt is the environment variable name as a positive number, or def.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// bigReading is what one captured screen of the dump showed.
type bigReading struct {
	at      time.Time
	current string
	done    int64 // bytes of table data done
	total   int64
	speed   int64         // bytes a second; 0 when not shown
	left    time.Duration // -1 when not shown
}

var (
	bigBytesRE = regexp.MustCompile(`Tables \d+ of \d+ · ([\d.]+ [kMGT]?B) of ([\d.]+ [kMGT]?B) of table data`)
	bigNowRE   = regexp.MustCompile(`Now: (\S+)`)
	bigSpeedRE = regexp.MustCompile(`· ([\d.]+ [kMGT]?B)/s`)
	bigLeftRE  = regexp.MustCompile(`about (\S+) left`)
)

// parseBytes reads a size as words.Bytes writes it: "540.0 MB", "12 B".
func parseBytes(t testing.TB, s string) int64 {
	t.Helper()
	num, unit, _ := strings.Cut(s, " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	mult := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
	if mult == 0 {
		t.Fatalf("size %q: unknown unit", s)
	}
	return int64(f * mult)
}

// parseLeft reads a duration as words.Duration writes it: "8s", "1m24s",
// "1h02m".
func parseLeft(t testing.TB, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("time left %q: %v", s, err)
	}
	return d
}

// readDumpScreen parses a screen of the dump; ok is false for a screen
// that shows no byte counts.
func readDumpScreen(t testing.TB, at time.Time, s string) (bigReading, bool) {
	t.Helper()
	flat := wizFlat(s)
	m := bigBytesRE.FindStringSubmatch(flat)
	if m == nil {
		return bigReading{}, false
	}
	r := bigReading{at: at, done: parseBytes(t, m[1]), total: parseBytes(t, m[2]), left: -1}
	if n := bigNowRE.FindStringSubmatch(flat); n != nil {
		r.current = n[1]
	}
	if sp := bigSpeedRE.FindStringSubmatch(flat); sp != nil {
		r.speed = parseBytes(t, sp[1])
	}
	if l := bigLeftRE.FindStringSubmatch(flat); l != nil {
		r.left = parseLeft(t, l[1])
	}
	return r, true
}

func TestWizardBigTableDumpProgress(t *testing.T) {
	mb := envInt(t, "PPG_E2E_BIG_MB", 500)
	rate := envInt(t, "PPG_E2E_BIG_RATE", 25)
	m := newMigration(t, withBandwidth(int64(rate)<<20))
	began := time.Now()
	m.source.exec(bigTableSQL(mb))
	onDisk := m.source.number(`SELECT pg_total_relation_size('public.wide')`)
	all := m.source.number(`SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`)
	t.Logf("source built in %v: %s is %d MB on disk, %.0f%% of the tables' %d MB",
		time.Since(began).Round(100*time.Millisecond), bigTable, onDisk/1_000_000, 100*float64(onDisk)/float64(all), all/1_000_000)
	if onDisk < int64(mb)*1_000_000*9/10 {
		t.Fatalf("%s is %d MB on disk, want about %d", bigTable, onDisk/1_000_000, mb)
	}

	// The wizard, the GA key left for later: the dump, then its prompt.
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin, "found pg_restore")
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt)
	w.pasteKey(m.source.key)
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.keys("C-l")
	w.waitFor(30*time.Second, wizConfirmEA)
	w.keys("y")

	// Capture the screen until the dump is written, keeping each reading.
	var readings []bigReading
	deadline := time.Now().Add(4 * time.Minute)
	for {
		s := w.capture()
		now := time.Now()
		if wizHas(s, "Dump written") || wizHas(s, wizGAPrompt, "paste here, then press Enter") {
			break
		}
		if r, ok := readDumpScreen(t, now, s); ok && wizHas(s, "Dumping the EA database") {
			readings = append(readings, r)
		}
		if now.After(deadline) {
			t.Fatalf("the dump did not end within 4 minutes; the screen:\n%s", wizFrame(s))
		}
		time.Sleep(wizPoll)
	}
	w.waitFor(time.Minute, wizGAPrompt, "paste here, then press Enter")
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	if code := w.exitStatus(30 * time.Second); code != 130 {
		t.Errorf("exit status %d after stopping at the GA key prompt, want 130", code)
	}
	rec := m.state().Step(migrate.StepDump)
	if rec.Status != migrate.Done {
		t.Fatalf("the dump step is %q, want done", rec.Status)
	}
	dumpStart, dumpEnd := rec.StartedAt, rec.FinishedAt
	wall := dumpEnd.Sub(dumpStart)
	t.Logf("wizard dump: %v, %d readings of the screen", wall.Round(100*time.Millisecond), len(readings))
	checkBigDumpReadings(t, readings, dumpStart, dumpEnd)
	w.checkSecrets()

	// The same dump headless: its progress lines give the bytes, the
	// speed and the time left.
	hlStart := time.Now()
	lines := headlessDumpLines(t, m)
	t.Logf("headless dump: %v, %d progress lines", time.Since(hlStart).Round(100*time.Millisecond), len(lines))
	checkHeadlessDumpLines(t, lines)
	t.Logf("whole test: %v", time.Since(began).Round(100*time.Millisecond))
}

// checkBigDumpReadings checks the wizard's readings: bytes that rise
// steadily while the big table is copied, and, after the first fifth of
// the bytes, a time left that is what ppg says it is: the bytes to go at
// the average speed since the dump began, as the readings' own bytes and
// times give it. How close that came to the time truly left depends on
// the machine's load after the reading, so it is logged, not checked.
func checkBigDumpReadings(t *testing.T, readings []bigReading, start, end time.Time) {
	t.Helper()
	if len(readings) == 0 {
		t.Fatal("no screen of the dump showed its bytes")
	}
	total := readings[len(readings)-1].total

	// Within the big table: distinct readings, never falling, none that
	// jumps over more than a quarter of the data.
	var inBig []bigReading
	for _, r := range readings {
		if r.current != bigTable {
			continue
		}
		if n := len(inBig); n == 0 || r.done != inBig[n-1].done {
			inBig = append(inBig, r)
		}
	}
	var shown []string
	for _, r := range inBig {
		shown = append(shown, fmt.Sprintf("%.1f MB", float64(r.done)/1e6))
	}
	t.Logf("bytes shown while %s was copied: %s", bigTable, strings.Join(shown, ", "))
	if len(inBig) < 6 {
		t.Errorf("only %d distinct byte counts while %s was copied, want at least 6 (the bar stood still in the table)", len(inBig), bigTable)
	}
	for i := 1; i < len(inBig); i++ {
		a, b := inBig[i-1], inBig[i]
		if b.done < a.done {
			t.Errorf("the bytes fell from %d to %d within %s", a.done, b.done, bigTable)
		}
		if b.done-a.done > total/4 {
			t.Errorf("the bytes jumped from %d to %d (of %d) within %s: not steady", a.done, b.done, total, bigTable)
		}
	}
	if n := len(inBig); n > 1 && inBig[n-1].done-inBig[0].done < total/2 {
		t.Errorf("within %s the bytes rose only from %d to %d of %d", bigTable, inBig[0].done, inBig[n-1].done, total)
	}

	// The speed shows; the time left once steady, and close to the truth.
	var speeds, etas int
	var worst float64
	var worstAt string
	for _, r := range readings {
		if r.speed > 0 {
			speeds++
		}
		if r.left < 0 || r.done < total/5 {
			continue
		}
		etas++
		truth := end.Sub(r.at)
		implied := r.at.Add(r.left)
		off := implied.Sub(end)
		if off < 0 {
			off = -off
		}
		if rel := float64(off) / float64(max(truth, time.Second)); rel > worst {
			worst = rel
			worstAt = fmt.Sprintf("at %.0f%% of the bytes: about %v left, truly %v", 100*float64(r.done)/float64(total), r.left, truth.Round(100*time.Millisecond))
		}
		// The screen shows a reading up to a moment after its bytes were
		// counted, and whole seconds: a fifth of the estimate, plus 3 s.
		spent := r.at.Sub(start)
		predicted := time.Duration(float64(spent) * float64(total-r.done) / float64(r.done))
		if d := r.left - predicted; d > predicted/5+3*time.Second || -d > predicted/5+3*time.Second {
			t.Errorf("at %.0f%% of the bytes (%v into the dump) the screen said about %v left; the average speed so far gives %v",
				100*float64(r.done)/float64(total), spent.Round(100*time.Millisecond), r.left, predicted.Round(100*time.Millisecond))
		}
	}
	t.Logf("%d readings showed a speed, %d a time left after the first 20%% of the bytes; worst error %.0f%% of the time truly left (%s)", speeds, etas, 100*worst, worstAt)
	if speeds == 0 {
		t.Error("no screen of the dump showed its speed")
	}
	if etas < 3 {
		t.Errorf("only %d screens after the first 20%% of the bytes showed a time left, want at least 3", etas)
	}
}

// headlessDumpLines runs the migration headless (plain text) in a folder
// of its own until the dump is written, stops it, and returns the dump's
// progress lines.
func headlessDumpLines(t *testing.T, m *migration) []string {
	t.Helper()
	p := m.ppg(inDir(t.TempDir())).start("--non-interactive")
	waitFor(t, 4*time.Minute, "the headless dump to be written", func() bool {
		return strings.Contains(p.result().stdout, "Dump the EA database: done") || p.exited()
	})
	p.signalPPG(syscall.SIGINT)
	r := p.wait()
	var out []string
	in := false
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.Contains(l, "Dump the EA database: started"):
			in = true
		case strings.Contains(l, "Dump the EA database: done"):
			in = false
		case in && strings.Contains(l, "of table data"):
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no progress line of the headless dump:\n%s", r.show())
	}
	return out
}

var hlProgressRE = regexp.MustCompile(`(\d+) of (\d+) tables, ([\d.]+ [kMGT]?B) of ([\d.]+ [kMGT]?B) of table data \((\d+)%\)(?:, now (\S+?))?(?:, ([\d.]+ [kMGT]?B)/s)?(?:, about (\S+) left)?$`)

// checkHeadlessDumpLines checks the headless dump's progress lines: the
// same facts as the wizard's screen, bytes that rise within the big table,
// a speed and a time left.
func checkHeadlessDumpLines(t *testing.T, lines []string) {
	t.Helper()
	var inBig []int64
	var speeds, etas int
	for _, l := range lines {
		m := hlProgressRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("a headless progress line does not read as tables, bytes, percent, table, speed, time left: %q", l)
			continue
		}
		if m[6] == bigTable {
			inBig = append(inBig, parseBytes(t, m[3]))
		}
		if m[7] != "" {
			speeds++
		}
		if m[8] != "" {
			etas++
		}
	}
	t.Logf("headless progress lines (first and last): %q … %q", lines[0], lines[len(lines)-1])
	if len(inBig) < 4 {
		t.Errorf("only %d headless progress lines while %s was copied, want at least 4:\n%s", len(inBig), bigTable, strings.Join(lines, "\n"))
	}
	for i := 1; i < len(inBig); i++ {
		if inBig[i] <= inBig[i-1] {
			t.Errorf("headless: the bytes did not rise within %s: %d then %d", bigTable, inBig[i-1], inBig[i])
		}
	}
	if speeds == 0 || etas == 0 {
		t.Errorf("headless: %d lines with a speed, %d with a time left; want both:\n%s", speeds, etas, strings.Join(lines, "\n"))
	}
}
