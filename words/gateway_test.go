package words

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Captured from pg_dump 17 and pg_restore 17 (-j 4) run through ppg's
// tunnel, whose gateway answered 503 with this request id.
const capturedRequestID = "req-503-captured"

var (
	pgDumpRefused = []string{
		`pg_dump: error: connection to server on socket "/tmp/ppg-tunnel-1872528382/.s.PGSQL.5432" failed: FATAL:  ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id req-503-captured)`,
	}
	pgRestoreRefused = []string{
		`pg_restore: connecting to database for restore`,
		`pg_restore: error: connection to server at "127.0.0.1", port 42255 failed: FATAL:  ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id req-503-captured)`,
		`connection to server at "127.0.0.1", port 42255 failed: FATAL:  ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id req-503-captured)`,
	}
)

// refusedThroughTunnel connects with pgx through a real tunnel whose
// gateway answers 503, and returns pgx's error: what ppg's own connections
// and its pipelined sessions get once the gateway goes down.
func refusedThroughTunnel(t *testing.T) error {
	t.Helper()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("prisma-request-id", capturedRequestID)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(gw.Close)
	tun, err := tunnel.Start(t.Context(), tunnel.Config{Key: "key-0123456789abcdefghij",
		Endpoint: "ws" + strings.TrimPrefix(gw.URL, "http") + "/websocket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tun.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgconn.Connect(ctx, fmt.Sprintf("postgres://app@%s:%d/app?sslmode=prefer", tun.Host(), tun.Port()))
	if err == nil {
		_ = conn.Close(ctx)
		t.Fatal("the connection through a refusing gateway succeeded")
	}
	return err
}

// TestGatewayRefusalOnEveryPath: a gateway that answers 503 gets the same
// classified headline whichever path brought it: ppg's own connection, a
// pipelined session, pg_dump's or pg_restore's last lines.
func TestGatewayRefusalOnEveryPath(t *testing.T) {
	pgxErr := refusedThroughTunnel(t)
	dumpExit := &pgtools.ExitError{Tool: "pg_dump", Code: 1, StderrTail: pgDumpRefused}
	restoreExit := &pgtools.ExitError{Tool: "pg_restore", Code: 1, StderrTail: pgRestoreRefused}
	paths := []struct {
		name string
		err  error
	}{
		{"ppg's key check", &migrate.StepError{Step: migrate.StepConnectTarget, Resumable: true,
			Err: &migrate.ConnectError{Side: migrate.Target, Err: &tunnel.HandshakeError{Status: 503, RequestID: capturedRequestID}}}},
		{"ppg's connection", &migrate.StepError{Step: migrate.StepConnectTarget, Resumable: true,
			Err: &migrate.ConnectError{Side: migrate.Target, Err: pgxErr}}},
		{"a pipelined session", &migrate.StepError{Step: migrate.StepRestore, Resumable: true,
			Err: fmt.Errorf("restore the data: open a session: %w", pgxErr)}},
		{"pg_dump's exit", &migrate.StepError{Step: migrate.StepDump, Resumable: true, Err: dumpExit, Tail: dumpExit.StderrTail}},
		{"pg_dump's lost connection", &migrate.StepError{Step: migrate.StepDump, Resumable: true,
			Err: &migrate.ConnectionLostError{Tool: "pg_dump", Side: migrate.Source, Tunnel: true, Cause: pgDumpRefused[0]}}},
		{"pg_restore's exit", &migrate.StepError{Step: migrate.StepRestore, Resumable: true, Err: restoreExit, Tail: restoreExit.StderrTail}},
		{"pg_restore's lost connection", &migrate.StepError{Step: migrate.StepRestore, Resumable: true,
			Err: &migrate.ConnectionLostError{Tool: "pg_restore", Side: migrate.Target, Tunnel: true, Cause: pgRestoreRefused[1]}}},
	}
	const headline = "Prisma's gateway is unavailable (HTTP 503 Service Unavailable) (request id req-503-captured)"
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			f := FromEA.Explain(p.err)
			if f.Headline != headline {
				t.Errorf("headline %q, want %q", f.Headline, headline)
			}
			if f.Class != migrate.ClassGateway || f.Status != StatusConnect {
				t.Errorf("class %v, status %d; want gateway, %d", f.Class, f.Status, StatusConnect)
			}
			if f.Hint != "wait a few minutes, then run ppg migrate-from-ea again" {
				t.Errorf("hint %q", f.Hint)
			}
		})
	}
	// Not every server error is the gateway's: a refused password stays
	// the password's.
	auth := &migrate.ConnectError{Side: migrate.Target, Auth: true,
		Err: &pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"}}
	if f := FromEA.Explain(auth); f.Class != migrate.ClassConnect || strings.Contains(f.Headline, "gateway") {
		t.Errorf("a refused password: %v, %q", f.Class, f.Headline)
	}
}
