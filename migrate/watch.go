package migrate

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A tool run is watched from the server's side, over a connection of the
// engine's own: every second the watcher reads what the tool's sessions
// are doing (pg_stat_activity, pg_stat_progress_copy, found by the
// application name the tool connects with). That gives progress inside a
// table, and it tells a connection that hangs without closing from a tool
// that is busy: if neither the tool's output nor the server shows anything
// moving for the stall timeout, the tool is stopped with a *StalledError.

// activityWatcher is the role of a side's database that follows a tool's
// sessions from the server's side.
type activityWatcher interface {
	// Watcher opens a second connection to follow a tool's sessions.
	Watcher(ctx context.Context) (Watcher, error)
}

// Watcher reads a tool's sessions; activityWatcher.Watcher opens one, and
// the caller closes it.
type Watcher interface {
	// Activity reads the sessions whose application_name is app.
	Activity(ctx context.Context, app string) (Activity, error)
	Close()
}

// defaultStall is how long a tool may move nothing before ppg calls the
// connection stalled.
const defaultStall = 2 * time.Minute

// pollEvery is how often the watcher polls.
const pollEvery = time.Second

// pollTimeout bounds one poll: a poll that hangs is itself a sign of a
// stalled link.
const pollTimeout = 10 * time.Second

// watch runs run (a tool) and, when open gives a Watcher, polls it: each
// poll's activity goes to onActivity. touch, which the caller also calls on
// each line of the tool's output, keeps the stall timer from firing, as
// does a growing written, when set (the size of the file the tool writes:
// a server that has sent all of a table's rows while they still cross a
// slow link shows nothing moving, but the file grows). run gets a context
// that is cancelled on a stall.
func (e *Engine) watch(ctx context.Context, open func(context.Context) (Watcher, error), app, tool string,
	onActivity func(Activity), written func() int64, run func(ctx context.Context, touch func()) error) error {
	stall := e.cfg.StallTimeout
	if stall == 0 {
		stall = defaultStall
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := &StalledError{Tool: tool, After: stall}
	p := &poller{open: open, app: app, onActivity: onActivity, written: written, stall: stall, last: time.Now()}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if p.follow(runCtx, done) {
			cancel(stalled)
		}
	}()
	err := run(runCtx, p.touch)
	close(done)
	wg.Wait()
	if errors.Is(context.Cause(runCtx), stalled) && ctx.Err() == nil {
		return stalled
	}
	return err
}

// poller follows a tool's run: the server's view of its sessions, the
// file it writes, and the time since either (or the caller's touch) last
// moved.
type poller struct {
	open       func(context.Context) (Watcher, error)
	app        string
	onActivity func(Activity)
	written    func() int64
	stall      time.Duration

	mu   sync.Mutex
	last time.Time
}

// touch records that the tool moved.
func (p *poller) touch() {
	p.mu.Lock()
	p.last = time.Now()
	p.mu.Unlock()
}

func (p *poller) idle() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Since(p.last)
}

// follow polls until done is closed or ctx ends, and reports whether it
// stopped because nothing moved for the stall timeout.
func (p *poller) follow(ctx context.Context, done <-chan struct{}) (stalled bool) {
	var w Watcher
	if p.open != nil {
		if ow, err := p.open(ctx); err == nil {
			w = ow
			defer w.Close()
		}
	}
	var prev Activity
	var wrote int64
	tick := time.NewTicker(min(pollEvery, p.stall/4))
	defer tick.Stop()
	for {
		select {
		case <-done:
			return false
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
		if w != nil {
			prev = p.poll(ctx, w, prev)
		}
		if p.written != nil {
			if n := p.written(); n > wrote {
				wrote = n
				p.touch()
			}
		}
		if p.idle() > p.stall {
			return true
		}
	}
}

// poll reads the tool's sessions once, and returns what it saw (prev when
// the poll failed).
func (p *poller) poll(ctx context.Context, w Watcher, prev Activity) Activity {
	pctx, cancel := context.WithTimeout(ctx, min(pollTimeout, p.stall/2))
	defer cancel()
	a, err := w.Activity(pctx, p.app)
	if err != nil {
		return prev
	}
	if moved(prev, a) {
		p.touch()
	}
	if p.onActivity != nil {
		p.onActivity(a)
	}
	return a
}

// moved reports whether the tool did something between two polls: a COPY
// advanced, or the server is busy on one of its queries.
func moved(prev, now Activity) bool {
	for _, s := range now.Sessions {
		if s.Working {
			return true
		}
		for _, p := range prev.Sessions {
			if p.Table == s.Table && (s.Tuples > p.Tuples || s.Bytes > p.Bytes) {
				return true
			}
		}
		if s.Table != "" && !slicesHasTable(prev.Sessions, s.Table) {
			return true // a new COPY began
		}
	}
	return false
}

func slicesHasTable(ss []SessionActivity, table string) bool {
	for _, s := range ss {
		if s.Table == table {
			return true
		}
	}
	return false
}
