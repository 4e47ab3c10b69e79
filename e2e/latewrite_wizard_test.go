//go:build e2e

package e2e

import (
	"regexp"
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
	s := w.waitSettled(2*time.Minute, "was written to during the dump", "y dump again")
	if wizHas(s, wizRestoring) {
		t.Errorf("the wizard restores before the question is answered:\n%s", wizFrame(s))
	}
	// The question names the table written to and the snapshot's moment,
	// to the second (checked against the state file below).
	if !wizHas(s, "1 row was inserted, updated or deleted after the dump's snapshot of", "1 table written to: public.customers.") {
		t.Errorf("the question does not name the write and its table:\n%s", wizFrame(s))
	}
	shown := regexp.MustCompile(`snapshot of (\d\d:\d\d:\d\d);`).FindStringSubmatch(wizFlat(s))
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
		t.Fatalf("choices on record %+v, want the asked redump", st.SourceChanges)
	}
	// The moment shown is the snapshot's, in the clock of ppg's zone.
	snap := st.SourceChanges[0].SnapshotAt
	if shown == nil || (shown[1] != snap.UTC().Format("15:04:05") && shown[1] != snap.Local().Format("15:04:05")) {
		t.Errorf("the question showed the moment %q, the snapshot was at %s", shown, snap)
	}
	w.checkSecrets()
}
