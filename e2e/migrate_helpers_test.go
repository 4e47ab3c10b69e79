//go:build e2e

package e2e

// Helpers for end-to-end tests of `ppg migrate-from-ea`, shared by the
// migration, resume and benchmark tests: a bed of two real servers behind
// one gateway, a runner for the real binary that records its output line
// by line with arrival times, and independent checks of the target against
// the source (row fingerprints, sequences, catalog objects).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
)

// migrateTimeout bounds one run of ppg migrate-from-ea in a test.
const migrateTimeout = 5 * time.Minute

// migrateBed is an EA server (PostgreSQL 16) and a GA server (PostgreSQL
// 17) behind one gateway emulator, with an API key routed to each one's
// "postgres" database.
type migrateBed struct {
	EA, GA  *pgserver.Server
	Gateway *gateway.Gateway
	WSURL   string
	EAKey   string
	GAKey   string
	// PGBin is the folder of pg_dump/pg_restore 17 the runs use.
	PGBin string
}

// newMigrateBed starts both servers and a gateway with opts; all stop at
// the end of the test.
func newMigrateBed(t testing.TB, opts gateway.Options) *migrateBed {
	t.Helper()
	b := &migrateBed{PGBin: need(t, "PPG_CLIENT_BIN")}
	b.EA = pgserver.StartT(t, 16)
	b.GA = pgserver.StartT(t, 17)
	b.Gateway, b.WSURL = testGateway(t, opts)
	b.EAKey, b.GAKey = sandbox.NewKey("ea"), sandbox.NewKey("ga")
	b.Gateway.AddDatabase(b.EAKey, b.EA.URL("postgres"))
	b.Gateway.AddDatabase(b.GAKey, b.GA.URL("postgres"))
	return b
}

// env returns the environment of a headless run migrating ea to ga (each
// an API key or a postgres:// URL) through the bed's gateway with the
// bed's tools.
func (b *migrateBed) env(ea, ga string) []string {
	return []string{
		"PPG_WS_URL=" + b.WSURL,
		"PPG_EA_DATABASE_URL=" + ea,
		"PPG_GA_DATABASE_URL=" + ga,
		"PPG_PG_BIN=" + b.PGBin,
	}
}

// keyEnv is env with both sides by API key.
func (b *migrateBed) keyEnv() []string { return b.env(b.EAKey, b.GAKey) }

// migrateLine is one line of a run's stdout and when the test read it.
type migrateLine struct {
	At   time.Time
	Text string
}

// migrateEvent is one --json event line.
type migrateEvent struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Step     string    `json:"step"`
	Text     string    `json:"text"`
	Line     string    `json:"line"`
	Progress *struct {
		Phase                   string
		TablesDone, TablesTotal int
		BytesDone, BytesTotal   int64
		Current                 string
		Warnings                int
	} `json:"progress"`
	Error   string          `json:"error"`
	Hint    string          `json:"hint"`
	Tail    []string        `json:"tail"`
	Resumed bool            `json:"resumed"`
	Verify  json.RawMessage `json:"verify"`
	// Arrived is when the test read the line (not part of the JSON).
	Arrived time.Time `json:"-"`
}

// migrateResult is a finished run.
type migrateResult struct {
	Code    int
	Stdout  string
	Stderr  string
	Lines   []migrateLine
	Elapsed time.Duration
	// Events are the stdout lines that parse as JSON events; BadLines the
	// ones that do not.
	Events   []migrateEvent
	BadLines []string
}

// Output is stdout and stderr, for messages and searches.
func (r migrateResult) Output() string {
	return "stdout:\n" + r.Stdout + "\nstderr:\n" + r.Stderr
}

// Find returns the events of kind for step ("" matches any step).
func (r migrateResult) Find(kind, step string) []migrateEvent {
	var out []migrateEvent
	for _, ev := range r.Events {
		if ev.Kind == kind && (step == "" || ev.Step == step) {
			out = append(out, ev)
		}
	}
	return out
}

