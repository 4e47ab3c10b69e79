package migrate

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Captured from pg_restore 17 through ppg's tunnel, whose gateway answered
// 503.
var restoreRefused = []string{
	`pg_restore: connecting to database for restore`,
	`pg_restore: error: connection to server at "127.0.0.1", port 42255 failed: FATAL:  ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id req-503-captured)`,
}

func TestGatewayRefusalOfAToolsLostConnection(t *testing.T) {
	// The restore turns the tool's failure into a lost connection first.
	lost := connectionLost(nil, &pgtools.ExitError{Tool: "pg_restore", Code: 1, StderrTail: restoreRefused})
	if lost == nil {
		t.Fatal("the refused connection is not a lost one")
	}
	var he *tunnel.HandshakeError
	if r := GatewayRefusal(&StepError{Step: StepRestore, Err: lost}); !errors.As(r, &he) || he.Status != 503 || he.RequestID != "req-503-captured" {
		t.Fatalf("GatewayRefusal = %v", r)
	}
	if c := ClassOf(lost); c != ClassGateway {
		t.Errorf("class %v, want gateway", c)
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		err  error
		want Class
	}{
		{nil, ClassOther},
		{errors.New("boom"), ClassOther},
		{fmt.Errorf("dump: %w", context.Canceled), ClassStopped},
		{&StepError{Step: StepCheckTools, Err: &pgtools.NotFoundError{Tool: "pg_dump"}}, ClassTools},
		{&ConnectError{Side: Source, Err: errors.New("refused")}, ClassConnect},
		{&ConnectError{Side: Source, Err: &tunnel.HandshakeError{Status: 401}}, ClassConnect},
		{&ConnectError{Side: Source, Err: &tunnel.HandshakeError{Status: 502}}, ClassGateway},
		{&tunnel.UnreachableError{Endpoint: "wss://x", Err: errors.New("no route")}, ClassGateway},
		{&ConnectError{Side: Target, Err: &pgconn.PgError{Code: "08001", Message: "ppg tunnel: the gateway rejected the API key (HTTP 401): it is invalid or was revoked"}}, ClassConnect},
		{&tunnel.KeyError{Problem: "not a key"}, ClassConnect},
		{&KeyChangedError{Side: Source}, ClassConnect},
		{&StalledError{Tool: "pg_dump"}, ClassConnect},
		{&ConnectionLostError{Tool: "pg_dump", Cause: "server closed the connection unexpectedly"}, ClassConnect},
		{&TargetRefusedError{Reason: RefuseNotEmpty}, ClassRefused},
		{&pgtools.DowngradeError{From: 17, To: 16}, ClassRefused},
		{&PlanError{}, ClassRefused},
		{&VerifyError{}, ClassMismatch},
		{&LockedError{Dir: "/w"}, ClassLocked},
		{&SourceChangedError{}, ClassChanged},
		{fmt.Errorf("read state: %w", ErrStateDamaged), ClassOther},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.err); got != tt.want {
			t.Errorf("ClassOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if s := Class(99).String(); s != "Class(99)" {
		t.Errorf("Class(99) = %q", s)
	}
}

// A gateway answering 5xx is retried like a lost connection, on every path
// it comes by; a refused key is not.
func TestGatewayDownIsTransient(t *testing.T) {
	down := &pgconn.PgError{Severity: "FATAL", Code: "08001",
		Message: "ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id r)"}
	for _, err := range []error{
		fmt.Errorf("restore the data: open a session: %w", down),
		&ConnectError{Side: Target, Err: &tunnel.HandshakeError{Status: 502}},
		&pgtools.ExitError{Tool: "pg_dump", Code: 1, StderrTail: restoreRefused},
	} {
		if !transient(err) {
			t.Errorf("%v is not transient", err)
		}
	}
	for _, err := range []error{
		&ConnectError{Side: Target, Err: &tunnel.HandshakeError{Status: 401}},
		&pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"},
		errors.New("pg_restore: error: could not execute query"),
	} {
		if transient(err) {
			t.Errorf("%v is transient", err)
		}
	}
}
