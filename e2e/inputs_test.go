//go:build e2e

package e2e

// Issue 12 asks that every input of its "What was seen" list have a test,
// in goldens or end to end, that shows the new answer. Where each is:
//
//	input (what was seen)                            the test that shows the answer
//	------------------------------------------------ -------------------------------------------------------------
//	multi-line .env paste                            tui TestKeyInputTakesTheKeyLineOfAnEnvPaste (the line taken),
//	                                                 tunnel TestParseKey (NAME="value"), TestWizardInputs (real
//	                                                 terminal: the .env paste connects)
//	200,000-character paste                          tui TestKeyInputRefusesAHugePaste; TestWizardInputs ("Nothing
//	                                                 was sent", and the gateway saw no request)
//	GA key pasted as the EA key (PG 17, no tables)   migrate TestPlanAsksWhetherTheKeysWereSwapped, tui golden
//	                                                 TestGoldenSourceLooksLikeTarget, TestWizardInputs (the real
//	                                                 GA database: "is this the GA database's key?"); both keys
//	                                                 swapped: tui golden TestGoldenPlanBlocksSwappedKeys,
//	                                                 TestWizardSwappedKeysNamesThePlan (issue 16)
//	EA key pasted as the GA key                      TestWizardWrongKeyThenRightKey, migrate TestTargetKeyRules
//	EA postgres:// URL pasted as the GA key          TestWizardInputs (refused, asked again; the wizard goes on)
//	Esc on the "not empty" dialog                    TestWizardInputs (another key is asked), tui
//	                                                 TestNonEmptyTargetNeedsYes
//	resuming at verify: the GA prompt's words        tui golden TestGoldenKeyGAResumedAtVerify ("paste the same key")
//	wrong password in a direct URL                   TestMigrateComplexDatabase/wrong_GA_password (headless),
//	                                                 words TestExplainNamesThePartThatFailed, cli TestExitStatuses
//	"1 rows were inserted"                           cli TestReporterPlain/TestReporterJSON ("1 row was inserted")
//	only pg_dump 15: a tick taken back, advice twice TestWizardInputs/pg_dump_15 (start screen: "found pg_dump 15",
//	                                                 no tick; the advice once on screen and once after quitting;
//	                                                 "Check pg_dump and pg_restore failed", issue 16),
//	                                                 TestMigrateToolsMissingOrTooOld (headless), cli
//	                                                 TestExitPrintsOnce, tui golden TestGoldenStartFresh
//	resume screen keeps the tools' tick              tui golden TestGoldenStartResume ("checked again when you
//	                                                 continue")
//	ppg-migration.lock stays behind                  TestWizardInputs (gone after the done screen, after a quit
//	                                                 and after a declined source)
//	quit at the start screen leaves the state file   TestWizardInputs (q: the folder stays empty), migrate
//	                                                 TestNoStateFileBeforeTheSourceIsConfirmed
//	start over: two look-alike dumps                 TestResumeRestartOption (a new, dated name; the old dump
//	                                                 kept), tui golden TestGoldenStartOldDumps (listed, sizes)
//	three sizes that disagree                        tui golden TestGoldenSourceSummary ("on disk"), TestGoldenDumpProgress
//	                                                 ("of table data"), TestGoldenDone (the dump's size)
//	a 45 s lock wait at "Connecting…" says nothing   TestMigrateSaysWhenALockHoldsItUp (after 5 s: still waiting,
//	                                                 perhaps for a lock another session holds; then it goes on)
//	backup/restore speak of EA and GA                cli TestExitStatuses (no flow but FromEA names
//	                                                 migrate-from-ea), TestBackupAndRestore ("Verify the database")
//	the Done screen at 60x15                         tui TestDoneScrollsAtAnySize; TestWizardInputs (real terminal:
//	                                                 scrolled to the DATABASE_URL guidance)
//	headless prints less than / other than wizard    TestWizardBigTableDumpProgress (bytes, MB/s, time left in
//	                                                 both), cli TestReporterPlain
//	ppg tunnel and sslmode=require                   TestSSLModesThroughTunnel, TestSSLModesThroughTunnelWithoutLocalTLS
//
//	go test -tags e2e -count=1 -run TestWizardInputs ./e2e/

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// wizNoFiles fails the test if dir holds any file (the lock, the state
// file, a dump).
func wizNoFiles(t *testing.T, dir, after string) {
	t.Helper()
	if files := dirContents(t, dir); len(files) > 0 {
		t.Errorf("after %s the folder holds %v, want nothing", after, slices.Sorted(maps.Keys(files)))
	}
}

