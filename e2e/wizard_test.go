//go:build e2e

package e2e

// End-to-end tests of the interactive wizard: the real ppg binary in a real
// terminal (tmux), driven by keystrokes and pastes, against real servers
// behind the gateway emulator.
//
// Run with: go test -tags e2e -count=1 -run 'TestWizard' ./e2e/
// Screenshots (docs/screens.md): PPG_SCREENSHOTS=1 go test -tags e2e -count=1 -run TestWizardScreenshots ./e2e/
// CPU benchmark: go test -tags e2e -run '^$' -bench WizardCPU -benchtime 1x ./e2e/

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// Prompts and verdicts of the wizard's screens.
const (
	wizBegin     = "Press Enter to begin."
	wizEAPrompt  = "Paste the key of your Early Access (EA) database"
	wizGAPrompt  = "Paste the key of your new General Availability (GA) database"
	wizConfirmEA = "Dump this EA database?"
	wizVerified  = "✓ Migration complete and verified"
	wizResume    = "Continue where it stopped, or start over?"
	wizRestoring = "Restoring into the GA database with pg_restore"
	wizStopAsk   = "Stop the migration?"
	// wizLater is the early GA key prompt's way to answer after the dump.
	wizLater = "ctrl+l paste it later"
)

// wizSlowRate caps the gateway's bandwidth (a session, a direction) in the
// resume tests and the screenshots: their data takes a few seconds to dump and to
// restore.
const wizSlowRate = 1 << 20

// wizShotSQL is smallSchemaSQL plus two tables of 2 MB: at wizSlowRate
// the dump and the restore's data each last a few seconds, long enough for
// the screenshots to catch them mid-way.
var wizShotSQL = smallSchemaSQL + bulkSQL(2, 20000)

// wizResumeSQL is smallSchemaSQL plus about 4 MB of data in one table: the
// restore's parallel jobs cannot share it, so its data section lasts a few
// seconds at wizSlowRate, both the first time and when resumed.
var wizResumeSQL = smallSchemaSQL + bulkSQL(1, 40000)

// wizToGAKey drives a fresh run from the start screen to the GA key
// prompt after the dump: begin, paste the EA key, answer the early GA key
// prompt with "later", confirm the source, wait for the dump.
func wizToGAKey(w *wizTerm, m *migration) {
	w.t.Helper()
	w.waitFor(30*time.Second, wizBegin, "found pg_restore")
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt)
	w.pasteKey(m.source.key)
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.keys("C-l")
	w.waitFor(30*time.Second, wizConfirmEA)
	w.keys("y")
	s := w.waitFor(2*time.Minute, wizGAPrompt, "paste here, then press Enter")
	if wizHas(s, wizLater) {
		w.t.Errorf("the GA key prompt after the dump still offers to paste it later:\n%s", wizFrame(s))
	}
}

// wizFinish waits for the done screen, quits and checks the exit status
// and the summary left in the terminal.
func wizFinish(t *testing.T, w *wizTerm) string {
	t.Helper()
	done := w.waitSettled(2*time.Minute, wizVerified, "q/enter quit")
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after q on the done screen, want 0", code)
	}
	if h := w.history(); !wizHas(h, "ppg: migration complete and verified.") {
		t.Errorf("the terminal does not keep the summary after the wizard ended:\n%s", wizFrame(h))
	}
	return done
}

// wizAnswerKeys continues a resumed run: it pastes the key of whichever
// side the wizard asks for until the restore runs (a resumed restore step
// starts, then asks for the GA key).
func wizAnswerKeys(w *wizTerm, m *migration) {
	w.t.Helper()
	for asked := 0; ; asked++ {
		side := ""
		w.waitUntil(time.Minute, "a key prompt or the restore running", func(s string) bool {
			switch {
			case wizHas(s, "paste here, then press Enter") && wizHas(s, wizEAPrompt):
				side = "EA"
			case wizHas(s, "paste here, then press Enter") && wizHas(s, wizGAPrompt):
				side = "GA"
			case wizHas(s, wizRestoring) && !wizHas(s, "Waiting for pg_restore"), wizHas(s, wizVerified):
				side = ""
			default:
				return false
			}
			return true
		})
		switch {
		case side == "":
			return
		case asked > 2:
			w.t.Fatalf("asked for a key %d times", asked+1)
		case side == "EA":
			w.pasteKey(m.source.key)
		default:
			w.pasteKey(m.target.key)
		}
		// Wait for the answer to be taken before looking again.
		w.waitUntil(time.Minute, "the key to be taken", func(s string) bool { return !wizHas(s, "characters)") })
	}
}

