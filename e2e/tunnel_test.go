//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/tunnel"
)

func connString(port int) string {
	// Default sslmode (prefer): the tunnel must answer the SSL request itself.
	return fmt.Sprintf("postgres://any_user@127.0.0.1:%d/postgres?connect_timeout=20", port)
}

func TestPsqlAndPgxThroughTunnel(t *testing.T) {
	for _, version := range []int{16, 17} {
		t.Run(fmt.Sprint("PostgreSQL ", version), func(t *testing.T) {
			b := newBed(t, version)
			tun := startTunnel(t, b.wsURL, b.key)

			out, err := psql(t, tun.port, nil, "select current_setting('server_version_num')::int / 10000, 40 + 2")
			if err != nil || out != fmt.Sprintf("%d|42", version) {
				t.Fatalf("psql through the tunnel: %q, %v", out, err)
			}
			// psql with sslmode=disable, as @prisma/ppg-tunnel needs, works too.
			if out, err := psql(t, tun.port, []string{"PGSSLMODE=disable"}, "select 1"); err != nil || out != "1" {
				t.Fatalf("psql with sslmode=disable: %q, %v", out, err)
			}

			ctx := context.Background()
			conn, err := pgx.Connect(ctx, connString(tun.port))
			if err != nil {
				t.Fatal(err)
			}
			var user string
			var n int
			if err := conn.QueryRow(ctx, "select current_user, count(*) from generate_series(1, $1::int)", 1000).Scan(&user, &n); err != nil {
				t.Fatal(err)
			}
			if n != 1000 || user != b.server.User {
				t.Fatalf("got user %q and %d rows; want the gateway's upstream user %q and 1000 rows", user, n, b.server.User)
			}
			if err := conn.Close(ctx); err != nil {
				t.Fatal(err)
			}

			// Every connection opened is logged and closed: two from psql,
			// one from pgx, whose sslmode=prefer asks for TLS and gets it
			// locally (with --no-local-tls it would hear 'N' and reconnect
			// in plain text: see TestSSLModesThroughTunnel).
			waitFor(t, 10*time.Second, "three connections closed", func() bool {
				return strings.Count(tun.stderr.String(), " closed") == 3
			})
			if opened := strings.Count(tun.stderr.String(), " opened from 127.0.0.1:"); opened != 3 {
				t.Fatalf("log shows %d connections opened, want 3:\n%s", opened, tun.stderr)
			}
			if st := b.gateway.Stats(); st.Active != 0 || st.Accepted != 4 { // 3 + the key check
				t.Fatalf("gateway stats %+v: want 4 accepted (3 + the key check) and none active", st)
			}
			for _, want := range []string{"host      127.0.0.1", "port      " + strconv.Itoa(tun.port), "password  none"} {
				if !strings.Contains(tun.stdout.String(), want) {
					t.Errorf("banner lacks %q:\n%s", want, tun.stdout)
				}
			}
		})
	}
}

