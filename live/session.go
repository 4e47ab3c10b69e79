package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// session is one connection to each side: the replication session, an
// ordinary source session for facts, and the target session. A lost
// connection ends the session; Run starts another.
type session struct {
	s       *Stream
	emit    func(Event)
	repl    *pgconn.PgConn
	source  *pgx.Conn
	target  *pgx.Conn
	applier *applier
	proto   int

	recorded  LSN // the position the target recorded
	pos       position
	relations map[uint32]*relation
	spills    map[uint32]*spill
	inStream  bool
	streamXid uint32
	skip      bool // the open transaction was applied before
	// pendingEnd is the end of the last source transaction received whole:
	// applied once the group is committed.
	pendingEnd LSN
	inFlight   time.Time // commit time of the transaction being applied

	lastFeedback, lastStatus time.Time
	settleEvery              time.Duration // see settleInterval
	triggersFire             bool          // the target refused session_replication_role
}

// session runs one session until cutover (nil) or an error.
func (s *Stream) session(ctx context.Context, emit func(Event)) error {
	ss := &session{s: s, emit: emit, relations: map[uint32]*relation{}, spills: map[uint32]*spill{}}
	defer ss.close()
	from, err := ss.open(ctx)
	if err != nil {
		return err
	}
	emit(Event{Kind: EventStarted, From: from, TriggersFire: ss.triggersFire})
	return ss.loop(ctx)
}

// open connects to both sides and starts replication from where the
// target and the slot say the stream got.
func (ss *session) open(ctx context.Context) (LSN, error) {
	var err error
	if ss.target, err = connect(ctx, ss.s.cfg.Target); err != nil {
		return 0, fmt.Errorf("connect to the target: %w", err)
	}
	if ss.recorded, err = recordedPosition(ctx, ss.target, ss.s.cfg.Names.Slot); err != nil {
		return 0, err
	}
	if ss.triggersFire, err = replicaRole(ctx, ss.target); err != nil {
		return 0, err
	}
	if ss.source, err = connect(ctx, ss.s.cfg.Source); err != nil {
		return 0, fmt.Errorf("connect to the source: %w", err)
	}
	confirmed, version, err := ss.slot(ctx)
	if err != nil {
		return 0, err
	}
	from := startPosition(ss.recorded, confirmed)
	ss.pos = position{applied: from}
	ss.pendingEnd = from
	if ss.repl, err = connectReplication(ctx, ss.s.cfg.Source); err != nil {
		return 0, fmt.Errorf("open a replication session on the source: %w", err)
	}
	ss.proto = 1
	args := []string{"proto_version '1'", "publication_names '" + ss.s.cfg.Names.Publication + "'"}
	if version >= 140000 {
		// Protocol 2 streams transactions while in progress: the source
		// does not spill them to its own disk, and neither does memory
		// here hold them.
		ss.proto = 2
		args = []string{"proto_version '2'", "publication_names '" + ss.s.cfg.Names.Publication + "'", "streaming 'on'"}
	}
	err = pglogrepl.StartReplication(ctx, ss.repl, ss.s.cfg.Names.Slot, from, pglogrepl.StartReplicationOptions{PluginArgs: args})
	if err != nil {
		return 0, fmt.Errorf("start streaming from slot %s at %s: %w", ss.s.cfg.Names.Slot, from, err)
	}
	ss.applier = newApplier(ss.target.PgConn(), ss.s.cfg.Names.Slot, ss.s.cfg.BatchSize)
	ss.lastFeedback, ss.lastStatus = time.Now(), time.Time{}
	ss.settleEvery = settleInterval(0)
	return from, nil
}

// slot reads the slot's confirmed position and the server's version.
func (ss *session) slot(ctx context.Context) (LSN, int, error) {
	var confirmed *string
	var active *int
	var version int
	err := ss.source.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		(SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()),
		(SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1)`, ss.s.cfg.Names.Slot).Scan(&version, &confirmed, &active)
	if err != nil {
		return 0, 0, fmt.Errorf("look up replication slot %s: %w", ss.s.cfg.Names.Slot, err)
	}
	if confirmed == nil {
		return 0, 0, fmt.Errorf("slot %s: %w", ss.s.cfg.Names.Slot, ErrSlotMissing)
	}
	if active != nil {
		// A stream that just died may hold it a moment longer: retried.
		return 0, 0, &SlotActiveError{Slot: ss.s.cfg.Names.Slot, PID: *active}
	}
	lsn, err := parseLSN(*confirmed)
	return lsn, version, err
}

// close ends the session's connections and removes its spill files.
func (ss *session) close() {
	for _, sp := range ss.spills {
		sp.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ss.repl != nil {
		_ = ss.repl.Close(ctx)
	}
	if ss.source != nil {
		_ = ss.source.Close(ctx)
	}
	if ss.target != nil {
		_ = ss.target.Close(ctx)
	}
}

// loop receives and applies until cutover or an error.
func (ss *session) loop(ctx context.Context) error {
	for {
		done, err := ss.maintain(ctx)
		if done || err != nil {
			return err
		}
		// Idle, the loop still wakes often enough that a cutover request
		// (which waits for maintain) is taken within a tenth of a second.
		tick := 100 * time.Millisecond
		switch {
		case ss.applier.pending() && !ss.pos.inTxn:
			// Commit the group when it has waited long enough.
			tick = max(time.Until(ss.applier.group.since.Add(ss.settleEvery)), time.Millisecond)
		case ss.s.pending != nil:
			tick = 50 * time.Millisecond
		}
		rctx, cancel := context.WithTimeout(ctx, tick)
		msg, err := ss.repl.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				if time.Since(ss.applier.group.since) < ss.settleEvery {
					continue
				}
				if err := ss.settle(ctx); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("receive from the source: %w", err)
		}
		if err := ss.receive(ctx, msg); err != nil {
			return err
		}
	}
}

// receive handles one message of the replication session.
func (ss *session) receive(ctx context.Context, msg pgproto3.BackendMessage) error {
	switch msg := msg.(type) {
	case *pgproto3.CopyData:
		if len(msg.Data) == 0 {
			return nil
		}
		switch msg.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			k, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
			if err != nil {
				return fmt.Errorf("parse a keepalive: %w", err)
			}
			// What is applied must be committed before the keepalive
			// can say the stream is caught up.
			if err := ss.settle(ctx); err != nil {
				return err
			}
			ss.pos.keepalive(k.ServerWALEnd)
			if k.ReplyRequested {
				return ss.feedback(ctx, false)
			}
		case pglogrepl.XLogDataByteID:
			x, err := pglogrepl.ParseXLogData(msg.Data[1:])
			if err != nil {
				return fmt.Errorf("parse WAL data: %w", err)
			}
			return ss.handle(ctx, x.WALData)
		}
	case *pgproto3.ErrorResponse:
		return fmt.Errorf("stream from the source: %w", pgconn.ErrorResponseToPgError(msg))
	case *pgproto3.CopyDone:
		return errors.New("the source ended the stream")
	}
	return nil
}

// feedback tells the source how far the target got, so it frees the WAL
// before that; reply asks for a keepalive back.
func (ss *session) feedback(ctx context.Context, reply bool) error {
	flush := ss.pos.flush()
	err := pglogrepl.SendStandbyStatusUpdate(ctx, ss.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: flush, WALFlushPosition: flush, WALApplyPosition: flush, ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("send a status update to the source: %w", err)
	}
	ss.lastFeedback = time.Now()
	return nil
}
