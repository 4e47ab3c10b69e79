package live

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// maintain does what the loop does between messages: status updates to
// the source, status events, and the cutover.
func (ss *session) maintain(ctx context.Context) (done bool, err error) {
	now := time.Now()
	feedbackEvery := time.Second
	if ss.s.pending != nil {
		feedbackEvery = 50 * time.Millisecond
	}
	if now.Sub(ss.lastFeedback) >= feedbackEvery {
		// Asking for a reply brings a keepalive with the server's sent
		// position: how the stream learns it is caught up when the source
		// writes nothing for it.
		if err := ss.feedback(ctx, true); err != nil {
			return false, err
		}
	}
	if now.Sub(ss.lastStatus) >= ss.s.cfg.StatusInterval {
		if err := ss.status(ctx); err != nil {
			return false, err
		}
	}
	if ss.s.pending == nil {
		select {
		case req := <-ss.s.cutover:
			ss.s.pending = req
		default:
			return false, nil
		}
	}
	return ss.cutover(ctx)
}

// status emits the stream's facts.
func (ss *session) status(ctx context.Context) error {
	var source string
	var held *int64
	err := ss.source.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text,
		(SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1)`,
		ss.s.cfg.Names.Slot).Scan(&source, &held)
	if err != nil {
		return fmt.Errorf("read the source's position: %w", err)
	}
	lsn, err := parseLSN(source)
	if err != nil {
		return err
	}
	now := time.Now()
	st := &ss.s.stats
	caught := ss.pos.caughtUp()
	s := Status{
		At: now, Source: lsn, Applied: caught, LagBytes: LagBytes(lsn, caught),
		Rows: st.rows, Transactions: st.txns, Streamed: st.streamed, Spilled: st.spilled,
	}
	s.LagSeconds = LagSeconds(now, ss.inFlight, st.lastCommit, st.lastApplied, s.LagBytes)
	if !st.prevAt.IsZero() {
		s.RowsPerSecond = rate(st.prevRows, st.rows, now.Sub(st.prevAt))
	}
	st.prevRows, st.prevAt = st.rows, now
	if held != nil {
		s.WALHeld = *held
	}
	ss.lastStatus = now
	ss.emit(Event{Kind: EventStatus, Status: s})
	return nil
}

// cutover reads the cutover point once, then, when everything before it
// is applied, sets the sequences and answers the request.
func (ss *session) cutover(ctx context.Context) (bool, error) {
	req := ss.s.pending
	if req.point == 0 {
		point, err := cutoverPoint(ctx, ss.source)
		if err != nil {
			return false, err
		}
		req.point = point
	}
	// Between source transactions only, with the group committed: the
	// sequences must not join a target transaction still open.
	if ss.pos.inTxn || ss.pos.caughtUp() < req.point {
		return false, nil
	}
	if err := ss.settle(ctx); err != nil {
		return false, err
	}
	caughtUp := time.Since(req.at)
	n, err := copySequences(ctx, ss.source, ss.target.PgConn())
	if err != nil {
		return false, err
	}
	if err := ss.feedback(ctx, false); err != nil {
		return false, err
	}
	if err := ss.release(ctx); err != nil {
		return false, err
	}
	rep := &CutoverReport{Requested: req.at, Point: req.point, CaughtUp: caughtUp, Sequences: n, Took: time.Since(req.at)}
	ss.emit(Event{Kind: EventCutover, Cutover: rep})
	req.reply <- cutoverResult{report: rep}
	ss.s.pending = nil
	return true, nil
}

// release ends the replication session and waits until the source has let
// go of the slot (its WAL sender exits a moment after the connection
// closes), so Drop can follow at once.
func (ss *session) release(ctx context.Context) error {
	if err := ss.repl.Close(ctx); err != nil {
		return fmt.Errorf("close the replication session: %w", err)
	}
	ss.repl = nil
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var active bool
		err := ss.source.QueryRow(ctx, "SELECT coalesce((SELECT active FROM pg_replication_slots WHERE slot_name = $1), false)",
			pgx.QueryExecModeSimpleProtocol, ss.s.cfg.Names.Slot).Scan(&active)
		if err != nil {
			return fmt.Errorf("wait for the source to release slot %s: %w", ss.s.cfg.Names.Slot, err)
		}
		if !active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the source to release slot %s: %w", ss.s.cfg.Names.Slot, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
