//go:build e2e

package e2e

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"
)

// TestWizardFolderOfOtherFlow: a folder where `ppg migrate` migrated a
// database, opened with `ppg migrate-from-ea` in a real terminal. The
// start screen says at once which command the folder belongs to, offers
// no "continue", and quitting leaves every file of the folder as it was.
//
//	go test -tags e2e -count=1 -run TestWizardFolderOfOtherFlow ./e2e/
func TestWizardFolderOfOtherFlow(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	env := append(m.toolEnv(), "PPG_SOURCE_URL="+m.source.url, "PPG_TARGET_URL="+m.target.url)
	r := runPPG(t, m.dir, env, "migrate", "--non-interactive")
	r.wantExit(0)
	if flow := m.state().Flow; flow != "ppg" {
		t.Fatalf("ppg migrate recorded the flow %q, want ppg", flow)
	}
	before := dirContents(t, m.dir)

	w := newWizTerm(t)
	w.secret(m.source.key, m.target.key)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	s := w.waitSettled(30*time.Second, "This folder holds a migration of another ppg command",
		"was started by ppg migrate (copy a PostgreSQL database", "not by ppg migrate-from-ea",
		"Quit and run ppg migrate here to resume it", "q quit")
	for _, never := range []string{"Continue where it stopped", "Show its report", "enter continue", "Every step is done"} {
		if wizHas(s, never) {
			t.Errorf("the start screen of a ppg migrate folder says %q:\n%s", never, wizFrame(s))
		}
	}
	w.keys("Enter") // no continue here: nothing happens
	w.keys("q")
	if code := w.exitStatus(20 * time.Second); code == 0 {
		t.Errorf("exit status 0 after quitting a folder of the other flow")
	}
	if h := w.history(); !wizHas(h, "ppg: quit before the migration started; nothing was changed.") {
		t.Errorf("the terminal keeps no summary of the quit:\n%s", wizFrame(h))
	}

	after := dirContents(t, m.dir)
	if !slices.Equal(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))) {
		t.Errorf("the folder held %v, now %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	for name, data := range before {
		if !bytes.Equal(data, after[name]) {
			t.Errorf("%s changed", name)
		}
	}
	if n := m.gateway.Stats().Accepted; n != 0 {
		t.Errorf("the wizard opened %d gateway sessions in a folder it does not resume", n)
	}
	w.checkSecrets()
}
