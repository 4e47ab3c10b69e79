//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

// TestWizardWriteDuringDump: in the wizard, a row written while pg_dump
// runs (held on the test's lock, after the snapshot) makes the wizard ask
// whether to dump again before anything is restored; dumping again puts
// the row in the target, and the done screen says that the user chose it.
func TestWizardWriteDuringDump(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL, heldSQL)
	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	h := holdDump(t, m.source)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin, "found pg_restore")
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt)
	w.pasteKey(m.source.key)
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.pasteKey(m.target.key)
	w.waitFor(time.Minute, wizConfirmEA)
	w.keys("y")
	h.waitBlocked()
	writeRow(t, m.source, "written during the wizard's dump")
	h.release()
	s := w.waitFor(2*time.Minute, "was written to during the dump", "y dump again")
	if wizHas(s, wizRestoring) {
		t.Errorf("the wizard restores before the question is answered:\n%s", wizFrame(s))
	}
	w.keys("y")
	done := wizFinish(t, w)
	if !wizHas(done, "as you chose, it was dumped again") {
		t.Errorf("the done screen does not show the choice:\n%s", wizFrame(done))
	}
	if n := m.target.number(`SELECT count(*) FROM public.customers WHERE name = 'written during the wizard''s dump'`); n != 1 {
		t.Errorf("the row written during the dump is on the target %d times, want once", n)
	}
	compareData(t, m.source, m.target)
	st := m.state()
	if len(st.SourceChanges) != 1 || !st.SourceChanges[0].Asked || st.SourceChanges[0].Choice != migrate.ChangeRedump {
		t.Errorf("choices on record %+v, want the asked redump", st.SourceChanges)
	}
	w.checkSecrets()
}
