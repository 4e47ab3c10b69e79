package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ppg-cli/ppg/pgtools"
)

// The plan is what the engine checks once it knows both databases, before
// anything long starts: each item is fine, handled in a stated way, or
// blocks the migration (with what to do). The front ends show it before
// the first "go", and --dry-run prints it and stops.

// Verdict is a plan item's outcome.
type Verdict string

// Verdicts.
const (
	VerdictOK      Verdict = "ok"
	VerdictHandled Verdict = "handled"
	VerdictWarn    Verdict = "warn"
	VerdictBlocks  Verdict = "blocks"
)

// CheckCode names a plan item.
type CheckCode string

// Plan items.
const (
	// CheckVersions: Source and Target are the server versions; blocks a
	// target older than the source.
	CheckVersions CheckCode = "versions"
	// CheckSwapped: the source looks like a new, empty database (no tables,
	// or a newer server than Config.SourceNewestMajor) — were the keys
	// swapped?
	CheckSwapped CheckCode = "swapped"
	// CheckSameDatabase: the target is the source itself.
	CheckSameDatabase CheckCode = "same_database"
	// CheckTargetEmpty: Count objects in the target (Names: its schemas).
	CheckTargetEmpty CheckCode = "target_empty"
	// CheckDiskSpace: Count bytes free in Path, Of the dump's estimate.
	CheckDiskSpace CheckCode = "disk_space"
	// CheckExtensions: Names are source extensions the target does not
	// offer.
	CheckExtensions CheckCode = "extensions"
	// CheckRoles: Names are the objects (policies) that name roles the
	// target lacks (Roles); they are skipped and written to SkippedFile.
	CheckRoles CheckCode = "roles"
	// CheckEventTriggers: Names are the source's event triggers, which need
	// a superuser: skipped (and written to SkippedFile) unless the target
	// user is one.
	CheckEventTriggers CheckCode = "event_triggers"
	// CheckPublications: Names are publications and subscriptions, which
	// are not migrated.
	CheckPublications CheckCode = "publications"
	// CheckLargeObjects: Count large objects, restored with their OIDs.
	CheckLargeObjects CheckCode = "large_objects"
	// CheckConnections: the target allows Count more connections; the
	// restore's jobs are Of.
	CheckConnections CheckCode = "connections"
)

// CheckItem is one item of the plan.
type CheckItem struct {
	Code    CheckCode `json:"code"`
	Verdict Verdict   `json:"verdict"`
	Names   []string  `json:"names,omitempty"`
	Roles   []string  `json:"roles,omitempty"`
	Count   int64     `json:"count,omitempty"`
	Of      int64     `json:"of,omitempty"`
	Path    string    `json:"path,omitempty"`
	// Source and Target are server_version_num values, for CheckVersions
	// and CheckSwapped.
	Source int `json:"source,omitempty"`
	Target int `json:"target,omitempty"`
	// Blockers say why a live migration is impossible, for CheckLive.
	Blockers []LiveBlocker `json:"blockers,omitempty"`
}

// Plan is the preflight's result.
type Plan struct {
	Items []CheckItem `json:"items"`
	// TargetKnown is false when the target's key was not given yet: the
	// items about the target are then left for later.
	TargetKnown bool `json:"target_known"`
	// Jobs is the number of restore jobs the target's connections allow.
	Jobs int `json:"jobs,omitempty"`
	// Skip lists the archive entries (by kind, schema and name as
	// pg_restore --list shows them) that will not be restored, and why.
	Skip []SkippedObject `json:"skip,omitempty"`
	// Live is the offer of a live migration, when the user may still
	// choose it (Config.OfferLive).
	Live *LiveOffer `json:"live,omitempty"`
}

// SkippedObject is an object the restore leaves out: its statement goes to
// the skipped-statements file.
type SkippedObject struct {
	Desc   string `json:"kind"`
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
	// Roles are the missing roles it names (policies).
	Roles []string `json:"roles,omitempty"`
	// Superuser is set when it needs a superuser (event triggers).
	Superuser bool `json:"superuser,omitempty"`
	// Downgrade is set when the translation for an older target leaves it
	// out: that target has no form for it (see CompatNotEnforced).
	Downgrade bool `json:"downgrade,omitempty"`
}

