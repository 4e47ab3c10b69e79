//go:build e2e

package e2e

// End-to-end tests of a live migration through the real binary: ppg
// migrate --live into a PostgreSQL 17 target from a PostgreSQL 16 source
// that writers change all along, ppg cutover from another process, a
// SIGKILL during the stream and its resume, a stop and --abandon-live,
// and a source that cannot stream.

import (
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// liveRun is a live migration's folder and environment for the binary.
type liveRun struct {
	t   testing.TB
	b   *liveBed
	dir string
	env []string
}

func newLiveRun(t testing.TB, settings map[string]string) *liveRun {
	b := newLiveBed(t, settings)
	env := []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN"), "PPG_SOURCE_URL=" + b.source.url, "PPG_TARGET_URL=" + b.target.url}
	return &liveRun{t: t, b: b, dir: t.TempDir(), env: env}
}

// liveArgs are the arguments of the live migration; logs has no key and
// is consented to REPLICA IDENTITY FULL.
var liveArgs = []string{"migrate", "--non-interactive", "--json", "--live", "--replica-identity-full=public.logs"}

func (l *liveRun) start() *process { return startPPG(l.t, l.dir, l.env, nil, liveArgs...) }

// streamStatus matches a stream status event with at least n rows applied.
func streamStatus(n int64) eventMatch {
	return eventWhere("a stream status", func(ev event) bool {
		return ev.Step == "stream" && ev.Live != nil && ev.Live.Rows >= n
	})
}

// cutover runs ppg cutover from another process and checks ppg migrate's
// end: exit 0, the downtime printed, everything equal, nothing left.
func (l *liveRun) cutover(p *process) {
	l.t.Helper()
	c := runPPG(l.t, l.dir, nil, "cutover", "--dir", l.dir)
	c.wantExit(0)
	if !strings.Contains(c.stdout, "Downtime:") {
		l.t.Errorf("ppg cutover does not print the downtime:\n%s", c.output())
	}
	l.t.Logf("ppg cutover: %s", strings.TrimSpace(c.stdout))
	r := p.wait()
	r.wantExit(0)
	done := r.all(stepFinished("stream"))
	if len(done) != 1 || done[0].Summary == nil || done[0].Summary.Cutover == nil || done[0].Summary.Cutover.DowntimeSeconds <= 0 {
		l.t.Fatalf("no cutover summary with a downtime:\n%s", r.show())
	}
	l.t.Logf("stream step: %s", done[0].Text)
	l.b.compare()
	// Neither the folder (state file, cutover answer) nor the output
	// holds a password.
	pw := []string{l.b.source.server.Password, l.b.target.server.Password}
	for name, data := range dirContents(l.t, l.dir) {
		for _, p := range pw {
			if strings.Contains(string(data), p) {
				l.t.Errorf("%s holds a password", name)
			}
		}
	}
	for _, p := range pw {
		if strings.Contains(r.output(), p) {
			l.t.Errorf("the output holds a password")
		}
	}
	if st := readState(l.t, l.dir); st.Live == nil || st.Live.Slot == "" || st.Live.Cutover == nil {
		l.t.Errorf("the state file does not record the slot and the cutover: %+v", st.Live)
	}
}

// TestLiveCLI: writers run through the dump, the restore and the stream;
// ppg cutover from another process; every table and sequence equal.
func TestLiveCLI(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	w := startWriters(t, l.b.source, 3)
	p := l.start()
	p.waitFor(streamStatus(200))
	w.halt(t)
	l.cutover(p)
}

// TestLiveCLIKilled: ppg SIGKILLed twice during the stream, run again, resumes
// from the recorded position; the cutover then ends identical.
func TestLiveCLIKilled(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	w := startWriters(t, l.b.source, 3)
	p := l.start()
	p.waitFor(streamStatus(1))
	// Killed twice: once with rows applied, once right as the resumed
	// stream starts.
	p.kill()
	p.groupGone()
	p = l.start()
	p.waitFor(eventWhere("the stream resumed", func(ev event) bool { return ev.Kind == kindStepStarted && ev.Step == "stream" }))
	p.kill()
	p.groupGone()
	p = l.start()
	p.waitFor(streamStatus(1))
	w.halt(t)
	l.cutover(p)
}

// TestLiveCLIStopAbandon: Ctrl-C during the stream keeps the slot and says
// how to remove it; --abandon-live removes slot and publication.
func TestLiveCLIStopAbandon(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	p := l.start()
	p.waitFor(streamStatus(0))
	p.signalPPG(syscall.SIGINT)
	r := p.wait()
	r.wantExit(130)
	if !r.has(warningOf("stream").saying("replication slot", "holds", "--abandon-live", "pg_drop_replication_slot")) {
		t.Errorf("the stop does not say the slot holds WAL and how to remove it:\n%s", r.show())
	}
	if n := l.b.source.number("SELECT count(*) FROM pg_replication_slots"); n != 1 {
		t.Fatalf("%d slots after the stop, want the migration's", n)
	}
	a := runPPG(t, l.dir, l.env, "migrate", "--non-interactive", "--abandon-live")
	a.wantExit(0)
	if !strings.Contains(a.stdout, "dropped") {
		t.Errorf("--abandon-live does not say what it dropped:\n%s", a.output())
	}
	l.b.noLeftovers()
}

// TestLiveCLIReplica: a source with wal_level=replica: --live --dry-run
// says within 5 s why live is impossible, and creates nothing.
func TestLiveCLIReplica(t *testing.T) {
	l := newLiveRun(t, nil)
	start := time.Now()
	r := runPPG(t, l.dir, l.env, "migrate", "--non-interactive", "--live", "--dry-run")
	took := time.Since(start)
	r.wantExit(5)
	if !strings.Contains(r.stdout, "wal_level is replica, and must be logical") || !strings.Contains(r.stdout, "rds.logical_replication") {
		t.Errorf("the plan does not say why live is impossible:\n%s", r.output())
	}
	if took > 5*time.Second {
		t.Errorf("the plan took %v, want under 5 s", took)
	}
	l.b.noLeftovers()
}

// TestLiveCLICopyOnce: without consent, the table without a key (logs) is
// copied once, not published, so the source keeps taking its UPDATEs and
// DELETEs; the plan says so, and the cutover checks its fingerprint.
func TestLiveCLICopyOnce(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	p := startPPG(t, l.dir, l.env, nil, "migrate", "--non-interactive", "--json", "--live")
	plan := p.waitFor(eventWhere("the plan", func(ev event) bool { return ev.Summary != nil && ev.Summary.Plan != nil }))
	if !planHas(plan, "live_copy_once", "public.logs") {
		t.Errorf("the plan does not say logs is copied once: %+v", plan.Summary.Plan.Items)
	}
	p.waitFor(streamStatus(0))
	l.b.source.exec(`UPDATE items SET price = price + 1 WHERE id < 50`, `DELETE FROM events WHERE id < 10`)
	p.waitFor(streamStatus(49))
	if n := l.b.source.number(`SELECT count(*) FROM pg_publication_tables WHERE tablename = 'logs'`); n != 0 {
		t.Errorf("logs is in the publication without consent")
	}
	l.cutover(p)
}

// planHas reports whether the plan of ev has an item code naming name.
func planHas(ev event, code, name string) bool {
	for _, it := range ev.Summary.Plan.Items {
		if string(it.Code) == code && slices.Contains(it.Names, name) {
			return true
		}
	}
	return false
}

// TestLiveCLIWizard: the wizard with --live shows the stream screen (the
// copy done, in sync, the lag and its chart, the WAL held) and c cuts
// over; the migration ends verified and identical.
func TestLiveCLIWizard(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	w := newWizTerm(t)
	w.start(wizRun{Dir: l.dir, Env: []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN")}, Args: []string{"migrate", "--live", "--replica-identity-full=all"}})
	w.secret(l.b.source.server.Password, l.b.target.server.Password)
	w.waitFor(30*time.Second, wizBegin)
	w.keys("Enter")
	w.waitFor(10*time.Second, wizSourcePrompt)
	w.paste(l.b.source.url)
	w.keys("Enter")
	w.waitFor(30*time.Second, wizTargetPrompt)
	w.paste(l.b.target.url)
	w.keys("Enter")
	w.waitSettled(30*time.Second, wizConfirmSource)
	w.keys("y")
	w.waitFor(2*time.Minute, "The copy is done: streaming the changes")
	l.b.source.exec(`UPDATE items SET price = price + 1 WHERE id < 20`)
	s := w.waitFor(time.Minute, "19 rows", "in sync", "WAL held", "lag chart", "press c to cut over")
	t.Logf("the stream screen:\n%s", wizFrame(s))
	w.keys("c")
	done := wizFinish(t, w)
	if !wizHas(done, "Live migration: cut over in", "of downtime", "dropped") {
		t.Errorf("the done screen does not give the cutover and its downtime:\n%s", wizFrame(done))
	}
	l.b.compare()
	w.checkSecrets()
}

// TestLiveCLIDDL: ALTER TABLE … ADD COLUMN on the source during the
// stream stops ppg with a message naming the table and the column; once
// the same DDL runs on the target, the same command resumes and the
// cutover ends identical.
func TestLiveCLIDDL(t *testing.T) {
	l := newLiveRun(t, logicalSettings)
	p := l.start()
	p.waitFor(streamStatus(0))
	l.b.source.exec(`ALTER TABLE events ADD COLUMN note text`, `INSERT INTO events (item_id, kind, note) VALUES (1, 'ddl', 'after')`)
	r := p.wait()
	if r.code == 0 {
		t.Fatalf("ppg went on after DDL on the source:\n%s", r.show())
	}
	failed := r.all(stepFailed("stream"))
	if len(failed) != 1 || !strings.Contains(failed[0].Text, "public.events") || !strings.Contains(failed[0].Text, "note") ||
		!strings.Contains(failed[0].Hint, "same DDL") {
		t.Fatalf("the stop does not name the table and the column, and what to do:\n%s", r.show())
	}
	if !r.has(warningOf("stream").saying("replication slot", "holds")) {
		t.Errorf("the stop does not say the slot stays:\n%s", r.show())
	}
	l.b.target.exec(`ALTER TABLE events ADD COLUMN note text`)
	p = l.start()
	p.waitFor(streamStatus(1))
	l.cutover(p)
}
