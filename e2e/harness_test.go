//go:build e2e

package e2e

// The harness of the end-to-end tests of `ppg migrate-from-ea`: a
// migration (a PostgreSQL 16 source and a PostgreSQL 17 target behind one
// gateway emulator, a key for each, the client tools, a working folder);
// runs of the real binary in a process group of their own, each output
// line recorded with the time it arrived; waits for events, signals, and
// the checks of a finished run.
//
//	m := newMigration(t, withBandwidth(2<<20))
//	m.source.exec(smallSchemaSQL)
//	p := m.start("--non-interactive", "--json")
//	p.waitFor(stepStarted("restore"))
//	p.kill()
//	p.wait().wantExit(-1)
//	compareData(t, m.source, m.target)

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/migrate"
)

// runTimeout bounds a run of ppg, and a wait for one of its events.
const runTimeout = 5 * time.Minute

// migration is what a migration test works on: the source (the EA
// database, on PostgreSQL 16) and the target (the GA database, on
// PostgreSQL 17), each reached through one gateway emulator by its key,
// the client tools ppg uses, and a working folder for ppg.
type migration struct {
	t       testing.TB
	source  *database
	target  *database
	gateway *gateway.Gateway
	wsURL   string
	pgBin   string // the folder of pg_dump/pg_restore 17
	dir     string // ppg's working folder, where the state file goes
	log     *syncBuffer
}

// migrationOption sets up the gateway of a migration.
type migrationOption func(*gateway.Options)

// withBandwidth caps each gateway session's throughput in each direction.
func withBandwidth(bytesPerSec int64) migrationOption {
	return func(o *gateway.Options) { o.BandwidthBytesPerSec = bytesPerSec }
}

// newMigration starts both servers and the gateway; all stop at the end of
// the test. The gateway's log is kept, and its last lines shown if the
// test fails.
func newMigration(t testing.TB, opts ...migrationOption) *migration {
	t.Helper()
	m := &migration{t: t, pgBin: need(t, "PPG_CLIENT_BIN"), dir: t.TempDir(), log: &syncBuffer{}}
	var gopts gateway.Options
	for _, o := range opts {
		o(&gopts)
	}
	gopts.Logf = func(format string, args ...any) { _, _ = fmt.Fprintf(m.log, format+"\n", args...) }
	ea, ga := pgserver.StartT(t, 16), pgserver.StartT(t, 17)
	m.gateway, m.wsURL = testGateway(t, gopts)
	m.source = m.route(&database{t: t, server: ea, name: "postgres", url: ea.URL("postgres")}, "ea")
	m.target = m.route(&database{t: t, server: ga, name: "postgres", url: ga.URL("postgres")}, "ga")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log (last lines):\n%s", lastLines(m.log.String(), 40))
		}
	})
	return m
}

// route gives d a new key that leads to it through the gateway.
func (m *migration) route(d *database, label string) *database {
	d.key = sandbox.NewKey(label)
	m.gateway.AddDatabase(d.key, d.url)
	return d
}

// newTarget creates an empty database on the target's server, routes a new
// key to it and makes it the target.
func (m *migration) newTarget(name string) *database {
	m.t.Helper()
	m.target = m.route(newDatabase(m.t, m.target.server, name), name)
	return m.target
}

// sub is the migration for the subtest t: the same servers, gateway and
// keys, a fresh working folder.
func (m *migration) sub(t testing.TB) *migration {
	c := *m
	c.t, c.dir = t, t.TempDir()
	c.source, c.target = m.source.in(t), m.target.in(t)
	return &c
}

// gatewayLog is what the gateway logged so far: a line per session and
// per refused request.
func (m *migration) gatewayLog() string { return m.log.String() }

// toolEnv is the environment a run needs besides the databases: the
// gateway and the tools.
func (m *migration) toolEnv() []string {
	return []string{"PPG_WS_URL=" + m.wsURL, "PPG_PG_BIN=" + m.pgBin}
}

// state reads the state file of the working folder.
func (m *migration) state() *migrate.State {
	m.t.Helper()
	return readState(m.t, m.dir)
}

// invocation is a run of `ppg migrate-from-ea` on a migration, with what
// differs from the defaults: both sides by key, in the working folder.
type invocation struct {
	m              *migration
	source, target string
	dir            string
	stdin          *os.File
	env            []string // added to the environment
}

// runOption changes an invocation.
type runOption func(*invocation)

// fromSource sets the source: an API key or a postgres:// URL.
func fromSource(ref string) runOption { return func(in *invocation) { in.source = ref } }

// toTarget sets the target: an API key or a postgres:// URL.
func toTarget(ref string) runOption { return func(in *invocation) { in.target = ref } }

// inDir runs ppg in dir rather than in the working folder.
func inDir(dir string) runOption { return func(in *invocation) { in.dir = dir } }