// migrateProc is a running `ppg migrate-from-ea`.
type migrateProc struct {
	t       testing.TB
	Cmd     *exec.Cmd
	started time.Time
	stderr  *syncBuffer
	done    chan struct{} // closed when the process exited and stdout was read
	waitErr error

	mu    sync.Mutex
	lines []migrateLine
}

// migrateCmd returns the command `ppg migrate-from-ea args...` run in dir
// (which is also the default --dir) with a minimal environment plus env.
// Its stdin is /dev/null unless the caller sets it.
func migrateCmd(t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(ppgBin, append([]string{"migrate-from-ea"}, args...)...)
	cmd.Dir = dir
	var base []string
	for _, kv := range baseEnv() {
		if !strings.HasPrefix(kv, "PPG_") {
			base = append(base, kv)
		}
	}
	cmd.Env = append(base, env...)
	return cmd
}

// migrateStartCmd starts cmd (from migrateCmd; stdout and stderr must be
// unset) and records its output. A process still running at the end of
// the test is killed.
func migrateStartCmd(t testing.TB, cmd *exec.Cmd) *migrateProc {
	t.Helper()
	p := &migrateProc{t: t, Cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.stderr
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 1<<20), 256<<20) // a verify report can be long
		for sc.Scan() {
			l := migrateLine{At: time.Now(), Text: sc.Text()}
			p.mu.Lock()
			p.lines = append(p.lines, l)
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stdout)
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// migrateStart starts `ppg migrate-from-ea args...` in dir (see migrateCmd).
func migrateStart(t testing.TB, dir string, env []string, args ...string) *migrateProc {
	t.Helper()
	return migrateStartCmd(t, migrateCmd(t, dir, env, args...))
}

// migrateRun runs `ppg migrate-from-ea args...` in dir and waits for it
// (at most migrateTimeout).
func migrateRun(t testing.TB, dir string, env []string, args ...string) migrateResult {
	t.Helper()
	return migrateStart(t, dir, env, args...).wait(migrateTimeout)
}

// Lines returns the stdout lines read so far.
func (p *migrateProc) Lines() []migrateLine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

// Exited reports whether the process has ended.
func (p *migrateProc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit; after timeout it interrupts it
// (then kills it) and fails the test.
func (p *migrateProc) wait(timeout time.Duration) migrateResult {
	p.t.Helper()
	timedOut := false
	select {
	case <-p.done:
	case <-time.After(timeout):
		timedOut = true
		p.Cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			p.Cmd.Process.Kill()
			<-p.done
		}
	}
	r := migrateResult{Stderr: p.stderr.String(), Lines: p.Lines(), Elapsed: time.Since(p.started), Code: -1}
	if p.Cmd.ProcessState != nil {
		r.Code = p.Cmd.ProcessState.ExitCode()
	}
	var sb strings.Builder
	for _, l := range r.Lines {
		sb.WriteString(l.Text)
		sb.WriteByte('\n')
		var ev migrateEvent
		if err := json.Unmarshal([]byte(l.Text), &ev); err != nil || ev.Kind == "" {
			r.BadLines = append(r.BadLines, l.Text)
			continue
		}
		ev.Arrived = l.At
		r.Events = append(r.Events, ev)
	}
	r.Stdout = sb.String()
	if timedOut {
		p.t.Fatalf("ppg migrate-from-ea did not finish within %v (exit %d):\n%s", timeout, r.Code, tailText(r.Output(), 8000))
	}
	return r
}

// toolLineSpan returns the first and last tool_line events of step.
func toolLineSpan(r migrateResult, step string) (first, last migrateEvent, n int) {
	for _, ev := range r.Find("tool_line", step) {
		if n == 0 {
			first = ev
		}
		last = ev
		n++
	}
	return first, last, n
}

// spanStart and spanEnd are when the first and last of evs arrived, after t0.
func spanStart(evs []migrateEvent, t0 time.Time) time.Duration {
	if len(evs) == 0 {
		return 0
	}
	return evs[0].Arrived.Sub(t0).Round(time.Millisecond)
}

func spanEnd(evs []migrateEvent, t0 time.Time) time.Duration {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Arrived.Sub(t0).Round(time.Millisecond)
}

