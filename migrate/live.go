package migrate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"

	"github.com/ppg-cli/ppg/live"
	"github.com/ppg-cli/ppg/pgtools"
)

// A live migration copies the source as of a replication slot's exported
// snapshot, restores and verifies that copy as a frozen migration does,
// then streams every change committed since (the step stream) until the
// user asks for cutover. Package live does the replication; the engine
// records in the state file what must survive a restart (LiveState).

// StepStream streams the source's changes to the target until cutover
// is asked for, then cuts over; a live migration's last step.
const StepStream Step = "stream"

// Plan items of a live migration.
const (
	// CheckLive: whether the source can stream (Blockers say why not;
	// Source is its server_version_num).
	CheckLive CheckCode = "live"
	// CheckLiveIdentityFull: the tables Names, without a primary key or
	// replica identity, are set to REPLICA IDENTITY FULL with consent.
	CheckLiveIdentityFull CheckCode = "live_identity_full"
	// CheckLiveCopyOnce: the tables Names, without a primary key or replica
	// identity and without consent, are copied once and checked at
	// cutover.
	CheckLiveCopyOnce CheckCode = "live_copy_once"
	// CheckLiveNotStreamed: the unlogged tables Names and Count large
	// objects are copied once and not streamed.
	CheckLiveNotStreamed CheckCode = "live_not_streamed"
)

// Notices of a live migration.
const (
	// NoticeLiveStatus: Event.Live holds the stream's facts.
	NoticeLiveStatus NoticeCode = "live_status"
	// NoticeLiveRetry: the stream lost a connection (Cause) and retries.
	NoticeLiveRetry NoticeCode = "live_retry"
	// NoticeLiveSlotLeft: the migration stopped and its slot (Path) stays
	// on the source, holding Count bytes of WAL; Cause is the SQL that
	// removes slot and publication.
	NoticeLiveSlotLeft NoticeCode = "live_slot_left"
	// NoticeLiveCutoverAsked: cutover was asked for; the stream catches up.
	NoticeLiveCutoverAsked NoticeCode = "live_cutover_asked"
	// NoticeLiveTriggersFire: the target refused session_replication_role
	// = replica: its triggers fire on every applied change.
	NoticeLiveTriggersFire NoticeCode = "live_triggers_fire"
)

// liveNoticeCodes are the notices above, for NoticeCodes.
var liveNoticeCodes = []NoticeCode{NoticeLiveStatus, NoticeLiveRetry, NoticeLiveSlotLeft, NoticeLiveCutoverAsked, NoticeLiveTriggersFire}

// LiveBlocker is one reason the source cannot stream, with the value it
// has and the one it needs (see live.Blocker).
type LiveBlocker struct {
	Kind   string   `json:"kind"`
	Have   string   `json:"have,omitempty"`
	Need   string   `json:"need,omitempty"`
	Tables []string `json:"tables,omitempty"`
}

// LiveStatus is the stream's state at one moment (see live.Status).
type LiveStatus struct {
	LagBytes      int64   `json:"lag_bytes"`
	LagSeconds    float64 `json:"lag_seconds"`
	Rows          int64   `json:"rows"`
	Transactions  int64   `json:"transactions"`
	RowsPerSecond float64 `json:"rows_per_second"`
	WALHeld       int64   `json:"wal_held_bytes"`
	// InSync is set when the target has applied everything the source
	// has written.
	InSync bool `json:"in_sync"`
}

// CutoverSummary is what cutover did: the downtime from the request to
// "point the application at the target", and its parts.
type CutoverSummary struct {
	DowntimeSeconds    float64 `json:"downtime_seconds"`
	CaughtUpSeconds    float64 `json:"caught_up_seconds"`
	Sequences          int     `json:"sequences"`
	Tables             int     `json:"tables"`
	Rows               int64   `json:"rows"`
	CopyOnceChecked    int     `json:"copy_once_checked,omitempty"`
	DroppedSlot        string  `json:"dropped_slot"`
	DroppedPublication string  `json:"dropped_publication"`
}

// LiveOptions asks for a live migration (Config.Live).
type LiveOptions struct {
	// FullIdentity are tables (schema.name) without a primary key or
	// replica identity whose REPLICA IDENTITY FULL the user consented to;
	// AllFullIdentity consents for every such table. A table without
	// identity and without consent is copied once and checked at cutover.
	FullIdentity    []string
	AllFullIdentity bool
}

