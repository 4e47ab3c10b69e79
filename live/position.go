package live

import (
	"time"

	"github.com/jackc/pglogrepl"
)

// LSN is a position in the source's write-ahead log.
type LSN = pglogrepl.LSN

// startPosition is where a stream resumes: the later of the position the
// target recorded with the last applied transaction and the position the
// slot has confirmed. Either may be ahead: the target's when a status
// update was lost, the slot's when it advanced past WAL with nothing for
// this publication.
func startPosition(recorded, confirmed LSN) LSN {
	return max(recorded, confirmed)
}

// alreadyApplied reports whether a source transaction whose commit record
// starts at commit was applied before the target recorded position
// recorded (the end of the last applied commit record). The server skips
// these itself when it starts at recorded; this guards the case where it
// starts earlier (the slot's confirmed position behind the target's).
func alreadyApplied(commit, recorded LSN) bool {
	return commit < recorded
}

// position follows how far the stream got. It is the one place that
// decides what is reported to the source as flushed and when everything
// written before some point has been applied.
type position struct {
	// applied is the end of the last source transaction applied (or
	// skipped as already applied) on the target.
	applied LSN
	// idle is the server's sent position from the last keepalive received
	// outside any transaction: everything committed before it has been
	// received, and so applied.
	idle LSN
	// inTxn is true between a Begin and its Commit.
	inTxn bool
	// streaming counts streamed transactions received in part, not yet
	// committed or aborted.
	streaming int
}

// committed records an applied (or skipped) transaction ending at end.
func (p *position) committed(end LSN) {
	p.applied = max(p.applied, end)
	p.inTxn = false
}

// keepalive records a server keepalive's sent position.
func (p *position) keepalive(sent LSN) {
	if !p.inTxn {
		p.idle = max(p.idle, sent)
	}
}

// caughtUp is the position before which every committed source
// transaction has been applied. Streamed transactions still open do not
// count: they commit later, if ever.
func (p *position) caughtUp() LSN {
	return max(p.applied, p.idle)
}

// flush is the position reported to the source as flushed, which lets it
// free the WAL before it. It goes past the last applied transaction only
// when nothing is in flight, as PostgreSQL's own apply worker does, so a
// restart from it loses nothing.
func (p *position) flush() LSN {
	if p.streaming > 0 || p.inTxn {
		return p.applied
	}
	return p.caughtUp()
}

// LagBytes is how far the target is behind the source: the source's
// current position minus the caught-up position, never negative.
func LagBytes(source, caughtUp LSN) int64 {
	if source <= caughtUp {
		return 0
	}
	return int64(source - caughtUp)
}

// LagSeconds estimates how far behind the target is in time. Nothing
// behind: zero. A transaction being applied: now minus its commit time on
// the source. Otherwise the delay of the last applied transaction, from
// its commit on the source to its commit on the target: in a backlog that
// is the lag, and with sparse writes it stays the small transfer delay
// rather than the time since the last write. Times are zero when unknown.
func LagSeconds(now, inFlight, lastCommit, lastApplied time.Time, lagBytes int64) float64 {
	switch {
	case lagBytes == 0:
		return 0
	case !inFlight.IsZero():
		return max(0, now.Sub(inFlight).Seconds())
	case !lastCommit.IsZero() && !lastApplied.IsZero():
		return max(0, lastApplied.Sub(lastCommit).Seconds())
	}
	return 0
}

// rate is rows per second between two counts taken d apart.
func rate(before, after int64, d time.Duration) float64 {
	if d <= 0 || after < before {
		return 0
	}
	return float64(after-before) / d.Seconds()
}
