package migrate

import (
	"context"
	"slices"
	"time"

	"github.com/ppg-cli/ppg/live"
)

// A front end that can ask (the wizard) offers live migration on the
// plan: the plan probes the source, creating nothing, and says whether
// live is possible (Plan.Live); the user then chooses the frozen copy or
// live, and for live whether the tables without a primary key get
// REPLICA IDENTITY FULL. The choice is recorded in the state file, so a
// resumed run goes on as chosen.

// LiveOffer is what the plan found of live migration when the user may
// still choose it (Config.OfferLive). A probe that fails is not a failed
// plan: Error says why live is not offered.
type LiveOffer struct {
	// Possible is set when nothing blocks a live migration.
	Possible bool `json:"possible"`
	// Blockers say why it is impossible.
	Blockers []LiveBlocker `json:"blockers,omitempty"`
	// Error is why the probe itself failed (it never holds a password).
	Error string `json:"error,omitempty"`
	// NoIdentity are the tables without a primary key or replica
	// identity: each needs consent to REPLICA IDENTITY FULL, or is copied
	// once and checked at cutover.
	NoIdentity []string `json:"no_identity,omitempty"`
	// Unlogged tables and LargeObjects are copied once, not streamed.
	Unlogged     []string `json:"unlogged,omitempty"`
	LargeObjects int64    `json:"large_objects,omitempty"`
	// Source is the source's server_version_num.
	Source int `json:"source,omitempty"`
	// TookMS is how long the probe took.
	TookMS int64 `json:"took_ms"`
}

// PlanAnswer is a PlanChooser's answer to ConfirmSource.
type PlanAnswer struct {
	// Go is yes: dump the source.
	Go bool
	// Live is set when the user chose a live migration, with the
	// consent given for the tables without a primary key.
	Live *LiveOptions
}

// PlanChooser is a Prompter that answers ConfirmSource with the choice of
// a live migration, when the plan offers one (Plan.Live.Possible). A
// Prompter that is not one is asked Confirm: the migration is a frozen
// copy.
type PlanChooser interface {
	ChoosePlan(ctx context.Context, q Question) (PlanAnswer, error)
}

// LiveOfferTimeout bounds the offer's probe: a source that does not
// answer in time is "live not available", and the frozen copy goes on.
const LiveOfferTimeout = 5 * time.Second

// offersLive reports whether the plan probes for a live offer: the front
// end can choose, and the migration is not a live one already.
func (e *Engine) offersLive() bool {
	return e.cfg.OfferLive && e.cfg.Live == nil && !e.isLive()
}

// startLiveOffer starts probing src for the offer beside the plan's own
// reads, and returns the function that waits for it (nil when there is no
// offer). Cancelling ctx ends the probe.
func (e *Engine) startLiveOffer(ctx context.Context, src *Endpoint) func() *LiveOffer {
	if !e.offersLive() {
		return func() *LiveOffer { return nil }
	}
	ch := make(chan *LiveOffer, 1)
	srcURL := connURL(src.Conn)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, LiveOfferTimeout)
		defer cancel()
		ch <- probeOffer(pctx, srcURL)
	}()
	return func() *LiveOffer { return <-ch }
}

// probeOffer probes the source (creating nothing) for the offer.
func probeOffer(ctx context.Context, srcURL string) *LiveOffer {
	start := time.Now()
	p, err := live.ProbeSource(ctx, srcURL)
	o := &LiveOffer{TookMS: time.Since(start).Milliseconds()}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		o.Error = err.Error()
		return o
	}
	o.Source = p.ServerVersion
	for _, b := range p.Blockers {
		o.Blockers = append(o.Blockers, LiveBlocker{Kind: string(b.Kind), Have: b.Have, Need: b.Need, Tables: tableNames(b.Tables)})
	}
	o.Possible = len(o.Blockers) == 0
	o.NoIdentity = tableNames(p.NoIdentity())
	o.Unlogged = tableNames(p.Unlogged())
	o.LargeObjects = p.LargeObjects
	return o
}

// offerItems are the plan's live items for the offer o chosen with opts,
// as checkLive gives them for --live.
func offerItems(o *LiveOffer, opts *LiveOptions) []CheckItem {
	items := []CheckItem{{Code: CheckLive, Verdict: VerdictOK, Source: o.Source}}
	var full, once []string
	for _, t := range o.NoIdentity {
		if opts.consents(t) {
			full = append(full, t)
		} else {
			once = append(once, t)
		}
	}
	if len(full) > 0 {
		items = append(items, CheckItem{Code: CheckLiveIdentityFull, Verdict: VerdictHandled, Names: full})
	}
	if len(once) > 0 {
		items = append(items, CheckItem{Code: CheckLiveCopyOnce, Verdict: VerdictWarn, Names: once})
	}
	if len(o.Unlogged) > 0 || o.LargeObjects > 0 {
		items = append(items, CheckItem{Code: CheckLiveNotStreamed, Verdict: VerdictWarn, Names: o.Unlogged, Count: o.LargeObjects})
	}
	return items
}

// consents reports whether o consents to REPLICA IDENTITY FULL on the
// table named name (schema.name).
func (o *LiveOptions) consents(name string) bool {
	if o == nil {
		return false
	}
	return o.AllFullIdentity || slices.Contains(o.FullIdentity, name)
}

// confirmSource asks whether to dump the source, and, when the plan
// offers live and the front end can choose, how: a live choice makes
// this migration a live one.
func (e *Engine) confirmSource(ctx context.Context, q Question) (bool, error) {
	pc, can := e.ask.(PlanChooser)
	if !can || q.Plan == nil || q.Plan.Live == nil || !q.Plan.Live.Possible {
		return e.ask.Confirm(ctx, q)
	}
	a, err := pc.ChoosePlan(ctx, q)
	if err != nil || !a.Go {
		return false, err
	}
	if a.Live != nil {
		e.goLive(a.Live, q.Plan)
	}
	return true, nil
}

// goLive makes this new migration a live one with opts: the state
// records it with the consent given (it is written once the source is
// confirmed), and the plan gets the live items.
func (e *Engine) goLive(opts *LiveOptions, p *Plan) {
	e.cfg.Live = opts
	e.startLive(e.previous)
	p.Items = append(p.Items, offerItems(p.Live, opts)...)
}

// liveConsent is the consent to REPLICA IDENTITY FULL: the flags' and
// what the state recorded of an earlier run's.
func (e *Engine) liveConsent() *LiveOptions {
	o := &LiveOptions{}
	if c := e.cfg.Live; c != nil {
		o.AllFullIdentity = c.AllFullIdentity
		o.FullIdentity = append(o.FullIdentity, c.FullIdentity...)
	}
	if ls := e.state.Live; ls != nil {
		o.AllFullIdentity = o.AllFullIdentity || ls.ConsentAll
		for _, t := range ls.Consent {
			if !slices.Contains(o.FullIdentity, t) {
				o.FullIdentity = append(o.FullIdentity, t)
			}
		}
	}
	return o
}

// recordConsent writes the consent of cfg.Live into the live state.
func (e *Engine) recordConsent() {
	c, ls := e.cfg.Live, e.state.Live
	if c == nil || ls == nil {
		return
	}
	ls.ConsentAll = ls.ConsentAll || c.AllFullIdentity
	for _, t := range c.FullIdentity {
		if !slices.Contains(ls.Consent, t) {
			ls.Consent = append(ls.Consent, t)
		}
	}
}
