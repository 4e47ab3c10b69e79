//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
)

// ppgBin is the ppg binary built once for all tests.
var ppgBin string

func TestMain(m *testing.M) {
	// Everything the tests and their processes put in the temporary
	// folder (servers' data, tunnels' socket folders, which a killed ppg
	// leaves behind) goes into one folder, removed at the end. Servers run
	// as another user: it must be able to pass through.
	tmp, err := os.MkdirTemp("", "ppg-e2e-")
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Setenv("TMPDIR", tmp)

	dir, err := os.MkdirTemp("", "ppg-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ppgBin = filepath.Join(dir, "ppg")
	build := exec.Command("go", "build", "-o", ppgBin, "github.com/ppg-cli/ppg")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ppg:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

// need returns the value of an environment variable set by
// e2e/toolchain.sh, skipping the test without it (failing it under CI=true).
func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := fmt.Sprintf("missing prerequisite: %s is not set; run: . \"$(bash e2e/toolchain.sh)\"", name)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return v
}

// clientTool is the path of a PostgreSQL 17 client tool (psql, pg_dump...).
func clientTool(t testing.TB, name string) string {
	return filepath.Join(need(t, "PPG_CLIENT_BIN"), name)
}

// testGateway starts a gateway emulator and stops it at the end of the test.
func testGateway(t testing.TB, opts gateway.Options) (*gateway.Gateway, string) {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	g := gateway.New(opts)
	url, err := g.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g, url
}

// bed is one server behind a gateway, with a key for it.
type bed struct {
	server  *pgserver.Server
	gateway *gateway.Gateway
	wsURL   string
	key     string
}

func newBed(t testing.TB, version int) *bed {
	t.Helper()
	b := &bed{server: pgserver.StartT(t, version), key: sandbox.NewKey(fmt.Sprint("pg", version))}
	b.gateway, b.wsURL = testGateway(t, gateway.Options{})
	b.gateway.AddDatabase(b.key, b.server.URL("postgres"))
	return b
}

// syncBuffer collects a process's output safely for concurrent reading.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tunnelProc is a running `ppg tunnel` (or npm ppg-tunnel) process.
type tunnelProc struct {
	cmd    *exec.Cmd
	port   int
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

var listeningRE = regexp.MustCompile(`(?i)listening on (?:127\.0\.0\.1|0\.0\.0\.0|\[?::1?\]?):(\d+)`)

// startProc starts a tunnel program in an empty working directory with a
// minimal environment plus env, and waits until it prints its port.
func startProc(t testing.TB, env []string, name string, args ...string) *tunnelProc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(baseEnv(), env...)
	p := &tunnelProc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(p.stdout, pw)
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		_ = pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s stdout:\n%s\nstderr:\n%s", filepath.Base(name), p.stdout, p.stderr)
		}
	})
	found := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				port, _ := strconv.Atoi(m[1])
				found <- port
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case p.port = <-found:
	case <-p.exited:
		t.Fatalf("%s exited before listening (%v):\n%s%s", filepath.Base(name), p.err, p.stdout, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not report its port:\n%s%s", filepath.Base(name), p.stdout, p.stderr)
	}
	return p
}

// startTunnel starts `ppg tunnel` for key through the gateway at wsURL.
func startTunnel(t testing.TB, wsURL, key string, args ...string) *tunnelProc {
	return startProc(t, []string{"PPG_WS_URL=" + wsURL, "PDP_API_KEY=" + key}, ppgBin, append([]string{"tunnel"}, args...)...)
}

// stop interrupts the process as Ctrl-C would and waits for it.
func (p *tunnelProc) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("%s did not stop within 15 s of SIGINT", p.cmd.Path)
	}
}

// baseEnv is a minimal environment: no PG* variables of the machine leak
// into the tests, so libpq's defaults (sslmode=prefer) are what is tested.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "PG"), name == "DATABASE_URL", name == "PDP_API_KEY", name == "PPG_WS_URL":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// psql runs psql 17 against a local port with any user name and no password,
// and returns its trimmed output.
func psql(t testing.TB, port int, extraEnv []string, sql string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientTool(t, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "someone", "-d", "postgres", "-c", sql)
	cmd.Env = append(append(baseEnv(), "PGCONNECT_TIMEOUT=20"), extraEnv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServer starts a PostgreSQL server of a major version for the test.
func startServer(t testing.TB, version int) *pgserver.Server {
	return pgserver.StartT(t, version)
}
