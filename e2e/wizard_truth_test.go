//go:build e2e

package e2e

// The wizard says only what is true (issue 16), in a real terminal: at
// 60x15 every screen fits, with its input and its way to scroll; Ctrl-C at
// a key prompt of a fresh run says that nothing was saved, and nothing is;
// swapped keys name the plan, not the connection, and ask whether they were
// swapped.
//
//	go test -tags e2e -count=1 -run 'TestWizardSmallTerminal|TestWizardStopAtKeyPromptSavesNothing|TestWizardSwappedKeysNamesThePlan' ./e2e/

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWizardSmallTerminal(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv(), Width: 60, Height: 15})

	// The intro's heading and its three parts, whole.
	s := w.waitSettled(30*time.Second, wizBegin, "found pg_dump 17", "pg_restore 17")
	for _, want := range []string{"Move your Early Access database to a new General Availability database",
		"1. Dump: copy the EA database", "2. Restore: load the file", "3. Verify: compare the rows"} {
		if !wizHas(s, want) {
			t.Errorf("the start screen at 60x15 does not show %q whole:\n%s", want, wizFrame(s))
		}
	}
	wizFits(t, w.captureJoined(), 60, 15, "enter begin")

	// The GA key's input stays on screen, before and after the paste.
	w.keys("Enter")
	w.pasteKey(m.source.key)
	s = w.waitSettled(30*time.Second, wizLater, "paste here, then press Enter")
	if !wizHas(s, "Connect to the GA database") || wizHas(s, "Connect to the EA database") {
		t.Errorf("the header of the GA key prompt does not name the GA database:\n%s", wizFrame(s))
	}
	wizFits(t, w.captureJoined(), 60, 15, "enter connect")
	w.paste(m.target.key)
	w.waitSettled(10*time.Second, "•••••••• (", "characters)")
	wizFits(t, w.captureJoined(), 60, 15, "enter connect")
	w.keys("Enter")

	// The plan does not fit: it says that it scrolls, and scrolls to its
	// last words.
	s = w.waitSettled(30*time.Second, wizConfirmEA, "↑/↓ to scroll, more below")
	wizFits(t, w.captureJoined(), 60, 15, "y/enter dump it")
	seen := s
	for range 10 {
		if wizHas(s, "more above") && !wizHas(s, "below") {
			break
		}
		before := s
		w.keys("PageDown")
		s = w.waitSettledUntil(10*time.Second, "the plan to scroll", func(s string) bool { return s != before })
		seen += "\n" + s
		wizFits(t, w.captureJoined(), 60, 15, "y/enter dump it")
	}
	for _, want := range []string{"the GA database is empty", "Stop your application's writes to it until the migration is done"} {
		if !wizHas(seen, want) {
			t.Errorf("scrolling the plan at 60x15 never showed %q:\n%s", want, wizFrame(s))
		}
	}
	w.keys("n")
	w.waitSettled(20*time.Second, "Stopped at your request", "q/enter quit")
	wizFits(t, w.captureJoined(), 60, 15, "q/enter quit")
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code == 0 {
		t.Errorf("exit status 0 after declining the source")
	}
	wizNoFiles(t, m.dir, "the source was declined")
	w.checkSecrets()
}

// TestWizardStopAtKeyPromptSavesNothing: Ctrl-C at the EA key prompt, then
// at the GA key prompt, of a fresh run: the question, the screen left in
// the terminal and the folder all say that nothing was saved.
func TestWizardStopAtKeyPromptSavesNothing(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	for _, at := range []string{"EA", "GA"} {
		dir := t.TempDir()
		w.start(wizRun{Dir: dir, Env: m.toolEnv()})
		w.waitFor(30*time.Second, wizBegin, "found pg_restore")
		w.keys("Enter")
		w.waitFor(10*time.Second, wizEAPrompt, "paste here, then press Enter")
		if at == "GA" {
			w.pasteKey(m.source.key)
			w.waitFor(30*time.Second, wizGAPrompt, wizLater, "paste here, then press Enter")
		}
		w.keys("C-c")
		s := w.waitSettled(10*time.Second, wizStopAsk, "Nothing is saved yet", "starts again from the beginning", "y stop")
		if wizHas(s, "Progress is saved") || wizHas(s, "resume") {
			t.Errorf("at the %s key prompt of a fresh run, the stop question claims progress:\n%s", at, wizFrame(s))
		}
		w.keys("y")
		if code := w.exitStatus(20 * time.Second); code != 130 {
			t.Errorf("exit status %d after stopping at the %s key prompt, want 130", code, at)
		}
		h := w.history()
		i := strings.LastIndex(h, "ppg: migration stopped")
		if i < 0 {
			t.Fatalf("the terminal keeps no summary of the stop:\n%s", wizFrame(h))
		}
		after := h[i:]
		if !wizHas(after, "ppg: migration stopped; nothing was saved yet.", "Run ppg migrate-from-ea again to start from the beginning.") ||
			wizHas(after, "resume") || wizHas(after, "progress is saved") {
			t.Errorf("after a stop at the %s key prompt the terminal says:\n%s", at, wizFrame(after))
		}
		if files := dirContents(t, dir); len(files) > 0 {
			t.Errorf("after a stop at the %s key prompt the folder holds %v, want nothing", at, slices.Sorted(maps.Keys(files)))
		}
	}
	w.checkSecrets()
}

// TestWizardSwappedKeysNamesThePlan: the GA key pasted as the EA key and
// the EA key as the GA key connect fine; the plan refuses (the GA side is
// older), and the screen names the plan and asks whether the keys were
// swapped, as headless --dry-run does.
func TestWizardSwappedKeysNamesThePlan(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	dir := t.TempDir()
	w.start(wizRun{Dir: dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin, "found pg_restore")
	w.keys("Enter")
	w.pasteKey(m.target.key)
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.pasteKey(m.source.key)
	s := w.waitSettled(30*time.Second, "✗ The plan blocks the migration", "q/enter quit")
	for _, want := range []string{"the GA database is older", "the EA database holds no tables: is this the GA database's key?", "Nothing was saved yet"} {
		if !wizHas(s, want) {
			t.Errorf("the failure screen of swapped keys does not say %q:\n%s", want, wizFrame(s))
		}
	}
	if wizHas(s, "Connect to the EA database failed") {
		t.Errorf("the failure screen blames the connection, which worked:\n%s", wizFrame(s))
	}
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code == 0 {
		t.Error("exit status 0 after the plan refused")
	}
	if h := w.history(); !wizHas(h, "ppg: The plan blocks the migration", "is this the GA database's key?") {
		t.Errorf("the terminal does not keep what the plan said:\n%s", wizFrame(h))
	}
	wizNoFiles(t, dir, "the plan refused")
	w.checkSecrets()
}
