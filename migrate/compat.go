package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

// A source on PostgreSQL 18 may go into a 17 target (Prisma Postgres),
// one major version down, when every construct that 17 cannot hold is
// either translated or absent. The plan reads the source's catalog for
// them before anything is dumped (pgdb/compat.go): each kind is
// translated (the restore rewrites pg_restore's SQL with
// pgtools.Translate, or leaves an entry out and keeps its statement in the
// skipped-statements file) or blocks, naming the objects. The same check
// reports tables with row security when the target's role bypasses it.

// CompatKind is one kind of construct the check looks for (see
// pgdb.CompatKind).
type CompatKind = pgdb.CompatKind

// CompatObject is one object of the source that the check found (see
// pgdb.CompatObject).
type CompatObject = pgdb.CompatObject

// Constructs of PostgreSQL 18 that 17 cannot hold as they are (see pgdb).
const (
	CompatVirtualColumn         = pgdb.CompatVirtualColumn
	CompatNotNullNoInherit      = pgdb.CompatNotNullNoInherit
	CompatNotNullNotValid       = pgdb.CompatNotNullNotValid
	CompatNotNullNamed          = pgdb.CompatNotNullNamed
	CompatNotEnforced           = pgdb.CompatNotEnforced
	CompatTemporalKey           = pgdb.CompatTemporalKey
	CompatTemporalForeignKey    = pgdb.CompatTemporalForeignKey
	CompatNewFunction           = pgdb.CompatNewFunction
	CompatUnicodeFast           = pgdb.CompatUnicodeFast
	CompatReturningOldNew       = pgdb.CompatReturningOldNew
	CompatNotValidPartitionedFK = pgdb.CompatNotValidPartitionedFK
	CompatDatabaseCollation     = pgdb.CompatDatabaseCollation
	CompatRowSecurity           = pgdb.CompatRowSecurity
)

// compatReader is a DB that can read the facts of the 18-into-17 check
// and of the target's own rules; the adapter (pgdb.DB) is one. A DB
// without it (the engine's fakes) has nothing to report.
type compatReader interface {
	CompatFacts(ctx context.Context) ([]CompatObject, error)
	BypassesRowSecurity(ctx context.Context) (bool, error)
}

// CheckCompat returns the plan item code of a kind: "compat_" and the kind.
func CheckCompat(k CompatKind) CheckCode { return CheckCode("compat_" + string(k)) }

// CompatOf returns the kind of a plan item code made by CheckCompat, and
// whether it is one.
func CompatOf(c CheckCode) (CompatKind, bool) {
	k, ok := strings.CutPrefix(string(c), "compat_")
	return CompatKind(k), ok
}

// CheckRowSecurity: the source's tables Names have row security, and the
// target's role bypasses it (a superuser, or BYPASSRLS): the policies are
// restored but do not restrict an application connecting as that role.
var CheckRowSecurity = CheckCompat(CompatRowSecurity)

// NoticeTranslated returns the notice code of a translation the restore
// made: "translated_" and the pgtools.ChangeKind. Names are the objects.
func NoticeTranslated(k pgtools.ChangeKind) NoticeCode { return NoticeCode("translated_" + string(k)) }

// TranslatedOf returns the change kind of a notice code made by
// NoticeTranslated, and whether it is one.
func TranslatedOf(c NoticeCode) (pgtools.ChangeKind, bool) {
	k, ok := strings.CutPrefix(string(c), "translated_")
	return pgtools.ChangeKind(k), ok
}

// NoticeRowSecurityBypassed: the restored tables Names have row security,
// which the target's role bypasses (see CheckRowSecurity).
const NoticeRowSecurityBypassed NoticeCode = "row_security_bypassed"

