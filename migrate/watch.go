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

	var mu sync.Mutex
	last := time.Now()
	touch := func() {
		mu.Lock()
		last = time.Now()
		mu.Unlock()
	}
	idle := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Since(last)
	}
	stalled := &StalledError{Tool: tool, After: stall}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var w Watcher
		if open != nil {
			if ow, err := open(runCtx); err == nil {
				w = ow
				defer w.Close()
			}
		}
		var prev Activity
		var wrote int64
		tick := time.NewTicker(min(pollEvery, stall/4))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-runCtx.Done():
				return
			case <-tick.C:
			}
			if w != nil {
				pctx, pcancel := context.WithTimeout(runCtx, min(pollTimeout, stall/2))
				a, err := w.Activity(pctx, app)
				pcancel()
				if err == nil {
					if moved(prev, a) {
						touch()
					}
					prev = a
					if onActivity != nil {
						onActivity(a)
					}
				}
			}
			if written != nil {
				if n := written(); n > wrote {
					wrote = n
					touch()
				}
			}
			if idle() > stall {
				cancel(stalled)
				return
			}
		}
	}()
	err := run(runCtx, touch)
	close(done)
	wg.Wait()
	if errors.Is(context.Cause(runCtx), stalled) && ctx.Err() == nil {
		return stalled
	}
	return err
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