// Blocked reports whether an item blocks the migration.
func (p *Plan) Blocked() bool {
	return slices.ContainsFunc(p.Items, func(it CheckItem) bool { return it.Verdict == VerdictBlocks })
}

// PlanError is a plan with items that block the migration.
type PlanError struct{ Plan *Plan }

func (e *PlanError) Error() string {
	var codes []string
	for _, it := range e.Plan.Items {
		if it.Verdict == VerdictBlocks {
			codes = append(codes, string(it.Code))
		}
	}
	return fmt.Sprintf("the preflight check blocks the migration: %v", codes)
}

// SkippedFileName is the file, beside the state file, that holds the
// statements of the objects the restore left out.
const SkippedFileName = "ppg-skipped.sql"

// Facts the plan reads from each side.

// factsReader is the role of a side's database that the plan reads.
type factsReader interface {
	// SourceFacts reads what the plan checks of a source.
	SourceFacts(ctx context.Context) (SourceFacts, error)
	// TargetFacts reads what the plan checks of a target.
	TargetFacts(ctx context.Context) (TargetFacts, error)
}

// Preflight opens both sides (asking for their keys), returns the plan and
// closes them. It writes nothing, neither to the databases nor to the
// working folder: it is --dry-run.
func (e *Engine) Preflight(ctx context.Context) (*Plan, error) {
	e.state = NewState(e.cfg.Now())
	defer func() {
		e.src.Close()
		e.dst.Close()
	}()
	src, info, err := e.openSourceAndTools(ctx)
	if err != nil {
		return nil, err
	}
	db, err := e.describeSource(ctx, src, info)
	if err != nil {
		return nil, err
	}
	e.state.Source = db
	dst, err := e.openSide(ctx, Target)
	if err != nil {
		return nil, err
	}
	e.dst = dst
	return e.plan(ctx, src, dst, true)
}

// planFacts is what the plan's checks read: the source's, and the
// target's when it is known.
type planFacts struct {
	source      ServerInfo
	sourceFacts SourceFacts
	tables      []Table
	// data is the tables' size on the source.
	data int64
	// targetKnown is set when target and targetFacts were read.
	targetKnown bool
	target      ServerInfo
	targetFacts TargetFacts
}

// readPlanFacts reads the facts of src and, if not nil, dst.
func readPlanFacts(ctx context.Context, src, dst *Endpoint) (*planFacts, error) {
	f := &planFacts{targetKnown: dst != nil}
	var err error
	if f.source, err = src.DB.ServerInfo(ctx); err != nil {
		return nil, err
	}
	if f.sourceFacts, err = src.DB.SourceFacts(ctx); err != nil {
		return nil, fmt.Errorf("read the source's extensions, policies and triggers: %w", err)
	}
	if f.tables, err = src.DB.Tables(ctx); err != nil {
		return nil, err
	}
	for _, t := range f.tables {
		f.data += t.Bytes
	}
	if dst != nil {
		if f.target, err = dst.DB.ServerInfo(ctx); err != nil {
			return nil, err
		}
		if f.targetFacts, err = dst.DB.TargetFacts(ctx); err != nil {
			return nil, fmt.Errorf("read the target's extensions, roles and limits: %w", err)
		}
	}
	return f, nil
}

