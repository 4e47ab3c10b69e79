package pgtools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultGrace is how long Run waits, after interrupting a tool because
// its context was cancelled, before killing it.
const DefaultGrace = 10 * time.Second

const (
	// maxLineBytes bounds one line of output; longer lines are cut.
	maxLineBytes = 1 << 20
	// tailLines is how many lines of stderr an ExitError keeps.
	tailLines = 50
	// maxTailLineBytes bounds each line an ExitError keeps.
	maxTailLineBytes = 4 << 10
)

// Conn holds the connection parameters of a tool run. Run turns them into
// -h/-p/-U/-d arguments and PG* environment variables; the password goes
// only into PGPASSWORD, never onto the command line.
type Conn struct {
	// Host is the server's host name or address (-h); for the tunnel, its
	// local address.
	Host string
	// Port is the server's port (-p).
	Port string
	// User is the user to connect as (-U).
	User string
	// Database is a database name. Connection strings are refused (libpq
	// would expand one given as the name, with any password in it, on the
	// command line): pass their parts instead.
	Database string
	// Password goes into PGPASSWORD.
	Password string
	// SSLMode goes into PGSSLMODE ("require", "disable"…); empty leaves
	// libpq's default (prefer).
	SSLMode string
	// SSLRootCert, SSLCert and SSLKey are the URL's sslrootcert, sslcert
	// and sslkey (file paths; sslrootcert may be "system"); they go into
	// PGSSLROOTCERT, PGSSLCERT and PGSSLKEY, so that the tool checks the
	// server (verify-ca, verify-full) and shows its certificate as ppg's
	// own connection does. Ignored through the tunnel.
	SSLRootCert, SSLCert, SSLKey string
	// Tunnel says the connection goes through ppg's local tunnel, which
	// carries TLS itself: SSL and GSS encryption are switched off
	// (PGSSLMODE=disable, overriding SSLMode, and PGGSSENCMODE=disable,
	// since machines with Kerberos tickets otherwise fail the GSS
	// negotiation through the tunnel).
	Tunnel bool
	// AppName goes into PGAPPNAME: the server shows it in
	// pg_stat_activity, which is how ppg finds the tool's sessions to
	// follow their progress.
	AppName string
}

// args returns the connection arguments. -w (--no-password) makes a tool
// that needs a password it was not given fail instead of prompting on the
// terminal, which would hang behind the TUI.
func (c *Conn) args() []string {
	var args []string
	for _, a := range [...]struct{ flag, value string }{
		{"-h", c.Host}, {"-p", c.Port}, {"-U", c.User}, {"-d", c.Database},
	} {
		if a.value != "" {
			args = append(args, a.flag, a.value)
		}
	}
	return append(args, "-w")
}

func (c *Conn) validate() error {
	db := strings.ToLower(c.Database)
	if strings.Contains(db, "=") || strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return errors.New("the database name looks like a connection string")
	}
	return nil
}

// buildEnv returns the environment for a tool: base (the user's
// environment) without
//
//   - every variable whose name starts with PG: libpq reads PGHOST,
//     PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSFILE, PGSERVICE,
//     PGSERVICEFILE, PGSSLMODE, PGSSLROOTCERT (which turns sslmode=require
//     into verify-ca), PGGSSENCMODE, PGOPTIONS, PGTARGETSESSIONATTRS and
//     more, and Debian's pg_wrapper reads PGCLUSTER; any of them could
//     send the tool elsewhere or change how it connects;
//   - LC_ALL, LC_MESSAGES and LANGUAGE, which would translate the messages
//     that Parser reads,
//
// plus LC_MESSAGES=C and the variables conn calls for (PGPASSWORD,
// PGSSLMODE, PGGSSENCMODE).
func buildEnv(base []string, conn *Conn) []string {
	env := make([]string, 0, len(base)+4)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name) // Windows names are case-insensitive
		if strings.HasPrefix(upper, "PG") || upper == "LC_ALL" || upper == "LC_MESSAGES" || upper == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LC_MESSAGES=C")
	if conn == nil {
		return env
	}
	if conn.Password != "" {
		env = append(env, "PGPASSWORD="+conn.Password)
	}
	if conn.AppName != "" {
		env = append(env, "PGAPPNAME="+conn.AppName)
	}
	switch {
	case conn.Tunnel:
		env = append(env, "PGSSLMODE=disable", "PGGSSENCMODE=disable")
	case conn.SSLMode != "":
		env = append(env, "PGSSLMODE="+conn.SSLMode)
	}
	if !conn.Tunnel {
		for _, f := range [...]struct{ name, value string }{
			{"PGSSLROOTCERT", conn.SSLRootCert}, {"PGSSLCERT", conn.SSLCert}, {"PGSSLKEY", conn.SSLKey},
		} {
			if f.value != "" {
				env = append(env, f.name+"="+f.value)
			}
		}
	}
	return env
}