// LiveState is what the state file records of a live migration: names
// and tables, never a URL or a secret.
type LiveState struct {
	Slot        string `json:"slot"`
	Publication string `json:"publication"`
	// SetUp is set once slot and publication exist on the source.
	SetUp bool `json:"set_up,omitempty"`
	// CopyOnce are the tables copied once and checked at cutover, with
	// their fingerprints in the copy's snapshot.
	CopyOnce []LiveTable `json:"copy_once,omitempty"`
	// IdentityFull are the tables set to REPLICA IDENTITY FULL.
	IdentityFull []LiveTable `json:"identity_full,omitempty"`
	// Cutover is the report of a cutover done.
	Cutover *CutoverSummary `json:"cutover,omitempty"`
	// Consent and ConsentAll record the consent to REPLICA IDENTITY FULL
	// (LiveOptions), so that a resumed run that dumps again keeps it.
	Consent    []string `json:"consent_identity_full,omitempty"`
	ConsentAll bool     `json:"consent_identity_full_all,omitempty"`
}

// LiveTable is a table of a live migration, with its fingerprint (rows
// and md5 of its rows) where one was taken.
type LiveTable struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Rows   int64  `json:"rows,omitempty"`
	MD5    string `json:"md5,omitempty"`
}

func (t LiveTable) table() live.Table { return live.Table{Schema: t.Schema, Name: t.Name} }

// String is the table's qualified name.
func (t LiveTable) String() string { return t.Schema + "." + t.Name }

// names are the slot's and the publication's names.
func (l *LiveState) names() live.Names { return live.Names{Slot: l.Slot, Publication: l.Publication} }

func liveTables(ts []LiveTable) []live.Table {
	out := make([]live.Table, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.table())
	}
	return out
}

// isLive reports whether this migration is a live one.
func (e *Engine) isLive() bool { return e.state != nil && e.state.Live != nil }

// startLive records a new live migration in the state, when the
// migration starts with Config.Live. old is the state of the migration
// started over, if any: a slot it left on the source is taken over (the
// dump drops it before creating its own), so that starting over never
// leaves one behind holding WAL; without --live, the user is told it is
// there.
func (e *Engine) startLive(old *State) {
	var left *LiveState
	if old != nil && old.Live != nil && old.Live.SetUp {
		left = old.Live
	}
	if e.cfg.Live == nil {
		if left != nil {
			e.send(Event{Kind: Warning, Notice: &Notice{Code: NoticeLiveSlotLeft, Path: left.Slot, Cause: live.DropSQL(left.names())}})
		}
		return
	}
	n := live.NamesFor(e.state.ID)
	e.state.Live = &LiveState{Slot: n.Slot, Publication: n.Publication}
	if left != nil {
		e.state.Live = &LiveState{Slot: left.Slot, Publication: left.Publication, SetUp: true, IdentityFull: left.IdentityFull}
	}
	e.recordConsent()
}