// withStdin gives ppg f as its standard input (default /dev/null).
func withStdin(f *os.File) runOption { return func(in *invocation) { in.stdin = f } }

// withEnv adds variables (NAME=value) to ppg's environment.
func withEnv(kv ...string) runOption { return func(in *invocation) { in.env = append(in.env, kv...) } }

// ppg is an invocation on m with opts.
func (m *migration) ppg(opts ...runOption) invocation {
	in := invocation{m: m, source: m.source.key, target: m.target.key, dir: m.dir}
	for _, o := range opts {
		o(&in)
	}
	return in
}

// start starts `ppg migrate-from-ea args...` with both sides by key.
func (m *migration) start(args ...string) *process {
	m.t.Helper()
	return m.ppg().start(args...)
}

// run runs `ppg migrate-from-ea args...` to its end.
func (m *migration) run(args ...string) result {
	m.t.Helper()
	return m.ppg().run(args...)
}

func (in invocation) start(args ...string) *process {
	in.m.t.Helper()
	env := append(append(in.m.toolEnv(), "PPG_EA_DATABASE_URL="+in.source, "PPG_GA_DATABASE_URL="+in.target), in.env...)
	return startPPG(in.m.t, in.dir, env, in.stdin, append([]string{"migrate-from-ea"}, args...)...)
}

func (in invocation) run(args ...string) result {
	in.m.t.Helper()
	return in.start(args...).wait()
}

// process is a running ppg, the leader of a process group of its own: a
// signal to the group reaches pg_dump and pg_restore too, as Ctrl-C in a
// terminal does.
type process struct {
	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	start  time.Time
	stderr *syncBuffer
	done   chan struct{} // closed when ppg exited and its stdout was read

	mu      sync.Mutex
	lines   []string      // stdout
	events  []event       // the lines that are events, with when each arrived
	junk    []string      // stdout lines that are not events
	changed chan struct{} // closed (and replaced) at each new line
	end     time.Time
}

// startPPG starts ppg with args in dir, with a minimal environment (no
// PG*, PPG_* or DATABASE_URL of the machine's) plus env, and stdin (nil:
// /dev/null). A process still running at the end of the test is killed
// with its group.
func startPPG(t testing.TB, dir string, env []string, stdin *os.File, args ...string) *process {
	t.Helper()
	cmd := exec.Command(ppgBin, args...)
	cmd.Dir = dir
	for _, kv := range baseEnv() {
		if !strings.HasPrefix(kv, "PPG_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{t: t, args: args, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{}), changed: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 1<<20), 256<<20) // a verify report can be long
		for sc.Scan() {
			p.add(time.Now(), sc.Text())
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait() // after reading: Wait closes stdout
		p.mu.Lock()
		p.end = time.Now()
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			p.kill()
			<-p.done
		}
	})
	return p
}

func (p *process) add(at time.Time, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, text)
	if ev, ok := decodeEvent(text, at); ok {
		p.events = append(p.events, ev)
	} else {
		p.junk = append(p.junk, text)
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// runPPG runs ppg with args in dir (see startPPG) to its end.
func runPPG(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	return startPPG(t, dir, env, nil, args...).wait()
}

func (p *process) String() string { return "ppg " + strings.Join(p.args, " ") }

// pid is ppg's process id, and its group's.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether ppg has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to ppg's process group: ppg, pg_dump, pg_restore
// and its jobs.
func (p *process) signalGroup(sig syscall.Signal) { _ = syscall.Kill(-p.pid(), sig) }

// signalPPG sends sig to ppg alone.
func (p *process) signalPPG(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// kill kills ppg's process group.
func (p *process) kill() { p.signalGroup(syscall.SIGKILL) }

// waitFor waits for the first event, past or to come, that m selects, and
// returns it. It fails the test if ppg exits first, or after runTimeout.
func (p *process) waitFor(m eventMatch) event {
	p.t.Helper()
	timeout := time.After(runTimeout)
	for seen, ended := 0, false; ; {
		p.mu.Lock()
		events, changed := p.events[seen:], p.changed
		p.mu.Unlock()
		for _, ev := range events {
			seen++
			if m.matches(ev) {
				return ev
			}
		}
		if ended {
			r := p.result()
			p.t.Fatalf("%s exited (status %d) before %s:\n%s", p, r.code, m.what, r.show())
		}
		select {
		case <-changed:
		case <-p.done:
			ended = true // look at the last events once more
		case <-timeout:
			p.t.Fatalf("%s: no %s within %v:\n%s", p, m.what, runTimeout, p.result().show())
		}
	}
}

// groupGone waits until no process of ppg's group is left.
func (p *process) groupGone() {
	p.t.Helper()
	waitFor(p.t, 15*time.Second, fmt.Sprintf("the processes of group %d to end", p.pid()), func() bool {
		return syscall.Kill(-p.pid(), 0) == syscall.ESRCH
	})
}

// wait waits for ppg to exit and returns how the run went. After
// runTimeout it interrupts the group (then kills it) and fails the test.
func (p *process) wait() result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(runTimeout):
		p.signalGroup(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			p.kill()
			<-p.done
		}
		r := p.result()
		p.t.Fatalf("%s did not finish within %v (exit %d):\n%s", p, runTimeout, r.code, r.show())
	}
	return p.result()
}