func TestPsqlThroughUnixSocketTunnel(t *testing.T) {
	b := newBed(t, 17)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tun, err := tunnel.Start(ctx, tunnel.Config{Key: b.key, Endpoint: b.wsURL, Network: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tun.Close() }()
	cmd := exec.Command(clientTool(t, "psql"), "-X", "-At", "-h", tun.Host(), "-p", strconv.Itoa(tun.Port()),
		"-U", "x", "-d", "postgres", "-c", "select 'via socket'")
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "via socket" {
		t.Fatalf("psql via the unix socket tunnel: %q, %v", out, err)
	}
}

func TestNpmTunnelCarriesPsqlThroughGateway(t *testing.T) {
	npm := need(t, "PPG_NPM_TUNNEL")
	b := newBed(t, 16)
	p := startProc(t, []string{"PPG_WS_URL=" + b.wsURL, "PDP_API_KEY=" + b.key}, npm, "--port", "0")
	// The npm client kills connections that ask for SSL: disable it.
	out, err := psql(t, p.port, []string{"PGSSLMODE=disable"}, "select 'npm ' || current_setting('server_version_num')::int / 10000")
	if err != nil || out != "npm 16" {
		t.Fatalf("psql through @prisma/ppg-tunnel: %q, %v", out, err)
	}
	if st := b.gateway.Stats(); st.Accepted != 1 || st.BytesToClient == 0 {
		t.Fatalf("gateway stats %+v: the session did not go through the emulator", st)
	}
}

func TestTunnelRefusesBadKeys(t *testing.T) {
	sb := sandboxLike(t)
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"invalid key", sandbox.NewKey("wrong"), "the gateway rejected the API key (HTTP 401)"},
		{"key without database", sb.noDB, "environment without a Prisma Postgres database (HTTP 410)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(ppgBin, "tunnel")
			cmd.Dir = t.TempDir()
			cmd.Env = append(baseEnv(), "PPG_WS_URL="+sb.wsURL, "PDP_API_KEY="+tt.key)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
				t.Fatalf("exit: %v, want status 4 (a refused key); output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tt.want) || !requestIDRE.MatchString(string(out)) {
				t.Fatalf("output lacks %q and a request id:\n%s", tt.want, out)
			}
			if strings.Contains(string(out), tt.key) {
				t.Fatal("output shows the key")
			}
		})
	}

	// A key refused after the tunnel started reaches psql as a FATAL error.
	t.Run("refused mid-run", func(t *testing.T) {
		tun := startTunnel(t, sb.wsURL, sb.key)
		sb.gateway.RefuseNew(401)
		defer sb.gateway.RefuseNew(0)
		out, err := psql(t, tun.port, nil, "select 1")
		if err == nil || !strings.Contains(out, "FATAL:  ppg tunnel: the gateway rejected the API key (HTTP 401)") || !strings.Contains(out, "request id") {
			t.Fatalf("psql: %v\n%s", err, out)
		}
	})
}

type bedWithNoDB struct {
	*bed
	noDB string
}

func sandboxLike(t *testing.T) bedWithNoDB {
	b := newBed(t, 17)
	noDB := sandbox.NewKey("no-db")
	b.gateway.AddKeyWithoutDatabase(noDB)
	return bedWithNoDB{b, noDB}
}

func TestGatewayDyingMidSessionClosesClientAndTunnelServesOn(t *testing.T) {
	b, tun, conn := connectedThroughTunnel(t)
	ctx := context.Background()
	if n := b.gateway.KillSessions(); n != 1 {
		t.Fatalf("KillSessions cut %d sessions, want 1", n)
	}
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := conn.Exec(qctx, "select 1"); err == nil {
		t.Fatal("a query on the cut connection succeeded")
	} else if qctx.Err() != nil {
		t.Fatal("the client connection hung instead of closing")
	}
	// The tunnel still serves new connections.
	if out, err := psql(t, tun.port, nil, "select 'still here'"); err != nil || out != "still here" {
		t.Fatalf("new connection after the cut: %q, %v", out, err)
	}
}

func TestFiftyConcurrentConnections(t *testing.T) {
	const n = 50
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conns := make([]*pgx.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(ctx, connString(tun.port))
			if err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close(context.Background())
		}
	}()
	// All fifty are open at once: each runs a query while the others are
	// connected, and each is its own backend.
	pids := make([]int32, n)
	results := make(chan error, n)
	for i, c := range conns {
		go func() {
			var sum int64
			err := c.QueryRow(ctx, "select pg_backend_pid(), sum(g) from generate_series(1, $1::int) g", (i+1)*1000).Scan(&pids[i], &sum)
			if err == nil && sum != int64((i+1)*1000)*int64((i+1)*1000+1)/2 {
				err = fmt.Errorf("connection %d: sum %d", i, sum)
			}
			results <- err
		}()
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int32]bool{}
	for _, p := range pids {
		seen[p] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct backends, want %d", len(seen), n)
	}
	if got := b.gateway.Stats().Active; got != n {
		t.Fatalf("gateway has %d active sessions, want %d", got, n)
	}
}