// compatBlocks reports whether an object of kind k stops an 18-into-17
// migration.
func (e *Engine) compatBlocks(o CompatObject) bool {
	switch o.Kind {
	case CompatNewFunction, CompatUnicodeFast, CompatReturningOldNew, CompatNotValidPartitionedFK:
		return true
	case CompatTemporalKey, CompatTemporalForeignKey:
		return !e.cfg.AcceptTemporalKeys
	case CompatNotNullNoInherit:
		return o.Detail == "children"
	case CompatVirtualColumn, CompatNotNullNotValid, CompatNotNullNamed, CompatNotEnforced, CompatDatabaseCollation, CompatRowSecurity:
		return false
	}
	return false
}

// checkCompat is the plan's check of a PostgreSQL 18 source going into 17
// and of the target's own rules: it adds the 18-into-17 items and the
// row-security item to p. While the target is not known (f.targetKnown
// false) the items that would block warn, and connect-target checks
// again.
func (e *Engine) checkCompat(ctx context.Context, src, dst *Endpoint, f *planFacts, p *Plan) error {
	sr, ok := src.DB.(compatReader)
	if !ok {
		return nil
	}
	smajor, tmajor := f.source.Major(), f.target.Major()
	objs, err := sr.CompatFacts(ctx)
	if err != nil {
		return fmt.Errorf("read the source's catalog for what PostgreSQL %d cannot hold: %w", smajor-1, err)
	}
	var rls []string
	for _, o := range objs {
		if o.Kind == CompatRowSecurity {
			rls = append(rls, o.Object)
		}
	}
	if pgtools.Translates(smajor, tmajor) || tmajor == 0 && pgtools.Translates(smajor, smajor-1) {
		e.compatItems(objs, p, smajor, tmajor)
	}
	if len(rls) == 0 {
		return nil
	}
	if dst == nil {
		// Checked against the target's role when it is known (see
		// checkTargetRules).
		p.Items = append(p.Items, CheckItem{Code: CheckRowSecurity, Verdict: VerdictOK, Names: rls})
		return nil
	}
	bypass, err := bypassesRowSecurity(ctx, dst)
	if err != nil {
		return err
	}
	if bypass {
		p.Items = append(p.Items, CheckItem{Code: CheckRowSecurity, Verdict: VerdictWarn, Names: rls})
	}
	return nil
}

// compatItems adds to p one item a kind of the objects 17 cannot hold
// (row security aside), and the objects the translation leaves out to
// p.Skip. tmajor is 0 while the target is not known.
func (e *Engine) compatItems(objs []CompatObject, p *Plan, smajor, tmajor int) {
	items := map[CompatKind]*CheckItem{}
	var order []CompatKind
	for _, o := range objs {
		if o.Kind == CompatRowSecurity {
			continue
		}
		it := items[o.Kind]
		if it == nil {
			it = &CheckItem{Code: CheckCompat(o.Kind), Verdict: VerdictHandled, Source: smajor * 10000, Target: tmajor * 10000}
			items[o.Kind] = it
			order = append(order, o.Kind)
		}
		name := o.Object
		switch o.Detail {
		case "":
		case "children":
			name += " (inheritance children)"
		default:
			name += " (" + o.Detail + ")"
		}
		it.Names = append(it.Names, name)
		if e.compatBlocks(o) {
			it.Verdict = VerdictBlocks
		}
		if o.Desc != "" && !e.compatBlocks(o) {
			it.Path = e.path(SkippedFileName)
			p.Skip = append(p.Skip, SkippedObject{Desc: o.Desc, Schema: o.Schema, Name: o.Tag, Downgrade: true})
		}
	}
	for _, k := range order {
		it := *items[k]
		if tmajor == 0 && it.Verdict == VerdictBlocks {
			it.Verdict = VerdictWarn // blocks only if the target is older
		}
		p.Items = append(p.Items, it)
	}
}