// tailText keeps the last n bytes of s, for failure messages.
func tailText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// wantExit fails the test unless the run exited with code. With
// PPG_E2E_SHOW_OUTPUT=1 in the environment it logs every run's output.
func wantExit(t testing.TB, r migrateResult, code int) {
	t.Helper()
	if os.Getenv("PPG_E2E_SHOW_OUTPUT") != "" {
		t.Logf("exit %d\n%s", r.Code, tailText(r.Output(), 3000))
	}
	if r.Code != code {
		t.Fatalf("exit status %d, want %d; output:\n%s", r.Code, code, tailText(r.Output(), 12000))
	}
}

// dbExec runs a script of SQL statements on the database at url.
func dbExec(t testing.TB, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := sandbox.Exec(ctx, url, sql); err != nil {
		t.Fatalf("exec SQL %.200q...: %v", sql, err)
	}
}

// dbConnect connects to url with session settings that make text output
// identical across servers (time zone, date and float formats).
func dbConnect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"TimeZone": "UTC", "DateStyle": "ISO, MDY", "IntervalStyle": "postgres",
		"extra_float_digits": "1", "bytea_output": "hex", "application_name": "ppg-e2e-check",
	} {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// dbRows runs a query on the database at url and returns its rows as text
// (NULL as "<null>").
func dbRows(t testing.TB, url, sql string, args ...any) [][]string {
	t.Helper()
	conn := dbConnect(t, url)
	defer conn.Close(context.Background())
	return connRows(t, conn, sql, args...)
}

// dbValue is dbRows for a query of one row and one column.
func dbValue(t testing.TB, url, sql string, args ...any) string {
	t.Helper()
	rows := dbRows(t, url, sql, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: got %d rows, want one value", sql, len(rows))
	}
	return rows[0][0]
}

func connRows(t testing.TB, conn *pgx.Conn, sql string, args ...any) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				row[i] = "<null>"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

// userSchemasSQL restricts catalog queries to the user's schemas (alias n).
const userSchemasSQL = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'`

// tableFingerprint identifies a table's content: its row count and the md5
// of its rows' text, sorted.
type tableFingerprint struct {
	Rows int64
	MD5  string
}

// tableFingerprints returns the fingerprint of every ordinary table
// (partitions included) of the user's schemas at url, by qualified name.
func tableFingerprints(t testing.TB, url string) map[string]tableFingerprint {
	t.Helper()
	conn := dbConnect(t, url)
	defer conn.Close(context.Background())
	names := connRows(t, conn, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND `+userSchemasSQL+` ORDER BY 1`)
	out := make(map[string]tableFingerprint, len(names))
	for _, n := range names {
		row := connRows(t, conn, `SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '')
			FROM ONLY `+n[0]+` t`)[0]
		rows, _ := strconv.ParseInt(row[0], 10, 64)
		out[n[0]] = tableFingerprint{Rows: rows, MD5: row[1]}
	}
	return out
}

// sequenceStates returns "last_value is_called" of every sequence of the
// user's schemas at url, by qualified name.
func sequenceStates(t testing.TB, url string) map[string]string {
	t.Helper()
	conn := dbConnect(t, url)
	defer conn.Close(context.Background())
	names := connRows(t, conn, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND `+userSchemasSQL+` ORDER BY 1`)
	out := make(map[string]string, len(names))
	for _, n := range names {
		row := connRows(t, conn, `SELECT last_value, is_called FROM `+n[0])[0]
		out[n[0]] = row[0] + " " + row[1]
	}
	return out
}

