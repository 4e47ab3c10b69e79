// Package pgserver runs throwaway PostgreSQL servers for tests.
//
// Start creates a fresh cluster with initdb in a private temporary
// directory, starts postgres on 127.0.0.1 and a free port (plus a Unix
// socket in the same directory), and waits until it accepts connections.
// The superuser is "postgres" with a random password; TCP connections use
// scram-sha-256, Unix-socket connections are trusted. Durability is switched
// off (fsync, synchronous_commit, full_page_writes) because the data is
// thrown away. Stop shuts the server down and removes the directory.
//
// Binaries come from Options.BinDir, or from the environment variable
// PPG_PG16_BIN, PPG_PG17_BIN or PPG_PG18_BIN for the requested major version, or from the
// default install location of e2e/toolchain.sh. PostgreSQL refuses to run as
// root, so when the test process is root the server runs as Debian's
// "postgres" account. On Linux the server gets SIGQUIT (immediate shutdown)
// when the process that started it dies, so a test binary killed hard does
// not leave servers behind (its temporary directory does stay behind).
//
// StartT wraps Start for tests: it skips when binaries are missing, or fails
// when the environment variable CI is "true".
package pgserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound reports that no PostgreSQL server binaries were found. Errors
// returned by Start wrap it; the message names the environment variable to
// set and the script that installs the binaries.
var ErrNotFound = errors.New("postgresql server binaries not found")

// DefaultVersion is the major version Start uses when Options.Version is 0.
const DefaultVersion = 17

// ToolchainRoot is where e2e/toolchain.sh installs server binaries, as
// ToolchainRoot/server16/bin, server17/bin and server18/bin. Start looks
// there when neither Options.BinDir nor the environment names a directory.
const ToolchainRoot = "/opt/ppg-toolchain"

const (
	// superuser is the cluster's bootstrap superuser.
	superuser = "postgres"
	// serverAccountName is the OS account servers run as when we are root.
	serverAccountName = "postgres"
	// startAttempts bounds retries when the chosen port was taken meanwhile.
	startAttempts = 5
	// stopTimeout bounds a fast shutdown before the server is killed.
	stopTimeout = 30 * time.Second
	// logTailBytes is how much server output Logs keeps.
	logTailBytes = 32 << 10
)

// Options configures Start.
type Options struct {
	// Version is the major version to run (16, 17 or 18); 0 means
	// DefaultVersion. It selects the environment variable that names the
	// binaries when BinDir is empty.
	Version int
	// BinDir is a directory holding initdb and postgres. If empty, it comes
	// from PPG_PG<Version>_BIN or the toolchain's install location.
	BinDir string
	// Settings are extra server settings (name to value), applied after and
	// overriding the package defaults.
	Settings map[string]string
}

// Server is a running PostgreSQL server. Stop it when done; StartT does
// that through t.Cleanup.
type Server struct {
	// Version is the server's major version, read from the cluster's
	// PG_VERSION file (it can differ from Options.Version when the binaries
	// were pointed elsewhere).
	Version int
	// Host is the TCP address the server listens on (127.0.0.1).
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// User is the superuser's name ("postgres").
	User string
	// Password is the superuser's random password.
	Password string
	// DataDir is the cluster's data directory.
	DataDir string
	// SocketDir is the directory holding the server's Unix socket, where
	// connections are trusted; empty where Unix sockets are not used.
	SocketDir string

	tmpDir  string
	proc    *process
	logs    *tailBuffer
	stopMu  sync.Mutex
	stopped bool
	stopErr error
}

// Start creates a cluster and starts a server as described in the package
// comment. ctx bounds only the start-up (initdb and waiting for the server to
// accept connections), not the server's lifetime: call Stop. On error,
// everything Start created has been removed.
func Start(ctx context.Context, opts Options) (*Server, error) {
	version := opts.Version
	if version == 0 {
		version = DefaultVersion
	}
	binDir, err := resolveBinDir(version, opts.BinDir, os.Getenv)
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	tmpDir, err := makeTempDir(acct)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Host:     "127.0.0.1",
		User:     superuser,
		Password: rand.Text(),
		DataDir:  filepath.Join(tmpDir, "data"),
		tmpDir:   tmpDir,
		logs:     newTailBuffer(logTailBytes),
	}
	if runtime.GOOS != "windows" {
		s.SocketDir = tmpDir
	}
	if err := s.start(ctx, binDir, acct, opts.Settings); err != nil {
		if stopErr := s.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return s, nil
}