// plan checks the source against the target (dst may be nil: not known
// yet). strict blocks a target that is not empty (unless allowed); else a
// migration asks about it when it connects to the target.
func (e *Engine) plan(ctx context.Context, src, dst *Endpoint, strict bool) (*Plan, error) {
	offerCtx, cancelOffer := context.WithCancel(ctx)
	defer cancelOffer()
	offer := e.startLiveOffer(offerCtx, src)
	f, err := readPlanFacts(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	p := &Plan{TargetKnown: f.targetKnown, Jobs: e.cfg.Jobs}
	p.Items = append(p.Items, e.checkVersions(f)...)
	if f.targetKnown {
		p.Items = append(p.Items, e.checkSameAndEmpty(f, strict)...)
	}
	p.Items = append(p.Items, e.checkDiskSpace(f))
	if f.targetKnown {
		p.Items = append(p.Items, checkExtensions(f), e.checkRoles(f, p))
		if it, ok := e.checkEventTriggers(f, p); ok {
			p.Items = append(p.Items, it)
		}
		if it, ok := e.checkConnections(f, p); ok {
			p.Items = append(p.Items, it)
		}
	}
	if err := e.checkCompat(ctx, src, dst, f, p); err != nil {
		return nil, err
	}
	sf := f.sourceFacts
	if names := append(append([]string(nil), sf.Publications...), sf.Subscriptions...); len(names) > 0 {
		p.Items = append(p.Items, CheckItem{Code: CheckPublications, Verdict: VerdictHandled, Names: names})
	}
	if sf.LargeObjects > 0 {
		p.Items = append(p.Items, CheckItem{Code: CheckLargeObjects, Verdict: VerdictOK, Count: sf.LargeObjects})
	}
	if e.cfg.Live != nil {
		items, err := e.checkLive(ctx, src)
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, items...)
	}
	p.Live = offer()
	return p, nil
}

// checkVersions blocks a target older than the source, and warns of keys
// that look swapped.
func (e *Engine) checkVersions(f *planFacts) []CheckItem {
	v := CheckItem{Code: CheckVersions, Verdict: VerdictOK, Source: f.source.VersionNum, Target: f.target.VersionNum}
	if f.targetKnown && pgtools.CheckDowngrade(f.source.Major(), f.target.Major()) != nil {
		v.Verdict = VerdictBlocks
	}
	items := []CheckItem{v}
	if len(f.tables) == 0 || e.cfg.SourceNewestMajor > 0 && f.source.Major() > e.cfg.SourceNewestMajor {
		items = append(items, CheckItem{Code: CheckSwapped, Verdict: VerdictWarn, Source: f.source.VersionNum, Target: f.target.VersionNum, Count: int64(len(f.tables))})
	}
	return items
}

// checkSameAndEmpty blocks a target that is the source itself, and warns
// of (or, strict, blocks) a target that is not empty.
func (e *Engine) checkSameAndEmpty(f *planFacts, strict bool) []CheckItem {
	var items []CheckItem
	if f.target.SystemID != "" && f.target.SystemID == f.source.SystemID && f.target.DatabaseOID == f.source.DatabaseOID {
		items = append(items, CheckItem{Code: CheckSameDatabase, Verdict: VerdictBlocks})
	}
	te := CheckItem{Code: CheckTargetEmpty, Verdict: VerdictOK, Count: f.target.UserObjects, Names: f.target.UserSchemas}
	if f.target.UserObjects > 0 || len(f.target.UserSchemas) > 0 {
		te.Verdict = VerdictWarn
		if strict && !e.cfg.AllowNonEmptyTarget {
			te.Verdict = VerdictBlocks
		}
	}
	return append(items, te)
}

// checkDiskSpace weighs the working folder's free space against the
// dump's estimate.
func (e *Engine) checkDiskSpace(f *planFacts) CheckItem {
	free := CheckItem{Code: CheckDiskSpace, Verdict: VerdictOK, Path: e.cfg.Dir}
	est, warn, serr := checkFreeSpace(e.cfg.Dir, f.data, 0)
	free.Count, free.Of = est.Free, est.Estimate
	var ds *DiskSpaceError
	switch {
	case errors.As(serr, &ds):
		free.Verdict, free.Count, free.Of = VerdictBlocks, ds.Free, ds.Need
	case warn:
		free.Verdict = VerdictWarn
	}
	return free
}

