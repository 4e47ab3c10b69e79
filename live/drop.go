package live

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DropOptions says what Drop removes.
type DropOptions struct {
	// Source is the source's URL: the slot and the publication go.
	Source string
	// Target is the target's URL: the bookkeeping schema goes. Empty
	// leaves the target alone (a target that is gone, or never set up).
	Target string
	Names  Names
	// RestoreIdentity are tables Setup set REPLICA IDENTITY FULL on, to set
	// back to DEFAULT (an abandoned migration leaves the source as it was).
	RestoreIdentity []Table
	// Stopped says the stream is known to have ended (its Run returned
	// after a cutover): source and target are then dropped at once.
	Stopped bool
}

// Drop removes what a live migration created: the slot and the
// publication on the source, the bookkeeping on the target. It is what
// cutover ends with, and what a user who gives up runs (Abandon). What is
// already gone is not an error. A slot still in use by a stream is
// (*SlotActiveError): stop the stream first.
func Drop(ctx context.Context, opts DropOptions) error {
	if err := opts.Names.check(); err != nil {
		return err
	}
	if opts.Stopped && opts.Target != "" {
		there := make(chan error, 1)
		go func() { there <- dropBookkeeping(ctx, opts.Target) }()
		err := dropSource(ctx, opts)
		return errors.Join(err, <-there)
	}
	// Else the target's bookkeeping goes only once the slot is gone: a
	// stream still running needs it.
	if err := dropSource(ctx, opts); err != nil {
		return err
	}
	if opts.Target != "" {
		return dropBookkeeping(ctx, opts.Target)
	}
	return nil
}

// Abandon gives up a live migration: Drop, with the replica identities
// Setup changed set back.
func Abandon(ctx context.Context, opts DropOptions) error { return Drop(ctx, opts) }

// dropSource drops the slot, the publication and restores identities.
func dropSource(ctx context.Context, opts DropOptions) error {
	conn, err := connect(ctx, opts.Source)
	if err != nil {
		return fmt.Errorf("connect to the source: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	// Simple protocol: one round trip a statement, none to prepare it.
	simple := pgx.QueryExecModeSimpleProtocol
	var pid *int
	err = conn.QueryRow(ctx, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", simple, opts.Names.Slot).Scan(&pid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("look up replication slot %s: %w", opts.Names.Slot, err)
	case pid != nil:
		return &SlotActiveError{Slot: opts.Names.Slot, PID: *pid}
	default:
		if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", simple, opts.Names.Slot); err != nil {
			return fmt.Errorf("drop replication slot %s: %w", opts.Names.Slot, err)
		}
	}
	if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{opts.Names.Publication}.Sanitize()); err != nil {
		return fmt.Errorf("drop publication %s: %w", opts.Names.Publication, err)
	}
	for _, t := range opts.RestoreIdentity {
		if _, err := conn.Exec(ctx, "ALTER TABLE IF EXISTS "+t.Sanitize()+" REPLICA IDENTITY DEFAULT"); err != nil {
			return fmt.Errorf("set replica identity back on %s: %w", t, err)
		}
	}
	return nil
}

// dropPublication drops the publication alone (Setup's undo).
func dropPublication(ctx context.Context, source string, n Names) error {
	conn, err := connect(ctx, source)
	if err != nil {
		return fmt.Errorf("connect to the source: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{n.Publication}.Sanitize()); err != nil {
		return fmt.Errorf("drop publication %s: %w", n.Publication, err)
	}
	return nil
}

// dropBookkeeping drops the package's schema on the target.
func dropBookkeeping(ctx context.Context, target string) error {
	conn, err := connect(ctx, target)
	if err != nil {
		return fmt.Errorf("connect to the target: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+bookkeepingSchema+" CASCADE"); err != nil {
		return fmt.Errorf("drop the bookkeeping schema %s on the target: %w", bookkeepingSchema, err)
	}
	return nil
}

// Leftover is what a live migration left on the source: a slot holds WAL
// there until it is dropped, so front ends say so whenever they stop.
type Leftover struct {
	Slot        string
	Publication string // empty when the publication is gone
	// SlotExists is false when only the publication is left.
	SlotExists bool
	// Active is true while a stream reads from the slot.
	Active bool
	// WALHeld is the WAL, in bytes, the slot keeps on the source.
	WALHeld int64
	// DropSQL removes slot and publication (run it on the source).
	DropSQL string
}

// Leftovers reports what of the migration named n is on the source; nil
// when nothing is.
func Leftovers(ctx context.Context, source string, n Names) (*Leftover, error) {
	conn, err := connect(ctx, source)
	if err != nil {
		return nil, fmt.Errorf("connect to the source: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	l := &Leftover{Slot: n.Slot, DropSQL: DropSQL(n)}
	err = conn.QueryRow(ctx, `SELECT active, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint
		FROM pg_replication_slots WHERE slot_name = $1`, n.Slot).Scan(&l.Active, &l.WALHeld)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("look up replication slot %s: %w", n.Slot, err)
	default:
		l.SlotExists = true
	}
	var pub bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", n.Publication).Scan(&pub); err != nil {
		return nil, fmt.Errorf("look up publication %s: %w", n.Publication, err)
	}
	if pub {
		l.Publication = n.Publication
	}
	if !l.SlotExists && !pub {
		return nil, nil
	}
	return l, nil
}
