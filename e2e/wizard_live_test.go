//go:build e2e

package e2e

// The live choice on the wizard's plan screen, in a real terminal: ppg
// migrate without --live offers live when the source can stream; the user
// picks it (and consents to REPLICA IDENTITY FULL on the table without a
// key), writers run, the user cuts over in the wizard, and the data is
// compared independently. A source with wal_level=replica gets a plan
// that says why live is not possible, and the frozen copy goes on.

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// wizardToPlan starts ppg migrate (no --live) in the wizard on l's
// databases and pastes both URLs; it returns the plan screen.
func wizardToPlan(t *testing.T, l *liveRun) (*wizTerm, string) {
	t.Helper()
	w := newWizTerm(t)
	w.start(wizRun{Dir: l.dir, Env: []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}, Args: []string{"migrate"}})
	w.secret(l.b.source.server.Password, l.b.target.server.Password)
	w.waitFor(30*time.Second, wizBegin)
	w.keys("Enter")
	w.waitFor(10*time.Second, wizSourcePrompt)
	w.paste(l.b.source.url)
	w.keys("Enter")
	w.waitFor(30*time.Second, wizTargetPrompt)
	w.paste(l.b.target.url)
	start := time.Now()
	w.keys("Enter")
	s := w.waitSettled(30*time.Second, wizConfirmSource, "y/enter dump it")
	t.Logf("the plan showed %v after the target's key", time.Since(start).Round(time.Millisecond))
	return w, s
}

// TestWizardLiveChosenOnPlan: the plan offers live; l picks it, r
// consents for logs (no primary key), writers run through the dump, the
// restore and the stream; stopped during the stream, the wizard run again
// without flags goes on live; c in the wizard cuts over; every table and
// sequence equal, nothing left on the source, and the state records the
// choice.
func TestWizardLiveChosenOnPlan(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	wr := startWriters(t, l.b.source, 3)
	w, plan := wizardToPlan(t, l)
	if !wizHas(plan, "How to migrate", "● Frozen copy", "○ Live: your application keeps running", "l live") {
		t.Fatalf("the plan does not offer live:\n%s", wizFrame(plan))
	}
	// The probe created nothing on the source.
	if n := l.b.source.number("SELECT count(*) FROM pg_replication_slots") + l.b.source.number("SELECT count(*) FROM pg_publication"); n != 0 {
		t.Errorf("the plan left %d slots and publications on the source", n)
	}
	w.keys("l")
	s := w.waitFor(10*time.Second, "● Live", "1 table without a primary key (public.logs)", "r consent")
	t.Logf("live chosen:\n%s", wizFrame(s))
	w.keys("r")
	w.waitFor(10*time.Second, "ppg sets REPLICA IDENTITY FULL on them", "r copy once")
	w.keys("y")
	w.waitFor(3*time.Minute, "The copy is done: streaming the changes", "WAL held")
	if st := readState(t, l.dir); st.Live == nil || !slices.Equal(st.Live.Consent, []string{"public.logs"}) || st.Plan == nil || st.Plan.Live == nil {
		t.Errorf("the state file does not record the live choice and the consent: %+v", st.Live)
	} else {
		t.Logf("the plan's live probe took %d ms", st.Plan.Live.TookMS)
	}
	w.waitUntil(time.Minute, "rows applied by the stream", func(s string) bool { return wizHas(s, "applied") && !wizHas(s, " 0 rows") })

	// Stopped during the stream, the wizard run again without flags goes
	// on live: the state file recorded the choice.
	w.keys("C-c")
	w.waitFor(10*time.Second, wizStopAsk)
	w.keys("y")
	if code := w.exitStatus(30 * time.Second); code != 130 {
		t.Fatalf("exit status %d after stopping, want 130", code)
	}
	w.start(wizRun{Dir: l.dir, Env: []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}, Args: []string{"migrate"}})
	s = w.waitSettled(30*time.Second, "A live migration was started in this folder", "Stream the changes to the target database", "enter continue")
	t.Logf("the resume screen:\n%s", wizFrame(s))
	w.keys("Enter")
	for asked := 0; ; asked++ {
		var prompt, asking string
		w.waitUntil(time.Minute, "a key prompt or the stream", func(s string) bool {
			switch {
			case wizHas(s, "paste here, then press Enter", wizSourcePrompt):
				prompt, asking = l.b.source.url, wizSourcePrompt
			case wizHas(s, "paste here, then press Enter", wizTargetPrompt):
				prompt, asking = l.b.target.url, wizTargetPrompt
			case wizHas(s, "The copy is done: streaming the changes"):
				prompt = ""
			default:
				return false
			}
			return true
		})
		if prompt == "" {
			break
		}
		if asked > 2 {
			t.Fatalf("asked for a key %d times", asked+1)
		}
		w.paste(prompt)
		w.keys("Enter")
		w.waitUntil(time.Minute, "the key to be taken", func(s string) bool { return !wizHas(s, asking) })
	}
	w.waitFor(time.Minute, "The copy is done: streaming the changes", "WAL held")
	wr.halt(t)
	s = w.waitFor(2*time.Minute, "in sync", "press c to cut over")
	t.Logf("the stream screen:\n%s", wizFrame(s))
	w.keys("c")
	done := wizFinish(t, w)
	if !wizHas(done, "Live migration: cut over in", "of downtime", "dropped") {
		t.Errorf("the done screen does not give the cutover and its downtime:\n%s", wizFrame(done))
	}
	compareData(t, l.b.source, l.b.target)
	l.b.noLeftovers()
	if st := readState(t, l.dir); st.Live == nil || st.Live.Cutover == nil {
		t.Errorf("the state file does not record the cutover: %+v", st.Live)
	} else {
		t.Logf("downtime %.2f s", st.Live.Cutover.DowntimeSeconds)
	}
	noPasswordsInFolder(t, l)
	w.checkSecrets()
}

