//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// psqlURL runs psql 17 with a connection URL, a query and \conninfo, in a
// home directory of its own: a ~/.postgresql/root.crt of the machine would
// turn sslmode=require into verify-ca.
func psqlURL(t *testing.T, url, sql string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientTool(t, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql, "-c", `\conninfo`)
	cmd.Env = append(baseEnv(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestSSLModesThroughTunnel(t *testing.T) {
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key)
	url := func(query string) string {
		return fmt.Sprintf("postgresql://x@127.0.0.1:%d/postgres?connect_timeout=20&%s", tun.port, query)
	}
	const sql = "select current_user, 40 + 2"
	wantRow := b.server.User + "|42"
	for _, tt := range []struct {
		query string
		tls   bool
	}{
		{"sslmode=require", true},
		{"sslmode=prefer", true},
		{"sslmode=disable", false},
		{"sslmode=require&sslnegotiation=direct", true},
	} {
		t.Run(tt.query, func(t *testing.T) {
			out, err := psqlURL(t, url(tt.query), sql)
			if err != nil {
				t.Fatalf("psql: %v\n%s", err, out)
			}
			lines := strings.Split(out, "\n")
			if lines[0] != wantRow {
				t.Fatalf("query answered %q, want %q; output:\n%s", lines[0], wantRow, out)
			}
			// psql's \conninfo names the TLS session it holds, if any.
			gotTLS := strings.Contains(out, "SSL connection (protocol: TLS")
			if gotTLS != tt.tls {
				t.Fatalf("client TLS = %v, want %v; \\conninfo said:\n%s", gotTLS, tt.tls, out)
			}
		})
	}

	// The certificate is self-signed: a client that verifies it refuses it,
	// as the banner says.
	out, err := psqlURL(t, url("sslmode=verify-full&sslrootcert=system"), sql)
	if err == nil || !strings.Contains(out, "certificate verify failed") {
		t.Fatalf("psql with verify-full: %v, want a failed certificate check:\n%s", err, out)
	}
	if !strings.Contains(tun.stdout.String(), "sslmode=require, prefer (the\ndefault) and disable all work; verify-ca and verify-full cannot") {
		t.Errorf("banner does not state the SSL modes:\n%s", tun.stdout)
	}

	// pgx with sslmode=require holds a TLS connection to the tunnel.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url("sslmode=require"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("pgx's connection is a %T, not TLS", conn.PgConn().Conn())
	}
	var n int
	var sum int64
	if err := conn.QueryRow(ctx, "select count(*), sum(i) from generate_series(1, $1::int) i", 100000).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 100000 || sum != 5000050000 {
		t.Fatalf("got %d rows summing to %d through TLS", n, sum)
	}
}

func TestSSLModesThroughTunnelWithoutLocalTLS(t *testing.T) {
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key, "--no-local-tls")
	url := func(query string) string {
		return fmt.Sprintf("postgresql://x@127.0.0.1:%d/postgres?connect_timeout=20&%s", tun.port, query)
	}
	for _, mode := range []string{"prefer", "disable"} {
		out, err := psqlURL(t, url("sslmode="+mode), "select 'plain'")
		if err != nil || !strings.HasPrefix(out, "plain\n") || strings.Contains(out, "SSL connection") {
			t.Fatalf("psql with sslmode=%s and no local TLS: %v\n%s", mode, err, out)
		}
	}
	out, err := psqlURL(t, url("sslmode=require"), "select 1")
	if err == nil || !strings.Contains(out, "server does not support SSL, but SSL was required") {
		t.Fatalf("psql with sslmode=require and no local TLS: %v, want libpq's refusal:\n%s", err, out)
	}
	if !strings.Contains(tun.stdout.String(), "Local SSL is off (--no-local-tls)") {
		t.Errorf("banner does not say local SSL is off:\n%s", tun.stdout)
	}
}
