package live

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
)

// handle decodes one pgoutput message and acts on it: transaction
// boundaries here, changes in apply. Inside a streamed chunk, changes go
// to the transaction's spill file until it commits.
func (ss *session) handle(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var m pglogrepl.Message
	var err error
	if ss.proto == 1 {
		m, err = pglogrepl.Parse(data)
	} else {
		m, err = pglogrepl.ParseV2(data, ss.inStream)
	}
	if err != nil {
		return fmt.Errorf("decode a %q message from the source: %w", data[0], err)
	}
	switch m := m.(type) {
	case *pglogrepl.BeginMessage:
		ss.pos.inTxn = true
		ss.skip = alreadyApplied(m.FinalLSN, ss.recorded)
		ss.inFlight = m.CommitTime
		ss.applier.begin(m.FinalLSN)
	case *pglogrepl.CommitMessage:
		return ss.commit(ctx, m.TransactionEndLSN, m.CommitTime)
	case *pglogrepl.StreamStartMessageV2:
		return ss.streamStart(m)
	case *pglogrepl.StreamStopMessageV2:
		ss.inStream = false
	case *pglogrepl.StreamCommitMessageV2:
		return ss.streamCommit(ctx, m)
	case *pglogrepl.StreamAbortMessageV2:
		ss.streamAbort(m)
	default:
		if ss.inStream {
			return ss.spills[ss.streamXid].add(data)
		}
		if ss.skip {
			return nil
		}
		return ss.apply(ctx, m)
	}
	return nil
}

// commit ends the source transaction being applied: it joins the group
// of transactions the target commits together (settle).
func (ss *session) commit(ctx context.Context, end LSN, at time.Time) error {
	if !ss.skip {
		ss.applier.endTxn(end, at)
	}
	ss.skip = false
	ss.inFlight = time.Time{}
	ss.pos.inTxn = false
	ss.pendingEnd = max(ss.pendingEnd, end)
	if !ss.applier.pending() {
		// Skipped, or nothing in it for the target: nothing to commit.
		ss.pos.committed(ss.pendingEnd)
		return nil
	}
	if ss.applier.full() || ss.applier.commit <= ss.s.alone || time.Since(ss.applier.group.since) >= ss.settleEvery {
		return ss.settle(ctx)
	}
	return nil
}

// settle commits the group of applied source transactions, if any, unless
// a source transaction is being applied: only then do they count as
// applied, for the status, the source and cutover.
func (ss *session) settle(ctx context.Context) error {
	if ss.pos.inTxn {
		return nil // never in the middle of a source transaction
	}
	at := ss.applier.group.at
	began := time.Now()
	end, txns, rows, err := ss.applier.commitGroup(ctx)
	if err != nil {
		return err
	}
	if txns > 0 {
		ss.settleEvery = settleInterval(time.Since(began))
		ss.recorded = max(ss.recorded, end)
		ss.s.stats.rows += rows
		ss.s.stats.txns += txns
		ss.s.stats.lastCommit, ss.s.stats.lastApplied = at, time.Now()
	}
	ss.pos.committed(ss.pendingEnd)
	return nil
}

// streamStart opens or continues a streamed transaction's spill file.
func (ss *session) streamStart(m *pglogrepl.StreamStartMessageV2) error {
	ss.inStream, ss.streamXid = true, m.Xid
	if sp := ss.spills[m.Xid]; sp != nil {
		if m.FirstSegment == 0 {
			return nil
		}
		sp.close()
		ss.pos.streaming--
	}
	sp, err := newSpill(ss.s.cfg.SpillDir)
	if err != nil {
		return err
	}
	ss.spills[m.Xid] = sp
	ss.pos.streaming++
	ss.s.stats.streamed++
	return nil
}

// streamAbort forgets a streamed transaction, or one of its
// subtransactions.
func (ss *session) streamAbort(m *pglogrepl.StreamAbortMessageV2) {
	sp := ss.spills[m.Xid]
	if sp == nil {
		return
	}
	if m.SubXid != m.Xid {
		sp.aborted[m.SubXid] = true
		return
	}
	ss.s.stats.spilled += sp.bytes
	sp.close()
	delete(ss.spills, m.Xid)
	ss.pos.streaming--
}

// streamCommit applies a streamed transaction from its spill file, as one
// target transaction, skipping its rolled-back subtransactions.
func (ss *session) streamCommit(ctx context.Context, m *pglogrepl.StreamCommitMessageV2) error {
	sp := ss.spills[m.Xid]
	if sp == nil {
		return fmt.Errorf("the source committed streamed transaction %d, never started", m.Xid)
	}
	defer func() {
		ss.s.stats.spilled += sp.bytes
		sp.close()
		delete(ss.spills, m.Xid)
		ss.pos.streaming--
	}()
	ss.pos.inTxn = true
	ss.skip = alreadyApplied(m.CommitLSN, ss.recorded)
	ss.inFlight = m.CommitTime
	ss.applier.begin(m.CommitLSN)
	if !ss.skip {
		err := sp.replay(func(data []byte) error {
			msg, err := pglogrepl.ParseV2(data, true)
			if err != nil {
				return fmt.Errorf("decode a spilled %q message: %w", data[0], err)
			}
			if xid, ok := streamedXid(msg); ok && sp.aborted[xid] {
				return nil
			}
			return ss.apply(ctx, msg)
		})
		if err != nil {
			return err
		}
	}
	return ss.commit(ctx, m.TransactionEndLSN, m.CommitTime)
}