// Runner runs pg_dump and pg_restore. The zero value runs real processes.
type Runner struct {
	// Command builds the process; nil means exec.CommandContext. It must
	// return a command made with exec.CommandContext and ctx: Run sets its
	// Cancel and WaitDelay. Run appends to the command's Env (so a
	// constructor may preset variables), and sets Stdout and Stderr.
	Command func(ctx context.Context, name string, arg ...string) *exec.Cmd
	// Environ returns the environment the tool's is built from; nil means
	// os.Environ.
	Environ func() []string
	// Grace is how long to wait after interrupting a cancelled tool before
	// killing it; 0 means DefaultGrace. It also bounds how long Run waits
	// for output after the tool exits.
	Grace time.Duration
}

// Cmd is one tool run.
type Cmd struct {
	// Tool is the program to run.
	Tool Tool
	// Args are the tool's arguments, after the connection arguments.
	Args []string
	// Conn, if not nil, adds connection arguments and environment.
	Conn *Conn
	// OnLine, if not nil, is called for each parsed line of stderr (see
	// Parser; errors are grouped and arrive one line late). Calls are
	// sequential, all before Run returns, but from a goroutine of Run's,
	// not the caller's. OnLine should return quickly: while it runs the
	// tool's output backs up (which is what keeps memory bounded), and
	// output still unread Grace after the tool exits is dropped.
	OnLine func(Line)
	// Stdout, if not nil, receives the tool's standard output (a
	// goroutine of Run's writes to it, concurrently with OnLine calls);
	// nil discards it.
	Stdout io.Writer
}

// Run runs c.Tool with c's arguments and environment, streams its stderr
// through a Parser to c.OnLine, and waits for it to end.
//
// Cancelling ctx stops the tool gracefully: it gets an interrupt (SIGINT,
// as Ctrl-C would send; on Windows, where there is no such signal, it is
// killed), and is killed if it has not exited after r.Grace.
//
// Run returns nil when the tool exits with status 0 and an *ExitError when
// it exits otherwise (pg_restore exits with 1 when it ignored errors: see
// ExitError.ErrorsIgnored). Other errors mean it could not be started, or
// that c.Stdout failed.
func (r *Runner) Run(ctx context.Context, c Cmd) error {
	name := c.Tool.Name
	if name == "" {
		name = toolName(c.Tool.Path)
	}
	args, secrets, err := c.args()
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	cmd := r.command(ctx, c, args)
	var stdout *recordingWriter
	if c.Stdout != nil {
		stdout = &recordingWriter{w: c.Stdout}
		cmd.Stdout = stdout
	}
	out := newToolOutput(c, secrets)
	cmd.Stderr = out.stderr

	runErr := cmd.Run()
	out.stderr.Flush()
	state := cmd.ProcessState
	if state == nil {
		return fmt.Errorf("start %s: %w", name, runErr)
	}
	// pg_restore prints "errors ignored on restore" only when it got to
	// its end.
	out.parser.Close(state.Success() || out.ignored >= 0)
	if stdout != nil && stdout.err != nil {
		// The tool most likely died of the closed pipe; the cause is ours.
		return fmt.Errorf("copy the output of %s: %w", name, stdout.err)
	}
	if state.Success() {
		// Even if runErr is exec.ErrWaitDelay (a child of the tool kept
		// its output open), the tool itself completed.
		return nil
	}
	ee := &ExitError{
		Tool:       name,
		Code:       state.ExitCode(),
		Signal:     signalName(state),
		Canceled:   ctx.Err() != nil,
		StderrTail: out.tail.lines(),
	}
	if out.ignored > 0 {
		ee.ErrorsIgnored = out.ignored
	}
	return ee
}