// start runs initdb, then postgres until it accepts connections.
func (s *Server) start(ctx context.Context, binDir string, acct *account, extra map[string]string) error {
	if err := s.initdb(ctx, binDir, acct); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(s.DataDir, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("read cluster version: %w", err)
	}
	s.Version, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("parse cluster version %q: %w", b, err)
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.Port = port
		err = s.launch(ctx, binDir, acct, extra)
		if err == nil {
			return nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortInUse) {
			return err
		}
	}
}

// initdb creates the cluster in s.DataDir.
func (s *Server) initdb(ctx context.Context, binDir string, acct *account) (err error) {
	pwFile := filepath.Join(s.tmpDir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(s.Password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	// The file holds the password: it goes as soon as initdb is done, not
	// with the directory at Stop.
	defer func() {
		if rmErr := os.Remove(pwFile); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove password file: %w", rmErr))
		}
	}()
	if err := acct.chown(pwFile); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, exe("initdb")),
		"-D", s.DataDir,
		"-U", superuser,
		"--pwfile="+pwFile,
		"--auth-host=scram-sha-256",
		"--auth-local=trust",
		"--encoding=UTF8",
		"--no-locale",
		"--no-sync",
	)
	cmd.Dir = s.tmpDir
	cmd.SysProcAttr = procAttr(acct)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb in %s: %w\n%s", s.tmpDir, err, tail(out, 4096))
	}
	return nil
}

// errPortInUse marks a start that failed because the port was taken.
var errPortInUse = errors.New("port in use")

// launch starts postgres on s.Port and waits until it accepts connections.
func (s *Server) launch(ctx context.Context, binDir string, acct *account, extra map[string]string) error {
	settings := map[string]string{
		"listen_addresses":        s.Host,
		"port":                    strconv.Itoa(s.Port),
		"unix_socket_directories": s.SocketDir,
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		"max_connections":         "200",
		"log_line_prefix":         "%m [%p] ",
	}
	for k, v := range extra {
		settings[k] = v
	}
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	args := []string{"-D", s.DataDir}
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}
	cmd := exec.Command(filepath.Join(binDir, exe("postgres")), args...)
	cmd.Dir = s.tmpDir
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	cmd.SysProcAttr = procAttr(acct)
	cmd.WaitDelay = 5 * time.Second
	proc, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.proc = proc
	if err := s.waitReady(ctx); err != nil {
		s.proc.stop(0)
		s.proc = nil
		logs := s.logs.String()
		if strings.Contains(logs, "could not create any TCP/IP sockets") || strings.Contains(logs, "already in use") {
			s.logs.Reset()
			return fmt.Errorf("start postgres on port %d: %w", s.Port, errPortInUse)
		}
		return fmt.Errorf("%w\nserver log:\n%s", err, logs)
	}
	return nil
}

// waitReady polls until the server accepts a password login, exits, or
// ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cfg, err := pgconn.ParseConfig(s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("parse server url: %w", err)
	}
	cfg.ConnectTimeout = 2 * time.Second
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.proc.exited:
			return fmt.Errorf("postgres exited during start-up: %v", s.proc.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres on port %d: %w (last error: %v)", s.Port, ctx.Err(), err)
		case <-ticker.C:
		}
	}
}

// URL returns a connection URL for database as the superuser over TCP,
// with sslmode=disable.
func (s *Server) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.User, s.Password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Logs returns the tail of the server's output, for failure messages.
func (s *Server) Logs() string {
	return s.logs.String()
}