func TestWizardInputs(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key, m.source.server.Password, m.target.server.Password)

	// q on the start screen: nothing was changed, and nothing is left.
	quitDir := t.TempDir()
	w.start(wizRun{Dir: quitDir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin, "found pg_restore")
	w.keys("q")
	w.exitStatus(20 * time.Second)
	wizNoFiles(t, quitDir, "q on the start screen")

	// A paste of 200,000 characters is refused before anything is sent;
	// then the GA database's key for the EA database: the source question
	// asks whether it is the GA key. Declining leaves nothing behind.
	dir := t.TempDir()
	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin)
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt, "paste here, then press Enter")
	sessions := strings.Count(m.gatewayLog(), "\n")
	w.paste(strings.Repeat("k", 200_000))
	w.waitFor(30*time.Second, "That was 200000 characters", "Nothing was sent", "paste here, then press Enter")
	w.keys("Enter")
	w.waitFor(5*time.Second, "Paste a key first.")
	if n := strings.Count(m.gatewayLog(), "\n"); n != sessions {
		t.Errorf("the gateway logged %d lines after the huge paste: something was sent:\n%s", n-sessions, lastLines(m.gatewayLog(), n-sessions))
	}
	w.pasteKey(m.target.key)
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.keys("C-l")
	s := w.waitSettled(30*time.Second, wizConfirmEA, "PostgreSQL 17.", "0 tables")
	if !wizHas(s, "the EA database holds no tables: is this the GA database's key?") {
		t.Errorf("the source question for the GA database does not ask whether it is the GA key:\n%s", wizFrame(s))
	}
	w.keys("n")
	w.waitFor(20*time.Second, "Stopped at your request", "nothing was changed", "q/enter quit")
	w.keys("q")
	w.exitStatus(20 * time.Second)
	wizNoFiles(t, dir, "the source was declined")

	// The key line of a multi-line .env paste; the EA database's own
	// postgres:// URL for the GA database is refused and asked again; the
	// migration then runs to the done screen, which scrolls at 60x15.
	dir = t.TempDir()
	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin)
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt, "paste here, then press Enter")
	w.paste("# .env of my app\nDIRECT_URL=\"postgres://app@db.example.com:5432/app\"\n" +
		"DATABASE_URL=\"prisma+postgres://accelerate.prisma-data.net/?api_key=" + m.source.key + "\"\nSHADOW=1\n")
	w.waitFor(10*time.Second, "characters)")
	w.keys("Enter")
	w.waitFor(30*time.Second, wizGAPrompt, wizLater, "paste here, then press Enter")
	w.pasteKey(m.source.url)
	s = w.waitSettled(30*time.Second, "✗", "it is the EA database itself", "Paste again, or another key.", "paste here, then press Enter")
	if !wizHas(s, wizGAPrompt) {
		t.Errorf("the refused URL did not ask for the GA key again:\n%s", wizFrame(s))
	}
	w.pasteKey(m.target.key)
	w.waitFor(30*time.Second, wizConfirmEA)
	w.keys("y")
	w.waitSettled(2*time.Minute, wizVerified, "q/enter quit")
	w.resize(60, 15)
	seen := w.waitSettled(10*time.Second, wizVerified)
	wizFits(t, w.captureJoined(), 60, 15, "quit")
	for range 12 {
		w.keys("PageDown")
		time.Sleep(100 * time.Millisecond)
		seen += "\n" + w.capture()
	}
	for _, want := range []string{"shop.orders", migrate.VerifyFileName, "DATABASE_URL"} {
		if !wizHas(seen, want) {
			t.Errorf("scrolling the done screen at 60x15 never showed %q", want)
		}
	}
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code != 0 {
		t.Errorf("exit status %d after the done screen, want 0", code)
	}
	files := dirContents(t, dir)
	if files["ppg-migration.lock"] != nil {
		t.Error("ppg-migration.lock is left after the migration")
	}
	if files[migrate.VerifyFileName] == nil || files[migrate.StateFileName] == nil {
		t.Errorf("after the migration the folder holds %v, want the state file and %s", slices.Sorted(maps.Keys(files)), migrate.VerifyFileName)
	}
	compareData(t, m.source, m.target)

	// A second migration into the GA database, not empty now: Esc on the
	// question refuses it and asks for another key; the wizard goes on.
	dir = t.TempDir()
	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	wizToGAKey(w, m)
	w.pasteKey(m.target.key)
	w.waitSettled(30*time.Second, "Type yes and press Enter", "esc refuse")
	w.keys("Escape")
	s = w.waitSettled(20*time.Second, wizGAPrompt, "Paste again, or another key.", "paste here, then press Enter")
	if !wizHas(s, "not empty") {
		t.Errorf("the prompt after Esc does not say why the database was refused:\n%s", wizFrame(s))
	}
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	if code := w.exitStatus(20 * time.Second); code != 130 {
		t.Errorf("exit status %d after stopping at the GA prompt, want 130", code)
	}
	if fileExists(dir + "/ppg-migration.lock") {
		t.Error("ppg-migration.lock is left after stopping")
	}
	noSecretsInFiles(t, dir, m.source.key, m.target.key)
	w.checkSecrets()

	t.Run("pg_dump 15", func(t *testing.T) {
		pg15 := "/usr/lib/postgresql/15/bin"
		if !fileExists(pg15 + "/pg_dump") {
			t.Skipf("missing prerequisite: %s/pg_dump (Debian's postgresql-client-15)", pg15)
		}
		dir := t.TempDir()
		w := newWizTerm(t)
		w.secret(m.source.key)
		w.start(wizRun{Dir: dir, Env: []string{"PPG_WS_URL=" + m.wsURL, "PPG_PG_BIN=" + pg15}})
		s := w.waitSettled(30*time.Second, wizBegin, "found pg_dump 15.")
		if wizHas(s, "✓ pg_dump") || strings.Contains(s, "✓") {
			t.Errorf("the start screen ticks the tools before the server's version is known:\n%s", wizFrame(s))
		}
		w.keys("Enter")
		w.pasteKey(m.source.key)
		s = w.waitSettled(30*time.Second, "pg_dump 16 or newer", "q/enter quit")
		if !wizHas(s, "✗ Check pg_dump and pg_restore failed") || wizHas(s, "Connect to the EA database failed") {
			t.Errorf("the failure screen does not name the tools check as what failed:\n%s", wizFrame(s))
		}
		if n := strings.Count(wizFlat(s), "apt install"); n != 1 {
			t.Errorf("the failure screen gives the install advice %d times, want once:\n%s", n, wizFrame(s))
		}
		w.keys("q")
		w.exitStatus(20 * time.Second)
		h := w.history()
		i := strings.LastIndex(h, "ppg:")
		if i < 0 {
			t.Fatalf("the terminal keeps no summary after quitting:\n%s", wizFrame(h))
		}
		after := h[i:]
		if n := strings.Count(wizFlat(after), "apt install"); n != 1 {
			t.Errorf("after quitting the terminal gives the install advice %d times, want once:\n%s", n, wizFrame(after))
		}
		if fileExists(dir + "/ppg-migration.lock") {
			t.Error("ppg-migration.lock is left after the failure")
		}
	})
}