func TestWizardMigratesInRealTerminal(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	start := time.Now()
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})

	s := w.waitFor(30*time.Second, wizBegin, "found pg_dump 17", "found pg_restore 17")
	if first := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(first, "ppg migrate-from-ea") {
		t.Errorf("the start screen's first line is %q, want the title", first)
	}
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt, "Step 2 of 7")
	w.pasteKey(m.source.key)
	// Both databases first: the GA key is asked before anything long, and
	// nothing is written to the folder until the source is confirmed.
	w.waitFor(30*time.Second, wizGAPrompt, wizLater, "paste here, then press Enter")
	// (The lock file of the running wizard is there, and only it.)
	if files := dirContents(t, m.dir); len(files) != 1 || files["ppg-migration.lock"] == nil {
		t.Errorf("files in the folder before the source was confirmed: %v", slices.Sorted(maps.Keys(files)))
	}
	w.pasteKey(m.target.key)
	s = w.waitSettled(30*time.Second, wizConfirmEA, "y/enter dump it")
	if !wizHas(s, "PostgreSQL 16.", "3 tables", "PostgreSQL 17.") {
		t.Errorf("the confirmation lacks the server versions or the table count:\n%s", wizFrame(s))
	}
	w.keys("y")
	done := wizFinish(t, w)
	if slices.ContainsFunc(w.Screens(), func(s string) bool {
		return wizHas(s, "paste here, then press Enter") && wizHas(s, wizGAPrompt) && !wizHas(s, wizLater)
	}) {
		t.Error("the GA key was asked for again after it was given before the dump")
	}
	st := m.state()
	for _, step := range migrate.Steps()[:len(migrate.Steps())-1] {
		if got := st.Step(step).Status; got != migrate.Done {
			t.Errorf("after the run, step %s is %q, want done", step, got)
		}
	}
	if !wizHas(done, "3 tables and", "rows match", "sequences match") {
		t.Errorf("the done screen does not give the verified counts:\n%s", wizFrame(done))
	}
	t.Logf("wizard run: %v", time.Since(start).Round(time.Millisecond))

	compareData(t, m.source, m.target)
	noSecretsInFiles(t, m.dir, m.source.key, m.target.key)
	if n := w.checkSecrets(); n < 8 {
		t.Errorf("only %d distinct screens were captured", n)
	}
}

func TestWizardWrongKeyThenRightKey(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	wrong := sandbox.NewKey("wrong") // well-formed, unknown to the gateway
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key, wrong)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin)
	w.keys("Enter")

	// A garbled value: refused before any network round trip.
	w.waitFor(10*time.Second, wizEAPrompt, "paste here, then press Enter")
	w.paste("hello world")
	w.waitFor(5*time.Second, "(11 characters)")
	w.keys("Enter")
	w.waitFor(10*time.Second, "✗ the value has a space at position 6 that an API key never contains",
		"Paste again, or another key.", "paste here, then press Enter")

	// A well-formed key the gateway refuses: its answer and request id.
	w.pasteKey(wrong)
	s := w.waitSettled(20*time.Second, "✗", "HTTP 401", "invalid or was revoked", "request id", "Paste again, or another key.", "paste here, then press Enter")
	id := regexp.MustCompile(`request id ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`).FindStringSubmatch(wizFlat(s))
	if id == nil {
		t.Fatalf("no request id on the screen:\n%s", wizFrame(s))
	}
	if log := m.gatewayLog(); !strings.Contains(log, "request "+id[1]) || !strings.Contains(log, "HTTP 401") {
		t.Errorf("request id %s is not one the gateway refused; gateway log:\n%s", id[1], log)
	}
	if fileExists(filepath.Join(m.dir, migrate.StateFileName)) {
		t.Errorf("a state file was written after refused keys: %+v", m.state())
	}

	// The right key as copied from a wrapped line: two lines and a line
	// break at the end. The paste arrives whole: the breaks are dropped,
	// and none of them submits half a key.
	w.waitFor(10*time.Second, "paste here, then press Enter")
	key := m.source.key
	half := len(key) / 2
	w.paste(key[:half] + "\n" + key[half:] + "\n")
	s = w.waitSettled(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len(key)))
	if !wizHas(s, "request id "+id[1]) {
		t.Errorf("the paste submitted something (the earlier error is gone):\n%s", wizFrame(s))
	}
	w.keys("Enter")

	// The EA key for the GA database (asked early): refused, asked again.
	w.waitFor(30*time.Second, wizGAPrompt, wizLater, "paste here, then press Enter")
	w.pasteKey(m.source.key)
	w.waitFor(20*time.Second, "✗", "this is the EA database's key", "Paste again, or another key.")
	w.pasteKey(m.target.key)
	w.waitFor(30*time.Second, wizConfirmEA)
	w.keys("y")
	wizFinish(t, w)

	compareData(t, m.source, m.target)
	noSecretsInFiles(t, m.dir, m.source.key, m.target.key, wrong)
	w.checkSecrets()
}