// result is the run so far; its code is -1 while ppg runs or when a signal
// ended it.
func (p *process) result() result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := result{t: p.t, args: p.args, code: -1, stderr: p.stderr.String(),
		events: slices.Clone(p.events), junk: slices.Clone(p.junk), elapsed: time.Since(p.start)}
	if !p.end.IsZero() {
		r.code, r.elapsed = p.cmd.ProcessState.ExitCode(), p.end.Sub(p.start)
	}
	var sb strings.Builder
	for _, l := range p.lines {
		sb.WriteString(l + "\n")
	}
	r.stdout = sb.String()
	return r
}

// result is how a run of ppg went.
type result struct {
	t       testing.TB
	args    []string
	code    int
	stdout  string
	stderr  string
	events  []event
	junk    []string // stdout lines that are not events
	elapsed time.Duration
}

// output is stdout and stderr, for searches and messages.
func (r result) output() string { return "stdout:\n" + r.stdout + "\nstderr:\n" + r.stderr }

func (r result) json() bool { return slices.Contains(r.args, "--json") }

// show is the run for a failure message: the events of a --json run, the
// output's end otherwise.
func (r result) show() string {
	if !r.json() {
		return tailText(r.output(), 12000)
	}
	s := "events:\n" + describe(r.events) + "stderr:\n" + tailText(r.stderr, 6000)
	if len(r.junk) > 0 {
		s += fmt.Sprintf("\nstdout lines that are not events: %q", firstN(r.junk, 5))
	}
	return s
}

// wantExit fails the test unless ppg exited with code (-1: ended by a
// signal), and a --json run's stdout held events only. With
// PPG_E2E_SHOW_OUTPUT=1 in the environment it logs every run's output.
func (r result) wantExit(code int) {
	r.t.Helper()
	if os.Getenv("PPG_E2E_SHOW_OUTPUT") != "" {
		r.t.Logf("ppg %s: exit %d\n%s", strings.Join(r.args, " "), r.code, tailText(r.output(), 3000))
	}
	if r.code != code {
		r.t.Fatalf("ppg %s: exit status %d, want %d\n%s", strings.Join(r.args, " "), r.code, code, r.show())
	}
	if r.json() && len(r.junk) > 0 {
		r.t.Errorf("ppg %s: %d stdout lines are not JSON events: %q", strings.Join(r.args, " "), len(r.junk), firstN(r.junk, 5))
	}
}

// wantVerified fails the test unless the run's verify step finished with
// a report of matching tables.
func (r result) wantVerified() {
	r.t.Helper()
	fin := r.all(stepFinished("verify"))
	if len(fin) != 1 || !strings.Contains(fin[0].Text, "match") {
		r.t.Fatalf("ppg %s: no successful verify step\n%s", strings.Join(r.args, " "), r.show())
	}
	if rep := r.verifyReport(); rep == nil || len(rep.Tables) == 0 || len(rep.Mismatches) != 0 {
		r.t.Fatalf("ppg %s: verification report %+v", strings.Join(r.args, " "), rep)
	}
}

// verifyReport is the report of the verify step, if the run sent one.
func (r result) verifyReport() *migrate.VerifyReport {
	var rep *migrate.VerifyReport
	for _, ev := range r.all(ofKind(kindReport, "verify")) {
		if ev.Verify != nil {
			rep = ev.Verify
		}
	}
	return rep
}

// all returns the events m selects, in order.
func (r result) all(m eventMatch) []event {
	var out []event
	for _, ev := range r.events {
		if m.matches(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// has reports whether an event m selects was sent.
func (r result) has(m eventMatch) bool { return slices.ContainsFunc(r.events, m.matches) }

// started returns the steps the run started, in order.
func (r result) started() []string {
	var out []string
	for _, ev := range r.all(stepStarted(anyStep)) {
		out = append(out, ev.Step)
	}
	return out
}

// stepTime is how long step took, from its start to its end, by the
// events' times.
func (r result) stepTime(step string) time.Duration {
	began, ended := r.all(stepStarted(step)), r.all(stepFinished(step))
	if len(began) == 0 || len(ended) == 0 {
		return 0
	}
	return ended[len(ended)-1].Time.Sub(began[len(began)-1].Time)
}

// tailText keeps the last n bytes of s, for failure messages.
func tailText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// lastLines keeps the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}