// schemaObjectQueries list the user's objects by kind, each row a stable
// description (names, definitions where the text is the stored source).
var schemaObjectQueries = []struct{ kind, sql string }{
	{"schemas", `SELECT n.nspname FROM pg_namespace n WHERE ` + userSchemasSQL},
	{"tables", `SELECT format('%I.%I %s', n.nspname, c.relname, c.relkind) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'f') AND ` + userSchemasSQL},
	{"partitions", `SELECT format('%s of %s %s', c.oid::regclass, i.inhparent::regclass, pg_get_expr(c.relpartbound, c.oid))
		FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relispartition AND c.relkind IN ('r', 'p')`},
	{"views", `SELECT format('%I.%I ', n.nspname, c.relname) || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'v' AND ` + userSchemasSQL},
	{"materialized views", `SELECT format('%I.%I populated=%s ', n.nspname, c.relname, c.relispopulated) || pg_get_viewdef(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ` + userSchemasSQL},
	{"sequences", `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'S' AND ` + userSchemasSQL},
	{"indexes", `SELECT format('%I.%I ', n.nspname, c.relname) || pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('i', 'I') AND ` + userSchemasSQL},
	{"constraints", `SELECT format('%s %I %s ', k.conrelid::regclass, k.conname, k.contype) || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE ` + userSchemasSQL},
	{"functions", `SELECT format('%I.%I(%s) %s %s ', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind, l.lanname)
		|| md5(coalesce(p.prosrc, '')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		WHERE ` + userSchemasSQL},
	{"triggers", `SELECT format('%s %I %s %s', t.tgrelid::regclass, t.tgname, t.tgfoid::regproc, t.tgenabled) FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND ` + userSchemasSQL},
	{"enum labels", `SELECT format('%I.%I ', n.nspname, t.typname) || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid WHERE ` + userSchemasSQL + ` GROUP BY n.nspname, t.typname`},
	{"types", `SELECT format('%I.%I %s', n.nspname, t.typname, t.typtype) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')) AND ` + userSchemasSQL},
	{"policies", `SELECT format('%s %I %s', p.polrelid::regclass, p.polname, pg_get_expr(p.polqual, p.polrelid)) FROM pg_policy p`},
	{"comments", `SELECT format('%s %s', d.objoid::regclass, d.description) FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0 AND ` + userSchemasSQL},
}

// schemaObjects returns, by kind, the sorted descriptions of the user's
// objects at url (see schemaObjectQueries).
func schemaObjects(t testing.TB, url string) map[string][]string {
	t.Helper()
	conn := dbConnect(t, url)
	defer conn.Close(context.Background())
	out := map[string][]string{}
	for _, q := range schemaObjectQueries {
		var list []string
		for _, row := range connRows(t, conn, q.sql) {
			list = append(list, row[0])
		}
		sort.Strings(list)
		out[q.kind] = list
	}
	return out
}

// catalogSnapshot lists every object of the user's schemas at url (schemas,
// relations, functions, types) and the row count of every table, to tell
// whether a database changed.
func catalogSnapshot(t testing.TB, url string) []string {
	t.Helper()
	var out []string
	for kind, list := range schemaObjects(t, url) {
		for _, s := range list {
			out = append(out, kind+": "+s)
		}
	}
	for name, fp := range tableFingerprints(t, url) {
		out = append(out, fmt.Sprintf("rows: %s %d %s", name, fp.Rows, fp.MD5))
	}
	sort.Strings(out)
	return out
}

// compareMaps reports every key whose value differs between the source's
// map want and the target's map got.
func compareMaps[V comparable](t testing.TB, what string, want, got map[string]V) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing on the target (source %v)", k, w))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: source %v, target %v", k, w, g))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: only on the target (%v)", k, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s differ in %d places:\n  %s", what, len(diffs), strings.Join(firstN(diffs, 30), "\n  "))
	}
}

// compareLists reports the differences between two sorted lists.
func compareLists(t testing.TB, what string, want, got []string) {
	t.Helper()
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s differ:\n  missing on the target: %q\n  only on the target: %q", what, firstN(missing, 20), firstN(extra, 20))
	}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