// wizStoppedInRestore checks the state file after a run stopped or failed
// during the restore's data section: every step before it done, the
// restore not, the data section not done, the dump intact.
func wizStoppedInRestore(t *testing.T, m *migration, want migrate.Status) {
	t.Helper()
	st := m.state()
	for _, step := range migrate.Steps()[:5] {
		if got := st.Step(step).Status; got != migrate.Done {
			t.Errorf("step %s is %q, want done", step, got)
		}
	}
	if got := st.Step(migrate.StepRestore).Status; got != want {
		t.Errorf("the restore step is %q, want %q", got, want)
	}
	if st.Restore == nil || slices.Contains(st.Restore.Sections, "data") {
		t.Errorf("the restore record %+v: want the data section not done (stopped mid-restore)", st.Restore)
	}
	wantDumpIntact(t, m.dir, st)
}

// wizResumeSummary re-runs the wizard in m's folder after an interruption during
// the restore and waits for the start screen's summary of the recorded
// migration.
func wizResumeSummary(t *testing.T, w *wizTerm, m *migration, summary ...string) {
	t.Helper()
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	s := w.waitSettled(30*time.Second, append([]string{"A migration was started in this folder", "Next: restore into the GA database.", wizResume,
		"enter continue • s start over • q quit"}, summary...)...)
	if !wizHas(s, "✓ Dump the EA database") {
		t.Errorf("the resume summary lacks the dump or the choices:\n%s", wizFrame(s))
	}
}

// wizFinishResumed ends a run resumed during the restore: the done screen
// (wizFinish), a screen that showed the restore resumed, the data, and no
// key on a screen or in a file.
func wizFinishResumed(t *testing.T, w *wizTerm, m *migration) {
	t.Helper()
	wizFinish(t, w)
	if !slices.ContainsFunc(w.Screens(), func(s string) bool { return wizHas(s, wizRestoring+" (resumed)") }) {
		t.Errorf("no screen showed the restore as resumed")
	}
	compareData(t, m.source, m.target)
	noSecretsInFiles(t, m.dir, m.source.key, m.target.key)
	w.checkSecrets()
}

// wizOneLinePerStep checks that the resume summary gives each step one
// line: a failed step's error (a tool's, with its last output) does not
// spill over the following lines.
func wizOneLinePerStep(t *testing.T, screen string) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	steps := migrate.Steps()
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, words.FromEA.Step(steps[0])) })
	if i < 0 || i+len(steps) > len(lines) {
		t.Errorf("the resume summary does not list the steps:\n%s", wizFrame(screen))
		return
	}
	for j, st := range steps {
		if !strings.Contains(lines[i+j], words.FromEA.Step(st)) {
			t.Errorf("line %d of the resume summary is %q, want step %q:\n%s", i+j+1, lines[i+j], words.FromEA.Step(st), wizFrame(screen))
			return
		}
	}
}

