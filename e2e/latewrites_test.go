//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/words"
)

// TestMigrateWritesAfterTheDump: a headless run stops after the dump (the
// GA key is not there yet); rows are then written to the source; the same
// command with both keys must not report "verified": it exits with the
// documented status and names the changed table. --on-source-change=redump
// then dumps again and ends verified, with the new rows in the target.
func TestMigrateWritesAfterTheDump(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)

	r := m.ppg(toTarget("")).run("--non-interactive", "--json")
	if r.code == 0 {
		t.Fatalf("a run without the GA key succeeded:\n%s", r.show())
	}
	if !r.has(stepFinished("dump")) {
		t.Fatalf("the run without the GA key did not finish the dump:\n%s", r.show())
	}
	dumped := m.state().Dump.SHA256

	m.source.exec(`INSERT INTO public.customers (name) SELECT 'late ' || g FROM generate_series(1, 7) g`)

	r = m.run("--non-interactive", "--json")
	r.wantExit(words.StatusChanged)
	if !r.has(warningOf("verify").saying("public.customers")) {
		t.Errorf("no warning names the changed table:\n%s", describe(r.events))
	}
	if r.has(stepFinished("verify")) {
		t.Errorf("the verify step finished although the source changed after the dump:\n%s", describe(r.events))
	}
	if !r.has(stepFailed("verify").saying("written to after the dump", "public.customers")) {
		t.Errorf("the verify step's failure does not name the change:\n%s", describe(r.events))
	}
	if !strings.Contains(r.stderr, "--on-source-change=redump") {
		t.Errorf("stderr does not name the way on:\n%s", r.stderr)
	}
	if n := m.target.number("SELECT count(*) FROM public.customers"); n != 500 {
		t.Errorf("the target's customers: %d rows, want the dump's 500", n)
	}

	r = m.run("--non-interactive", "--json", "--on-source-change=redump")
	r.wantExit(0)
	r.wantVerified()
	if m.state().Dump.SHA256 == dumped {
		t.Error("the source was not dumped again")
	}
	compareData(t, m.source, m.target)
}

// TestWizardWritesAfterTheDump: the wizard stops at the GA key, after the
// dump; rows are written to the source; the resumed wizard restores, and
// before any "verified" asks whether to dump again, naming the changed
// table. Dumping again ends verified, with the new rows in the target.
func TestWizardWritesAfterTheDump(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	wizToGAKey(w, m)
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	if code := w.exitStatus(30 * time.Second); code != words.StatusStopped {
		t.Fatalf("exit status %d after stopping at the GA key, want %d", code, words.StatusStopped)
	}
	dumped := m.state().Dump.SHA256

	m.source.exec(`INSERT INTO public.customers (name) SELECT 'late ' || g FROM generate_series(1, 7) g`)

	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	w.waitSettled(30*time.Second, "A migration was started in this folder", "enter continue")
	w.keys("Enter")
	wizAnswerKeys(w, m)
	s := w.waitFor(2*time.Minute, "was written to after the dump", "public.customers", "y dump and restore again")
	if wizHas(s, wizVerified) {
		t.Errorf("the wizard says verified although the source changed:\n%s", wizFrame(s))
	}
	if slices.ContainsFunc(w.Screens(), func(s string) bool { return wizHas(s, wizVerified) }) {
		t.Error("a screen said verified before the question")
	}
	w.keys("y")
	wizFinish(t, w)
	if m.state().Dump.SHA256 == dumped {
		t.Error("the source was not dumped again")
	}
	compareData(t, m.source, m.target)
	w.checkSecrets()
}