// dirContents reads every regular file under dir, by path relative to dir.
func dirContents(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpFiles returns the dumps (finished or partial), their manifests and
// restore lists in dir: the files named ppg-ea-*.
func dumpFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for name := range dirContents(t, dir) {
		if strings.HasPrefix(filepath.Base(name), "ppg-ea-") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// childCmdlines samples, every interval until stop is called, the command
// lines of the processes descended from pid (pid itself included), and
// returns every distinct one seen, arguments separated by spaces.
func childCmdlines(pid int, interval time.Duration) (stop func() []string) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		quit = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			for _, cl := range descendantCmdlines(pid) {
				mu.Lock()
				seen[cl] = true
				mu.Unlock()
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []string {
		close(quit)
		<-done
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for cl := range seen {
			out = append(out, cl)
		}
		sort.Strings(out)
		return out
	}
}

// descendantCmdlines reads /proc once.
func descendantCmdlines(root int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesised command name: state, ppid.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
	}
	var out []string
	for pid := range parent {
		descends := false
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				descends = true
				break
			}
		}
		if !descends {
			continue
		}
		cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cl) == 0 {
			continue
		}
		out = append(out, strings.TrimRight(strings.ReplaceAll(string(cl), "\x00", " "), " "))
	}
	return out
}

// complexSchemaSQL builds, on an empty PostgreSQL 16 database, a schema that
// exercises what a migration must carry: several schemas (one with a mixed
// case name), enums (one with a value added out of order), a domain and a
// composite type, sequences (serial, identity, standalone ones with
// non-trivial states), views, a populated and an unpopulated materialized
// view, plpgsql, sql and SQL-standard functions, triggers, foreign keys,
// check and unique constraints, a generated column, an unlogged table, a
// row security policy, a range-partitioned table with rows in each
// partition, jsonb and bytea with NULLs, unicode, escapes, binary zeros
// and TOASTed values, 300 small tables in schema "many", and
// app.big with complexSchemaBigRows narrow rows.
const complexSchemaSQL = `
CREATE SCHEMA app;
CREATE SCHEMA billing;
CREATE SCHEMA "Mixed Case";
CREATE SCHEMA many;

CREATE TYPE app.status AS ENUM ('new', 'active', 'suspended', 'gelöscht');
ALTER TYPE app.status ADD VALUE 'pending' BEFORE 'active';
CREATE TYPE billing.currency AS ENUM ('EUR', 'USD', 'JPY');
CREATE DOMAIN app.email AS text CHECK (VALUE LIKE '%_@_%');
CREATE TYPE app.money_pair AS (amount numeric(12, 2), currency billing.currency);

-- Standalone sequences: one used by a default, one descending and not
-- called since its setval, one never used.
CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 7;
SELECT setval('billing.invoice_no', 987654321);
CREATE SEQUENCE app.countdown INCREMENT -1 MINVALUE -1000 MAXVALUE -1 START -1;
SELECT setval('app.countdown', -500, false);
CREATE SEQUENCE app.unused;

CREATE TABLE app.users (
	id serial PRIMARY KEY,
	email app.email NOT NULL UNIQUE,
	status app.status NOT NULL DEFAULT 'new',
	profile jsonb,
	avatar bytea,
	tags text[],
	created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00',
	updated_at timestamptz
);
COMMENT ON TABLE app.users IS 'the people — with a comment';

CREATE TABLE app.audit_log (
	id bigserial PRIMARY KEY,
	table_name text NOT NULL,
	row_id bigint NOT NULL,
	op text NOT NULL
);

CREATE TABLE billing.invoices (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id int NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
	number bigint NOT NULL DEFAULT nextval('billing.invoice_no'),
	amount numeric(12, 2) NOT NULL CHECK (amount >= 0),
	currency billing.currency NOT NULL,
	issued_on date NOT NULL,
	UNIQUE (number)
);

CREATE TABLE billing.invoice_lines (
	invoice_id bigint NOT NULL REFERENCES billing.invoices (id) ON DELETE CASCADE,
	line int NOT NULL,
	description text,
	qty int NOT NULL,
	price numeric(10, 2) NOT NULL,
	total numeric GENERATED ALWAYS AS (qty * price) STORED,
	price_pair app.money_pair,
	PRIMARY KEY (invoice_id, line)
);

CREATE TABLE "Mixed Case"."Order Items" (
	"Id" int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	"Note" text,
	"User" int REFERENCES app.users (id)
);

CREATE UNLOGGED TABLE app.cache (k text PRIMARY KEY, v jsonb);
CREATE TABLE app.empty_table (id int PRIMARY KEY, note text);

CREATE TABLE app.events (
	id bigint NOT NULL,
	at date NOT NULL,
	kind text NOT NULL,
	payload jsonb,
	PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE app.events_2023 PARTITION OF app.events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.events_default PARTITION OF app.events DEFAULT;
CREATE INDEX events_kind ON app.events (kind);

CREATE TABLE app.blobs (id int PRIMARY KEY, doc jsonb, data bytea, note text);

-- Functions: plpgsql (trigger), sql, SQL-standard body.
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := '2024-06-01 12:00:00+00';
	RETURN NEW;
END
$$;
CREATE FUNCTION app.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO app.audit_log (table_name, row_id, op) VALUES (TG_TABLE_NAME, NEW.id, TG_OP);
	RETURN NULL;
END
$$;
CREATE FUNCTION billing.total_for(uid int) RETURNS numeric LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(amount), 0) FROM billing.invoices WHERE user_id = uid
$$;
CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE RETURN a + b;

CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER invoices_audit AFTER INSERT ON billing.invoices FOR EACH ROW EXECUTE FUNCTION app.audit();

ALTER TABLE app.cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY cache_visible ON app.cache USING (k NOT LIKE 'secret%');

-- Data.
INSERT INTO app.users (email, status, profile, avatar, tags)
SELECT 'user' || g || '@example.com',
	(ARRAY['new', 'active', 'suspended', 'gelöscht']::app.status[])[1 + g % 4],
	CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('n', g, 'name', 'Zoë ' || g, 'tags', jsonb_build_array('a', g % 3, NULL)) END,
	CASE WHEN g % 3 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 8, '0') || '00ff00', 'hex') END,
	CASE WHEN g % 7 = 0 THEN NULL ELSE ARRAY['x' || g, NULL, '日本'] END
FROM generate_series(1, 1000) g;
UPDATE app.users SET status = 'active' WHERE id % 10 = 1;
DELETE FROM app.users WHERE id > 990;

INSERT INTO billing.invoices (user_id, amount, currency, issued_on)
SELECT 1 + g % 990, (g % 1000) * 1.25, (ARRAY['EUR', 'USD', 'JPY']::billing.currency[])[1 + g % 3], date '2023-01-01' + g % 900
FROM generate_series(1, 3000) g;
DELETE FROM billing.invoices WHERE id % 10 = 0;
INSERT INTO billing.invoice_lines (invoice_id, line, description, qty, price, price_pair)
SELECT i.id, l, CASE WHEN l = 2 THEN NULL ELSE 'line ' || l || ' of ' || i.number END, l, 9.99 * l, ROW(9.99 * l, 'EUR')::app.money_pair
FROM billing.invoices i, generate_series(1, 3) l;

INSERT INTO "Mixed Case"."Order Items" ("Note", "User") SELECT 'note ' || g, 1 + g % 900 FROM generate_series(1, 50) g;
INSERT INTO "Mixed Case"."Order Items" ("Id", "Note") VALUES (1000, 'explicit id');

INSERT INTO app.cache SELECT 'k' || g, jsonb_build_object('v', g) FROM generate_series(1, 100) g;
INSERT INTO app.cache VALUES ('secret-1', '{"hidden": true}');

INSERT INTO app.events
SELECT g, date '2023-01-01' + g % 1095, (ARRAY['click', 'view', 'buy'])[1 + g % 3],
	CASE WHEN g % 4 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'ü', 'ñ') END
FROM generate_series(1, 6000) g;
INSERT INTO app.events VALUES (100001, '2030-05-05', 'future', '{"far": "away"}'), (100002, '1999-12-31', 'past', NULL);

INSERT INTO app.blobs VALUES
	(1, NULL, NULL, NULL),
	(2, '{"name": "Zoë", "emoji": "🐘", "nested": {"a": [1, 2, null], "b": "\u00e9"}}', '\x00000102ff00', 'ünïcödé ✓ 日本語 🐘'),
	(3, '[]', '', ''),
	(4, '"tab\tnewline\nquote\"backslash\\"', decode('00ff00ff', 'hex'), E'line1\nline2\ttab \\ backslash ''quote'''),
	(5, '{"big": 12345678901234567890, "float": 1.5e300, "neg": -0.0}', decode(repeat('00', 100000), 'hex'), NULL),
	(6, (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g),
		(SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea) FROM generate_series(1, 8000) g), repeat('long text ', 5000));

-- Views and materialized views.
CREATE VIEW app.active_users AS SELECT id, email, profile FROM app.users WHERE status = 'active';
CREATE VIEW billing.user_totals AS SELECT u.id, u.email, billing.total_for(u.id) AS total FROM app.users u;
CREATE MATERIALIZED VIEW billing.monthly AS
	SELECT date_trunc('month', issued_on)::date AS month, currency, sum(amount) AS total, count(*) AS n
	FROM billing.invoices GROUP BY 1, 2;
CREATE UNIQUE INDEX monthly_key ON billing.monthly (month, currency);
CREATE MATERIALIZED VIEW app.unpopulated AS SELECT id, email FROM app.users WITH NO DATA;

-- Many small tables.
DO $$
BEGIN
	FOR i IN 1..300 LOOP
		EXECUTE format('CREATE TABLE many.t_%s (id int PRIMARY KEY, label text, n numeric)', i);
		EXECUTE format('INSERT INTO many.t_%s SELECT g, md5((g * %s)::text), g / 7.0 FROM generate_series(1, %s) g', i, i, i % 10 + 1);
	END LOOP;
END
$$;

-- One big, narrow table.
CREATE TABLE app.big (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO app.big SELECT g, (g::bigint * 7919 % 1000003)::int FROM generate_series(1, 1000000) g;
ANALYZE;
`

