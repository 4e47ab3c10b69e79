package pgtools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHelperProcess is not a test: the tests below run the test binary as
// a fake pg_dump or pg_restore (as cli/cli's git tests do). PPGT_MODE
// selects what it does; it exits when done.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("PPGT_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: no tool")
		os.Exit(2)
	}
	name, toolArgs := args[1], args[2:]
	stderr := func(s string) { fmt.Fprintln(os.Stderr, s) }
	switch mode := os.Getenv("PPGT_MODE"); mode {
	case "env":
		// Print arguments and environment on stdout.
		fmt.Println("args " + strings.Join(toolArgs, " "))
		for _, kv := range os.Environ() {
			fmt.Println("env " + kv)
		}
	case "fixture":
		// Print a fixture on stderr (or stdout) and exit with a code.
		b, err := os.ReadFile(os.Getenv("PPGT_FIXTURE"))
		if err != nil {
			stderr(err.Error())
			os.Exit(2)
		}
		out := os.Stderr
		if os.Getenv("PPGT_STDOUT") == "1" {
			out = os.Stdout
		}
		if _, err := out.Write(b); err != nil {
			os.Exit(2) // the test sees a code it did not choose
		}
		code, _ := strconv.Atoi(os.Getenv("PPGT_EXIT"))
		os.Exit(code)
	case "hang":
		// Hang until SIGINT, then do what pg_dump and pg_restore do
		// (testdata/pg_restore-17-interrupted.txt).
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		stderr(name + ": reading schemas")
		stderr(name + `: dumping contents of table "public.big"`)
		<-c
		stderr(name + ": terminated by user")
		os.Exit(1)
	case "die":
		// Die of SIGINT, like a program without a handler.
		stderr(name + ": reading schemas")
		time.Sleep(time.Minute)
	case "ignore":
		// Ignore SIGINT: only a kill stops it.
		signal.Ignore(os.Interrupt)
		stderr(name + ": reading schemas")
		time.Sleep(time.Minute)
	case "flood":
		// Many long lines, as a 5,000-table restore prints.
		n, _ := strconv.Atoi(os.Getenv("PPGT_LINES"))
		pad := strings.Repeat("x", 200)
		w := bytes.Buffer{}
		for i := range n {
			fmt.Fprintf(&w, "%s: creating TABLE \"public.t%06d_%s\"\n", name, i, pad)
			if w.Len() > 64<<10 {
				if _, err := os.Stderr.Write(w.Bytes()); err != nil {
					os.Exit(2)
				}
				w.Reset()
			}
		}
		if _, err := os.Stderr.Write(w.Bytes()); err != nil {
			os.Exit(2)
		}
	case "lingering-child":
		// Exit at once, leaving a child that holds stderr open a while.
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "--", "child")
		cmd.Env = append(os.Environ(), "PPGT_MODE=sleep")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			stderr(err.Error())
			os.Exit(2)
		}
		stderr(name + ": done")
	case "sleep":
		time.Sleep(3 * time.Second)
	default:
		stderr("helper: unknown mode " + mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// helperRunner returns a Runner whose tools are the test binary in the
// given mode, with extra environment variables.
func helperRunner(mode string, env ...string) *Runner {
	return &Runner{
		Command: func(ctx context.Context, name string, arg ...string) *exec.Cmd {
			args := append([]string{"-test.run=^TestHelperProcess$", "--", toolName(name)}, arg...)
			return exec.CommandContext(ctx, os.Args[0], args...)
		},
		Environ: func() []string {
			return append([]string{"PPGT_HELPER=1", "PPGT_MODE=" + mode}, env...)
		},
		Grace: 5 * time.Second,
	}
}

var fakeDump = Tool{Name: "pg_dump", Path: "/fake/bin/pg_dump"}
var fakeRestore = Tool{Name: "pg_restore", Path: "/fake/bin/pg_restore"}

func TestBuildEnv(t *testing.T) {
	base := []string{
		"HOME=/home/u", "PATH=/usr/bin", "LANG=de_DE.UTF-8", "LC_CTYPE=de_DE.UTF-8",
		"LC_ALL=de_DE.UTF-8", "LC_MESSAGES=de_DE.UTF-8", "LANGUAGE=de",
		"PGHOST=elsewhere", "PGPORT=6543", "PGUSER=u", "PGDATABASE=d", "PGPASSWORD=old",
		"PGSERVICE=svc", "PGSSLMODE=verify-full", "PGSSLROOTCERT=/ca.pem", "PGGSSENCMODE=require",
		"PGOPTIONS=-c x=y", "PGCLUSTER=15/main", "Pgpassfile=/p", "PGAPPNAME=a",
	}
	kept := []string{"HOME=/home/u", "PATH=/usr/bin", "LANG=de_DE.UTF-8", "LC_CTYPE=de_DE.UTF-8", "LC_MESSAGES=C"}
	tests := []struct {
		name string
		conn *Conn
		want []string
	}{
		{"no connection", nil, kept},
		{"tunnel", &Conn{Password: "s3cret", SSLMode: "require", Tunnel: true},
			append(slices.Clone(kept), "PGPASSWORD=s3cret", "PGSSLMODE=disable", "PGGSSENCMODE=disable")},
		{"direct TLS", &Conn{Password: "s3cret", SSLMode: "require"},
			append(slices.Clone(kept), "PGPASSWORD=s3cret", "PGSSLMODE=require")},
		{"no password", &Conn{}, kept},
		{"the URL's certificate files", &Conn{SSLMode: "verify-full", SSLKey: "/k.pem", SSLRootCert: "/ca.pem", SSLCert: "/c.pem"},
			append(slices.Clone(kept), "PGSSLMODE=verify-full", "PGSSLROOTCERT=/ca.pem", "PGSSLCERT=/c.pem", "PGSSLKEY=/k.pem")},
		{"no certificate files through the tunnel", &Conn{Tunnel: true, SSLRootCert: "/ca.pem"},
			append(slices.Clone(kept), "PGSSLMODE=disable", "PGGSSENCMODE=disable")},
	}
	for _, tt := range tests {
		if got := buildEnv(base, tt.conn); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestConnArgs(t *testing.T) {
	c := &Conn{Host: "127.0.0.1", Port: "5433", User: "ppg", Database: "postgres", Password: "s3cret"}
	want := []string{"-h", "127.0.0.1", "-p", "5433", "-U", "ppg", "-d", "postgres", "-w"}
	if got := c.args(); !slices.Equal(got, want) {
		t.Errorf("args %q, want %q", got, want)
	}
	if got := (&Conn{Database: "db"}).args(); !slices.Equal(got, []string{"-d", "db", "-w"}) {
		t.Errorf("args %q", got)
	}
	for _, db := range []string{"postgres://u:pw@h/db", "POSTGRESQL://h/db", "host=h password=pw", "dbname=x"} {
		if err := (&Conn{Database: db}).validate(); err == nil {
			t.Errorf("validate(%q) accepted a connection string", db)
		}
	}
}

// TestRunArgsAndEnv checks, through a real process, that the password is
// in the environment only.
func TestRunArgsAndEnv(t *testing.T) {
	r := helperRunner("env", "PGHOST=elsewhere", "LC_ALL=fr_FR.UTF-8")
	var out bytes.Buffer
	conn := &Conn{Host: "127.0.0.1", Port: "6432", User: "u", Database: "postgres", Password: "pa55word", Tunnel: true}
	err := r.Run(context.Background(), Cmd{Tool: fakeDump, Conn: conn, Args: []string{"-Fc", "-v", "-f", "out.dump"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if want := "args -h 127.0.0.1 -p 6432 -U u -d postgres -w -Fc -v -f out.dump"; lines[0] != want {
		t.Errorf("got %q, want %q", lines[0], want)
	}
	env := make(map[string]string)
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(l, "env "), "=")
		env[k] = v
	}
	for k, want := range map[string]string{"PGPASSWORD": "pa55word", "PGSSLMODE": "disable", "PGGSSENCMODE": "disable", "LC_MESSAGES": "C", "PGHOST": "", "LC_ALL": ""} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if strings.Contains(lines[0], "pa55word") {
		t.Error("password on the command line")
	}
	if err := r.Run(context.Background(), Cmd{Tool: fakeDump, Conn: &Conn{Database: "postgres://u:pw@h/db"}}); err == nil || strings.Contains(err.Error(), "pw@") {
		t.Errorf("connection string as database: %v", err)
	}
}

func TestRunFixture(t *testing.T) {
	r := helperRunner("fixture", "PPGT_FIXTURE="+filepath.Join("testdata", "pg_restore-17.txt"), "PPGT_EXIT=1")
	var lines []Line
	err := r.Run(context.Background(), Cmd{Tool: fakeRestore, Args: []string{"-v", "ea.dump"}, OnLine: func(l Line) { lines = append(lines, l) }})
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if ee.Tool != "pg_restore" || ee.Code != 1 || ee.Signal != "" || ee.Canceled || ee.ErrorsIgnored != 6 {
		t.Errorf("ExitError %+v", ee)
	}
	if len(ee.StderrTail) != tailLines || ee.StderrTail[len(ee.StderrTail)-1] != "pg_restore: warning: errors ignored on restore: 6" {
		t.Errorf("tail %q", ee.StderrTail)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "pg_restore exited with status 1 after ignoring 6 errors; last output:\n  ") ||
		!strings.HasSuffix(msg, "\n  pg_restore: warning: errors ignored on restore: 6") {
		t.Errorf("message %q", msg)
	}
	// The same lines as parsing the fixture directly, including the
	// tables' ends (the run completed: "errors ignored").
	want := parseFixture(t, fixtureByName(t, "pg_restore-17.txt"))
	if !slices.Equal(lines, want) {
		t.Errorf("Run gave %d lines, parsing the fixture %d", len(lines), len(want))
	}
	if n := len(ofKind(lines, KindTableDataFinished)); n != 8 {
		t.Errorf("%d tables finished", n)
	}
}

func TestRunFailureRedacts(t *testing.T) {
	dir := t.TempDir()
	out := "pg_dump: error: connection to server at \"h\" failed: password=hunter22 user=x\n" +
		"pg_dump: detail: postgres://ppg:hunter22@host:5432/db and api_key=eyJabc secret pa55word\n"
	path := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	r := helperRunner("fixture", "PPGT_FIXTURE="+path, "PPGT_EXIT=1")
	var lines []Line
	err := r.Run(context.Background(), Cmd{Tool: fakeDump, Conn: &Conn{Password: "pa55word"}, OnLine: func(l Line) { lines = append(lines, l) }})
	if err == nil {
		t.Fatal("no error")
	}
	text := err.Error()
	for _, l := range lines {
		text += "\n" + l.Raw + "\n" + l.Detail
	}
	for _, secret := range []string{"hunter22", "eyJabc", "pa55word"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q not redacted in %q", secret, text)
		}
	}
	if len(lines) != 1 || lines[0].Kind != KindError || !strings.Contains(lines[0].Detail, "postgres://ppg:REDACTED@host:5432/db") {
		t.Errorf("lines %+v", lines)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p%40ss@h:5432/db?sslmode=require", "postgres://u:REDACTED@h:5432/db?sslmode=require"},
		{"prisma+postgres://accelerate.prisma-data.net/?api_key=eyJhbGc.x.y", "prisma+postgres://accelerate.prisma-data.net/?api_key=REDACTED"},
		{"host=h password='it''s' user=u", "host=h password=REDACTED user=u"},
		{`host=h password='it\'s' user=u`, "host=h password=REDACTED user=u"},
		{`CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'x', password 'sec''ret');`, `CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'x', password 'REDACTED');`},
		{"CONNECTION 'host=h PASSWORD=abc dbname=d'", "CONNECTION 'host=h PASSWORD=REDACTED dbname=d'"},
		{"pg_restore: creating TABLE \"public.passwords\"", "pg_restore: creating TABLE \"public.passwords\""},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := redact(tt.in, nil); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := redact("a long secret: abcdefgh, short: ab", []string{"abcdefgh", "ab"}); got != "a long secret: REDACTED, short: ab" {
		t.Errorf("redact with secrets: %q", got)
	}
}

func skipSignals(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows: tools are killed")
	}
}

func TestRunCancelInterrupts(t *testing.T) {
	skipSignals(t)
	r := helperRunner("hang")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []Line
	err := r.Run(ctx, Cmd{Tool: fakeDump, OnLine: func(l Line) {
		lines = append(lines, l)
		if l.Kind == KindTableDataStarted {
			cancel()
		}
	}})
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if !ee.Canceled || ee.Signal != "" || ee.Code != 1 {
		t.Errorf("ExitError %+v", ee)
	}
	if !slices.Contains(ee.StderrTail, "pg_dump: terminated by user") {
		t.Errorf("the tool did not get SIGINT: %q", ee.StderrTail)
	}
	if !strings.HasPrefix(err.Error(), "pg_dump was stopped; last output:") {
		t.Errorf("message %q", err)
	}
	// Cut short: the table that was being dumped is not finished.
	if n := len(ofKind(lines, KindTableDataFinished)); n != 0 {
		t.Errorf("%d tables finished", n)
	}

	// A tool without a handler dies of the signal.
	r = helperRunner("die")
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	err = r.Run(ctx, Cmd{Tool: fakeDump, OnLine: func(Line) { cancel() }})
	if !errors.As(err, &ee) || !ee.Canceled || ee.Signal != "interrupt" || ee.Code != -1 ||
		!strings.HasPrefix(err.Error(), "pg_dump was stopped (interrupt)") {
		t.Errorf("err = %v (%+v)", err, ee)
	}
}

func TestRunCancelKillsAfterGrace(t *testing.T) {
	skipSignals(t)
	r := helperRunner("ignore")
	r.Grace = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var canceledAt time.Time
	err := r.Run(ctx, Cmd{Tool: fakeDump, OnLine: func(Line) {
		canceledAt = time.Now()
		cancel()
	}})
	elapsed := time.Since(canceledAt)
	var ee *ExitError
	if !errors.As(err, &ee) || !ee.Canceled || ee.Signal != "killed" {
		t.Fatalf("err = %#v", err)
	}
	if elapsed < r.Grace || elapsed > r.Grace+5*time.Second {
		t.Errorf("killed %v after cancel, grace %v", elapsed, r.Grace)
	}
}

func TestRunStreamsManyLines(t *testing.T) {
	const n = 200_000 // about 45 MB of output
	r := helperRunner("flood", "PPGT_LINES="+strconv.Itoa(n))
	var count, maxHeap atomic.Uint64
	var ms runtime.MemStats
	err := r.Run(context.Background(), Cmd{Tool: fakeRestore, OnLine: func(l Line) {
		if l.Kind != KindObjectCreated {
			t.Errorf("line %+v", l)
		}
		if count.Add(1)%20_000 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > maxHeap.Load() {
				maxHeap.Store(ms.HeapAlloc)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if count.Load() != n {
		t.Errorf("OnLine called %d times, want %d", count.Load(), n)
	}
	// Holding the output would take 45 MB.
	if maxHeap.Load() > 32<<20 {
		t.Errorf("heap reached %d MB while streaming", maxHeap.Load()>>20)
	}
}

func TestRunLingeringChild(t *testing.T) {
	skipSignals(t)
	r := helperRunner("lingering-child")
	r.Grace = 200 * time.Millisecond
	start := time.Now()
	if err := r.Run(context.Background(), Cmd{Tool: fakeDump}); err != nil {
		t.Fatalf("err = %v; a tool that exited 0 succeeded even if a child holds its stderr", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("Run waited %v for the child", d)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunStdoutFailure(t *testing.T) {
	r := helperRunner("env")
	err := r.Run(context.Background(), Cmd{Tool: fakeRestore, Stdout: failingWriter{}})
	var ee *ExitError
	if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
}

func TestRunStartFailure(t *testing.T) {
	var r Runner
	err := r.Run(context.Background(), Cmd{Tool: Tool{Name: "pg_dump", Path: filepath.Join(t.TempDir(), "missing", "pg_dump")}})
	var ee *ExitError
	if err == nil || errors.As(err, &ee) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	if err := r.Run(context.Background(), Cmd{Tool: Tool{Name: "pg_dump"}}); err == nil {
		t.Error("no error without a path")
	}
}

func TestReadTOC(t *testing.T) {
	r := helperRunner("fixture", "PPGT_FIXTURE="+filepath.Join("testdata", "list-17.txt"), "PPGT_STDOUT=1")
	toc, err := r.ReadTOC(context.Background(), fakeRestore, "ea.dump")
	if err != nil {
		t.Fatal(err)
	}
	want := readTOCFixture(t, "list-17.txt")
	if !slices.Equal(toc.Entries, want.Entries) || toc.Header != want.Header {
		t.Errorf("ReadTOC differs from ParseTOC")
	}

	r = helperRunner("fixture", "PPGT_FIXTURE="+filepath.Join("testdata", "pg_restore-15-too-old.txt"), "PPGT_EXIT=1")
	_, err = r.ReadTOC(context.Background(), fakeRestore, "ea.dump")
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "unsupported version (1.16) in file header") {
		t.Errorf("err = %v", err)
	}
}

func TestSerial(t *testing.T) {
	for args, want := range map[string]bool{
		"-v -Fc":            true,
		"-j 4":              false,
		"-j 1":              true,
		"-j4":               false,
		"--jobs=2":          false,
		"--jobs 3 -v":       false,
		"--jobs":            true,
		"-v --section data": true,
	} {
		if got := serial(strings.Fields(args)); got != want {
			t.Errorf("serial(%q) = %v, want %v", args, got, want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := newLineWriter(8, func(s string) { got = append(got, s) })
	for _, chunk := range []string{"ab", "c\r\nde", "f\n\n0123456789abc", "def\nlast"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	w.Flush()
	want := []string{"abc", "def", "", "01234567", "last"}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

func TestTail(t *testing.T) {
	tl := newTail(3)
	if got := tl.lines(); len(got) != 0 {
		t.Errorf("empty tail %q", got)
	}
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		tl.add(s)
	}
	if got := tl.lines(); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Errorf("tail %q", got)
	}
}