// wizLogGaps returns the screens whose tool output (the lines under
// label) has a blank line between two lines of output.
func wizLogGaps(screens []string, label string) []string {
	var out []string
	for _, s := range screens {
		lines := strings.Split(s, "\n")
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), label) })
		if i < 0 {
			continue
		}
		for j := i + 2; j < len(lines)-2; j++ {
			if strings.TrimSpace(lines[j]) == "" && strings.HasPrefix(strings.TrimSpace(lines[j+1]), "pg_") {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// wizSlowAtGAKey starts the wizard on a migration of wizResumeSQL through a
// gateway capped at wizSlowRate, and drives it to the GA key prompt.
func wizSlowAtGAKey(t *testing.T) (*migration, *wizTerm) {
	t.Helper()
	m := newMigration(t, withBandwidth(wizSlowRate))
	m.source.exec(wizResumeSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	wizToGAKey(w, m)
	return m, w
}

func TestWizardResumeAfterCtrlC(t *testing.T) {
	m, w := wizSlowAtGAKey(t)
	if gaps := wizLogGaps(w.Screens(), "pg_dump output"); len(gaps) > 0 {
		t.Errorf("%d screens show blank lines in pg_dump's output, such as:\n%s", len(gaps), wizFrame(gaps[0]))
	}
	w.pasteKey(m.target.key)
	w.waitFor(time.Minute, wizRestoring, "▸ data")

	// Ctrl-C asks first; "go on" goes on.
	w.keys("C-c")
	s := w.waitFor(10*time.Second, wizStopAsk, "Progress is saved; run ppg migrate-from-ea again to resume.", "y stop • n/esc go on")
	if !wizHas(s, wizRestoring) {
		t.Errorf("the stop question hides the restore's screen:\n%s", wizFrame(s))
	}
	w.keys("n")
	w.waitUntil(10*time.Second, "the stop question to go, the restore going on", func(s string) bool {
		return !wizHas(s, wizStopAsk) && wizHas(s, wizRestoring, "ctrl+c stop")
	})
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	if code := w.exitStatus(30 * time.Second); code != 130 {
		t.Fatalf("exit status %d after stopping, want 130", code)
	}
	if h := w.history(); !wizHas(h, "ppg: migration stopped; progress is saved.", "Run ppg migrate-from-ea again to resume from “Restore into the GA database”.") {
		t.Errorf("the terminal does not say how to resume:\n%s", wizFrame(h))
	}
	wizStoppedInRestore(t, m, migrate.Pending)
	waitFor(t, 15*time.Second, "the gateway's sessions to end", func() bool { return m.gateway.Stats().Active == 0 })

	wizResumeSummary(t, w, m, "stopped by the user")
	w.keys("Enter")
	wizAnswerKeys(w, m)
	// Ctrl-C again, and no answer while the migration ends: the question
	// goes with the engine, the done screen quits as usual. (The resumed
	// restore may be past its data already: the small tables go in
	// pipelined, and the large one may have finished before the stop.)
	w.waitFor(time.Minute, wizRestoring+" (resumed)")
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.waitUntil(2*time.Minute, "the done screen without the stop question", func(s string) bool {
		return wizHas(s, wizVerified, "q/enter quit") && !wizHas(s, wizStopAsk)
	})
	wizFinishResumed(t, w, m)
}

func TestWizardResumeAfterGatewayDies(t *testing.T) {
	m, w := wizSlowAtGAKey(t)
	w.pasteKey(m.target.key)
	w.waitFor(time.Minute, wizRestoring, "▸ data")
	if n := m.gateway.KillSessions(); n == 0 {
		t.Fatal("the gateway had no session to kill during the restore")
	}
	// The gateway stays down: the tunnel's new connections are refused.
	m.gateway.RefuseNew(503)
	// ppg retries the lost restore on its own (a warning says so); the
	// retries meet the refusing gateway, and the step fails with its
	// answer and a hint that does not blame the key.
	s := w.waitSettled(2*time.Minute, "✗ Restore into the GA database failed", "What to do",
		"HTTP 503", "gateway is unavailable", "q/enter quit")
	if !wizHas(s, "Progress is saved: ppg migrate-from-ea resumes from “Restore into the GA database”.") {
		t.Errorf("the failure screen does not say where a new run resumes:\n%s", wizFrame(s))
	}
	if wizHas(s, "Check the key") {
		t.Errorf("the failure screen blames the key for a gateway that is down:\n%s", wizFrame(s))
	}
	// The retry's warning names the broken link, or the gateway's refusal
	// when that is what the restore met first: the same words as the
	// failure's, whichever path brought it.
	if !slices.ContainsFunc(w.Screens(), func(s string) bool {
		return wizHas(s, "pg_restore output", "warning") &&
			(wizHas(s, "was lost") || wizHas(s, "Prisma's gateway is unavailable (HTTP 503"))
	}) {
		t.Errorf("no screen warned that the restore's connection was lost before the retries")
	}
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code != words.StatusConnect {
		t.Fatalf("exit status %d after a restore whose gateway stayed down, want %d", code, words.StatusConnect)
	}
	if h := w.history(); !wizHas(h, "ppg: Restore into the GA database failed") {
		t.Errorf("the terminal does not keep the failure:\n%s", wizFrame(h))
	}
	wizStoppedInRestore(t, m, migrate.Failed)

	// Re-run while the gateway still refuses: the keys are asked in the
	// order a new migration asks them, the EA key first (the verify step
	// needs it: asked now, so the rest of the run needs no one). Its
	// connection fails with the gateway's answer, and the wizard asks
	// again.
	wizResumeSummary(t, w, m, "failed:")
	wizOneLinePerStep(t, w.Last())
	w.keys("Enter")
	w.waitFor(time.Minute, wizEAPrompt)
	w.pasteKey(m.source.key)
	w.waitFor(20*time.Second, "✗", "HTTP 503", "request id", "Paste again, or another key.")
	m.gateway.RefuseNew(0)
	w.pasteKey(m.source.key)
	// Then the GA key.
	w.waitFor(time.Minute, wizGAPrompt)
	wizAnswerKeys(w, m)
	wizFinishResumed(t, w, m)
}

func TestWizardNoTerminal(t *testing.T) {
	const want = "use --non-interactive"
	t.Run("stdin not a terminal", func(t *testing.T) {
		dir := t.TempDir()
		r := runPPG(t, dir, []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}, "migrate-from-ea")
		r.wantExit(2)
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not point to --non-interactive:\n%s", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout is not empty: %q", r.stdout)
		}
		if files := dirContents(t, dir); len(files) > 0 {
			t.Errorf("files were written: %v", slices.Sorted(maps.Keys(files)))
		}
	})
	t.Run("stdout not a terminal", func(t *testing.T) {
		dir := t.TempDir()
		w := newWizTerm(t)
		w.start(wizRun{Dir: dir, Env: []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}, Redirect: "> ../out.txt"})
		if code := w.exitStatus(10 * time.Second); code != 2 {
			t.Fatalf("exit status %d, want 2", code)
		}
		if s := w.Last(); !wizHas(s, want) {
			t.Errorf("the terminal does not point to --non-interactive:\n%s", wizFrame(s))
		}
		out, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "out.txt"))
		if err != nil || len(out) > 0 {
			t.Errorf("stdout (redirected): %q, %v; want it empty", out, err)
		}
	})
}

