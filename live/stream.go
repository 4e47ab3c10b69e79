package live

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Config says what a Stream streams, from where to where.
type Config struct {
	// Source and Target are the connection URLs. The source's role needs
	// REPLICATION (or superuser); the target's only the rights to write
	// the tables and to create the bookkeeping schema.
	Source, Target string
	Names          Names
	// SpillDir holds the temporary files of large transactions streamed
	// while in progress; empty means the system's temporary folder.
	SpillDir string
	// StatusInterval is how often a status event is emitted (default 1 s).
	StatusInterval time.Duration
	// MaxAttempts is how many sessions in a row may fail on a lost
	// connection, with no transaction applied in between, before Run gives
	// up (default 10).
	MaxAttempts int
	// BatchSize is how many statements go to the target per round trip
	// (default 500).
	BatchSize int
}

// Stream applies the source's changes to the target until cutover. Run
// drives it; Cutover, from another goroutine, ends it.
type Stream struct {
	cfg     Config
	cutover chan *cutoverRequest
	done    chan struct{} // closed when Run returns

	// Owned by Run's goroutine.
	stats   stats
	pending *cutoverRequest // a cutover asked for, not yet done
	// alone: source transactions committing at or before it are committed
	// on the target one by one, not grouped (see regroupError).
	alone LSN
}

// regroupError ends a session that found a difference in a table's
// columns inside a group of source transactions: the next session applies
// them one by one up to until, so the stream stops exactly before the
// transaction that showed the difference.
type regroupError struct {
	until LSN
	err   error
}

func (e *regroupError) Error() string { return e.err.Error() }
func (e *regroupError) Unwrap() error { return e.err }

// stats are counts across the stream's sessions.
type stats struct {
	rows, txns, streamed, spilled int64
	lastCommit, lastApplied       time.Time
	prevRows                      int64
	prevAt                        time.Time
}

// New checks cfg and returns a Stream ready to Run.
func New(cfg Config) (*Stream, error) {
	if err := cfg.Names.check(); err != nil {
		return nil, err
	}
	if cfg.Source == "" || cfg.Target == "" {
		return nil, errors.New("live stream: source and target are required")
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	return &Stream{cfg: cfg, cutover: make(chan *cutoverRequest), done: make(chan struct{})}, nil
}

// EventKind says what an Event reports.
type EventKind string

// The events Run emits.
const (
	// EventStarted: a session started streaming, from Event.From.
	// Event.TriggersFire is true when the target refused
	// session_replication_role = replica: its triggers and foreign keys
	// then fire on every applied change, as on an application's write.
	EventStarted EventKind = "started"
	// EventStatus: Event.Status holds the stream's facts, every
	// Config.StatusInterval.
	EventStatus EventKind = "status"
	// EventRetry: a connection was lost (Event.Err); Run retries after
	// Event.Wait, attempt Event.Attempt of Config.MaxAttempts.
	EventRetry EventKind = "retry"
	// EventCutover: cutover is done (Event.Cutover); Run returns next.
	EventCutover EventKind = "cutover"
)

// Event is a fact Run reports, for a front end to put in words.
type Event struct {
	Kind         EventKind
	From         LSN
	TriggersFire bool
	Status       Status
	Attempt      int
	Wait         time.Duration
	Err          error
	Cutover      *CutoverReport
}

// Status is the stream's state at one moment.
type Status struct {
	At time.Time
	// Source is the source's current WAL position; Applied the position
	// before which every committed transaction is applied on the target.
	Source, Applied LSN
	LagBytes        int64
	LagSeconds      float64
	// Rows and Transactions applied since Run started; RowsPerSecond since
	// the previous status.
	Rows, Transactions int64
	RowsPerSecond      float64
	// Streamed counts transactions received while in progress and spilled
	// to disk; Spilled their bytes.
	Streamed, Spilled int64
	// WALHeld is the WAL, in bytes, the slot keeps on the source.
	WALHeld int64
}

// Run streams until Cutover is done (it returns nil), ctx ends (ctx's
// error: the slot stays, a later Run resumes exactly where this one
// stopped), or a failure retrying cannot get past: a *DDLError, an
// *ApplyError, ErrSlotMissing, or a lost connection MaxAttempts times in
// a row. emit is called from Run's goroutine and must not block long.
// Run may be called once per Stream.
func (s *Stream) Run(ctx context.Context, emit func(Event)) error {
	defer close(s.done)
	err := s.run(ctx, emit)
	if s.pending != nil {
		s.pending.reply <- cutoverResult{err: fmt.Errorf("%w: %w", ErrStopped, err)}
	}
	return err
}

func (s *Stream) run(ctx context.Context, emit func(Event)) error {
	attempt := 0
	for {
		applied := s.stats.txns
		err := s.session(ctx, emit)
		var regroup *regroupError
		if errors.As(err, &regroup) && regroup.until > s.alone {
			s.alone = regroup.until
			continue
		}
		if err == nil || ctx.Err() != nil || !Retryable(err) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if s.stats.txns > applied {
			attempt = 0
		}
		attempt++
		if attempt >= s.cfg.MaxAttempts {
			return fmt.Errorf("stream stopped after %d attempts: %w", attempt, err)
		}
		wait := backoff(attempt)
		emit(Event{Kind: EventRetry, Attempt: attempt, Wait: wait, Err: err})
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// backoff is the wait before attempt n (1, 2, ...): 250 ms doubling up to
// 15 s.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < 15*time.Second; i++ {
		d *= 2
	}
	return min(d, 15*time.Second)
}