// bypassesRowSecurity reports whether the target's role bypasses row
// security (false for a DB that cannot say).
func bypassesRowSecurity(ctx context.Context, dst *Endpoint) (bool, error) {
	tr, ok := dst.DB.(compatReader)
	if !ok {
		return false, nil
	}
	bypass, err := tr.BypassesRowSecurity(ctx)
	if err != nil {
		return false, fmt.Errorf("read the target role's attributes: %w", err)
	}
	return bypass, nil
}

// checkTargetRules is connect-target's check of what the plan could not
// know before the target: the version (checkDowngrade), and whether the
// target's role bypasses the source's row security, which it then says.
func (e *Engine) checkTargetRules(ctx context.Context, dst *Endpoint, from, to int) error {
	if err := e.checkDowngrade(from, to); err != nil {
		return err
	}
	p := e.state.Plan
	if p == nil {
		return nil
	}
	if !pgtools.Translates(from, to) {
		// Planned for a target that might have been older (not known
		// yet, or another key than this one): none of the translation
		// applies to this one.
		p.Skip = slices.DeleteFunc(p.Skip, func(s SkippedObject) bool { return s.Downgrade })
		p.Items = slices.DeleteFunc(p.Items, func(it CheckItem) bool {
			_, ok := CompatOf(it.Code)
			return ok && it.Code != CheckRowSecurity
		})
	}
	if p.TargetKnown {
		return nil
	}
	i := slices.IndexFunc(p.Items, func(it CheckItem) bool { return it.Code == CheckRowSecurity && it.Verdict == VerdictOK })
	if i < 0 {
		return nil
	}
	bypass, err := bypassesRowSecurity(ctx, dst)
	if err != nil || !bypass {
		return err
	}
	p.Items[i].Verdict = VerdictWarn
	e.send(Event{Kind: Warning, Step: StepConnectTarget, Notice: &Notice{Code: NoticeRowSecurityBypassed, Names: p.Items[i].Names, Count: int64(len(p.Items[i].Names))}})
	return nil
}

// checkDowngrade is connect-target's version check: a target older than
// the source is refused unless the dump can be translated for it, and
// then only if the plan, made before the target was known, found nothing
// that blocks.
func (e *Engine) checkDowngrade(from, to int) error {
	if err := pgtools.CheckDowngrade(from, to); err != nil {
		return err
	}
	p := e.state.Plan
	if p == nil || !pgtools.Translates(from, to) || p.TargetKnown {
		return nil
	}
	blocked := &Plan{Items: slices.Clone(p.Items), TargetKnown: true}
	found := false
	for i, it := range blocked.Items {
		if _, ok := CompatOf(it.Code); ok && it.Verdict == VerdictWarn && it.Code != CheckRowSecurity {
			blocked.Items[i].Verdict, found = VerdictBlocks, true
		}
	}
	if found {
		return &PlanError{Plan: blocked}
	}
	return nil
}

// compatDelta is how many more (or fewer) objects of each kind the target
// holds than the source because of the translations the plan announced:
// a NOT VALID NOT NULL becomes a CHECK constraint; NOT ENFORCED and
// temporal foreign keys are left out.
func compatDelta(p *Plan) map[string]int64 {
	d := map[string]int64{}
	if p == nil {
		return d
	}
	for _, it := range p.Items {
		k, ok := CompatOf(it.Code)
		if !ok || it.Verdict != VerdictHandled {
			continue
		}
		switch k {
		case CompatNotNullNotValid:
			d["constraints"] += int64(len(it.Names))
		case CompatNotEnforced, CompatTemporalForeignKey:
			d["constraints"] -= int64(len(it.Names))
		case CompatVirtualColumn, CompatNotNullNoInherit, CompatNotNullNamed, CompatTemporalKey, CompatNewFunction,
			CompatUnicodeFast, CompatReturningOldNew, CompatNotValidPartitionedFK, CompatDatabaseCollation, CompatRowSecurity:
			// The same number of objects, in another form (or none handled).
		}
	}
	return d
}

