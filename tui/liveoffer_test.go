package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/migrate"
)

// The live choice on the plan screen: offered when the plan allows it,
// with the consent for the tables without a primary key; when it does
// not, a line or two say why, and the frozen copy goes on.

// livePlan is a plan with the live offer o.
func livePlan(o *migrate.LiveOffer) migrate.Question {
	q := sourceQuestion
	q.Plan = &migrate.Plan{TargetKnown: true, Live: o, Items: []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004, Target: 170002},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	}}
	return q
}

var (
	liveOffered  = &migrate.LiveOffer{Possible: true, Source: 160004, NoIdentity: []string{"public.logs", "public.audit"}}
	liveReplica  = &migrate.LiveOffer{Blockers: []migrate.LiveBlocker{{Kind: string(live.BlockWALLevel), Have: "replica", Need: "logical"}}}
	liveProbeErr = &migrate.LiveOffer{Error: "probe the source for live migration: context deadline exceeded"}
)

// choosePlan asks q as the engine does, through the PlanChooser when the
// plan offers live, and hands the answer to got.
func choosePlan(q migrate.Question, got chan<- migrate.PlanAnswer) script {
	return bothKeys(func(ctx context.Context, p migrate.Prompter, _ func(migrate.Event)) error {
		var a migrate.PlanAnswer
		var err error
		if q.Plan.Live.Possible {
			a, err = p.(migrate.PlanChooser).ChoosePlan(ctx, q)
		} else {
			a.Go, err = p.Confirm(ctx, q)
		}
		if err != nil {
			return err
		}
		got <- a
		return waitCtx(ctx)
	})
}

// planHarness shows the plan of q at w x h.
func planHarness(t *testing.T, q migrate.Question, w, h int) (*harness, chan migrate.PlanAnswer) {
	got := make(chan migrate.PlanAnswer, 1)
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, choosePlan(q, got)), nil, nil)
	hs := start(t, m, w, h)
	pasteBothKeys(hs)
	hs.wait("Dump this EA database?")
	return hs, got
}

// TestGoldenPlanLiveOffered: the plan offers the frozen copy (chosen) and
// live; l chooses live and shows the tables without a primary key.
func TestGoldenPlanLiveOffered(t *testing.T) {
	h, _ := planHarness(t, livePlan(liveOffered), 80, 24)
	h.keys("l")
	h.wait("public.audit")
	fm := h.final()
	wantSaid(t, fm, []string{"● Live: your application keeps running", "○ Frozen copy", "2 tables without a primary key (public.logs, public.audit)",
		"copied once", "l frozen", "r consent"},
		[]string{"later writes are not migrated"})
	golden(t, fm)
}

// TestGoldenPlanLiveUnavailable: a source with wal_level=replica: the
// plan says why live is not possible and that the frozen copy is
// available; no choice.
func TestGoldenPlanLiveUnavailable(t *testing.T) {
	h, _ := planHarness(t, livePlan(liveReplica), 80, 24)
	fm := h.final()
	wantSaid(t, fm, []string{"Live migration is not possible: wal_level is replica, and must be logical. The frozen copy is available.",
		"later writes are not migrated"}, []string{"How to migrate", "l live", "Live:"})
	golden(t, fm)
}

// TestGoldenSmallPlanLiveOffered: at 60x15 the plan scrolls to the
// choice, and every frame fits.
func TestGoldenSmallPlanLiveOffered(t *testing.T) {
	h, _ := planHarness(t, livePlan(liveOffered), 60, 15)
	h.keys("l", "r")
	fm := h.final()
	golden(t, fm)
	seen := scrollAll(t, fm, 60, 15)
	for _, want := range []string{"How to migrate", "● Live", "ppg sets REPLICA IDENTITY FULL on them", "replication slot on the EA database"} {
		if !strings.Contains(seen, want) {
			t.Errorf("scrolling the plan at 60x15 never shows %q", want)
		}
	}
}

// TestGoldenSmallPlanLiveUnavailable: at 60x15 the reason is there too.
func TestGoldenSmallPlanLiveUnavailable(t *testing.T) {
	h, _ := planHarness(t, livePlan(liveReplica), 60, 15)
	fm := h.final()
	golden(t, fm)
	if seen := scrollAll(t, fm, 60, 15); !strings.Contains(seen, "Live migration is not possible: wal_level is replica, and must be logical. The frozen copy is available.") {
		t.Errorf("scrolling the plan at 60x15 never says why live is not possible:\n%s", seen)
	}
}

// scrollAll scrolls m down, checking every frame fits, and returns all
// it showed.
func scrollAll(t *testing.T, m model, w, h int) string {
	t.Helper()
	seen := flat(m)
	for range 20 {
		m, _ = apply(t, m, keyMsg("down"))
		checkFits(t, m.View(), w, h)
		seen += " " + flat(m)
	}
	return seen
}

