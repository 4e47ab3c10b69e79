package migrate

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/live"
)

// chooser is a PlanChooser that answers with a, and records how it was
// asked.
type chooser struct {
	a                PlanAnswer
	chosen, confirms int
}

func (c *chooser) Key(context.Context, Side, error) (string, error) { return "", nil }
func (c *chooser) Confirm(context.Context, Question) (bool, error) {
	c.confirms++
	return true, nil
}
func (c *chooser) ChoosePlan(context.Context, Question) (PlanAnswer, error) {
	c.chosen++
	return c.a, nil
}

func offerQuestion(o *LiveOffer) Question {
	return Question{Kind: ConfirmSource, Plan: &Plan{Live: o, Items: []CheckItem{{Code: CheckVersions, Verdict: VerdictOK}}}}
}

var offered = &LiveOffer{Possible: true, Source: 160004, NoIdentity: []string{"public.logs", "public.tmp"}, Unlogged: []string{"public.cache"}}

// TestConfirmSourceChoosesLive: live chosen on the plan makes the new
// migration a live one: the state records it with the consent (so a
// resumed run goes on live and keeps the consent), and the plan gets the
// live items.
func TestConfirmSourceChoosesLive(t *testing.T) {
	dir := t.TempDir()
	c := &chooser{a: PlanAnswer{Go: true, Live: &LiveOptions{FullIdentity: []string{"public.logs"}}}}
	e := New(Config{Dir: dir, OfferLive: true}, c)
	e.state = NewState(time.Now())
	q := offerQuestion(offered)
	ok, err := e.confirmSource(context.Background(), q)
	if !ok || err != nil || c.chosen != 1 || c.confirms != 0 {
		t.Fatalf("confirmSource: %v %v, chosen %d, confirms %d", ok, err, c.chosen, c.confirms)
	}
	ls := e.state.Live
	if ls == nil || ls.Slot != live.NamesFor(e.state.ID).Slot || ls.SetUp || !slices.Equal(ls.Consent, []string{"public.logs"}) {
		t.Fatalf("live state %+v", ls)
	}
	var codes []CheckCode
	for _, it := range q.Plan.Items {
		codes = append(codes, it.Code)
		if it.Code == CheckLiveIdentityFull && !slices.Equal(it.Names, []string{"public.logs"}) {
			t.Errorf("identity full: %v", it.Names)
		}
		if it.Code == CheckLiveCopyOnce && !slices.Equal(it.Names, []string{"public.tmp"}) {
			t.Errorf("copy once: %v", it.Names)
		}
	}
	if !slices.Equal(codes, []CheckCode{CheckVersions, CheckLive, CheckLiveIdentityFull, CheckLiveCopyOnce, CheckLiveNotStreamed}) {
		t.Errorf("plan items %v", codes)
	}
	// Resumed without the choice (the wizard has no --live): the state
	// says live, and the consent holds.
	e.fresh = false
	if err := e.save(); err != nil {
		t.Fatal(err)
	}
	r := New(Config{Dir: dir, OfferLive: true}, c)
	if err := r.load(); err != nil {
		t.Fatal(err)
	}
	if !r.isLive() || r.offersLive() {
		t.Errorf("resumed: live %v, offers live %v", r.isLive(), r.offersLive())
	}
	got := r.liveConsent().fullIdentity([]live.Table{{Schema: "public", Name: "logs"}, {Schema: "public", Name: "tmp"}})
	if len(got) != 1 || got[0].Name != "logs" {
		t.Errorf("resumed consent: %v", got)
	}
}

