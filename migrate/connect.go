package migrate

import (
	"context"
	"errors"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// serverReader is the role of a side's database that connecting reads:
// what the server is, and what it holds.
type serverReader interface {
	// ServerInfo reads the version, size, identity and emptiness.
	ServerInfo(ctx context.Context) (ServerInfo, error)
	// Tables lists the tables whose rows pg_dump copies.
	Tables(ctx context.Context) ([]Table, error)
}

func (e *Engine) checkTools(ctx context.Context) (*Summary, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	ts := e.pick
	return &Summary{Tools: &ts}, nil
}

// ensureTools finds the tools once per run (a resumed run finds them again:
// they may have been upgraded meanwhile).
func (e *Engine) ensureTools(ctx context.Context) error {
	if e.pick.Dump.Path != "" {
		return nil
	}
	found, err := e.cfg.Finder.Find(ctx)
	if err != nil {
		return err
	}
	e.found = found
	minMajor := 0
	if e.state.Source != nil {
		minMajor = e.state.Source.ServerVersion / 10000
	}
	ts, err := pgtools.Choose(found, minMajor)
	if err != nil {
		return err
	}
	e.pick = ts
	return nil
}

// openSide asks for side's key until one opens a connection, or the
// prompter gives up. On a resumed migration the key must be the one the
// migration started with, and the target must never be the source.
func (e *Engine) openSide(ctx context.Context, side Side) (*Endpoint, error) {
	return e.openSideWith(ctx, side, e.ask.Key, nil)
}

// openSideEarly asks for side's key before it is needed; it returns
// ErrLater when the user will give it later (or the prompter cannot ask
// early).
func (e *Engine) openSideEarly(ctx context.Context, side Side) (*Endpoint, error) {
	ep, ok := e.ask.(EarlyPrompter)
	if !ok {
		return nil, ErrLater
	}
	return e.openSideWith(ctx, side, ep.EarlyKey, nil)
}

// openSideWith asks key for side's key until one opens, starting with
// problem (why an earlier key was refused; nil for none). A target that is
// the source, by key or by identity, is refused and asked again.
func (e *Engine) openSideWith(ctx context.Context, side Side, key func(context.Context, Side, error) (string, error), problem error) (*Endpoint, error) {
	if cred, ok := e.creds[side]; ok {
		// A retry reopens the side with the key of this run.
		stop := e.waiting(side)
		ep, err := e.open.Open(ctx, side, cred)
		stop()
		if err == nil {
			return ep, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	for {
		raw, err := key(ctx, side, problem)
		if err != nil {
			return nil, err
		}
		cred, err := tunnel.ParseKey(raw)
		if err != nil {
			problem = err
			continue
		}
		hash := e.state.HashKey(secretOf(cred))
		if rec := e.record(side); rec != nil && rec.KeyHash != "" && rec.KeyHash != hash {
			problem = &KeyChangedError{Side: side}
			continue
		}
		if side == Target && e.state.Source != nil && e.state.Source.KeyHash == hash {
			problem = &TargetRefusedError{Reason: RefuseIsSource, SameKey: true}
			continue
		}
		stop := e.waiting(side)
		ep, err := e.open.Open(ctx, side, cred)
		if err != nil {
			stop()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			problem = err
			continue
		}
		same, err := e.isSource(ctx, side, ep)
		stop()
		if err != nil || same {
			ep.Close()
			if err != nil {
				return nil, err
			}
			problem = &TargetRefusedError{Reason: RefuseIsSource}
			continue
		}
		if e.creds == nil {
			e.creds = map[Side]tunnel.Credential{}
		}
		e.creds[side] = cred
		return ep, nil
	}
}

// isSource reports whether ep, opened for the target, is the source
// database itself (another URL or key for the same server and database).
func (e *Engine) isSource(ctx context.Context, side Side, ep *Endpoint) (bool, error) {
	src := e.state.Source
	if side != Target || src == nil || src.SystemID == "" {
		return false, nil
	}
	info, err := ep.DB.ServerInfo(ctx)
	if err != nil {
		return false, err
	}
	return info.SystemID == src.SystemID && info.DatabaseOID == src.DatabaseOID, nil
}

func secretOf(c tunnel.Credential) string {
	if c.Direct() {
		return c.URL
	}
	return c.APIKey
}

func (e *Engine) record(side Side) *Database {
	if side == Source {
		return e.state.Source
	}
	return e.state.Target
}

func describe(ep *Endpoint, info ServerInfo, hash string) *Database {
	kind := "api-key"
	if ep.Cred.Direct() {
		kind = "direct"
	}
	return &Database{
		KeyHash:       hash,
		Kind:          kind,
		Display:       ep.Cred.String(),
		ServerVersion: info.VersionNum,
		Size:          info.Size,
		SystemID:      info.SystemID,
		DatabaseOID:   info.DatabaseOID,
	}
}

func (e *Engine) connectSource(ctx context.Context) (*Summary, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, err
	}
	e.src.Close()
	e.src = nil
	ep, err := e.openSide(ctx, Source)
	if err != nil {
		return nil, err
	}
	e.src = ep
	stop := e.waiting(Source)
	info, err := ep.DB.ServerInfo(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	if e.pick, err = pgtools.Choose(e.found, info.Major()); err != nil {
		stop()
		return nil, err
	}
	db, err := e.describeSource(ctx, ep, info)
	stop()
	if err != nil {
		return nil, err
	}
	// The target's key now, if the user has it, so that the plan checks
	// both databases before the dump. (The source's record must be in
	// place first: the target must not be the source.)
	e.state.Source = db
	if e.dst == nil && e.state.Target == nil {
		dst, err := e.openSideEarly(ctx, Target)
		switch {
		case errors.Is(err, ErrLater):
		case err != nil:
			e.state.Source = nil
			return nil, err
		default:
			e.dst = dst
		}
	}
	plan, err := e.plan(ctx, ep, e.dst, false)
	if err != nil {
		e.state.Source = nil
		return nil, err
	}
	if plan.Blocked() {
		e.state.Source = nil
		return nil, &PlanError{Plan: plan}
	}
	ts := e.pick
	ok, err := e.confirmSource(ctx, Question{Kind: ConfirmSource, Source: db, Tools: &ts, Plan: plan})
	if err != nil {
		e.state.Source = nil
		return nil, err
	}
	if !ok {
		e.state.Source = nil
		return nil, ErrDeclined
	}
	e.state.Plan = plan
	return &Summary{Database: db, Plan: plan}, nil
}

// describeSource is the source's record: its server, size and tables.
func (e *Engine) describeSource(ctx context.Context, ep *Endpoint, info ServerInfo) (*Database, error) {
	tables, err := ep.DB.Tables(ctx)
	if err != nil {
		return nil, err
	}
	db := describe(ep, info, e.state.HashKey(secretOf(ep.Cred)))
	db.Tables = len(tables)
	for _, t := range tables {
		db.EstimatedRows += max(t.EstimatedRows, 0)
		db.DataBytes += t.Bytes
	}
	return db, nil
}

// ensureSource opens the source for a step after connect-source (a resumed
// run asks for the key again: keys are never stored).
func (e *Engine) ensureSource(ctx context.Context) (*Endpoint, error) {
	if e.src != nil {
		return e.src, nil
	}
	ep, err := e.openSide(ctx, Source)
	if err != nil {
		return nil, err
	}
	e.src = ep
	return ep, nil
}

// keysAhead asks, at the first step of a resumed run, for the keys that
// later steps need, so that the user gives them all at the start and the
// rest of the run needs no one: the source's first, as a new migration
// asks them (its write counters are read by the verify step), then the
// target's when the run resumes at the restore. The source's key is
// checked (it opens the database) and kept for this run; its connection
// is closed until a step needs it.
func (e *Engine) keysAhead(ctx context.Context, st Step) error {
	switch st {
	case StepCheckArchive, StepConnectTarget, StepRestore:
	default:
		return nil // the step asks for what it needs itself
	}
	if _, ok := e.creds[Source]; !ok && e.state.Source != nil && e.state.Step(StepConnectSource).Status == Done {
		ep, err := e.openSide(ctx, Source)
		if err != nil {
			return err
		}
		ep.Close()
	}
	if st == StepRestore {
		if _, err := e.ensureTarget(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ensureTarget opens the target for a step after connect-target.
func (e *Engine) ensureTarget(ctx context.Context) (*Endpoint, error) {
	if e.dst != nil {
		return e.dst, nil
	}
	ep, err := e.openSide(ctx, Target)
	if err != nil {
		return nil, err
	}
	e.dst = ep
	return ep, nil
}

func (e *Engine) connectTarget(ctx context.Context) (*Summary, error) {
	e.dst.Close()
	e.dst = nil
	// The source is no longer needed: free its tunnel.
	e.src.Close()
	e.src = nil
	var problem error
	for {
		sum, declined, err := e.tryTarget(ctx, problem)
		if !declined {
			return sum, err
		}
		// Not confirmed: another key, rather than the end (a front end
		// that cannot ask again returns the refusal).
		e.dst.Close()
		e.dst = nil
		delete(e.creds, Target)
		if e.state.Target != nil && e.state.Target.KeyHash != "" {
			return nil, err // a resumed migration must keep its target
		}
		problem = err
	}
}

// tryTarget opens the target and checks it; problem is why the previous
// one was refused. declined is set when the user did not confirm a target
// that is not empty.
func (e *Engine) tryTarget(ctx context.Context, problem error) (_ *Summary, declined bool, _ error) {
	ep, err := e.openSideWith(ctx, Target, e.ask.Key, problem)
	if err != nil {
		return nil, false, err
	}
	e.dst = ep
	stop := e.waiting(Target)
	info, err := ep.DB.ServerInfo(ctx)
	stop()
	if err != nil {
		return nil, false, err
	}
	src := e.state.Source
	if src != nil {
		if err := e.checkTargetRules(ctx, ep, src.ServerVersion/10000, info.Major()); err != nil {
			return nil, false, err
		}
	}
	db := describe(ep, info, e.state.HashKey(secretOf(ep.Cred)))
	db.Empty = info.UserObjects == 0 && len(info.UserSchemas) == 0
	if prev := e.state.Target; !db.Empty && prev != nil && prev.Empty && prev.KeyHash == db.KeyHash &&
		e.state.Restore != nil && len(e.state.Restore.StartedSections) > 0 {
		// What the target holds is this migration's interrupted restore:
		// the restore step empties it and starts again.
		db.Empty = true
		e.state.Target = db
		return &Summary{Database: db, TargetResumed: true}, false, nil
	}
	if p := e.state.Previous; !db.Empty && p != nil && p.SystemID != "" && p.SystemID == info.SystemID && p.DatabaseOID == info.DatabaseOID {
		// The earlier migration's restore, which this one started over
		// from: empty it, if the user says so.
		ok := e.cfg.ResetTarget
		if !ok {
			ok, err = e.ask.Confirm(ctx, Question{Kind: ConfirmResetTarget, Objects: info.UserObjects, Schemas: info.UserSchemas})
			if err != nil {
				return nil, false, err
			}
		}
		if ok {
			db.Empty = true
			e.state.Target = db
			e.state.Restore = &RestoreInfo{StartedSections: []string{sectionPreData}}
			return &Summary{Database: db, TargetResumed: true}, false, nil
		}
	}
	if !db.Empty {
		ok := e.cfg.AllowNonEmptyTarget
		if !ok {
			ok, err = e.ask.Confirm(ctx, Question{Kind: ConfirmNonEmptyTarget, Objects: info.UserObjects, Schemas: info.UserSchemas})
			if err != nil {
				return nil, false, err
			}
		}
		if !ok {
			return nil, true, &TargetRefusedError{Reason: RefuseNotEmpty}
		}
		db.ConfirmedNonEmpty = true
	}
	e.state.Target = db
	return &Summary{Database: db}, false, nil
}

// slowConnect is how long opening a database and its first checks may
// take before ppg says that it is still waiting.
const slowConnect = 5 * time.Second

// waiting says, once slowConnect has passed and until stop is called,
// that ppg still waits for side: a far or busy server, or a lock held by
// another session that the checks wait for. Nothing else changes: the
// wait goes on until it ends or ctx does.
func (e *Engine) waiting(side Side) (stop func()) {
	step := StepConnectSource
	if side == Target {
		step = StepConnectTarget
	}
	t := time.AfterFunc(slowConnect, func() {
		e.send(Event{Kind: Info, Step: step, Notice: &Notice{Code: NoticeSlowConnect, Side: side, Count: int64(slowConnect / time.Second)}})
	})
	return func() { t.Stop() }
}