// connURL is the libpq URL of conn, for package live: it stays in memory
// and is never written or shown (it holds the password).
func connURL(c pgtools.Conn) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, c.Port), Path: "/" + c.Database}
	if c.Password != "" {
		u.User = url.UserPassword(c.User, c.Password)
	} else {
		u.User = url.User(c.User)
	}
	q := url.Values{}
	switch {
	case c.Tunnel:
		q.Set("sslmode", "disable")
	case c.SSLMode != "":
		q.Set("sslmode", c.SSLMode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// fullIdentity returns the tables of noIdentity that the user consented
// to set REPLICA IDENTITY FULL on.
func (o *LiveOptions) fullIdentity(noIdentity []live.Table) []live.Table {
	if o == nil {
		return nil
	}
	var out []live.Table
	for _, t := range noIdentity {
		if o.AllFullIdentity || slices.Contains(o.FullIdentity, t.String()) ||
			(t.Schema == "public" && slices.Contains(o.FullIdentity, t.Name)) {
			out = append(out, t)
		}
	}
	return out
}

// checkLive probes the source for live migration (creating nothing) and
// returns the plan's items: CheckLive (blocks with the probe's blockers),
// and CheckLiveCopyOnce and CheckLiveNotStreamed for what does not
// stream.
func (e *Engine) checkLive(ctx context.Context, src *Endpoint) ([]CheckItem, error) {
	p, err := live.ProbeSource(ctx, connURL(src.Conn))
	if err != nil {
		return nil, fmt.Errorf("probe the source for live migration: %w", err)
	}
	it := CheckItem{Code: CheckLive, Verdict: VerdictOK, Source: p.ServerVersion}
	for _, b := range p.Blockers {
		it.Verdict = VerdictBlocks
		it.Blockers = append(it.Blockers, LiveBlocker{Kind: string(b.Kind), Have: b.Have, Need: b.Need, Tables: tableNames(b.Tables)})
	}
	items := []CheckItem{it}
	if it.Verdict == VerdictBlocks {
		return items, nil
	}
	noID := p.NoIdentity()
	full := e.cfg.Live.fullIdentity(noID)
	if len(full) > 0 {
		items = append(items, CheckItem{Code: CheckLiveIdentityFull, Verdict: VerdictHandled, Names: tableNames(full)})
	}
	if once := without(noID, full); len(once) > 0 {
		items = append(items, CheckItem{Code: CheckLiveCopyOnce, Verdict: VerdictWarn, Names: tableNames(once)})
	}
	if un := p.Unlogged(); len(un) > 0 || p.LargeObjects > 0 {
		items = append(items, CheckItem{Code: CheckLiveNotStreamed, Verdict: VerdictWarn, Names: tableNames(un), Count: p.LargeObjects})
	}
	return items, nil
}

func tableNames(ts []live.Table) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

func without(all, drop []live.Table) []live.Table {
	var out []live.Table
	for _, t := range all {
		if !slices.Contains(drop, t) {
			out = append(out, t)
		}
	}
	return out
}

// setupLive creates the publication and the slot, and returns the slot's
// exported snapshot for the dump. A slot left by an earlier, interrupted
// dump is dropped first: its snapshot is gone with the session that held
// it.
func (e *Engine) setupLive(ctx context.Context, src *Endpoint) (*live.Snapshot, error) {
	ls := e.state.Live
	srcURL := connURL(src.Conn)
	if ls.SetUp {
		if err := live.Drop(ctx, live.DropOptions{Source: srcURL, Names: ls.names()}); err != nil {
			return nil, fmt.Errorf("drop the slot of the interrupted dump: %w", err)
		}
		ls.SetUp = false
	}
	p, err := live.ProbeSource(ctx, srcURL)
	if err != nil {
		return nil, fmt.Errorf("probe the source for live migration: %w", err)
	}
	if !p.Possible() {
		return nil, &live.BlockedError{Blockers: p.Blockers}
	}
	full := e.liveConsent().fullIdentity(p.NoIdentity())
	snap, err := live.Setup(ctx, live.SetupOptions{Source: srcURL, Names: ls.names(), FullIdentity: full})
	if err != nil {
		return nil, err
	}
	ls.SetUp = true
	// Tables an earlier setup of this migration set FULL stay recorded:
	// this one found them so and did not change them.
	for _, t := range snap.IdentityFull {
		lt := LiveTable{Schema: t.Schema, Name: t.Name}
		if !slices.Contains(ls.IdentityFull, lt) {
			ls.IdentityFull = append(ls.IdentityFull, lt)
		}
	}
	fps, err := snap.Fingerprints(ctx, srcURL, snap.CopyOnce)
	if err != nil {
		_ = snap.Release(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("fingerprint the tables copied once: %w", err)
	}
	ls.CopyOnce = nil
	for _, t := range snap.CopyOnce {
		fp := fps[t]
		ls.CopyOnce = append(ls.CopyOnce, LiveTable{Schema: t.Schema, Name: t.Name, Rows: fp.Rows, MD5: fp.MD5})
	}
	if err := e.save(); err != nil {
		_ = snap.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	return snap, nil
}

// snapshotImporter is the role of the source's database that a live
// migration's dump takes its counts from: the slot's exported snapshot.
type snapshotImporter interface {
	ImportSnapshot(ctx context.Context, name string) (Snapshot, error)
}

// ImportSnapshot begins a read-only transaction in the exported snapshot
// name (SET TRANSACTION SNAPSHOT).
func (d database) ImportSnapshot(ctx context.Context, name string) (Snapshot, error) {
	s, err := d.DB.ImportSnapshot(ctx, name)
	if err != nil {
		return nil, err
	}
	return snapshot{s}, nil
}

// takeSnapshot is the dump's snapshot: for a live migration the slot's
// (after creating slot and publication), held by the returned release
// until the dump is done; else a snapshot of ppg's own.
func (e *Engine) takeSnapshot(ctx context.Context, src *Endpoint) (Snapshot, func(), error) {
	if !e.isLive() {
		snap, err := src.DB.Snapshot(ctx, !e.noSnapshot)
		return snap, func() {}, err
	}
	if e.noSnapshot {
		// pg_dump could not import the slot's snapshot: without it the
		// copy and the stream would not meet exactly.
		return nil, nil, ErrLiveSnapshotRefused
	}
	imp, ok := src.DB.(snapshotImporter)
	if !ok {
		return nil, nil, fmt.Errorf("live migration: the source's connection cannot import a snapshot")
	}
	ls, err := e.setupLive(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	release := func() { _ = ls.Release(context.WithoutCancel(ctx)) }
	snap, err := imp.ImportSnapshot(ctx, ls.Name)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("import the slot's snapshot %s: %w", ls.Name, err)
	}
	return snap, release, nil
}

// liveLeftover says, when a live migration stops with its slot on the
// source, that the slot holds WAL there and how to remove it.
func (e *Engine) liveLeftover(ctx context.Context, st Step) {
	if !e.isLive() || !e.state.Live.SetUp || e.src == nil {
		return
	}
	ls := e.state.Live
	n := &Notice{Code: NoticeLiveSlotLeft, Path: ls.Slot, Cause: live.DropSQL(ls.names())}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connectTimeout)
	defer cancel()
	if l, err := live.Leftovers(ctx, connURL(e.src.Conn), ls.names()); err == nil && l != nil {
		n.Count = l.WALHeld
	}
	e.send(Event{Kind: Warning, Step: st, Notice: n})
}

// ErrLiveSnapshotRefused: pg_dump could not import the slot's exported
// snapshot (a pooler between ppg and the source hands it another server
// session), so the copy cannot meet the stream exactly.
var ErrLiveSnapshotRefused = errors.New("pg_dump could not import the replication slot's snapshot")

// ErrNotLive is AbandonLive's answer in a folder whose migration is not
// a live one (or holds none).
var ErrNotLive = errors.New("no live migration in this folder")

// AbandonReport is what AbandonLive removed.
type AbandonReport struct {
	Slot, Publication string
	// IdentityRestored are the tables set back from REPLICA IDENTITY FULL.
	IdentityRestored []string
}

// AbandonLive gives up the live migration recorded in the working folder:
// it drops the slot and the publication on the source (setting back the
// replica identities it changed) and the bookkeeping on the target, and
// records that nothing is left. The dump and the target's data stay; start
// over with Config.Restart.
func (e *Engine) AbandonLive(ctx context.Context, emit func(Event)) (rep *AbandonReport, err error) {
	e.emit = emit
	lock, err := AcquireLock(e.cfg.Dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if uerr := lock.Unlock(); uerr != nil && err == nil {
			err = uerr
		}
		e.src.Close()
		e.dst.Close()
	}()
	s, err := ReadState(e.cfg.Dir)
	if err != nil {
		return nil, err
	}
	if s == nil || s.Live == nil {
		return nil, ErrNotLive
	}
	e.state = s
	src, err := e.ensureSource(ctx)
	if err != nil {
		return nil, err
	}
	opts := live.DropOptions{Source: connURL(src.Conn), Names: s.Live.names(), RestoreIdentity: liveTables(s.Live.IdentityFull)}
	if s.Step(StepConnectTarget).Status == Done {
		dst, err := e.ensureTarget(ctx)
		if err != nil {
			return nil, err
		}
		opts.Target = connURL(dst.Conn)
	}
	if err := live.Abandon(ctx, opts); err != nil {
		return nil, fmt.Errorf("abandon the live migration: %w", err)
	}
	rep = &AbandonReport{Slot: s.Live.Slot, Publication: s.Live.Publication}
	for _, t := range s.Live.IdentityFull {
		rep.IdentityRestored = append(rep.IdentityRestored, t.String())
	}
	s.Live.SetUp, s.Live.IdentityFull = false, nil
	return rep, e.state.Save(e.cfg.Dir, e.cfg.Now())
}

// FrozenNotLiveError: --live was asked in a folder whose migration is a
// frozen copy. It resumes as it began; a live one starts over.
type FrozenNotLiveError struct{ Dir string }

func (e *FrozenNotLiveError) Error() string {
	return fmt.Sprintf("the migration in %s is a frozen copy, not a live one", e.Dir)
}
