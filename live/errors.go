package live

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrBadName reports a slot or publication name that is not lower-case
	// letters, digits and underscores, 1 to 63 of them.
	ErrBadName = errors.New("not a valid replication slot or publication name")
	// ErrSlotMissing reports that the migration's slot is not on the source
	// (dropped by someone, or never created): the stream cannot resume, the
	// copy must start again.
	ErrSlotMissing = errors.New("replication slot not found on the source")
	// ErrNotPossible reports that Setup was asked on a source whose probe
	// found blockers; errors.As a *BlockedError for them.
	ErrNotPossible = errors.New("live migration is not possible on this source")
	// ErrStopped reports a Cutover asked of a stream that is not running or
	// that ended before the cutover was done.
	ErrStopped = errors.New("the stream is not running")
)

// BlockedError carries the blockers that make live migration impossible.
// It wraps ErrNotPossible.
type BlockedError struct {
	Blockers []Blocker
}

func (e *BlockedError) Error() string {
	kinds := make([]string, len(e.Blockers))
	for i, b := range e.Blockers {
		kinds[i] = string(b.Kind)
	}
	return "live migration is not possible: " + strings.Join(kinds, ", ")
}

func (e *BlockedError) Unwrap() error { return ErrNotPossible }

// DDLError reports that a table's columns on the source no longer match
// the target's: the stream stopped before applying the change that showed
// it. Once the same DDL is applied to the target, the stream resumes.
type DDLError struct {
	Table Table
	// TableMissing is true when the target has no such table.
	TableMissing bool
	// Missing are the source's columns the target lacks; Extra the target's
	// (not generated) columns the source no longer has; Changed the columns
	// whose built-in type differs.
	Missing, Extra, Changed []string
}

func (e *DDLError) Error() string {
	if e.TableMissing {
		return fmt.Sprintf("table %s is streamed from the source but missing on the target", e.Table)
	}
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "columns missing on the target: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, "columns only on the target: "+strings.Join(e.Extra, ", "))
	}
	if len(e.Changed) > 0 {
		parts = append(parts, "columns of another type: "+strings.Join(e.Changed, ", "))
	}
	return fmt.Sprintf("table %s differs between source and target (%s)", e.Table, strings.Join(parts, "; "))
}

// ApplyError reports a change (or, with Table zero, a batch) the target
// failed. A refusal (a constraint, a type) would fail the same way again;
// a terminated session (57P01) or a connection lost mid-batch is retried
// (see Retryable), from the position last recorded.
type ApplyError struct {
	Table Table
	// LSN is the source position of the transaction's commit.
	LSN LSN
	Err error
}

func (e *ApplyError) Error() string {
	if e.Table == (Table{}) {
		// The target failed the batch as a whole (a terminated session):
		// no one change is to blame.
		return fmt.Sprintf("apply changes (source transaction at %s): %v", e.LSN, e.Err)
	}
	return fmt.Sprintf("apply a change to %s (source transaction at %s): %v", e.Table, e.LSN, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// SlotActiveError reports that another process streams from the slot.
type SlotActiveError struct {
	Slot string
	PID  int
}

func (e *SlotActiveError) Error() string {
	return fmt.Sprintf("replication slot %s is in use by process %d", e.Slot, e.PID)
}

// Retryable reports whether err is a lost or refused connection, a server
// shutting down, or a slot still held by a stream that just died: the
// failures that retrying with backoff can get past.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ddl *DDLError
	if errors.As(err, &ddl) || errors.Is(err, ErrSlotMissing) || errors.Is(err, ErrBadName) || errors.Is(err, ErrNotPossible) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return retryableCode(pgErr.Code)
	}
	var active *SlotActiveError
	if errors.As(err, &active) {
		return true
	}
	var apply *ApplyError
	// An ApplyError without a server error is a lost connection mid-batch.
	return !errors.As(err, &apply) || apply.Err == nil || !errors.As(apply.Err, &pgErr)
}

// retryableCode reports SQLSTATEs of connections lost, refused or
// terminated, and of a slot still active.
func retryableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), // connection exception
		strings.HasPrefix(code, "57P"),   // admin shutdown, crash shutdown, cannot connect now
		code == "53300",                  // too many connections
		code == "55006",                  // object in use: the slot is still active
		code == "40001", code == "40P01": // serialization failure, deadlock
		return true
	}
	return false
}