// args returns the tool's arguments, and the secrets to redact from its
// output.
func (c *Cmd) args() (args, secrets []string, err error) {
	if c.Tool.Path == "" {
		return nil, nil, errors.New("no path")
	}
	if c.Conn != nil {
		if err := c.Conn.validate(); err != nil {
			return nil, nil, err
		}
		args = c.Conn.args()
		secrets = append(secrets, c.Conn.Password)
	}
	return append(args, c.Args...), secrets, nil
}

// command builds the process of a run, with its environment and the way
// it is stopped; Run sets its output.
func (r *Runner) command(ctx context.Context, c Cmd, args []string) *exec.Cmd {
	command := r.Command
	if command == nil {
		command = exec.CommandContext
	}
	environ := r.Environ
	if environ == nil {
		environ = os.Environ
	}
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	cmd := command(ctx, c.Tool.Path, args...)
	cmd.Env = append(cmd.Env, buildEnv(environ(), c.Conn)...)
	cmd.Cancel = func() error { return interrupt(cmd.Process) }
	cmd.WaitDelay = grace
	detach(cmd)
	return cmd
}

// toolOutput reads a tool's stderr: it redacts each line, keeps the last
// ones, and parses them for Cmd.OnLine.
type toolOutput struct {
	stderr *lineWriter
	parser *Parser
	tail   *tail
	// ignored is the count of "errors ignored on restore: N", -1 until
	// that line is read.
	ignored int
}

func newToolOutput(c Cmd, secrets []string) *toolOutput {
	o := &toolOutput{tail: newTail(tailLines), ignored: -1}
	o.parser = NewParser(serial(c.Args), func(l Line) {
		if l.Kind == KindErrorsIgnored {
			o.ignored = l.Count
		}
		if c.OnLine != nil {
			c.OnLine(l)
		}
	})
	o.stderr = newLineWriter(maxLineBytes, func(s string) {
		s = redact(s, secrets)
		o.tail.add(s)
		o.parser.Feed(s)
	})
	return o
}

// recordingWriter passes writes on and remembers the first error.
type recordingWriter struct {
	w   io.Writer
	err error
}

// Write writes p to the underlying writer.
func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// serial reports whether args run a tool without parallel jobs.
func serial(args []string) bool {
	for i, a := range args {
		var n string
		switch {
		case a == "-j" || a == "--jobs":
			if i+1 < len(args) {
				n = args[i+1]
			}
		case strings.HasPrefix(a, "--jobs="):
			n = strings.TrimPrefix(a, "--jobs=")
		case strings.HasPrefix(a, "-j"):
			n = strings.TrimPrefix(a, "-j")
		default:
			continue
		}
		if j, err := strconv.Atoi(n); err == nil && j > 1 {
			return false
		}
	}
	return true
}

// interrupt asks a tool to stop, as Ctrl-C would.
func interrupt(p *os.Process) error {
	if runtime.GOOS == "windows" {
		return p.Kill()
	}
	return p.Signal(os.Interrupt)
}

// signalName returns the name of the signal that ended a process, or "".
func signalName(state *os.ProcessState) string {
	ws, ok := state.Sys().(interface {
		Signaled() bool
		Signal() syscall.Signal
	})
	if !ok || !ws.Signaled() {
		return ""
	}
	return ws.Signal().String()
}

// toolName returns the tool's name from its path, without ".exe".
func toolName(path string) string {
	base := filepath.Base(path)
	if strings.EqualFold(filepath.Ext(base), ".exe") {
		base = base[:len(base)-len(".exe")]
	}
	return base
}

// ExitError reports a tool that exited unsuccessfully.
type ExitError struct {
	// Tool is the tool's name ("pg_dump").
	Tool string
	// Code is the exit status, -1 when a signal ended the process.
	Code int
	// Signal names the signal that ended the process ("interrupt",
	// "killed"), if one did.
	Signal string
	// Canceled reports that the run's context was cancelled, so ppg
	// stopped the tool.
	Canceled bool
	// ErrorsIgnored is the count pg_restore reported in "errors ignored on
	// restore: N": it ran to its end, but N statements failed. In parallel
	// runs it can differ from the number of error lines printed.
	ErrorsIgnored int
	// StderrTail holds the last lines of stderr (at most 50), with
	// passwords redacted.
	StderrTail []string
}