// TestConfirmSourceFrozen: the frozen copy chosen, a plan without a
// possible offer, or a Prompter that cannot choose: no live state.
func TestConfirmSourceFrozen(t *testing.T) {
	for _, c := range []struct {
		name    string
		offer   *LiveOffer
		a       PlanAnswer
		chooses bool
	}{
		{"frozen chosen", offered, PlanAnswer{Go: true}, true},
		{"declined", offered, PlanAnswer{Go: false, Live: &LiveOptions{}}, true},
		{"not possible", &LiveOffer{Blockers: []LiveBlocker{{Kind: string(live.BlockWALLevel)}}}, PlanAnswer{Go: true, Live: &LiveOptions{}}, false},
		{"probe failed", &LiveOffer{Error: "timeout"}, PlanAnswer{Go: true, Live: &LiveOptions{}}, false},
		{"no offer", nil, PlanAnswer{Go: true, Live: &LiveOptions{}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := &chooser{a: c.a}
			e := New(Config{Dir: t.TempDir(), OfferLive: true}, ch)
			e.state = NewState(time.Now())
			ok, err := e.confirmSource(context.Background(), offerQuestion(c.offer))
			if err != nil || e.state.Live != nil || e.cfg.Live != nil {
				t.Errorf("ok %v err %v live %+v", ok, err, e.state.Live)
			}
			if (ch.chosen == 1) != c.chooses || (ch.confirms == 1) == c.chooses {
				t.Errorf("chosen %d, confirms %d", ch.chosen, ch.confirms)
			}
		})
	}
	// A Prompter that is not a PlanChooser is asked Confirm.
	p := &confirmOnly{}
	e := New(Config{Dir: t.TempDir(), OfferLive: true}, p)
	e.state = NewState(time.Now())
	if ok, err := e.confirmSource(context.Background(), offerQuestion(offered)); !ok || err != nil || e.state.Live != nil {
		t.Errorf("a Prompter without the choice: %v %v %+v", ok, err, e.state.Live)
	}
}

type confirmOnly struct{}

func (confirmOnly) Key(context.Context, Side, error) (string, error) { return "", nil }
func (confirmOnly) Confirm(context.Context, Question) (bool, error)  { return true, nil }

// TestLiveChosenTakesOverSlot: live chosen in a migration started over
// takes over the slot the earlier one left, as --live does.
func TestLiveChosenTakesOverSlot(t *testing.T) {
	e := New(Config{Dir: t.TempDir(), OfferLive: true}, &chooser{a: PlanAnswer{Go: true, Live: &LiveOptions{}}})
	e.emit = func(Event) {}
	e.state = NewState(time.Now())
	e.previous = NewState(time.Now())
	e.previous.Live = &LiveState{Slot: "ppg_old", Publication: "ppg_old", SetUp: true}
	if _, err := e.confirmSource(context.Background(), offerQuestion(offered)); err != nil {
		t.Fatal(err)
	}
	if l := e.state.Live; l == nil || l.Slot != "ppg_old" || !l.SetUp {
		t.Errorf("live state %+v, want the old slot taken over", l)
	}
}

// TestOffersLive: the offer is made when the front end can choose and
// the migration is not live already.
func TestOffersLive(t *testing.T) {
	e := New(Config{OfferLive: true}, nil)
	e.state = NewState(time.Now())
	if !e.offersLive() {
		t.Error("a new migration in the wizard: no offer")
	}
	e.cfg.Live = &LiveOptions{}
	if e.offersLive() {
		t.Error("--live: an offer")
	}
	e = New(Config{}, nil)
	e.state = NewState(time.Now())
	if e.offersLive() || e.startLiveOffer(context.Background(), &Endpoint{})() != nil {
		t.Error("headless: an offer")
	}
}

// TestProbeOfferFailureIsNoPlanFailure: a source the probe cannot reach
// is "live not available" with the reason, promptly.
func TestProbeOfferFailureIsNoPlanFailure(t *testing.T) {
	start := time.Now()
	o := probeOffer(context.Background(), "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if o.Possible || o.Error == "" {
		t.Errorf("offer %+v, want an error", o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if o := probeOffer(ctx, "postgres://u@127.0.0.1:1/db"); o.Possible || o.Error != context.DeadlineExceeded.Error() {
		t.Errorf("offer past its deadline %+v", o)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