// TestPlanLiveChoiceAnswers: the choice reaches the engine: live with the
// consent for the tables shown, live without, and the frozen copy (l
// twice).
func TestPlanLiveChoiceAnswers(t *testing.T) {
	for _, c := range []struct {
		name    string
		keys    []string
		live    bool
		consent []string
	}{
		{"frozen by default", nil, false, nil},
		{"live, consented", []string{"l", "r"}, true, []string{"public.logs", "public.audit"}},
		{"live, copied once", []string{"l", "r", "r"}, true, nil},
		{"live, then frozen", []string{"l", "l"}, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, got := planHarness(t, livePlan(liveOffered), 80, 24)
			h.keys(c.keys...)
			h.keys("y")
			a := <-got
			if !a.Go || (a.Live != nil) != c.live {
				t.Fatalf("answer %+v, want go, live %v", a, c.live)
			}
			if c.live && (a.Live.AllFullIdentity || !slices.Equal(a.Live.FullIdentity, c.consent)) {
				t.Errorf("consent %+v, want %v", a.Live, c.consent)
			}
			h.final()
		})
	}
}

// TestPlanLiveKeysStayTrue: the help names l and r only where they do
// something, and says what they do now; without an offer (or when the
// probe failed) l chooses nothing.
func TestPlanLiveKeysStayTrue(t *testing.T) {
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, waitScript), nil, nil)
	m.mig.continued = true
	c := m.screenCtx()
	cm := m.confirmScreen()
	cm.update(askMsg{question: ptr(livePlan(liveOffered)), choose: true}, c)
	help := func() string {
		var out []string
		for _, b := range cm.helpKeys(c).ShortHelp() {
			if b.Enabled() {
				out = append(out, b.Help().Key+" "+b.Help().Desc)
			}
		}
		return ", " + strings.Join(out, ", ")
	}
	if h := help(); !strings.Contains(h, ", l live") || strings.Contains(h, ", r ") {
		t.Errorf("frozen chosen: help %q, want l live and no r", h)
	}
	cm.update(keyMsg("l"), c)
	if h := help(); !strings.Contains(h, ", l frozen") || !strings.Contains(h, ", r consent") {
		t.Errorf("live chosen: help %q", h)
	}
	cm.update(keyMsg("r"), c)
	if h := help(); !strings.Contains(h, ", r copy once") {
		t.Errorf("consented: help %q", h)
	}
	noKeys := *liveOffered
	noKeys.NoIdentity = nil
	cm.update(askMsg{question: ptr(livePlan(&noKeys)), choose: true}, c)
	cm.update(keyMsg("l"), c)
	if h := help(); strings.Contains(h, ", r ") {
		t.Errorf("live without tables lacking a key: help %q offers r", h)
	}
	for _, o := range []*migrate.LiveOffer{liveReplica, liveProbeErr} {
		cm.update(askMsg{question: ptr(livePlan(o))}, c)
		cm.update(keyMsg("l"), c)
		if h := help(); strings.Contains(h, ", l ") || cm.live {
			t.Errorf("no offer (%+v): help %q, live %v", o, h, cm.live)
		}
		if v := cm.view(c); !strings.Contains(strings.Join(strings.Fields(v), " "), "The frozen copy is available") {
			t.Errorf("no offer (%+v): the plan does not say the frozen copy is available:\n%s", o, v)
		}
	}
	// A plan offered to a Prompter that cannot take it: no choice.
	cm.update(askMsg{question: ptr(livePlan(liveOffered))}, c)
	if h := help(); strings.Contains(h, ", l ") || strings.Contains(cm.view(c), "How to migrate") {
		t.Errorf("an offer that cannot be taken shows the choice: %q", h)
	}
}

func ptr[T any](v T) *T { return &v }

// TestGoldenStartResumeLive: the start screen says the recorded
// migration is a live one, and lists its stream step.
func TestGoldenStartResumeLive(t *testing.T) {
	st := stateAt(t, t.TempDir(), migrate.StepDone)
	st.Live = &migrate.LiveState{Slot: "ppg_0123456789ab", Publication: "ppg_0123456789ab", SetUp: true}
	st.Step(migrate.StepStream).Error = "stopped by the user"
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, waitScript), st, nil)
	wantSaid(t, m, []string{"A live migration was started in this folder", "Stream the changes to the GA database stopped by the user",
		"Next: stream the changes to the GA database."}, nil)
	golden(t, m)
}

// TestResumedStreamLeavesTheKeyScreen: a resumed stream asks for a key
// after its step started; once it is taken, the stream's status shows on
// the stream screen, not under the key input.
func TestResumedStreamLeavesTheKeyScreen(t *testing.T) {
	st := stateAt(t, t.TempDir(), migrate.StepDone)
	st.Live = &migrate.LiveState{Slot: "ppg_0123456789ab", Publication: "ppg_0123456789ab", SetUp: true}
	m := newTestModel(t, testOptions(t.TempDir(), &fake{}, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		emit(started(migrate.StepStream, time.Second))
		if _, err := p.Key(ctx, migrate.Target, nil); err != nil {
			return err
		}
		emit(migrate.Event{Kind: migrate.Info, Step: migrate.StepStream, Notice: &migrate.Notice{Code: migrate.NoticeLiveStatus},
			Live: &migrate.LiveStatus{Rows: 42, RowsPerSecond: 7, InSync: true}})
		return waitCtx(ctx)
	}), st, nil)
	h := start(t, m, 80, 24)
	h.keys("enter")
	h.wait("Paste the key")
	h.send(paste(secret))
	h.keys("enter")
	h.wait("The copy is done: streaming the changes")
	fm := h.final()
	wantSaid(t, fm, []string{"in sync", "42 rows", "c cut over"}, []string{"Paste the key"})
}
