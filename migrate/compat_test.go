package migrate

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
)

// compatDB answers the 18-into-17 check's questions; nothing else.
type compatDB struct {
	DB
	objs   []CompatObject
	bypass bool
}

func (d compatDB) CompatFacts(context.Context) ([]CompatObject, error) { return d.objs, nil }
func (d compatDB) BypassesRowSecurity(context.Context) (bool, error)   { return d.bypass, nil }

var compatSample = []CompatObject{
	{Kind: CompatVirtualColumn, Object: "shop.items.total"},
	{Kind: CompatNotNullNotValid, Object: "public.profiles.profiles_nickname_nn"},
	{Kind: CompatNotEnforced, Object: "shop.reviews.reviews_item_fk", Desc: "FK CONSTRAINT", Schema: "shop", Tag: "reviews reviews_item_fk"},
	{Kind: CompatNotEnforced, Object: "shop.reviews.reviews_stars_range", Desc: "CHECK CONSTRAINT", Schema: "shop", Tag: "reviews reviews_stars_range"},
	{Kind: CompatRowSecurity, Object: "shop.orders"},
}

var temporalSample = []CompatObject{
	{Kind: CompatTemporalKey, Object: "public.rooms.rooms_pk"},
	{Kind: CompatTemporalForeignKey, Object: "public.bookings.bookings_room_fk", Desc: "FK CONSTRAINT", Schema: "public", Tag: "bookings bookings_room_fk"},
}

func planWith(t *testing.T, cfg Config, objs []CompatObject, bypass bool, smajor, tmajor int, targetKnown bool) (*Engine, *Plan) {
	t.Helper()
	cfg.Dir, cfg.Now = t.TempDir(), time.Now
	e := &Engine{cfg: cfg, state: NewState(time.Now())}
	src := &Endpoint{DB: compatDB{objs: objs}}
	var dst *Endpoint
	if targetKnown {
		dst = &Endpoint{DB: compatDB{bypass: bypass}}
	}
	p := &Plan{TargetKnown: targetKnown}
	if err := e.checkCompat(context.Background(), src, dst, &planFacts{source: ServerInfo{VersionNum: smajor * 10000}, target: ServerInfo{VersionNum: tmajor * 10000}, targetKnown: targetKnown}, p); err != nil {
		t.Fatal(err)
	}
	return e, p
}

func verdicts(p *Plan) map[CheckCode]Verdict {
	m := map[CheckCode]Verdict{}
	for _, it := range p.Items {
		m[it.Code] = it.Verdict
	}
	return m
}

