package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/tui"
)

// harness runs ppg's commands with fake process dependencies: an
// environment of its own, a temporary working folder, a fixed clock, and
// a fake engine.
type harness struct {
	t        *testing.T
	d        deps
	out, err *syncBuffer
	env      map[string]string
	wd       string
	terminal bool
	eng      *fakeEngine
	built    int // engines constructed
}

func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	h := &harness{t: t, out: &syncBuffer{}, err: &syncBuffer{}, env: env, wd: t.TempDir(), eng: &fakeEngine{}}
	h.d = deps{
		io: ioStreams{in: strings.NewReader(""), out: h.out, errOut: h.err, isTerminal: func() bool { return h.terminal }},
		lookupEnv: func(name string) (string, bool) {
			v, ok := h.env[name]
			return v, ok
		},
		getwd: func() (string, error) { return h.wd, nil },
		now:   func() time.Time { return at },
		newEngine: func(cfg migrate.Config, p migrate.Prompter) engine {
			h.built++
			h.eng.cfg, h.eng.p = cfg, p
			return h.eng
		},
		wizard: func(context.Context, tui.Options) error {
			t.Error("the wizard ran")
			return nil
		},
		build: Build{Version: "1.2.3", Commit: "abcdef123456"},
	}
	return h
}

// run runs ppg with args and returns the exit status.
func (h *harness) run(args ...string) int {
	return execute(h.t.Context(), h.d, args)
}

// fakeEngine stands in for migrate.Engine. Like the real one, it asks
// the prompter for the keys it needs (both sides for a migration, one for
// backup and restore) before anything else; then it emits its events and
// returns its result.
type fakeEngine struct {
	cfg    migrate.Config
	p      migrate.Prompter
	events []migrate.Event
	err    error
	plan   *migrate.Plan
	dump   *migrate.DumpInfo

	keys     map[migrate.Side]string // what the prompter answered
	file     string                  // given to Backup or RestoreFile
	ran      bool                    // Run was called
	preflown bool                    // Preflight was called
}

func (e *fakeEngine) askKeys(ctx context.Context, sides ...migrate.Side) error {
	e.keys = map[migrate.Side]string{}
	for _, side := range sides {
		k, err := e.p.Key(ctx, side, nil)
		if err != nil {
			return err
		}
		e.keys[side] = k
	}
	return nil
}

func (e *fakeEngine) emit(emit func(migrate.Event)) {
	for _, ev := range e.events {
		emit(ev)
	}
}

func (e *fakeEngine) Preflight(ctx context.Context) (*migrate.Plan, error) {
	e.preflown = true
	if err := e.askKeys(ctx, migrate.Source, migrate.Target); err != nil {
		return nil, err
	}
	return e.plan, e.err
}

func (e *fakeEngine) Run(ctx context.Context, emit func(migrate.Event)) error {
	e.ran = true
	if err := e.askKeys(ctx, migrate.Source, migrate.Target); err != nil {
		return err
	}
	e.emit(emit)
	return e.err
}

func (e *fakeEngine) Backup(ctx context.Context, out string, emit func(migrate.Event)) (*migrate.DumpInfo, error) {
	e.file = out
	if err := e.askKeys(ctx, migrate.Source); err != nil {
		return nil, err
	}
	e.emit(emit)
	return e.dump, e.err
}

func (e *fakeEngine) RestoreFile(ctx context.Context, file string, emit func(migrate.Event)) error {
	e.file = file
	if err := e.askKeys(ctx, migrate.Target); err != nil {
		return err
	}
	e.emit(emit)
	return e.err
}

// syncBuffer is a bytes.Buffer that a command may write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer holds want, for at most budget.
func (s *syncBuffer) waitFor(t *testing.T, want string, budget time.Duration) {
	t.Helper()
	deadline := time.Now().Add(budget)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s; got:\n%s", want, budget, s.String())
		}
		<-tick.C
	}
}
