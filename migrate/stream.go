package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ppg-cli/ppg/live"
)

// The running migration learns of a cutover request through a file in its
// working folder, which `ppg cutover` writes; the migration answers in
// another, once the cutover is done or failed. Both are the owner's alone.
const (
	CutoverRequestFile = "ppg-cutover.request"
	CutoverResultFile  = "ppg-cutover.result"
)

// CutoverResult is the migration's answer to a cutover request.
type CutoverResult struct {
	OK bool `json:"ok"`
	// Error is what failed, when not OK.
	Error   string          `json:"error,omitempty"`
	Summary *CutoverSummary `json:"summary,omitempty"`
}

// cutoverPoll is how often the stream step looks for a cutover request.
const cutoverPoll = 50 * time.Millisecond

// requestSlack allows for a file system's coarse modification times: a
// request written as the run started is this run's.
const requestSlack = 100 * time.Millisecond

// liveStatusInterval is how often the stream reports its state.
const liveStatusInterval = 2 * time.Second

// stream runs the live stream until a cutover request, then cuts over:
// it waits until the source's writes are applied, sets the sequences,
// verifies exact counts and the tables copied once, and drops the slot,
// the publication and the target's bookkeeping.
func (e *Engine) stream(ctx context.Context) (*Summary, error) {
	src, err := e.ensureSource(ctx)
	if err != nil {
		return nil, err
	}
	dst, err := e.ensureTarget(ctx)
	if err != nil {
		return nil, err
	}
	ls := e.state.Live
	srcURL, dstURL := connURL(src.Conn), connURL(dst.Conn)
	s, err := live.New(live.Config{Source: srcURL, Target: dstURL, Names: ls.names(), SpillDir: e.cfg.Dir, StatusInterval: liveStatusInterval})
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx, e.liveEvent) }()

	asked, err := e.waitCutoverRequest(ctx, done)
	if err != nil {
		return nil, err
	}
	sum, err := e.cutOver(ctx, s, done, srcURL, dstURL, asked)
	e.answerCutover(sum, err)
	if err != nil {
		return nil, err
	}
	return &Summary{Cutover: sum}, nil
}

// waitCutoverRequest waits for a request file while the stream runs. It
// returns when the request came, or the stream's error.
func (e *Engine) waitCutoverRequest(ctx context.Context, done <-chan error) (time.Time, error) {
	t := time.NewTicker(cutoverPoll)
	defer t.Stop()
	_ = os.Remove(e.path(CutoverResultFile)) // an earlier run's answer
	for {
		if fi, err := os.Stat(e.path(CutoverRequestFile)); err == nil {
			_ = os.Remove(e.path(CutoverRequestFile))
			if fi.ModTime().Before(e.runStart.Add(-requestSlack)) {
				continue // asked of an earlier run, which stopped before it
			}
			at := e.cfg.Now()
			if fi.ModTime().Before(at) && at.Sub(fi.ModTime()) < time.Minute {
				at = fi.ModTime()
			}
			e.send(Event{Kind: Info, Step: StepStream, Notice: &Notice{Code: NoticeLiveCutoverAsked}})
			return at, nil
		}
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("the stream ended before cutover was asked for")
			}
			return time.Time{}, err
		case <-ctx.Done():
			// The stream stops with ctx; a failure it met first is
			// worth more than ctx's error.
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				return time.Time{}, err
			}
			return time.Time{}, ctx.Err()
		case <-t.C:
		}
	}
}

// cutOver ends the stream with its cutover, checks the target and drops
// what the migration created.
func (e *Engine) cutOver(ctx context.Context, s *live.Stream, done <-chan error, srcURL, dstURL string, asked time.Time) (*CutoverSummary, error) {
	rep, err := s.Cutover(ctx)
	if err != nil {
		return nil, fmt.Errorf("cut over: %w", err)
	}
	if err := <-done; err != nil {
		return nil, fmt.Errorf("cut over: %w", err)
	}
	ls := e.state.Live
	sum := &CutoverSummary{CaughtUpSeconds: rep.CaughtUp.Seconds(), Sequences: rep.Sequences,
		DroppedSlot: ls.Slot, DroppedPublication: ls.Publication}
	if err := e.verifyCutover(ctx, sum); err != nil {
		return nil, err
	}
	if err := e.checkCopyOnce(ctx, srcURL, dstURL); err != nil {
		return nil, err
	}
	sum.CopyOnceChecked = len(ls.CopyOnce)
	if err := live.Drop(ctx, live.DropOptions{Source: srcURL, Target: dstURL, Names: ls.names(), Stopped: true}); err != nil {
		return nil, fmt.Errorf("drop the slot and the publication: %w", err)
	}
	ls.SetUp = false
	sum.DowntimeSeconds = e.cfg.Now().Sub(asked).Seconds()
	ls.Cutover = sum
	return sum, e.save()
}

// cutoverCounter is what verifyCutover reads on each side.
type cutoverCounter interface {
	CountRows(ctx context.Context, tables []Table) (map[string]int64, error)
	Sequences(ctx context.Context) (map[string]int64, error)
}