// wizColorRE matches SGR escape sequences.
var wizColorRE = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// wizColors returns the SGR sequences of s that set a colour (foreground
// or background: 30–38, 40–48, 90–97, 100–107).
func wizColors(s string) []string {
	var out []string
	for _, m := range wizColorRE.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			var n int
			_, _ = fmt.Sscan(p, &n)
			if n >= 30 && n <= 38 || n >= 40 && n <= 48 || n >= 90 && n <= 97 || n >= 100 && n <= 107 {
				out = append(out, fmt.Sprintf("%q", m[0]))
				break
			}
		}
	}
	return out
}

// wizFits checks a screen captured with joined lines (captureJoined): no
// line is wider than width (a wider one was wrapped by the terminal), the
// title is on the first line and the help bar, holding help, on the last.
func wizFits(t *testing.T, joined string, width, height int, help string) {
	t.Helper()
	lines := strings.Split(joined, "\n")
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > width {
			t.Errorf("line %d is %d cells wide, more than the %d columns (wrapped by the terminal): %q", i+1, n, width, l)
		}
	}
	if len(lines) != height {
		t.Errorf("the screen has %d rows, want %d:\n%s", len(lines), height, wizFrame(joined))
		return
	}
	if !strings.Contains(lines[0], "ppg migrate-from-ea") {
		t.Errorf("the first line is %q, want the title", lines[0])
	}
	if !strings.Contains(lines[height-1], help) {
		t.Errorf("the last line is %q, want the help bar (%q)", lines[height-1], help)
	}
}

func TestWizardResizeAndNoColor(t *testing.T) {
	// No database is needed: the start screen checks the tools, the key
	// prompt waits for a key.
	env := []string{"PPG_WS_URL=ws://127.0.0.1:1/websocket", "PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}
	ready := []string{wizBegin, "found pg_restore", "enter begin • q quit"}

	// The start screen as a fresh run draws it at 80x24.
	ref := newWizTerm(t)
	ref.start(wizRun{Dir: t.TempDir(), Env: env})
	want := ref.waitSettled(30*time.Second, ready...)

	w := newWizTerm(t)
	w.start(wizRun{Dir: t.TempDir(), Env: env, Width: 120, Height: 40})
	big := w.waitSettled(30*time.Second, ready...)
	if n := ansi.StringWidth(strings.SplitN(big, "\n", 2)[0]); n <= 80 {
		t.Errorf("at 120 columns the header (title … version) is %d cells wide: not laid out for the window", n)
	}
	wizFits(t, w.captureJoined(), 120, 40, "enter begin")
	colored := wizColors(w.captureColors())
	if len(colored) == 0 {
		t.Fatal("the start screen shows no colour without NO_COLOR: the colour check below would prove nothing")
	}

	// Shrink the window: the screen is drawn again for 80x24, the same as
	// a run started at that size.
	w.resize(80, 24)
	w.waitUntil(10*time.Second, "the start screen drawn again at 80x24 as a fresh run draws it:\n"+wizFrame(want),
		func(s string) bool { return s == want })
	wizFits(t, w.captureJoined(), 80, 24, "enter begin • q quit")

	// The key prompt, shrunk further.
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt, "enter connect")
	w.resize(60, 20)
	w.waitUntil(10*time.Second, "the key prompt drawn again at 60x20", func(s string) bool {
		lines := strings.Split(s, "\n")
		return len(lines) == 20 && strings.Contains(lines[19], "enter connect") && wizHas(s, wizEAPrompt)
	})
	wizFits(t, w.captureJoined(), 60, 20, "enter connect")
	w.keys("C-c")
	w.waitSettled(10*time.Second, wizStopAsk, "y stop • n/esc go on")
	wizFits(t, w.captureJoined(), 60, 20, "y stop • n/esc go on")
	w.keys("y")
	if code := w.exitStatus(10 * time.Second); code != 130 {
		t.Errorf("exit status %d after ctrl+c at the key prompt, want 130", code)
	}

	// NO_COLOR: the same screens, without a colour.
	w.start(wizRun{Dir: t.TempDir(), Env: append(env, "NO_COLOR=1")})
	plain := w.waitSettled(30*time.Second, ready...)
	if plain != want {
		t.Errorf("with NO_COLOR the start screen's text differs:\n%s\nwant:\n%s", wizFrame(plain), wizFrame(want))
	}
	if c := wizColors(w.captureColors()); len(c) > 0 {
		t.Errorf("with NO_COLOR=1 the start screen has colour sequences: %v", firstN(c, 10))
	}
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt)
	w.paste("hello world")
	w.keys("Enter")
	w.waitSettled(10*time.Second, "✗ the value has a space", "Paste again, or another key.")
	if c := wizColors(w.captureColors()); len(c) > 0 {
		t.Errorf("with NO_COLOR=1 the key prompt (with an error) has colour sequences: %v", firstN(c, 10))
	}
}