// complexSchemaBigRows is the row count of app.big in complexSchemaSQL.
const complexSchemaBigRows = 1_000_000

// manyForeignKeysSQL returns statements (run each on its own: they commit
// as they go, so that no transaction holds thousands of locks) that create
// schema fk with n tables fk.t_1..fk.t_n of two rows each, and n foreign
// keys: t_i.parent references t_(i-1), and t_1 references t_n.
func manyForeignKeysSQL(n int) []string {
	return []string{
		`CREATE SCHEMA fk`,
		fmt.Sprintf(`DO $$
BEGIN
	FOR i IN 1..%d LOOP
		EXECUTE format('CREATE TABLE fk.t_%%s (id int PRIMARY KEY, parent int NOT NULL)', i);
		EXECUTE format('INSERT INTO fk.t_%%s VALUES (1, 1), (2, 1)', i);
		IF i %% 250 = 0 THEN COMMIT; END IF;
	END LOOP;
END
$$`, n),
		fmt.Sprintf(`DO $$
BEGIN
	FOR i IN 1..%[1]d LOOP
		EXECUTE format('ALTER TABLE fk.t_%%s ADD CONSTRAINT t_%%s_parent_fk FOREIGN KEY (parent) REFERENCES fk.t_%%s (id)',
			i, i, CASE WHEN i = 1 THEN %[1]d ELSE i - 1 END);
		IF i %% 250 = 0 THEN COMMIT; END IF;
	END LOOP;
END
$$`, n),
		`ANALYZE`,
	}
}

// smallSchemaSQL is a small source database: a table in public, a schema
// "shop" with two tables (one referencing the other), a sequence and a view.
const smallSchemaSQL = `
CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL, note jsonb);
INSERT INTO public.customers (name, note) SELECT 'customer ' || g, CASE WHEN g % 2 = 0 THEN '{"vip": true}'::jsonb END FROM generate_series(1, 500) g;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int NOT NULL REFERENCES public.customers (id), total numeric(10, 2));
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 500, g * 0.5 FROM generate_series(1, 2000) g;
CREATE TABLE shop.order_notes (order_id bigint REFERENCES shop.orders (id), body text);
INSERT INTO shop.order_notes SELECT g, repeat('n', g % 50) FROM generate_series(1, 300) g;
CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 500;
`
