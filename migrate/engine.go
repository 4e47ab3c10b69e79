package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Prompter is how the engine asks its front end for keys and decisions.
// The wizard asks the user; the headless runner answers from flags and the
// environment. Calls come from the goroutine running Engine.Run; an error
// (such as the user quitting) stops the migration.
type Prompter interface {
	// Key returns what the user gave for side's database: an API key, a
	// prisma+postgres:// URL, a .env line or a postgres:// URL. problem is
	// why the previous answer was refused (nil on the first ask), for the
	// front end to show; a front end that cannot ask again returns it.
	Key(ctx context.Context, side Side, problem error) (string, error)
	// Confirm asks a yes/no question.
	Confirm(ctx context.Context, q Question) (bool, error)
}

// EarlyPrompter is a Prompter that can be asked for a key before it is
// needed: the engine asks for the target's key with the source's, so that
// its plan checks both before the dump. EarlyKey is Key, except that it
// returns ErrLater when the user will give the key when it is needed.
type EarlyPrompter interface {
	EarlyKey(ctx context.Context, side Side, problem error) (string, error)
}

// ErrLater is EarlyKey's answer for a key the user gives later.
var ErrLater = errors.New("the key will be given later")

// QuestionKind tells which decision the engine needs.
type QuestionKind int

// Questions the engine asks.
const (
	// ConfirmSource: dump the source described by Source, with Tools?
	ConfirmSource QuestionKind = iota + 1
	// ConfirmNonEmptyTarget: the target holds Objects (in Schemas besides
	// public); restore into it anyway? (Existing objects of the same
	// names make the restore fail.)
	ConfirmNonEmptyTarget
	// ConfirmRedump: Writes rows were written to the source during the
	// dump, after its snapshot of DumpedAt (to the tables Changed, when
	// the statistics name them); dump again (yes), or keep this dump
	// (no)?
	ConfirmRedump
	// ConfirmSourceChanged: the tables Changed were written to after the
	// dump of DumpedAt; dump and restore again (yes), or keep the
	// migration as of the dump (no)?
	ConfirmSourceChanged
	// ConfirmResetTarget: the target holds Objects that an earlier,
	// restarted migration restored; empty it (drop its schemas and the
	// large objects) and restore again?
	ConfirmResetTarget
)

// Question is a yes/no question with the facts to decide it.
type Question struct {
	Kind QuestionKind
	// Source and Tools, for ConfirmSource.
	Source *Database
	Tools  *pgtools.Toolset
	// Objects and Schemas, for ConfirmNonEmptyTarget.
	Objects int64
	Schemas []string
	// Writes, for ConfirmRedump.
	Writes int64
	// Changed and DumpedAt, for ConfirmSourceChanged.
	Changed  []string
	DumpedAt time.Time
	// Plan, for ConfirmSource: the preflight's checks.
	Plan *Plan
}

// Config configures an Engine.
type Config struct {
	// Dir is the working folder: the state file, the dump and its manifest
	// live there.
	Dir string
	// DumpPrefix starts the dump's file name (PREFIX-ID.dump); empty means
	// "ppg".
	DumpPrefix string
	// Finder finds pg_dump and pg_restore.
	Finder Finder
	// Tools runs them; nil means real processes (pgtools.Runner).
	Tools Tools
	// Opener opens the databases; nil means NewOpener(Tunnel).
	Opener Opener
	// Tunnel is the template of the tunnels the default Opener starts
	// (endpoint, user agent); Key and Network are set per tunnel.
	Tunnel tunnel.Config
	// SourceNewestMajor is the newest PostgreSQL major version the source
	// can run (16 for Prisma's Early Access databases): a newer source
	// looks like the target's key given for the source, and the plan
	// warns. 0 means any.
	SourceNewestMajor int
	// Jobs is the number of parallel pg_restore jobs; 0 means defaultJobs.
	Jobs int
	// Restart discards the state file and starts over.
	Restart bool
	// AllowNonEmptyTarget restores into a target with objects without
	// asking (the headless --allow-non-empty-target).
	AllowNonEmptyTarget bool
	// ResetTarget empties, without asking, a target that an earlier
	// migration of this folder restored into (the headless
	// --reset-target, with --restart).
	ResetTarget bool
	// AcceptTemporalKeys lets a PostgreSQL 18 source with temporal keys
	// go into 17: each key WITHOUT OVERLAPS becomes the exclusion
	// constraint that refuses the same rows, and each foreign key with
	// PERIOD is left out (see CompatTemporalKey).
	AcceptTemporalKeys bool
	// Retries is how many times a step that failed for a transient cause
	// (a lost connection, a stall) is tried again within the run, each
	// try resuming where the last stopped; 0 means defaultRetries, -1
	// none.
	Retries int
	// Backoff is the wait before retry n (1, 2, ...); nil means 2 s, 5 s,
	// 10 s and so on.
	Backoff func(n int) time.Duration
	// OnSourceChange says what to do when the source was written to after
	// the dump (checked before the verdict); ChangeAsk asks the Prompter.
	OnSourceChange SourceChange
	// StallTimeout is how long a tool may move no data before ppg stops it
	// and calls the connection stalled; 0 means two minutes.
	StallTimeout time.Duration
	// VerifyContent adds to the verification a hash of every table's rows
	// and of the large objects, taken on the source in the dump's snapshot
	// and on the target after the restore. It reads every row twice more.
	VerifyContent bool
	// NoRelay runs pg_dump straight to the source instead of through the
	// relay that prefetches its per-object queries (see package relay).
	NoRelay bool
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Live makes a new migration a live one (see LiveOptions); a
	// migration's state file says whether it is live when it resumes.
	Live *LiveOptions
	// OfferLive lets the user choose live on the plan, when Live is not
	// set: the plan probes the source (Plan.Live) and a Prompter that is
	// a PlanChooser answers with the choice.
	OfferLive bool
}