// wizShot is one screenshot of docs/screens.md.
type wizShot struct {
	name, title, about, screen string
}

// TestWizardScreenshots drives the real binary through every screen of
// the wizard at 80x24 and writes each screen to docs/screens/NN-name.txt,
// and docs/screens.md that shows them all. It runs only with
// PPG_SCREENSHOTS=1:
//
//	PPG_SCREENSHOTS=1 go test -tags e2e -count=1 -run TestWizardScreenshots ./e2e/
func TestWizardScreenshots(t *testing.T) {
	if os.Getenv("PPG_SCREENSHOTS") != "1" {
		t.Skip("writes docs/screens.md and docs/screens/: run with PPG_SCREENSHOTS=1")
	}
	m := newMigration(t, withBandwidth(wizSlowRate))
	m.source.exec(wizShotSQL)
	wrong := sandbox.NewKey("wrong")
	// Working folders with a plausible path: the done screen shows it.
	newDir := func() string {
		dir, err := os.MkdirTemp("", "my-app-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		return dir
	}
	dir := newDir()
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key, wrong)
	shots := map[string]wizShot{}
	shoot := func(name, title, about, screen string) {
		shots[name] = wizShot{name: name, title: title, about: about, screen: screen}
	}
	tables := regexp.MustCompile(`Tables (\d+) of (\d+)`)
	midway := func(s string) bool {
		m := tables.FindStringSubmatch(s)
		return m != nil && m[1] != "0" && m[1] != m[2]
	}

	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	shoot("01-start", "Start", "A fresh folder: what will happen, and the tools found.",
		w.waitSettled(30*time.Second, wizBegin, "found pg_restore", "enter begin • q quit"))
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt, "paste here, then press Enter")
	w.paste(m.source.key)
	shoot("02-key-pasted", "The EA key, pasted", "The key is never drawn: only its length.",
		w.waitSettled(10*time.Second, fmt.Sprintf("(%d characters)", len(m.source.key)), "enter connect • ctrl+u clear"))
	w.keys("C-u")
	w.pasteKey(wrong)
	shoot("03-key-error", "A refused key", "The gateway's answer, with its request id; the prompt asks again.",
		w.waitSettled(20*time.Second, "HTTP 401", "Paste again, or another key.", "enter connect • ctrl+u clear"))
	w.pasteKey(m.source.key)
	shoot("03b-ga-key-early", "The GA key, asked early", "With both databases known, the plan is checked before the dump; ctrl+l leaves the GA key for after the dump.",
		w.waitSettled(30*time.Second, wizGAPrompt, wizLater))
	w.keys("C-l")
	shoot("04-source-summary", "The source", "What will be dumped, before anything is.",
		w.waitSettled(30*time.Second, wizConfirmEA, "y/enter dump it"))
	w.keys("y")
	shoot("05-dump-progress", "Dump", "pg_dump's progress, weighted by the tables' sizes, and its output.",
		w.waitSettledUntil(time.Minute, "the dump mid-way", func(s string) bool {
			return wizHas(s, "Dumping the EA database", "end follow • w warnings") && midway(s)
		}))
	shoot("06-ga-key", "The GA key", "Asked once the dump is written and checked.",
		w.waitSettled(2*time.Minute, wizGAPrompt, "paste here, then press Enter", "enter connect • ctrl+u clear"))
	w.pasteKey(m.target.key)
	shoot("07-restore-progress", "Restore", "pg_restore by section: schema, data, indexes and constraints.",
		w.waitSettledUntil(time.Minute, "the restore's data mid-way", func(s string) bool {
			return wizHas(s, wizRestoring, "▸ data", "end follow • ctrl+c stop") && !wizHas(s, "· 0 B of")
		}))
	w.keys("C-c")
	shoot("08-ctrl-c", "Ctrl-C", "Stopping asks first; the progress is saved either way.",
		w.waitSettled(10*time.Second, wizStopAsk, "y stop • n/esc go on"))
	w.keys("n")
	w.waitUntil(10*time.Second, "the stop question to go", func(s string) bool { return !wizHas(s, wizStopAsk) })
	m.gateway.KillSessions()
	m.gateway.RefuseNew(503)
	shoot("09-failure", "A failure", "The gateway died during the restore and refused the automatic retries: what failed, and what to do.",
		w.waitSettled(time.Minute, "Restore into the GA database failed", "What to do", "q/enter quit"))
	m.gateway.RefuseNew(0)
	w.keys("q")
	w.exitStatus(20 * time.Second)

	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	shoot("10-start-resume", "Resume", "The same command in the same folder: where the migration stands.",
		w.waitSettled(30*time.Second, wizResume, "Next: restore into the GA database.", "enter continue • s start over"))
	w.keys("Enter")
	wizAnswerKeys(w, m)
	shoot("11-done", "Done", "Verified: every table's rows, the sequences and the objects match.",
		w.waitSettled(2*time.Minute, wizVerified, "q/enter quit"))
	w.keys("q")
	w.exitStatus(20 * time.Second)

	// A second migration into the GA database, which is not empty now.
	w.start(wizRun{Dir: newDir(), Env: m.toolEnv()})
	wizToGAKey(w, m)
	w.pasteKey(m.target.key)
	shoot("12-non-empty-target", "A GA database that is not empty", "Restoring into it takes typing yes; Esc refuses.",
		w.waitSettled(30*time.Second, "Type yes and press Enter", "esc refuse"))
	// Esc refuses this database and asks for another key; Ctrl-C then
	// stops.
	w.keys("Escape")
	w.waitFor(20*time.Second, wizGAPrompt, "paste here, then press Enter")
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	w.exitStatus(20 * time.Second)

	w.checkSecrets()
	if t.Failed() {
		t.Fatal("not writing the screenshots")
	}
	names := slices.Sorted(maps.Keys(shots))
	if len(names) != 13 {
		t.Fatalf("%d screenshots, want 13: %v", len(names), names)
	}
	docs := filepath.Join("..", "docs")
	if err := os.MkdirAll(filepath.Join(docs, "screens"), 0o755); err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	md.WriteString(`# The wizard's screens

What ` + "`ppg migrate-from-ea`" + ` shows in an 80x24 terminal, captured from the real
binary (tmux) migrating a PostgreSQL 16 database to a PostgreSQL 17 one
through the gateway emulator, its bandwidth capped so that the dump and the
restore are caught mid-way. Times, sizes, paths and request ids are those of
the run that made them.

Generated by ` + "`TestWizardScreenshots`" + ` (e2e/wizard_test.go); do not edit by hand.
To regenerate this page and the files in ` + "`screens/`" + `, from the repository's root:

` + "```sh" + `
. "$(bash e2e/toolchain.sh)"
PPG_SCREENSHOTS=1 go test -tags e2e -count=1 -run TestWizardScreenshots ./e2e/
` + "```" + `

The test fails, and writes nothing, if a key shows on any screen it captured.
`)
	for _, name := range names {
		sh := shots[name]
		if err := os.WriteFile(filepath.Join(docs, "screens", name+".txt"), []byte(sh.screen+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&md, "\n## %s\n\n%s ([screens/%s.txt](screens/%s.txt))\n\n```text\n%s\n```\n", sh.title, sh.about, name, name, sh.screen)
	}
	if err := os.WriteFile(filepath.Join(docs, "screens.md"), []byte(md.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and %d screens", filepath.Join(docs, "screens.md"), len(names))
}

// BenchmarkWizardCPU runs the real wizard in tmux on an EA database of
// 5,000 tables (pg_dump prints thousands of verbose lines, each an event
// and a screen update) and measures, over the dump step, ppg's CPU time
// (the tunnel carrying pg_dump's traffic, the parsing and the drawing),
// pg_dump's own for comparison, the dump's wall time, and how fast the
// screen answers a key meanwhile: ↑ scrolls the log ("scrolled" shows),
// End follows it again; the median over several presses.
//
//	go test -tags e2e -run '^$' -bench WizardCPU -benchtime 1x ./e2e/
func BenchmarkWizardCPU(b *testing.B) {
	const tables = 5000
	m := newMigration(b)
	start := time.Now()
	m.source.exec(manyForeignKeysSQL(tables)...)
	b.Logf("source of %d tables built in %v", tables, time.Since(start).Round(time.Second))
	b.ResetTimer()
	for range b.N {
		m.dir = b.TempDir()
		w := newWizTerm(b)
		w.secret(m.source.key, m.target.key)
		w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
		w.waitFor(30*time.Second, wizBegin, "found pg_restore")
		w.keys("Enter")
		w.pasteKey(m.source.key)
		w.waitFor(2*time.Minute, wizConfirmEA)
		ppg := w.ppgPID()

		// Sample ppg and pg_dump every 20 ms: pg_dump's CPU is its
		// last sample before it exits.
		type sample struct {
			at       time.Time
			ppg      time.Duration
			dump     time.Duration
			dumpSeen bool
		}
		samples := make(chan []sample, 1)
		stop := make(chan struct{})
		go func() {
			var out []sample
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			dumpPID := 0
			for {
				s := sample{at: time.Now()}
				if p, ok := readProc(ppg); ok {
					s.ppg = p.cpu()
				}
				if dumpPID == 0 {
					dumpPID = childOf(ppg, "pg_dump")
				}
				if p, ok := readProc(dumpPID); dumpPID != 0 && ok && p.comm == "pg_dump" {
					s.dump, s.dumpSeen = p.cpu(), true
				}
				out = append(out, s)
				select {
				case <-stop:
					samples <- out
					return
				case <-tick.C:
				}
			}
		}()

		before, _ := readProc(ppg)
		w.keys("y")
		w.waitUntil(time.Minute, "pg_dump's output", func(s string) bool {
			return wizHas(s, "Dumping the EA database", "pg_dump: dumping contents of table")
		})

		// Key latency: ↑ then End, alternately, while pg_dump streams.
		var lat []time.Duration
		inDump := func(s string) bool { return wizHas(s, "Dumping the EA database") && !wizHas(s, "Dump written") }
		for i := 0; i < 20 && inDump(w.capture()); i++ {
			key, want := "Up", true
			if i%2 == 1 {
				key, want = "End", false
			}
			t0 := time.Now()
			w.keys(key)
			ok := false
			for time.Since(t0) < 5*time.Second {
				s := w.capture()
				if wizHas(s, "(scrolled; end follows)") == want {
					lat = append(lat, time.Since(t0))
					ok = true
					break
				}
				if !inDump(s) {
					break
				}
				time.Sleep(5 * time.Millisecond) // leave the CPU to ppg
			}
			if !ok {
				break
			}
		}
		w.waitFor(10*time.Minute, "Dump written")
		after, _ := readProc(ppg)
		close(stop)
		ss := <-samples

		st := m.state()
		rec := st.Step(migrate.StepDump)
		wall := rec.FinishedAt.Sub(rec.StartedAt)
		var dumpCPU time.Duration
		for _, s := range ss {
			if s.dumpSeen {
				dumpCPU = s.dump
			}
		}
		ppgCPU := after.cpu() - before.cpu()
		if len(lat) < 4 {
			b.Fatalf("only %d key presses measured during the dump (%v): too short a dump", len(lat), wall)
		}
		b.ReportMetric(ppgCPU.Seconds(), "ppg_cpu_s")
		b.ReportMetric(dumpCPU.Seconds(), "pg_dump_cpu_s")
		b.ReportMetric(wall.Seconds(), "dump_wall_s")
		b.ReportMetric(100*ppgCPU.Seconds()/wall.Seconds(), "ppg_cpu_pct_of_wall")
		b.ReportMetric(float64(median(lat).Microseconds())/1000, "key_latency_ms")
		slices.Sort(lat)
		b.Logf("dump of %d tables: wall %.1f s; CPU: ppg %.2f s (%.0f%% of the wall), pg_dump %.2f s; key to screen over %d presses: median %v, max %v",
			tables, wall.Seconds(), ppgCPU.Seconds(), 100*ppgCPU.Seconds()/wall.Seconds(), dumpCPU.Seconds(), len(lat),
			median(lat).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))

		w.keys("C-c")
		w.waitFor(10*time.Second, wizStopAsk)
		w.keys("y")
		w.exitStatus(time.Minute)
		w.checkSecrets()

		// The same dump headless, for what the wizard itself costs.
		hl := wizHeadlessDumpCPU(b, m)
		b.ReportMetric(hl.Seconds(), "headless_ppg_cpu_s")
		b.Logf("headless (--non-interactive --json), same dump: ppg CPU %.2f s", hl.Seconds())
	}
}

// wizHeadlessDumpCPU runs ppg migrate-from-ea --non-interactive --json on
// m until its dump step has finished, and returns ppg's CPU time from the
// dump's start to its end.
func wizHeadlessDumpCPU(b *testing.B, m *migration) time.Duration {
	b.Helper()
	p := m.ppg(inDir(b.TempDir())).start("--non-interactive", "--json")
	p.waitFor(stepStarted("dump"))
	from, _ := readProc(p.pid())
	p.waitFor(stepFinished("dump"))
	to, ok := readProc(p.pid())
	if !ok {
		b.Fatal("ppg ended as its dump finished")
	}
	p.signalPPG(syscall.SIGINT)
	p.wait()
	return to.cpu() - from.cpu()
}