// TestMigrateSaysWhenALockHoldsItUp: another session holds an ACCESS
// EXCLUSIVE lock on a source table (a long migration there, say), so
// ppg's first checks of the source wait. After a few seconds ppg says it
// is still waiting and why that can be; once the lock is released the
// migration goes on and verifies.
func TestMigrateSaysWhenALockHoldsItUp(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	ctx := context.Background()
	holder := m.source.connect()
	defer func() { _ = holder.Close(ctx) }()
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE shop.orders IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := m.start("--non-interactive", "--json")
	ev := p.waitFor(eventWhere("a slow_connect notice", func(ev event) bool {
		return ev.Notice != nil && ev.Notice.Code == migrate.NoticeSlowConnect
	}))
	waited := ev.Arrived.Sub(start)
	if ev.Step != "connect-source" || ev.Notice.Side != migrate.Source {
		t.Errorf("the notice is about step %s, side %v; want connect-source, the source", ev.Step, ev.Notice.Side)
	}
	for _, want := range []string{"still waiting for the EA database", "lock", "Ctrl-C"} {
		if !strings.Contains(ev.Text, want) {
			t.Errorf("the notice %q does not say %q", ev.Text, want)
		}
	}
	if waited > 15*time.Second {
		t.Errorf("the notice came %v after the start", waited)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	r := p.wait()
	r.wantExit(0)
	r.wantVerified()
	compareData(t, m.source, m.target)
	t.Logf("the notice came after %v", waited.Round(100*time.Millisecond))
}