// streamedXid is the (sub)transaction a streamed change belongs to.
func streamedXid(m pglogrepl.Message) (uint32, bool) {
	switch m := m.(type) {
	case *pglogrepl.InsertMessageV2:
		return m.Xid, true
	case *pglogrepl.UpdateMessageV2:
		return m.Xid, true
	case *pglogrepl.DeleteMessageV2:
		return m.Xid, true
	case *pglogrepl.TruncateMessageV2:
		return m.Xid, true
	}
	return 0, false
}

// apply applies one change, or takes in a relation's description.
func (ss *session) apply(ctx context.Context, m pglogrepl.Message) error {
	switch m := m.(type) {
	case *pglogrepl.RelationMessageV2:
		return ss.relation(ctx, &m.RelationMessage)
	case *pglogrepl.RelationMessage:
		return ss.relation(ctx, m)
	case *pglogrepl.InsertMessageV2:
		return ss.insert(ctx, &m.InsertMessage)
	case *pglogrepl.InsertMessage:
		return ss.insert(ctx, m)
	case *pglogrepl.UpdateMessageV2:
		return ss.update(ctx, &m.UpdateMessage)
	case *pglogrepl.UpdateMessage:
		return ss.update(ctx, m)
	case *pglogrepl.DeleteMessageV2:
		return ss.delete(ctx, &m.DeleteMessage)
	case *pglogrepl.DeleteMessage:
		return ss.delete(ctx, m)
	case *pglogrepl.TruncateMessageV2:
		return ss.truncate(ctx, &m.TruncateMessage)
	case *pglogrepl.TruncateMessage:
		return ss.truncate(ctx, m)
	}
	return nil // types, origins, logical messages: nothing to apply
}

// relation takes in a table's description and checks it against the
// target's columns: a difference stops the stream before the change.
func (ss *session) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	r := newRelation(m)
	// The source sends a table's description again after anything that
	// invalidates its cache entry (autovacuum's statistics, a TRUNCATE):
	// the same description needs no second look at the target.
	if prev := ss.relations[r.id]; prev != nil && prev.sameAs(r) {
		return nil
	}
	// The columns are read inside the open target transaction: flush its
	// queued statements first.
	if err := ss.applier.sync(ctx); err != nil {
		return err
	}
	cols, exists, err := targetColumns(ctx, ss.target, r.table)
	if err != nil {
		return err
	}
	if !exists {
		return &DDLError{Table: r.table, TableMissing: true}
	}
	if err := matchColumns(r, cols); err != nil {
		if ss.applier.pending() {
			// Earlier source transactions share the target transaction
			// this one rolls back: they must be on the target before the
			// stream stops, or the DDL the user then runs on the target
			// would not match them.
			return &regroupError{until: ss.applier.commit, err: err}
		}
		return err
	}
	ss.relations[r.id] = r
	return nil
}

// rel is the relation a change names.
func (ss *session) rel(id uint32) (*relation, error) {
	r := ss.relations[id]
	if r == nil {
		return nil, fmt.Errorf("the source sent a change to relation %d before describing it", id)
	}
	return r, nil
}

func (ss *session) insert(ctx context.Context, m *pglogrepl.InsertMessage) error {
	r, err := ss.rel(m.RelationID)
	if err != nil {
		return err
	}
	return ss.add(ctx, insertStatement(r, m.Tuple), r.table)
}

func (ss *session) update(ctx context.Context, m *pglogrepl.UpdateMessage) error {
	r, err := ss.rel(m.RelationID)
	if err != nil {
		return err
	}
	old := m.OldTuple
	if m.OldTupleType == 0 {
		old = nil
	}
	st, ok := updateStatement(r, old, m.NewTuple)
	if !ok {
		return nil
	}
	return ss.add(ctx, st, r.table)
}

func (ss *session) delete(ctx context.Context, m *pglogrepl.DeleteMessage) error {
	r, err := ss.rel(m.RelationID)
	if err != nil {
		return err
	}
	return ss.add(ctx, deleteStatement(r, m.OldTuple), r.table)
}

func (ss *session) truncate(ctx context.Context, m *pglogrepl.TruncateMessage) error {
	tables := make([]Table, 0, len(m.RelationIDs))
	for _, id := range m.RelationIDs {
		r, err := ss.rel(id)
		if err != nil {
			return err
		}
		tables = append(tables, r.table)
	}
	if len(tables) == 0 {
		return nil
	}
	return ss.add(ctx, truncateStatement(tables, m.Option), tables[0])
}

// add queues a statement; during a long transaction it keeps the source
// informed, so the WAL sender does not time out while the target works.
func (ss *session) add(ctx context.Context, st statement, t Table) error {
	if err := ss.applier.add(ctx, st, t); err != nil {
		return err
	}
	if time.Since(ss.lastFeedback) > 5*time.Second {
		return ss.feedback(ctx, false)
	}
	return nil
}

// settleInterval is how long a group may wait for more source
// transactions, given how long committing the last one took: four times
// that, between 5 and 250 ms. Over a slow link a group then pays its
// round trip for a fifth of the time at most, and a fast one keeps the
// target within milliseconds of the source.
func settleInterval(took time.Duration) time.Duration {
	return min(max(4*took, 5*time.Millisecond), 250*time.Millisecond)
}