// Sanity check of the emulator's fault: a session cut after N bytes.
func TestGatewayCutAfterBytes(t *testing.T) {
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key)
	b.gateway.CutAfter(1 << 20)
	defer b.gateway.CutAfter(0)
	out, err := psql(t, tun.port, nil, "select repeat('x', 4000000)")
	if err == nil {
		t.Fatalf("a 4 MB result crossed a session cut after 1 MB: %d bytes", len(out))
	}
	b.gateway.CutAfter(0)
	if out, err := psql(t, tun.port, nil, "select length(repeat('x', 4000000))"); err != nil || out != "4000000" {
		t.Fatalf("after the fault: %q, %v", out, err)
	}
}

var requestIDRE = regexp.MustCompile(`request id [0-9A-Za-z-]{8,}`)

func TestSandboxServesSampleThroughTunnel(t *testing.T) {
	need(t, "PPG_PG16_BIN")
	sb, err := sandbox.Start(context.Background(), sandbox.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop() }()
	ea := startTunnel(t, sb.WSURL, sb.EAKey)
	out, err := psql(t, ea.port, nil, `select current_setting('server_version_num')::int / 10000, (select count(*) from "User"), (select count(*) from analytics.page_view)`)
	if err != nil || out != "16|2000|50000" {
		t.Fatalf("EA through the tunnel: %q, %v", out, err)
	}
	ga := startTunnel(t, sb.WSURL, sb.GAKey)
	out, err = psql(t, ga.port, nil, `select current_setting('server_version_num')::int / 10000, count(*) from pg_tables where schemaname = 'public'`)
	if err != nil || out != "17|0" {
		t.Fatalf("GA through the tunnel: %q, %v", out, err)
	}
}

func TestTunnelStopsCleanlyOnCtrlC(t *testing.T) {
	b, tun, conn := connectedThroughTunnel(t)
	ctx := context.Background()
	tun.stop(t)
	if tun.err != nil {
		t.Fatalf("ppg tunnel exited with %v after Ctrl-C, want status 0", tun.err)
	}
	for _, want := range []string{"stopping: closing 1 live connection(s)", "tunnel stopped"} {
		if !strings.Contains(tun.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, tun.stderr)
		}
	}
	// The live connection was closed, not left hanging.
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(qctx, "select 1"); err == nil || qctx.Err() != nil {
		t.Fatalf("query on a connection of a stopped tunnel: %v (ctx %v)", err, qctx.Err())
	}
	waitFor(t, 10*time.Second, "the gateway session to end", func() bool { return b.gateway.Stats().Active == 0 })
}

func TestTunnelWarnsOnNonLoopback(t *testing.T) {
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key, "--host", "0.0.0.0")
	waitFor(t, 5*time.Second, "the warning", func() bool {
		return strings.Contains(tun.stderr.String(), "warning: listening on 0.0.0.0")
	})
	if !strings.Contains(tun.stderr.String(), "anyone who can reach this address reaches the database") {
		t.Fatalf("warning text:\n%s", tun.stderr)
	}
	if out, err := psql(t, tun.port, nil, "select 1"); err != nil || out != "1" {
		t.Fatalf("psql via 0.0.0.0 tunnel: %q, %v", out, err)
	}
}

// connectedThroughTunnel starts a PostgreSQL 17 bed and `ppg tunnel`, and
// returns a pgx connection through them that has run a query.
func connectedThroughTunnel(t *testing.T) (*bed, *tunnelProc, *pgx.Conn) {
	t.Helper()
	b := newBed(t, 17)
	tun := startTunnel(t, b.wsURL, b.key)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString(tun.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
	return b, tun, conn
}
