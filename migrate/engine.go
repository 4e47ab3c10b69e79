package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// QuestionKind tells which decision the engine needs.
type QuestionKind int

// Questions the engine asks.
const (
	// ConfirmSource: the source summary is in Details; go on?
	ConfirmSource QuestionKind = iota + 1
	// ConfirmNonEmptyTarget: the target holds objects; restore into it
	// anyway? (Existing objects of the same names make the restore fail.)
	ConfirmNonEmptyTarget
	// ConfirmRedump: the source was written to during the dump; dump again?
	ConfirmRedump
)

// Question is a yes/no question with the facts to decide it.
type Question struct {
	Kind    QuestionKind
	Text    string
	Details []string
}

// Config configures an Engine.
type Config struct {
	// Dir is the working folder: the state file, the dump and its manifest
	// live there.
	Dir string
	// Finder finds pg_dump and pg_restore.
	Finder pgtools.Finder
	// Runner runs them; nil means real processes.
	Runner *pgtools.Runner
	// Tunnel is the template of the tunnels the engine opens (endpoint,
	// user agent); Key and Network are set per tunnel.
	Tunnel tunnel.Config
	// Jobs is the number of parallel pg_restore jobs; 0 means defaultJobs.
	Jobs int
	// Restart discards the state file and starts over.
	Restart bool
	// AllowNonEmptyTarget restores into a target with objects without
	// asking (the headless --allow-non-empty-target).
	AllowNonEmptyTarget bool
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// defaultJobs is the default number of parallel pg_restore jobs. The GA
// database is across a network, where each statement waits a round trip:
// more jobs pay even on a machine with few cores (measured with 5 ms of
// latency: 200 tables restored in 17.7 s with 1 job, 12.4 s with 2, 10.1 s
// with 4). It stays low because Prisma's plans allow about ten connections:
// 4 workers, pg_restore's leader and the engine's own make 6.
const defaultJobs = 4

// Engine runs a migration step by step, records each step in the state
// file, and resumes from it. It reports through events and never prints.
type Engine struct {
	cfg    Config
	ask    Prompter
	emit   func(Event)
	state  *State
	runner *pgtools.Runner
	tools  pgtools.Toolset
	found  []pgtools.Tool

	src, dst *endpoint
	manifest *Manifest
	// noSnapshot is set when pg_dump could not import the shared snapshot.
	noSnapshot bool
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
	r := cfg.Runner
	if r == nil {
		r = &pgtools.Runner{}
	}
	return &Engine{cfg: cfg, ask: p, runner: r}
}

// StepError is a failed step: what failed and what to do next.
type StepError struct {
	Step Step
	Err  error
	// Hint is the next thing to do.
	Hint string
	// Tail holds the tool's last output lines, when a tool failed.
	Tail []string
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step.Title(), e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs the migration from the first step not done to the end. It holds
// the folder's lock meanwhile. It returns nil only when the target is
// verified; a failed step returns a *StepError, a cancelled ctx
// context.Canceled (with the state saved for a resume).
func (e *Engine) Run(ctx context.Context, emit func(Event)) (err error) {
	e.emit = emit
	if err := os.MkdirAll(e.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create working folder: %w", err)
	}
	lock, err := AcquireLock(e.cfg.Dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	defer func() {
		e.src.Close()
		e.dst.Close()
	}()

	if err := e.load(); err != nil {
		return err
	}
	for _, st := range steps {
		rec := e.state.Step(st)
		if rec.Status == Done {
			continue
		}
		resumed := rec.Attempts > 0
		rec.Status, rec.StartedAt, rec.Error = Running, e.cfg.Now(), ""
		rec.Attempts++
		if err := e.save(); err != nil {
			return err
		}
		e.send(Event{Kind: StepStarted, Step: st, Resumed: resumed})
		summary, err := e.runStep(ctx, st)
		if err != nil {
			return e.fail(ctx, st, err)
		}
		rec.Status, rec.FinishedAt = Done, e.cfg.Now()
		if err := e.save(); err != nil {
			return err
		}
		e.send(Event{Kind: StepFinished, Step: st, Text: summary})
	}
	return nil
}

func (e *Engine) runStep(ctx context.Context, st Step) (string, error) {
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
	}
	return "", fmt.Errorf("unknown step %q", st)
}

// fail records a failed step and returns the *StepError for it. A cancelled
// run is recorded as not done (pending), not failed: nothing went wrong.
func (e *Engine) fail(ctx context.Context, st Step, err error) error {
	rec := e.state.Step(st)
	if ctx.Err() != nil {
		rec.Status = Pending
		rec.Error = "stopped by the user"
		e.save()
		return context.Canceled
	}
	se := &StepError{Step: st, Err: err, Hint: "run ppg migrate-from-ea again to resume from this step"}
	var ee *pgtools.ExitError
	if errors.As(err, &ee) {
		se.Tail = ee.StderrTail
	}
	var nf *pgtools.NotFoundError
	switch {
	case errors.As(err, &nf):
		se.Hint = nf.Hint() + "; then run ppg migrate-from-ea again"
	case errors.Is(err, pgtools.ErrNotFound):
		// Finder.Find's error for a --pg-bin folder without the tools
		// is not a *NotFoundError: give the same install hint.
		se.Hint = (&pgtools.NotFoundError{MinMajor: pgtools.RecommendedMajor, GOOS: runtime.GOOS}).Hint() + "; then run ppg migrate-from-ea again"
	}
	var he *tunnel.HandshakeError
	var ce *ConnectError
	var ke *tunnel.KeyError
	switch {
	case errors.As(err, &he), errors.As(err, &ke):
		se.Hint = "check the key, then run ppg migrate-from-ea again"
	case errors.As(err, &ce):
		se.Hint = "check the key or URL and the network, then run ppg migrate-from-ea again"
	}
	var hint interface{ Hint() string }
	if errors.As(err, &hint) && hint.Hint() != "" && nf == nil {
		se.Hint = hint.Hint()
	}
	rec.Status, rec.Error, rec.FinishedAt = Failed, err.Error(), e.cfg.Now()
	if serr := e.save(); serr != nil {
		return errors.Join(se, serr)
	}
	e.send(Event{Kind: StepFailed, Step: st, Err: err, Hint: se.Hint, Tail: se.Tail})
	return se
}

// hinted is an error that carries its own next step for the user.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }
func (h *hinted) Hint() string  { return h.hint }

func withHint(err error, hint string) error { return &hinted{err: err, hint: hint} }

// load reads the state file, or starts a new one, and checks the world
// against it: a dump file that is missing or changed is dumped again.
func (e *Engine) load() error {
	s, err := ReadState(e.cfg.Dir)
	if err != nil && !e.cfg.Restart {
		return err
	}
	if s == nil || e.cfg.Restart {
		if s != nil && s.Dump != nil {
			e.send(Event{Kind: Info, Text: fmt.Sprintf("starting over; the earlier dump %s is kept", s.Dump.Path)})
		}
		s = NewState(e.cfg.Now())
		e.state = s
		return e.save()
	}
	e.state = s
	e.relocate()
	// Once the restore is done the dump is no longer read (verify compares
	// against the manifest): a dump deleted afterwards, to free space, must
	// not start the migration over into a GA database that is now full.
	if s.Step(StepDump).Status == Done && s.Step(StepRestore).Status != Done {
		if reason := e.dumpChanged(); reason != "" {
			e.send(Event{Kind: Warning, Step: StepDump, Text: reason + ": dumping again"})
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

func (e *Engine) save() error { return e.state.Save(e.cfg.Dir, e.cfg.Now()) }

func (e *Engine) send(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.cfg.Now()
	}
	if e.emit != nil {
		e.emit(ev)
	}
}

// path resolves a file name in the working folder.
func (e *Engine) path(name string) string { return filepath.Join(e.cfg.Dir, name) }