// defaultJobs is the default number of parallel pg_restore jobs. The
// target is across a network, where each statement waits a round trip:
// more jobs pay even on a machine with few cores (measured with 5 ms of
// latency: 200 tables restored in 17.7 s with 1 job, 12.4 s with 2, 10.1 s
// with 4). It stays low because Prisma's plans allow about ten connections:
// 4 workers, pg_restore's leader and the engine's own make 6.
const defaultJobs = 4

// defaultRetries is how often a step is retried after a transient failure.
const defaultRetries = 3

// Engine runs a migration step by step, records each step in the state
// file, and resumes from it. It reports through events and never prints.
type Engine struct {
	cfg  Config
	ask  Prompter
	emit func(Event)
	// emitMu makes emit's calls one at a time: the tool's lines, the
	// watcher's polls and parallel pipelined sessions all send events.
	emitMu sync.Mutex
	state  *State
	tools  Tools
	open   Opener
	pick   pgtools.Toolset
	found  []pgtools.Tool

	src, dst *Endpoint
	// creds are the credentials that opened each side in this run, so that
	// a retry reopens them without asking again. They stay in memory.
	creds    map[Side]tunnel.Credential
	manifest *Manifest
	// noSnapshot is set when pg_dump could not import the shared snapshot.
	noSnapshot bool
	// fresh is set for a new migration not written to its state file yet.
	fresh bool
	// redumps counts the dumps made again in this run because the source
	// was written to after a snapshot (see maxRedumps).
	redumps int
	// pace sets the speed and time left of Progress events.
	pace pacer
	// runStart is when Run took the folder's lock (the wall clock): a
	// cutover request older than it was meant for an earlier run.
	runStart time.Time
	// previous is the state of the migration this one started over, if
	// any: a live choice on the plan takes over the slot it left.
	previous *State
}

// New returns an engine for cfg that asks through p.
func New(cfg Config, p Prompter) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The state file records paths: make them absolute, so that a resume
	// from another working directory finds the same files.
	if abs, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = abs
	}
	if cfg.Jobs <= 0 {
		cfg.Jobs = defaultJobs
	}
	if cfg.DumpPrefix == "" {
		cfg.DumpPrefix = "ppg"
	}
	if cfg.Finder == nil {
		cfg.Finder = pgtools.Finder{}
	}
	if cfg.Retries == 0 {
		cfg.Retries = defaultRetries
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return time.Duration(min(n*n+1, 30)) * time.Second }
	}
	e := &Engine{cfg: cfg, ask: p, tools: cfg.Tools, open: cfg.Opener}
	if e.tools == nil {
		e.tools = &pgtools.Runner{}
	}
	if e.open == nil {
		e.open = NewOpener(cfg.Tunnel)
	}
	return e
}

