package relay

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// DefaultCacheBytes is the prefetch cache's budget when Config leaves it 0:
// with the Go heap's headroom, the relay stays well within 40 MB.
const DefaultCacheBytes = 8 << 20

// Config configures a Relay.
type Config struct {
	// Dial opens each upstream connection (required): DialURL's, or a
	// tunnel's.
	Dial Dialer
	// DumpMajor is the major version of the pg_dump that will connect
	// (the caller ran it, and pgtools read its --version): it pins the
	// query templates. With no templates for it (0, 16, 19...), every
	// query passes straight through.
	DumpMajor int
	// CacheBytes bounds the prefetched responses held at once, per
	// connection; past it, queries pass through. 0 means DefaultCacheBytes.
	CacheBytes int64
	// Observe, if set, receives events as they happen, from the relay's
	// goroutines; it must return quickly.
	Observe func(Event)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// PrefetchStarted: a batch of a template's queries was sent.
	PrefetchStarted EventKind = iota + 1
	// PrefetchDone: the server answered the whole batch.
	PrefetchDone
	// SessionEnded: a client connection ended; Err says why, if it failed.
	SessionEnded
)

// Event is a fact about the relay's work, for tests, logs and progress.
type Event struct {
	Kind EventKind
	// Template names the per-object query, or the run of catalog queries
	// ("run1", "run2"...), of the batch (PrefetchStarted, PrefetchDone).
	Template string
	// Objects is the number of objects in the batch.
	Objects int
	// Err is the session's failure (SessionEnded), nil for a clean end.
	Err error
}

// Stats are counters over all the relay's connections.
type Stats struct {
	// Sessions is the number of client connections served.
	Sessions int64
	// Queries is the number of simple queries clients sent.
	Queries int64
	// Hits were answered from the cache.
	Hits int64
	// Misses were of a known kind but passed through (not prefetched,
	// failed, or over the budget).
	Misses int64
	// Prefetched is the number of per-object queries the relay sent.
	Prefetched int64
	// Dropped is how many of those were not kept: an error, or the budget.
	Dropped int64
	// CachePeak is the most bytes a connection's cache held.
	CachePeak int64
}

// Relay listens locally and relays each client connection to the server,
// prefetching pg_dump's per-object queries. Close it when done.
type Relay struct {
	cfg    Config
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sessions, queries, hits, misses, prefetched, dropped, peak atomic.Int64

	mu  sync.Mutex
	err error
}

// Listen starts a relay on network and address: "tcp" and "127.0.0.1:0"
// for a loopback port, or "unix" and a path such as DIR/.s.PGSQL.5432 in a
// directory only the user can enter (0700), which pg_dump reaches with
// host=DIR port=5432. The listener grants nothing by itself: clients
// authenticate with the server through it.
func Listen(network, address string, cfg Config) (*Relay, error) {
	if cfg.Dial == nil {
		return nil, errors.New("relay: no dialer")
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{cfg: cfg, ln: ln, ctx: ctx, cancel: cancel}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

// Addr is the address clients connect to.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// Close stops listening, cuts every connection and waits for them.
func (r *Relay) Close() error {
	r.cancel()
	err := r.ln.Close()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Err is the first failure of any connection (an *UpstreamError or a
// *ProtocolError), or nil.
func (r *Relay) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Stats returns the counters so far.
func (r *Relay) Stats() Stats {
	return Stats{
		Sessions: r.sessions.Load(), Queries: r.queries.Load(), Hits: r.hits.Load(), Misses: r.misses.Load(),
		Prefetched: r.prefetched.Load(), Dropped: r.dropped.Load(), CachePeak: r.peak.Load(),
	}
}

func (r *Relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.sessions.Add(1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			err := newSession(r, c).run()
			if err != nil {
				r.mu.Lock()
				if r.err == nil {
					r.err = err
				}
				r.mu.Unlock()
			}
			r.emit(Event{Kind: SessionEnded, Err: err})
		}()
	}
}

func (r *Relay) emit(ev Event) {
	if r.cfg.Observe != nil {
		r.cfg.Observe(ev)
	}
}
