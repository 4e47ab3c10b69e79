package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Class is the kind of a failure: what a front end's exit status and
// advice depend on. An error tells its class through [Classed], as pgconn's
// errors tell whether they are safe to retry; [ClassOf] asks it.
type Class int

// Classes of failures.
const (
	// ClassOther: any other failure.
	ClassOther Class = iota
	// ClassStopped: the user stopped the run (the context was cancelled).
	ClassStopped
	// ClassUsage: a mistake in how the command was called.
	ClassUsage
	// ClassTools: pg_dump or pg_restore is missing or too old.
	ClassTools
	// ClassConnect: a key or password was refused, a database could not be
	// reached, or a connection broke.
	ClassConnect
	// ClassGateway: Prisma's gateway could not be reached or refused the
	// connection for reasons of its own (HTTP 5xx): the key is not at
	// fault.
	ClassGateway
	// ClassRefused: the target was refused (not empty, the source itself,
	// older than the source, or the preflight found a blocker).
	ClassRefused
	// ClassMismatch: verification found differences.
	ClassMismatch
	// ClassLocked: another migration holds the folder.
	ClassLocked
	// ClassChanged: the source was written to after the dump.
	ClassChanged
)

var classNames = map[Class]string{
	ClassOther: "other", ClassStopped: "stopped", ClassUsage: "usage", ClassTools: "tools",
	ClassConnect: "connect", ClassGateway: "gateway", ClassRefused: "refused",
	ClassMismatch: "mismatch", ClassLocked: "locked", ClassChanged: "changed",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Classed is an error that knows its class.
type Classed interface {
	Class() Class
}

// ClassOf returns err's class: ClassStopped for a cancelled context, the
// class of a gateway's refusal found anywhere in it (see GatewayRefusal),
// else that of the first error in its chain that knows its class, else
// that of the tool and tunnel errors (their packages sit below this one),
// else ClassOther.
func ClassOf(err error) Class {
	if err == nil {
		return ClassOther
	}
	if errors.Is(err, context.Canceled) {
		return ClassStopped
	}
	if r := GatewayRefusal(err); r != nil {
		return refusalClass(r)
	}
	var c Classed
	if errors.As(err, &c) {
		return c.Class()
	}
	var (
		dwn *pgtools.DowngradeError
		ke  *tunnel.KeyError
	)
	switch {
	case errors.Is(err, pgtools.ErrNotFound):
		return ClassTools
	case errors.As(err, &dwn):
		return ClassRefused
	case errors.As(err, &ke):
		return ClassConnect
	}
	return ClassOther
}

func refusalClass(r error) Class {
	var he *tunnel.HandshakeError
	if errors.As(r, &he) && !he.Unavailable() {
		return ClassConnect // the key: 401, 410 and the like
	}
	return ClassGateway
}

// pgServerError is what pgconn's *PgError offers: an error with the
// server's SQLSTATE.
type pgServerError interface {
	error
	SQLState() string
}

// tunnelRefusedState is the SQLSTATE of the FATAL error the tunnel sends a
// client whose WebSocket the gateway refused (08001, unable to connect).
const tunnelRefusedState = "08001"

// GatewayRefusal finds the gateway's refusal behind err, whatever path it
// came by: ppg's own connection (a *tunnel.HandshakeError or
// *tunnel.UnreachableError in the chain), a connection through a tunnel
// that carried it to its client (pgx's server error of SQLSTATE 08001, as
// a pipelined session returns it), or pg_dump and pg_restore, which print
// it among their last lines (a *pgtools.ExitError, or the cause of a
// *ConnectionLostError). It returns the typed tunnel error, or nil.
func GatewayRefusal(err error) error {
	if err == nil {
		return nil
	}
	if r := tunnel.Refusal(err); r != nil {
		return r
	}
	var pe pgServerError
	if errors.As(err, &pe) && pe.SQLState() == tunnelRefusedState {
		if r := tunnel.RefusalIn(pe.Error()); r != nil {
			return r
		}
	}
	var lost *ConnectionLostError
	if errors.As(err, &lost) {
		if r := tunnel.RefusalIn(lost.Cause); r != nil {
			return r
		}
	}
	var ee *pgtools.ExitError
	if errors.As(err, &ee) {
		for _, l := range ee.StderrTail {
			if r := tunnel.RefusalIn(l); r != nil {
				return r
			}
		}
	}
	return nil
}

// Class is ClassConnect, or the class of the refusal behind it.
func (e *ConnectError) Class() Class {
	if r := GatewayRefusal(e.Err); r != nil {
		return refusalClass(r)
	}
	return ClassConnect
}

// Class is ClassConnect.
func (e *KeyChangedError) Class() Class { return ClassConnect }

// Class is ClassConnect: the link broke.
func (e *ConnectionLostError) Class() Class { return ClassConnect }

// Class is ClassConnect: the link hangs.
func (e *StalledError) Class() Class { return ClassConnect }

// Class is ClassRefused.
func (e *TargetRefusedError) Class() Class { return ClassRefused }

// Class is ClassRefused: the preflight found a blocker.
func (e *PlanError) Class() Class { return ClassRefused }

// Class is ClassMismatch.
func (e *VerifyError) Class() Class { return ClassMismatch }

// Class is ClassLocked.
func (e *LockedError) Class() Class { return ClassLocked }

// Class is ClassChanged.
func (e *SourceChangedError) Class() Class { return ClassChanged }

// gatewayDown reports whether err is Prisma's gateway answering 5xx, on
// whatever path it came: like a lost connection, that may go away by
// itself, and a step that meets it mid-run is retried.
func gatewayDown(err error) bool {
	var he *tunnel.HandshakeError
	return errors.As(GatewayRefusal(err), &he) && he.Unavailable()
}