// Run runs the migration from the first step not done to the end. It holds
// the folder's lock meanwhile. It returns nil only when the target is
// verified; a failed step returns a *StepError, a cancelled ctx
// context.Canceled (with the state saved for a resume). emit is called
// one event at a time, from the engine's goroutines.
func (e *Engine) Run(ctx context.Context, emit func(Event)) (err error) {
	e.emit = emit
	if err := os.MkdirAll(e.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create working folder: %w", err)
	}
	lock, err := AcquireLock(e.cfg.Dir)
	if err != nil {
		return err
	}
	e.runStart = time.Now()
	defer func() {
		if uerr := lock.Unlock(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	defer func() {
		e.src.Close()
		e.dst.Close()
	}()

	if err := e.load(); err != nil {
		return err
	}
	first := true
	for st := e.state.Next(); st != StepDone; st = e.state.Next() {
		rec := e.state.Step(st)
		summary, stepErr, err := e.attempt(ctx, st, rec, first)
		first = false
		if err != nil {
			return err
		}
		if errors.Is(stepErr, errRedump) {
			// The source changed after the dump and the user chose to
			// dump again: the restore then empties the target first.
			rec.Status = Pending
			e.reset(StepDump)
			e.manifest = nil
			if err := e.save(); err != nil {
				return err
			}
			e.send(Event{Kind: Info, Step: st, Notice: &Notice{Code: NoticeRedumping}})
			continue
		}
		if stepErr != nil {
			return e.fail(ctx, st, stepErr)
		}
		rec.Status, rec.FinishedAt = Done, e.cfg.Now()
		if err := e.save(); err != nil {
			return err
		}
		e.send(Event{Kind: StepFinished, Step: st, Summary: summary})
	}
	e.send(Event{Kind: Finished, Summary: &Summary{Verified: e.state.Verified}})
	return nil
}

// attempt runs step st, recorded in rec: once, then again after each
// transient failure, up to the retries. first asks for the keys the
// rest of the run needs before the step starts. stepErr is the step's
// failure; err a failure to save the state, which ends the run.
func (e *Engine) attempt(ctx context.Context, st Step, rec *StepState, first bool) (summary *Summary, stepErr, err error) {
	resumed := rec.Attempts > 0
	rec.Status, rec.StartedAt, rec.Error = Running, e.cfg.Now(), ""
	rec.Attempts++
	if err := e.save(); err != nil {
		return nil, nil, err
	}
	e.send(Event{Kind: StepStarted, Step: st, Resumed: resumed})
	if first {
		stepErr = e.keysAhead(ctx, st)
	}
	if stepErr == nil {
		summary, stepErr = e.runStep(ctx, st)
	}
	for try := 1; stepErr != nil && ctx.Err() == nil && transient(stepErr) && try <= e.cfg.Retries; try++ {
		e.send(Event{Kind: Warning, Step: st, Notice: &Notice{Code: NoticeRetrying, Count: int64(try), Of: int64(e.cfg.Retries), Cause: stepErr.Error(), Err: stepErr}})
		// The connections may be dead: open them again (with the
		// keys of this run) when the step needs them.
		e.src.Close()
		e.dst.Close()
		e.src, e.dst = nil, nil
		select {
		case <-ctx.Done():
		case <-time.After(e.cfg.Backoff(try)):
		}
		if ctx.Err() != nil {
			break
		}
		rec.Attempts++
		if err := e.save(); err != nil {
			return nil, nil, err
		}
		e.send(Event{Kind: StepStarted, Step: st, Resumed: true, Attempt: try + 1})
		summary, stepErr = e.runStep(ctx, st)
	}
	return summary, stepErr, nil
}

func (e *Engine) runStep(ctx context.Context, st Step) (*Summary, error) {
	switch st {
	case StepCheckTools:
		return e.checkTools(ctx)
	case StepConnectSource:
		return e.connectSource(ctx)
	case StepDump:
		return e.dump(ctx)
	case StepCheckArchive:
		return e.checkArchive(ctx)
	case StepConnectTarget:
		return e.connectTarget(ctx)
	case StepRestore:
		return e.restore(ctx)
	case StepVerify:
		return e.verify(ctx)
	case StepStream:
		return e.stream(ctx)
	default:
		// StepDone is the end, not a step to run; any other value is not a
		// step.
		return nil, fmt.Errorf("unknown step %q", st)
	}
}

// fail records a failed step and returns the *StepError for it. A cancelled
// run is recorded as not done (pending), not failed: nothing went wrong.
func (e *Engine) fail(ctx context.Context, st Step, err error) error {
	rec := e.state.Step(st)
	if ctx.Err() != nil {
		rec.Status = Pending
		rec.Error = "stopped by the user"
		e.liveLeftover(ctx, st)
		if serr := e.save(); serr != nil {
			return errors.Join(context.Canceled, serr)
		}
		return context.Canceled
	}
	e.liveLeftover(ctx, st)
	se := newStepError(st, err)
	rec.Status, rec.Error, rec.FinishedAt = Failed, err.Error(), e.cfg.Now()
	if serr := e.save(); serr != nil {
		return errors.Join(se, serr)
	}
	e.send(Event{Kind: StepFailed, Step: st, Failure: se})
	return se
}

// load reads the state file, or starts a new one, and checks the world
// against it: a dump file that is missing or changed is dumped again.
func (e *Engine) load() error {
	s, err := ReadState(e.cfg.Dir)
	if err != nil && !e.cfg.Restart {
		return err
	}
	if s == nil || e.cfg.Restart {
		if s != nil && s.Dump != nil {
			e.send(Event{Kind: Info, Notice: &Notice{Code: NoticeStartingOver, Path: s.Dump.Path}})
		}
		old := s
		s = NewState(e.cfg.Now())
		s.Flow = e.cfg.DumpPrefix
		// A target that the earlier migration found empty and restored
		// into may be emptied again (after a typed confirmation): its
		// objects are that migration's.
		switch {
		case old != nil && old.Target != nil && old.Target.Empty && old.Restore != nil && len(old.Restore.StartedSections) > 0:
			s.Previous = &PreviousTarget{SystemID: old.Target.SystemID, DatabaseOID: old.Target.DatabaseOID, Display: old.Target.Display}
		case old != nil && old.Target == nil:
			s.Previous = old.Previous // started over before reaching the target
		}
		e.state = s
		e.previous = old
		e.startLive(old)
		// Not written until the source is confirmed: a run stopped
		// before that leaves nothing behind.
		e.fresh = true
		return nil
	}
	if err := CheckFlow(s, e.cfg.Dir, e.cfg.DumpPrefix); err != nil {
		return err
	}
	if e.cfg.Live != nil && s.Live == nil {
		return &FrozenNotLiveError{Dir: e.cfg.Dir}
	}
	s.Flow = e.cfg.DumpPrefix // recorded from now on in older state files
	e.state = s
	e.relocate()
	// Once the restore is done the dump is no longer read (verify compares
	// against the manifest): a dump deleted afterwards, to free space, must
	// not start the migration over into a GA database that is now full.
	if s.Step(StepDump).Status == Done && s.Step(StepRestore).Status != Done {
		if changed := e.dumpChanged(); changed != nil {
			e.send(Event{Kind: Warning, Step: StepDump, Notice: &Notice{Code: NoticeDumpChanged, Path: changed.Path, Cause: changed.Error(), Err: changed}})
			e.reset(StepDump)
			return e.save()
		}
	}
	return nil
}

// relocate follows a working folder that was moved or renamed: files the
// state records inside the old folder are looked for in the new one.
func (e *Engine) relocate() {
	d := e.state.Dump
	if d == nil {
		return
	}
	for _, p := range []*string{&d.Path, &d.ManifestPath} {
		if _, err := os.Stat(*p); err == nil || *p == "" {
			continue
		}
		if moved := e.path(filepath.Base(*p)); moved != *p {
			if _, err := os.Stat(moved); err == nil {
				*p = moved
			}
		}
	}
}

// reset marks step st and every step after it as not done.
func (e *Engine) reset(from Step) {
	after := false
	for _, st := range steps {
		after = after || st == from
		if after {
			rec := e.state.Step(st)
			rec.Status, rec.Error = Pending, ""
		}
	}
	if from == StepDump || from == StepConnectSource || from == StepCheckTools {
		// A restore that had begun left objects in the target: remember
		// that its schema restore started, so that the next restore first
		// empties the target it found empty (see restorer.resetTarget).
		began := e.state.Restore != nil && len(e.state.Restore.StartedSections) > 0
		e.state.Restore = nil
		if began {
			e.state.Restore = &RestoreInfo{StartedSections: []string{sectionPreData}}
		}
		e.state.Verified = nil
	}
}

// save writes the state file, except for a new migration whose source is
// not confirmed yet: there is nothing to resume, and quitting then leaves
// the folder as it was.
func (e *Engine) save() error {
	if e.fresh {
		if e.state.Step(StepConnectSource).Status != Done {
			return nil
		}
		e.fresh = false
	}
	return e.state.Save(e.cfg.Dir, e.cfg.Now())
}

func (e *Engine) send(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.cfg.Now()
	}
	e.pace.observe(&ev)
	if e.emit != nil {
		e.emitMu.Lock()
		defer e.emitMu.Unlock()
		e.emit(ev)
	}
}

// path resolves a file name in the working folder.
func (e *Engine) path(name string) string { return filepath.Join(e.cfg.Dir, name) }

// transient reports whether err may go away by itself: a connection that
// broke or stalled, or Prisma's gateway answering 5xx (gatewayDown). A
// refused key, a refused target or a verification mismatch never does.
func transient(err error) bool {
	var lost *ConnectionLostError
	var stall *StalledError
	return errors.As(err, &lost) || errors.As(err, &stall) || gatewayDown(err)
}