// explainTranslated marks in rep the object counts that differ by what
// the translation announced, and drops those from the mismatches: a
// translated object is not a missing one.
func (e *Engine) explainTranslated(rep *VerifyReport) {
	d := compatDelta(e.state.Plan)
	if len(d) == 0 {
		return
	}
	for i, oc := range rep.Objects {
		delta := d[oc.Kind]
		if delta == 0 {
			continue
		}
		rep.Objects[i].Translated = delta
		if oc.Target == oc.Source+delta {
			rep.Mismatches = slices.DeleteFunc(rep.Mismatches, func(m Mismatch) bool { return m.Kind == MismatchObjects && m.Object == oc.Kind })
		}
	}
}

// translate rewrites the SQL of a pre-data or post-data section's items
// for an older target (see pgtools.Translate) and says, by notice, what it
// changed. It does nothing unless the dump is translated for the target.
func (r *restorer) translate(sec string, items []scripted) {
	e := r.e
	if sec == sectionData || e.state.Source == nil || !pgtools.Translates(e.state.Source.ServerVersion/10000, r.target) {
		return
	}
	// The consent given when the plan was made holds for a resumed run.
	opt := pgtools.TranslateOptions{TemporalKeys: e.cfg.AcceptTemporalKeys || planHandled(e.state.Plan, CompatTemporalKey)}
	byKind := map[pgtools.ChangeKind][]string{}
	var kinds []pgtools.ChangeKind
	for i := range items {
		sql, changes := pgtools.Translate(items[i].entry.Schema, items[i].script.SQL, opt)
		items[i].script.SQL = sql
		for _, c := range changes {
			if _, ok := byKind[c.Kind]; !ok {
				kinds = append(kinds, c.Kind)
			}
			byKind[c.Kind] = append(byKind[c.Kind], c.Object)
		}
	}
	for _, k := range kinds {
		e.send(Event{Kind: Info, Step: StepRestore, Notice: &Notice{Code: NoticeTranslated(k), Names: byKind[k], Count: int64(len(byKind[k]))}})
	}
}

// untranslatable is the error of a section that pg_restore would have to
// restore itself (cause: why ppg cannot send it) when the dump must be
// translated: pg_restore would send 18's SQL to 17 as it is.
func (r *restorer) untranslatable(sec string, cause error) error {
	src := r.e.state.Source
	if src == nil || !pgtools.Translates(src.ServerVersion/10000, r.target) {
		return nil
	}
	return fmt.Errorf("restore the %s section: the dump of PostgreSQL %d must be translated for PostgreSQL %d, which only ppg's own restore does: %w",
		sec, src.ServerVersion/10000, r.target, cause)
}

// rowSecurityBypassed is the tables of the plan's row-security item.
func rowSecurityBypassed(p *Plan) []string {
	if p == nil {
		return nil
	}
	for _, it := range p.Items {
		if it.Code == CheckRowSecurity && it.Verdict == VerdictWarn {
			return it.Names
		}
	}
	return nil
}

// planHandled reports whether the plan translates the constructs of kind k
// (for temporal keys: the user accepted them).
func planHandled(p *Plan, k CompatKind) bool {
	return p != nil && slices.ContainsFunc(p.Items, func(it CheckItem) bool { return it.Code == CheckCompat(k) && it.Verdict == VerdictHandled })
}

// noticeRowSecurity repeats, once the restore is done, the plan's warning
// that the target's role bypasses the restored tables' row security.
func (e *Engine) noticeRowSecurity() {
	p := e.state.Plan
	if p == nil {
		return
	}
	for _, it := range p.Items {
		if it.Code == CheckRowSecurity && it.Verdict == VerdictWarn {
			e.send(Event{Kind: Warning, Step: StepRestore, Notice: &Notice{Code: NoticeRowSecurityBypassed, Names: it.Names, Count: int64(len(it.Names))}})
		}
	}
}