// Error names the tool and how it ended, and quotes the last lines of its
// output.
func (e *ExitError) Error() string {
	var b strings.Builder
	switch {
	case e.Canceled:
		b.WriteString(e.Tool + " was stopped")
		if e.Signal != "" {
			b.WriteString(" (" + e.Signal + ")")
		}
	case e.Signal != "":
		b.WriteString(e.Tool + " was ended by signal " + e.Signal)
	default:
		b.WriteString(e.Tool + " exited with status " + strconv.Itoa(e.Code))
	}
	if e.ErrorsIgnored > 0 {
		fmt.Fprintf(&b, " after ignoring %d errors", e.ErrorsIgnored)
	}
	var last []string
	for i := len(e.StderrTail) - 1; i >= 0 && len(last) < 5; i-- {
		if strings.TrimSpace(e.StderrTail[i]) != "" {
			last = append(last, e.StderrTail[i])
		}
	}
	if len(last) > 0 {
		b.WriteString("; last output:")
		for i := len(last) - 1; i >= 0; i-- {
			b.WriteString("\n  " + last[i])
		}
	}
	return b.String()
}

// Patterns of secrets that may show up in a tool's output (connection
// strings in messages, USER MAPPING and SUBSCRIPTION statements quoted
// after "Command was:").
var (
	urlPasswordRe = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)[^@\s]*@`)
	kvPasswordRe  = regexp.MustCompile(`(?i)\b(password|passwd|pwd|sslpassword|api_key|apikey)(\s*=\s*)('(?:[^'\\]|\\.|'')*'|"[^"]*"|[^\s'"&]+)`)
	sqlPasswordRe = regexp.MustCompile(`(?i)\b(password)(\s+)'(?:[^']|'')*'`)
)

// redact replaces secrets in s: the given ones (at least 4 bytes long, so
// that a short password does not garble every line), URL passwords,
// password=… and api_key=… pairs, and SQL "password '…'" options.
func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "://") {
		s = urlPasswordRe.ReplaceAllString(s, "${1}REDACTED@")
	}
	if strings.Contains(lower, "pass") || strings.Contains(lower, "pwd") || strings.Contains(lower, "key") {
		s = kvPasswordRe.ReplaceAllString(s, "${1}${2}REDACTED")
		s = sqlPasswordRe.ReplaceAllString(s, "${1}${2}'REDACTED'")
	}
	return s
}

// lineWriter is an io.Writer that cuts what it is given into lines and
// calls emit for each, without the line ending. Lines longer than max are
// cut to max bytes. It keeps at most one partial line.
type lineWriter struct {
	max  int
	buf  []byte
	over bool
	emit func(string)
}

func newLineWriter(max int, emit func(string)) *lineWriter {
	return &lineWriter{max: max, emit: emit}
}

// Write emits the complete lines in p and keeps the rest; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.add(p)
			break
		}
		w.add(p[:i])
		w.line()
		p = p[i+1:]
	}
	return n, nil
}

// Flush emits a final line that had no line ending.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 || w.over {
		w.line()
	}
}

func (w *lineWriter) add(p []byte) {
	if room := w.max - len(w.buf); len(p) > room {
		p, w.over = p[:room], true
	}
	w.buf = append(w.buf, p...)
}

func (w *lineWriter) line() {
	s := strings.TrimSuffix(string(w.buf), "\r")
	w.buf, w.over = w.buf[:0], false
	if cap(w.buf) > 64<<10 {
		w.buf = nil // do not keep a huge line's buffer
	}
	w.emit(s)
}

// tail keeps the last lines it is given.
type tail struct {
	ring []string
	next int
	full bool
}

func newTail(n int) *tail { return &tail{ring: make([]string, n)} }

func (t *tail) add(s string) {
	t.ring[t.next] = truncate(s, maxTailLineBytes)
	t.next++
	if t.next == len(t.ring) {
		t.next, t.full = 0, true
	}
}

func (t *tail) lines() []string {
	if !t.full {
		return append([]string(nil), t.ring[:t.next]...)
	}
	return append(append([]string(nil), t.ring[t.next:]...), t.ring[:t.next]...)
}