// cutoverCounts are one side's exact row counts and sequences.
type cutoverCounts struct {
	rows, seqs map[string]int64
	err        error
}

func countForCutover(ctx context.Context, db cutoverCounter, tables []Table) (c cutoverCounts) {
	if c.rows, c.err = db.CountRows(ctx, tables); c.err != nil {
		return c
	}
	c.seqs, c.err = db.Sequences(ctx)
	return c
}

// verifyCutover compares the exact row counts and the sequences of the
// source, which is still now, with the target's, exactly (the stream just
// set the sequences). Both sides are read at once, in a few round trips
// each whatever the number of tables (counts are batched; see
// pgdb.CountBatch): the objects were compared at verify, and DDL does not
// stream.
func (e *Engine) verifyCutover(ctx context.Context, sum *CutoverSummary) error {
	tables, err := e.src.DB.Tables(ctx)
	if err != nil {
		return err
	}
	there := make(chan cutoverCounts, 1)
	go func() { there <- countForCutover(ctx, e.dst.DB, tables) }()
	here, dst := countForCutover(ctx, e.src.DB, tables), <-there
	if here.err != nil {
		return fmt.Errorf("count the source's rows: %w", here.err)
	}
	if dst.err != nil {
		return fmt.Errorf("count rows in the target: %w", dst.err)
	}
	m := &Manifest{Version: 1, Sequences: here.seqs}
	for _, t := range tables {
		m.Tables = append(m.Tables, TableCount{Table: t, Rows: here.rows[t.QualifiedName()]})
	}
	var diff []Mismatch
	for _, mm := range compare(m, dst.rows, dst.seqs, nil, false).Mismatches {
		// No objects were counted: only rows and sequences compare.
		if mm.Kind == MismatchTable || mm.Kind == MismatchSequence {
			diff = append(diff, mm)
		}
	}
	if len(diff) > 0 {
		return &VerifyError{Mismatches: diff}
	}
	sum.Tables, sum.Rows = len(tables), m.TotalRows()
	return nil
}

// CopyOnceChangedError names tables copied once (not streamed) that
// changed on the source since the copy, or differ on the target.
type CopyOnceChangedError struct{ Tables []string }

func (e *CopyOnceChangedError) Error() string {
	return fmt.Sprintf("tables copied once changed since the copy: %v", e.Tables)
}

// checkCopyOnce compares the tables copied once: on the source now, in
// the copy, and on the target.
func (e *Engine) checkCopyOnce(ctx context.Context, srcURL, dstURL string) error {
	ls := e.state.Live
	if len(ls.CopyOnce) == 0 {
		return nil
	}
	tables := liveTables(ls.CopyOnce)
	now, err := live.Fingerprints(ctx, srcURL, tables)
	if err != nil {
		return fmt.Errorf("fingerprint the tables copied once on the source: %w", err)
	}
	there, err := live.Fingerprints(ctx, dstURL, tables)
	if err != nil {
		return fmt.Errorf("fingerprint the tables copied once on the target: %w", err)
	}
	var changed []string
	for _, t := range ls.CopyOnce {
		copied := live.Fingerprint{Rows: t.Rows, MD5: t.MD5}
		if now[t.table()] != copied || there[t.table()] != copied {
			changed = append(changed, t.String())
		}
	}
	if len(changed) > 0 {
		return &CopyOnceChangedError{Tables: changed}
	}
	return nil
}

// answerCutover writes the answer to the cutover request.
func (e *Engine) answerCutover(sum *CutoverSummary, err error) {
	res := CutoverResult{OK: err == nil, Summary: sum}
	if err != nil {
		res.Error = err.Error()
	}
	b, merr := json.Marshal(res)
	if merr != nil {
		return
	}
	_ = writeFileAtomic(e.path(CutoverResultFile), b)
}

// liveEvent turns the stream's events into the engine's.
func (e *Engine) liveEvent(ev live.Event) {
	switch ev.Kind {
	case live.EventStarted:
		if ev.TriggersFire {
			e.send(Event{Kind: Warning, Step: StepStream, Notice: &Notice{Code: NoticeLiveTriggersFire}})
		}
	case live.EventStatus:
		st := ev.Status
		e.send(Event{Kind: Info, Step: StepStream, Notice: &Notice{Code: NoticeLiveStatus}, Live: &LiveStatus{
			LagBytes: st.LagBytes, LagSeconds: st.LagSeconds, Rows: st.Rows, Transactions: st.Transactions,
			RowsPerSecond: st.RowsPerSecond, WALHeld: st.WALHeld, InSync: st.LagBytes == 0}})
	case live.EventRetry:
		cause := ""
		if ev.Err != nil {
			cause = ev.Err.Error()
		}
		e.send(Event{Kind: Warning, Step: StepStream, Notice: &Notice{Code: NoticeLiveRetry, Cause: cause, Count: int64(ev.Attempt)}})
	case live.EventCutover:
		// Cutover returns the same report.
	}
}