// noPasswordsInFolder checks that nothing in l's folder (the state file
// with its plan and live offer) holds a password.
func noPasswordsInFolder(t *testing.T, l *liveRun) {
	t.Helper()
	for name, data := range dirContents(t, l.dir) {
		for _, pw := range []string{l.b.source.server.Password, l.b.target.server.Password} {
			if strings.Contains(string(data), pw) {
				t.Errorf("%s holds a password", name)
			}
		}
	}
}

// TestWizardLiveNotPossible: a source with wal_level=replica: the plan
// says live is not possible and why, offers no choice, and the frozen
// copy proceeds; nothing is created on the source.
func TestWizardLiveNotPossible(t *testing.T) {
	l := newLiveRun(t, nil)
	w, plan := wizardToPlan(t, l)
	if !wizHas(plan, "Live migration is not possible: wal_level is replica, and must be logical.", "The frozen copy is available.") ||
		wizHas(plan, "How to migrate") || wizHas(plan, "l live") {
		t.Fatalf("the plan does not say why live is not possible, or offers it:\n%s", wizFrame(plan))
	}
	w.keys("l") // nothing to choose: no effect
	w.keys("y")
	done := wizFinish(t, w)
	if wizHas(done, "Live migration") {
		t.Errorf("the frozen copy's done screen speaks of live:\n%s", wizFrame(done))
	}
	compareData(t, l.b.source, l.b.target)
	l.b.noLeftovers()
	st := readState(t, l.dir)
	if st.Live != nil {
		t.Errorf("the state file records a live migration: %+v", st.Live)
	}
	if st.Plan == nil || st.Plan.Live == nil || st.Plan.Live.Possible {
		t.Errorf("the state's plan does not record the offer refused: %+v", st.Plan)
	} else {
		t.Logf("the plan's live probe took %d ms", st.Plan.Live.TookMS)
	}
	noPasswordsInFolder(t, l)
	w.checkSecrets()
}