func TestPlanCompat18Into17(t *testing.T) {
	_, p := planWith(t, Config{}, compatSample, true, 18, 17, true)
	want := map[CheckCode]Verdict{
		CheckCompat(CompatVirtualColumn): VerdictHandled, CheckCompat(CompatNotNullNotValid): VerdictHandled,
		CheckCompat(CompatNotEnforced): VerdictHandled, CheckRowSecurity: VerdictWarn,
	}
	if got := verdicts(p); !mapsEqual(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if p.Blocked() {
		t.Error("translatable constructs block")
	}
	wantSkip := []SkippedObject{{Desc: "FK CONSTRAINT", Schema: "shop", Name: "reviews reviews_item_fk", Downgrade: true},
		{Desc: "CHECK CONSTRAINT", Schema: "shop", Name: "reviews reviews_stars_range", Downgrade: true}}
	if !reflect.DeepEqual(p.Skip, wantSkip) {
		t.Errorf("skip %v, want %v", p.Skip, wantSkip)
	}
	if d := compatDelta(p); d["constraints"] != -1 || len(d) != 1 {
		t.Errorf("delta %v, want constraints -1 (two left out, one NOT NULL made a check)", d)
	}
}

func TestPlanCompatTemporalNeedsConsent(t *testing.T) {
	_, p := planWith(t, Config{}, append(slices.Clone(compatSample), temporalSample...), false, 18, 17, true)
	if !p.Blocked() || verdicts(p)[CheckCompat(CompatTemporalKey)] != VerdictBlocks || verdicts(p)[CheckCompat(CompatTemporalForeignKey)] != VerdictBlocks {
		t.Errorf("temporal keys without consent: %v, want both blocking", verdicts(p))
	}
	if slices.ContainsFunc(p.Skip, func(s SkippedObject) bool { return s.Name == "bookings bookings_room_fk" }) {
		t.Error("a blocking temporal foreign key is in the skip list")
	}
	if _, ok := verdicts(p)[CheckRowSecurity]; ok {
		t.Error("row security reported for a target that does not bypass it")
	}
	_, p = planWith(t, Config{AcceptTemporalKeys: true}, temporalSample, false, 18, 17, true)
	if p.Blocked() {
		t.Errorf("temporal keys with consent block: %v", verdicts(p))
	}
	if !slices.ContainsFunc(p.Skip, func(s SkippedObject) bool { return s.Name == "bookings bookings_room_fk" }) {
		t.Error("the accepted temporal foreign key is not left out")
	}
}

func TestPlanCompatNotNullNoInheritWithChildrenBlocks(t *testing.T) {
	objs := []CompatObject{{Kind: CompatNotNullNoInherit, Object: "public.p.c", Detail: "children"}, {Kind: CompatNotNullNoInherit, Object: "public.q.c"}}
	_, p := planWith(t, Config{}, objs, false, 18, 17, true)
	it := p.Items[0]
	if it.Verdict != VerdictBlocks || !slices.Equal(it.Names, []string{"public.p.c (inheritance children)", "public.q.c"}) {
		t.Errorf("item %+v, want blocking, naming both, the one with children marked", it)
	}
}

func TestPlanCompatOnlyWhenTranslating(t *testing.T) {
	for _, tt := range []struct{ s, d int }{{18, 18}, {17, 17}, {16, 18}} {
		_, p := planWith(t, Config{}, append(slices.Clone(compatSample), temporalSample...), true, tt.s, tt.d, true)
		if got := verdicts(p); !mapsEqual(got, map[CheckCode]Verdict{CheckRowSecurity: VerdictWarn}) {
			t.Errorf("%d into %d: %v, want only the row-security warning", tt.s, tt.d, got)
		}
	}
}

// With the target not known yet, what would block warns; connect-target
// refuses a 17 target then, and takes an 18 one.
func TestCheckDowngradeAfterPlanWithoutTarget(t *testing.T) {
	e, p := planWith(t, Config{}, append(slices.Clone(compatSample), temporalSample...), true, 18, 0, false)
	if p.Blocked() || verdicts(p)[CheckCompat(CompatTemporalKey)] != VerdictWarn {
		t.Fatalf("plan without target: %v, want warnings", verdicts(p))
	}
	if v := verdicts(p)[CheckRowSecurity]; v != VerdictOK {
		t.Errorf("row security before the target is known: %q, want ok (checked at connect-target)", v)
	}
	e.state.Plan = p
	var pe *PlanError
	if err := e.checkDowngrade(18, 17); !errors.As(err, &pe) || !pe.Plan.Blocked() {
		t.Errorf("18 into 17 with a temporal key: %v, want a PlanError", err)
	}
	if err := e.checkDowngrade(18, 18); err != nil {
		t.Errorf("18 into 18: %v", err)
	}
	var de *pgtools.DowngradeError
	if err := e.checkDowngrade(18, 16); !errors.As(err, &de) {
		t.Errorf("18 into 16: %v, want a DowngradeError", err)
	}
	e, p = planWith(t, Config{}, compatSample, true, 18, 0, false)
	e.state.Plan = p
	if err := e.checkDowngrade(18, 17); err != nil {
		t.Errorf("18 into 17 with translatable constructs only: %v", err)
	}
}

// A plan made before the target was known leaves NOT ENFORCED constraints
// out only if the target turns out to be 17; into 18 everything is kept.
func TestCheckTargetRulesDropsTranslationFor18(t *testing.T) {
	for _, to := range []int{17, 18} {
		e, p := planWith(t, Config{}, compatSample, false, 18, 0, false)
		e.state.Plan = p
		if len(p.Skip) != 2 {
			t.Fatalf("skip %v, want the two NOT ENFORCED constraints", p.Skip)
		}
		if err := e.checkTargetRules(context.Background(), &Endpoint{DB: compatDB{}}, 18, to); err != nil {
			t.Fatal(err)
		}
		_, kept := verdicts(p)[CheckCompat(CompatVirtualColumn)]
		if want := to == 17; kept != want || (len(p.Skip) == 2) != want || (len(compatDelta(p)) > 0) != want {
			t.Errorf("into %d: items %v, skip %v; want the translation kept only into 17", to, verdicts(p), p.Skip)
		}
	}
}

// Row security the plan could not check without the target is checked at
// connect-target, said there, and recorded for the end of the run.
func TestCheckTargetRulesRowSecurity(t *testing.T) {
	for _, bypass := range []bool{false, true} {
		e, p := planWith(t, Config{}, compatSample, false, 17, 0, false)
		e.state.Plan = p
		var got []Event
		e.emit = func(ev Event) { got = append(got, ev) }
		if err := e.checkTargetRules(context.Background(), &Endpoint{DB: compatDB{bypass: bypass}}, 17, 17); err != nil {
			t.Fatal(err)
		}
		warned := len(got) == 1 && got[0].Notice.Code == NoticeRowSecurityBypassed && slices.Equal(got[0].Notice.Names, []string{"shop.orders"})
		if warned != bypass || slices.Equal(rowSecurityBypassed(p), []string{"shop.orders"}) != bypass {
			t.Errorf("bypass %v: events %v, recorded %v", bypass, got, rowSecurityBypassed(p))
		}
	}
}

func TestExplainTranslated(t *testing.T) {
	e, p := planWith(t, Config{}, compatSample, false, 18, 17, true)
	e.state.Plan = p
	rep := &VerifyReport{
		Objects:    []ObjectCheck{{Kind: "constraints", Source: 10, Target: 9}, {Kind: "indexes", Source: 3, Target: 3}},
		Mismatches: []Mismatch{{Kind: MismatchObjects, Object: "constraints", Source: 10, Target: 9}},
	}
	e.explainTranslated(rep)
	if len(rep.Mismatches) != 0 || rep.Objects[0].Translated != -1 {
		t.Errorf("report %+v: want the constraint difference explained", rep)
	}
	// One more missing than the translation explains stays a mismatch.
	rep = &VerifyReport{
		Objects:    []ObjectCheck{{Kind: "constraints", Source: 10, Target: 8}},
		Mismatches: []Mismatch{{Kind: MismatchObjects, Object: "constraints", Source: 10, Target: 8}},
	}
	e.explainTranslated(rep)
	if len(rep.Mismatches) != 1 || rep.Objects[0].Translated != -1 {
		t.Errorf("report %+v: want the mismatch kept", rep)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
