//go:build e2e

package gateway

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// npmTunnelPath finds the real @prisma/ppg-tunnel, as e2e/toolchain.sh
// installs it, or skips (fails under CI=true).
func npmTunnelPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PPG_NPM_TUNNEL")
	if path == "" {
		path = "/opt/ppg-toolchain/ppg-tunnel/node_modules/.bin/ppg-tunnel"
	}
	if _, err := os.Stat(path); err != nil {
		msg := "missing prerequisite: the npm @prisma/ppg-tunnel (PPG_NPM_TUNNEL=" + path + "); run `bash e2e/toolchain.sh`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// npmTunnel is a running npm tunnel pointed at a gateway.
type npmTunnel struct {
	port int
	mu   sync.Mutex
	out  bytes.Buffer
}

func (n *npmTunnel) output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.String()
}

func (n *npmTunnel) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.Write(p)
}

// startNPMTunnel runs the npm tunnel with key against wsURL until the end
// of the test.
func startNPMTunnel(t *testing.T, path, wsURL, key string) *npmTunnel {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "--host", "127.0.0.1", "--port", "0")
	cmd.Dir = t.TempDir() // no stray .env
	cmd.Env = append(os.Environ(), "PPG_WS_URL="+wsURL, "PDP_API_KEY="+key)
	n := &npmTunnel{}
	cmd.Stdout = n
	cmd.Stderr = n
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start npm tunnel: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("npm tunnel output:\n%s", n.output())
		}
	})
	// Read only after exited is closed; once cancel has run, it is only
	// the kill.
	var waitErr error
	go func() {
		defer close(exited)
		waitErr = cmd.Wait()
	}()
	portLine := regexp.MustCompile(`(?m)^port:\s+(\d+)`)
	waitFor(t, "the npm tunnel to listen", func() bool {
		if m := portLine.FindStringSubmatch(n.output()); m != nil {
			n.port, _ = strconv.Atoi(m[1])
			return true
		}
		select {
		case <-exited:
			t.Fatalf("npm tunnel exited (%v):\n%s", waitErr, n.output())
		default:
		}
		return false
	})
	return n
}

// TestNPMTunnel drives the gateway with the real npm client, which shows
// the emulator speaks the protocol the real one does.
func TestNPMTunnel(t *testing.T) {
	t.Parallel()
	path := npmTunnelPath(t)
	e := newEnv(t, Options{})
	ctx := testCtx(t)

	n := startNPMTunnel(t, path, e.url, testKey)
	url := "postgres://anyone@127.0.0.1:" + strconv.Itoa(n.port) + "/postgres?sslmode=disable"
	c, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect through the npm tunnel: %v", err)
	}
	defer func() {
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if got := mustQuery(t, ctx, c, "select current_user"); got != "postgres" {
		t.Errorf("current_user = %q", got)
	}
	res, err := c.Exec(ctx, "select repeat('x', 5000000)").ReadAll()
	if err != nil || len(res[0].Rows[0][0]) != 5000000 {
		t.Fatalf("5 MB row: %v", err)
	}

	for key, want := range map[string]string{"wrong-key": "The API key is invalid", noDBKey: "without a Prisma Postgres database"} {
		bad := startNPMTunnel(t, path, e.url, key)
		url := "postgres://anyone@127.0.0.1:" + strconv.Itoa(bad.port) + "/postgres?sslmode=disable"
		if c, err := pgconn.Connect(ctx, url); err == nil {
			_ = c.Close(ctx) // the test fails on the connect already
			t.Errorf("%s: connect succeeded", key)
		}
		waitFor(t, "the npm tunnel's error message", func() bool {
			out := bad.output()
			return strings.Contains(out, want) && strings.Contains(out, "requestId")
		})
	}
}