// checkExtensions blocks source extensions the target does not offer.
func checkExtensions(f *planFacts) CheckItem {
	var missing []string
	for _, x := range f.sourceFacts.Extensions {
		if x != "plpgsql" && !slices.Contains(f.targetFacts.Available, x) {
			missing = append(missing, x)
		}
	}
	ext := CheckItem{Code: CheckExtensions, Verdict: VerdictOK, Names: missing}
	if len(missing) > 0 {
		ext.Verdict = VerdictBlocks
	}
	return ext
}

// checkRoles finds the policies for roles the target lacks: the rest is
// restored, and those are added to p.Skip, for the skipped file. Never
// widen access.
func (e *Engine) checkRoles(f *planFacts, p *Plan) CheckItem {
	roles := CheckItem{Code: CheckRoles, Verdict: VerdictOK, Path: e.path(SkippedFileName)}
	for _, pol := range f.sourceFacts.Policies {
		var lacks []string
		for _, r := range pol.Roles {
			if r != "public" && !slices.Contains(f.targetFacts.Roles, r) {
				lacks = append(lacks, r)
			}
		}
		if len(lacks) == 0 {
			continue
		}
		roles.Names = append(roles.Names, pol.Schema+"."+pol.Table+" "+pol.Name)
		for _, r := range lacks {
			if !slices.Contains(roles.Roles, r) {
				roles.Roles = append(roles.Roles, r)
			}
		}
		p.Skip = append(p.Skip, SkippedObject{Desc: "POLICY", Schema: pol.Schema, Name: pol.Table + " " + pol.Name, Roles: lacks})
	}
	if len(roles.Names) > 0 {
		roles.Verdict = VerdictHandled
	}
	return roles
}

// checkEventTriggers skips the source's event triggers (adding them to
// p.Skip) unless the target's user is a superuser; ok is false when the
// source has none.
func (e *Engine) checkEventTriggers(f *planFacts, p *Plan) (CheckItem, bool) {
	sf := f.sourceFacts
	if len(sf.EventTriggers) == 0 {
		return CheckItem{}, false
	}
	et := CheckItem{Code: CheckEventTriggers, Verdict: VerdictOK, Names: sf.EventTriggers, Path: e.path(SkippedFileName)}
	if !f.targetFacts.Superuser {
		et.Verdict = VerdictHandled
		for _, n := range sf.EventTriggers {
			p.Skip = append(p.Skip, SkippedObject{Desc: "EVENT TRIGGER", Name: n, Superuser: true})
		}
	}
	return et, true
}

// checkConnections fits the restore's jobs, the engine's own connection
// and its watcher into the target's free connections, lowering p.Jobs;
// ok is false when they are unknown.
func (e *Engine) checkConnections(f *planFacts, p *Plan) (CheckItem, bool) {
	free := f.targetFacts.FreeConnections
	if free < 0 {
		return CheckItem{}, false
	}
	c := CheckItem{Code: CheckConnections, Verdict: VerdictOK, Count: int64(free), Of: int64(e.cfg.Jobs)}
	if room := free - 3; room < e.cfg.Jobs {
		p.Jobs = max(room, 1)
		c.Of = int64(p.Jobs)
		c.Verdict = VerdictHandled
		if free < 3 {
			c.Verdict = VerdictBlocks
		}
	}
	return c, true
}

// openSourceAndTools finds the tools, opens the source (asking for its key)
// and picks the tools that suit its server version.
func (e *Engine) openSourceAndTools(ctx context.Context) (*Endpoint, ServerInfo, error) {
	if err := e.ensureTools(ctx); err != nil {
		return nil, ServerInfo{}, err
	}
	src, err := e.openSide(ctx, Source)
	if err != nil {
		return nil, ServerInfo{}, err
	}
	e.src = src
	info, err := src.DB.ServerInfo(ctx)
	if err != nil {
		return nil, ServerInfo{}, err
	}
	if e.pick, err = pgtools.Choose(e.found, info.Major()); err != nil {
		return nil, ServerInfo{}, err
	}
	return src, info, nil
}