// Stop shuts the server down (fast shutdown; killed if that takes longer
// than 30 s), waits for it to exit and removes its temporary directory. It
// is safe to call more than once and from several goroutines; later calls
// return the first call's result. It reports an error if the server had
// exited on its own before Stop.
func (s *Server) Stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	var errs []error
	if s.proc != nil {
		select {
		case <-s.proc.exited:
			errs = append(errs, fmt.Errorf("postgres on port %d exited before Stop: %v\nserver log:\n%s", s.Port, s.proc.waitErr, s.logs.String()))
		default:
			s.proc.stop(stopTimeout)
		}
	}
	if s.tmpDir != "" {
		if err := os.RemoveAll(s.tmpDir); err != nil {
			errs = append(errs, fmt.Errorf("remove server directory: %w", err))
		}
	}
	s.stopErr = errors.Join(errs...)
	return s.stopErr
}

// resolveBinDir finds the directory holding initdb and postgres.
func resolveBinDir(version int, explicit string, getenv func(string) string) (string, error) {
	envVar := fmt.Sprintf("PPG_PG%d_BIN", version)
	hint := fmt.Sprintf("set %s to a directory holding initdb and postgres, or run `bash e2e/toolchain.sh` and source %s/env.sh", envVar, ToolchainRoot)
	var dir, source string
	switch {
	case explicit != "":
		dir, source = explicit, "Options.BinDir"
	case getenv(envVar) != "":
		dir, source = getenv(envVar), envVar
	default:
		dir = filepath.Join(ToolchainRoot, fmt.Sprintf("server%d", version), "bin")
		if !hasServerBinaries(dir) {
			return "", fmt.Errorf("%w: PostgreSQL %d: %s is not set and %s has none; %s", ErrNotFound, version, envVar, dir, hint)
		}
		return dir, nil
	}
	if !hasServerBinaries(dir) {
		return "", fmt.Errorf("%w: PostgreSQL %d: %s=%s has no initdb and postgres; %s", ErrNotFound, version, source, dir, hint)
	}
	return dir, nil
}

// hasServerBinaries reports whether dir holds initdb and postgres.
func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, exe(name)))
		if err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// exe adds the platform's executable suffix.
func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// makeTempDir creates the server's private directory, owned by acct.
// It is made under os.TempDir (not a test's TempDir, which is private to
// the test's user) so that acct can reach it.
func makeTempDir(acct *account) (string, error) {
	dir, err := os.MkdirTemp("", "ppg-pgserver-*")
	if err != nil {
		return "", fmt.Errorf("create server directory: %w", err)
	}
	if err := acct.chown(dir); err != nil {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove server directory: %w", rmErr))
		}
		return "", err
	}
	return dir, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Another
// process may take it before postgres binds it; start retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// account is the OS account the server runs as when it must not run as
// the current one; a nil *account means "as the current user".
type account struct {
	name     string
	uid, gid int
}

// chown gives path to a; it does nothing for a nil account.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// process is a started server process, reaped by its own goroutine.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // Wait's result; read only after exited is closed
}

// startProcess starts cmd and reaps it in a goroutine that ends when the
// process does.
//
// The goroutine locks its OS thread for the child's lifetime because Linux
// delivers the parent-death signal when the thread that forked the child
// exits, not the process (golang.org/issue/27505).
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop asks the process for a fast shutdown, kills it if it has not exited
// after timeout (at once for 0), and waits until it has been reaped.
func (p *process) stop(timeout time.Duration) {
	if timeout > 0 && interrupt(p.cmd.Process) == nil {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// tail returns at most the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// tailBuffer is an io.Writer keeping the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped bool
}

func newTailBuffer(max int) *tailBuffer {
	return &tailBuffer{max: max}
}

// Write implements io.Writer; it never fails.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.dropped = true
	}
	return len(p), nil
}

// String returns the kept bytes, starting at a line boundary when some
// were dropped.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := string(b.buf)
	if b.dropped {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// Reset discards everything kept so far.
func (b *tailBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = b.buf[:0]
	b.dropped = false
}
