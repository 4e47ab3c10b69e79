//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/migrate"
)

// Run with: go test -tags e2e -count=1 -run 'TestMigrate' ./e2e/

func TestMigrateComplexDatabase(t *testing.T) {
	m := newMigration(t)
	start := time.Now()
	m.source.exec(complexSchemaSQL)
	t.Logf("source built in %v", time.Since(start).Round(time.Millisecond))

	r := m.run("--non-interactive", "--json")
	t.Logf("migration took %v", r.elapsed.Round(time.Millisecond))
	r.wantExit(0)
	r.wantVerified()
	if n := len(r.all(stepFailed(anyStep))); n > 0 {
		t.Errorf("%d step_failed events in a successful run", n)
	}
	// The verify report covers every table of the source.
	rep := r.verifyReport()

	// Independent checks, on direct connections to both servers.
	start = time.Now()
	src, dst := m.source, m.target
	srcFP, dstFP := src.tableMD5s(), dst.tableMD5s()
	if len(srcFP) < 300+10 {
		t.Fatalf("the source has only %d tables: the schema was not built", len(srcFP))
	}
	if len(rep.Tables) != len(srcFP) {
		t.Errorf("the verify report lists %d tables, the source has %d", len(rep.Tables), len(srcFP))
	}
	for name, want := range map[string]int64{
		"app.big": complexSchemaBigRows, "app.events_2023": 1000, "app.events_2024": 1000, "app.events_2025": 1000, "app.events_default": 2,
		"app.blobs": 6, `"Mixed Case"."Order Items"`: 51, "many.t_300": 1, "app.empty_table": 0,
	} {
		if got := srcFP[name].Rows; got < want || want == 0 && got != 0 {
			t.Errorf("source table %s has %d rows, want at least %d", name, got, want)
		}
	}
	compareMaps(t, "table fingerprints (rows, md5 of the sorted rows)", srcFP, dstFP)
	compareMaps(t, "sequences (last_value, is_called)", src.sequences(), dst.sequences())
	srcLO := src.largeObjects()
	if len(srcLO) != 3 {
		t.Errorf("the source has %d large objects, want 3: the schema was not built", len(srcLO))
	}
	compareMaps(t, "large objects (md5 of the content, comment)", srcLO, dst.largeObjects())
	srcObj, dstObj := src.objects(), dst.objects()
	for _, q := range schemaObjectQueries {
		if len(srcObj[q.kind]) == 0 && q.kind != "comments" {
			t.Errorf("the source has no %s: the schema was not built", q.kind)
		}
		compareLists(t, q.kind, srcObj[q.kind], dstObj[q.kind])
	}
	// The populated materialized view holds the same rows.
	const mv = `SELECT count(*), md5(string_agg(m::text, E'\n' ORDER BY m::text)) FROM billing.monthly m`
	if s, d := src.rows(mv), dst.rows(mv); fmt.Sprint(s) != fmt.Sprint(d) || s[0][0] == "0" {
		t.Errorf("materialized view billing.monthly: source %v, target %v", s, d)
	}
	// The restored functions and triggers work on the target.
	if got := dst.value(`SELECT app.add(40, 2) || ' ' || (billing.total_for(2) = (SELECT sum(amount) FROM billing.invoices WHERE user_id = 2))`); got != "42 true" {
		t.Errorf("functions on the target: %q", got)
	}
	dst.exec(`INSERT INTO billing.invoices (user_id, amount, currency, issued_on) VALUES (1, 1, 'EUR', '2024-01-01')`)
	if got := dst.value(`SELECT count(*) FROM app.audit_log WHERE row_id = (SELECT max(id) FROM billing.invoices)`); got != "1" {
		t.Errorf("the audit trigger did not fire on the target: %s rows", got)
	}
	t.Logf("independent checks took %v", time.Since(start).Round(time.Millisecond))
}

func TestMigrateManyTablesWithForeignKeys(t *testing.T) {
	const n = 5000
	m := newMigration(t)
	start := time.Now()
	m.source.exec(manyForeignKeysSQL(n)...)
	t.Logf("source built in %v", time.Since(start).Round(time.Millisecond))
	const counts = `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND ` + userSchemasSQL + `)
		|| ' ' || (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'f' AND ` + userSchemasSQL + `)
		|| ' ' || (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'f' AND k.convalidated AND ` + userSchemasSQL + `)`
	want := fmt.Sprintf("%d %d %d", n, n, n)
	if got := m.source.value(counts); got != want {
		t.Fatalf("source: tables, foreign keys, validated foreign keys = %s, want %s", got, want)
	}

	r := m.run("--non-interactive", "--json")
	t.Logf("migration took %v", r.elapsed.Round(time.Millisecond))
	r.wantExit(0)
	if got := m.target.value(counts); got != want {
		t.Fatalf("target: tables, foreign keys, validated foreign keys = %s, want %s", got, want)
	}
	if got := m.target.value(`SELECT count(*) FROM fk.t_1 JOIN fk.t_5000 p ON p.id = t_1.parent`); got != "2" {
		t.Errorf("fk.t_1 joined to its parent: %s rows, want 2", got)
	}
	for _, st := range []string{"dump", "restore", "verify"} {
		if len(r.all(stepFinished(st))) != 1 {
			t.Errorf("no step_finished for %s", st)
		}
	}

	// The output was streamed: thousands of tool lines, and the dump's
	// lines and progress reached the reader while pg_dump ran, not in a
	// burst at the end.
	if lines := r.all(toolLineOf(anyStep)); len(lines) < 2*n {
		t.Errorf("%d tool_line events, want thousands (at least %d)", len(lines), 2*n)
	}
	began, ended := r.all(stepStarted("dump")), r.all(stepFinished("dump"))
	if len(began) != 1 || len(ended) != 1 {
		t.Fatalf("dump started %d and finished %d times", len(began), len(ended))
	}
	t0, t1 := began[0].Arrived, ended[0].Arrived
	d := t1.Sub(t0)
	lines, prog := r.all(toolLineOf("dump")), r.all(progressOf("dump"))
	if len(lines) < n || len(prog) < n {
		t.Fatalf("dump: %d tool lines and %d progress events, want at least %d each", len(lines), len(prog), n)
	}
	since := func(ev event) time.Duration { return ev.Arrived.Sub(t0).Round(time.Millisecond) }
	t.Logf("dump: %v; %d tool lines from +%v to +%v; %d progress events from +%v to +%v", d.Round(time.Millisecond),
		len(lines), since(lines[0]), since(lines[len(lines)-1]), len(prog), since(prog[0]), since(prog[len(prog)-1]))
	if d < 500*time.Millisecond {
		t.Fatalf("the dump of %d tables took only %v: too short to tell streaming from a burst", n, d)
	}
	if first := lines[0].Arrived.Sub(t0); first > d/4 {
		t.Errorf("the dump's first tool line arrived %v after the step started (the step took %v)", first, d)
	}
	if spread := prog[len(prog)-1].Arrived.Sub(prog[0].Arrived); spread < d/5 {
		t.Errorf("the dump's %d progress events arrived within %v of a %v step: not streamed", len(prog), spread, d)
	}
	// Event times are taken when the engine reads each line; they agree.
	if spread := prog[len(prog)-1].Time.Sub(prog[0].Time); spread < d/5 {
		t.Errorf("the dump's progress events are stamped within %v of a %v step: not streamed", spread, d)
	}
}

func TestMigrateObjectsOwnedByMissingRole(t *testing.T) {
	m := newMigration(t)
	src, dst := m.source, m.target
	src.exec(`
CREATE ROLE ea_owner NOLOGIN;
CREATE SCHEMA owned AUTHORIZATION ea_owner;
CREATE TYPE owned.mood AS ENUM ('ok', 'meh');
ALTER TYPE owned.mood OWNER TO ea_owner;
CREATE TABLE owned.things (id serial PRIMARY KEY, name text NOT NULL, mood owned.mood);
INSERT INTO owned.things (name, mood) SELECT 'thing ' || g, 'ok' FROM generate_series(1, 100) g;
ALTER TABLE owned.things OWNER TO ea_owner;
CREATE TABLE public.widgets (id int PRIMARY KEY, name text);
INSERT INTO public.widgets SELECT g, 'w' || g FROM generate_series(1, 50) g;
ALTER TABLE public.widgets OWNER TO ea_owner;
CREATE FUNCTION public.widget_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM public.widgets $$;
ALTER FUNCTION public.widget_count() OWNER TO ea_owner;
CREATE VIEW public.widget_names AS SELECT name FROM public.widgets;
ALTER VIEW public.widget_names OWNER TO ea_owner;
CREATE TABLE public.plain (id int PRIMARY KEY);
INSERT INTO public.plain VALUES (1), (2);
GRANT SELECT, INSERT ON public.plain TO ea_owner;
GRANT USAGE ON SCHEMA public TO ea_owner;
ALTER DEFAULT PRIVILEGES FOR ROLE ea_owner IN SCHEMA owned GRANT SELECT ON TABLES TO PUBLIC;
`)
	const owners = `SELECT format('relation %s %s', c.oid::regclass, pg_get_userbyid(c.relowner)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'v', 'S', 'm', 'p') AND ` + userSchemasSQL + `
	UNION ALL SELECT format('function %s %s', p.oid::regprocedure, pg_get_userbyid(p.proowner)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ` + userSchemasSQL + `
	UNION ALL SELECT format('type %s %s', t.oid::regtype, pg_get_userbyid(t.typowner)) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND ` + userSchemasSQL + `
	UNION ALL SELECT format('schema %s %s', n.nspname, pg_get_userbyid(n.nspowner)) FROM pg_namespace n WHERE n.nspname = 'owned'
	ORDER BY 1`
	var eaOwned int
	for _, row := range src.rows(owners) {
		if strings.HasSuffix(row[0], " ea_owner") {
			eaOwned++
		}
	}
	if eaOwned < 7 {
		t.Fatalf("only %d source objects are owned by ea_owner", eaOwned)
	}

	// The GA login user is an ordinary role owning the database, as on a
	// managed server (not a superuser), and there is no ea_owner there.
	gaPassword := "ga-" + fmt.Sprint(time.Now().UnixNano())
	dst.exec(`CREATE ROLE ga_user LOGIN PASSWORD '` + gaPassword + `'; ALTER DATABASE postgres OWNER TO ga_user;`)
	loginUser := dst.as(fmt.Sprintf("postgres://ga_user:%s@%s:%d/postgres?sslmode=disable", gaPassword, dst.server.Host, dst.server.Port))
	m.gateway.AddDatabase(dst.key, loginUser.url)

	r := m.run("--non-interactive", "--json")
	r.wantExit(0)
	r.wantVerified()
	if got := dst.value(`SELECT count(*) FROM pg_roles WHERE rolname = 'ea_owner'`); got != "0" {
		t.Fatalf("the target has a role ea_owner")
	}
	got := dst.rows(owners)
	if n := len(src.rows(owners)); len(got) != n {
		t.Errorf("the target has %d owned objects, the source %d: %v", len(got), n, got)
	}
	for _, row := range got {
		if !strings.HasSuffix(row[0], " ga_user") {
			t.Errorf("on the target, %s: want it owned by the login user ga_user", row[0])
		}
	}
	compareMaps(t, "table fingerprints", src.tableMD5s(), dst.tableMD5s())
	// The login user uses what it owns.
	if v := loginUser.value(`SELECT widget_count() || ' ' || (SELECT count(*) FROM widget_names) || ' ' || (SELECT count(*) FROM owned.things WHERE mood = 'ok')`); v != "50 50 100" {
		t.Errorf("as the login user: %q, want \"50 50 100\"", v)
	}
	loginUser.exec(`INSERT INTO owned.things (name) VALUES ('new'); INSERT INTO public.widgets VALUES (51, 'w51')`)
}

func TestMigrateRefusesNonEmptyTarget(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	dst := m.target
	dst.exec(`CREATE TABLE public.existing (id int PRIMARY KEY, note text); INSERT INTO public.existing VALUES (1, 'mine'), (2, 'also mine')`)
	before := dst.catalog()

	r := m.run("--non-interactive")
	r.wantExit(5)
	out := r.output()
	for _, want := range []string{"not empty", "--allow-non-empty-target", "nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	compareLists(t, "target objects before and after the refused run", before, dst.catalog())
	if got := dst.value(`SELECT count(*) FROM pg_namespace WHERE nspname = 'shop'`); got != "0" {
		t.Errorf("the refused target has the dump's schema shop")
	}
	if got := dst.value(`SELECT count(*) FROM pg_class WHERE relname = 'customers'`); got != "0" {
		t.Errorf("the refused target has the dump's table customers")
	}

	// Confirmed, into a target whose objects do not collide with the dump's.
	other := m.newTarget("other")
	other.exec(`CREATE SCHEMA unrelated; CREATE TABLE unrelated.notes (id int PRIMARY KEY, body text);
		INSERT INTO unrelated.notes SELECT g, 'note ' || g FROM generate_series(1, 10) g;
		CREATE SEQUENCE unrelated.counter; SELECT setval('unrelated.counter', 77);`)
	otherBefore := other.tableMD5s()
	m.dir = t.TempDir()
	r = m.run("--non-interactive", "--allow-non-empty-target")
	r.wantExit(0)
	fp := other.tableMD5s()
	if fp["unrelated.notes"] != otherBefore["unrelated.notes"] {
		t.Errorf("the target's own table changed: %v, was %v", fp["unrelated.notes"], otherBefore["unrelated.notes"])
	}
	delete(fp, "unrelated.notes")
	compareMaps(t, "migrated tables", m.source.tableMD5s(), fp)
	if got := other.value(`SELECT last_value FROM unrelated.counter`); got != "77" {
		t.Errorf("the target's own sequence is at %s, want 77", got)
	}
}

func TestMigrateRefusesSourceAsTarget(t *testing.T) {
	m := newMigration(t)
	src := m.source
	src.exec(smallSchemaSQL)
	before := src.catalog()
	gaBefore := m.target.catalog()
	alias := sandbox.NewKey("ea-alias")
	m.gateway.AddDatabase(alias, src.url)

	tests := []struct {
		name   string
		target string
		codes  []int
		want   string
	}{
		{"same key", src.key, []int{5, 4}, "EA database's key"},
		{"another key to the same database", alias, []int{5}, "EA database itself"},
		{"direct URL of the same database", src.url, []int{5}, "EA database itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := m.sub(t)
			r := m.ppg(toTarget(tt.target)).run("--non-interactive")
			if !slices.Contains(tt.codes, r.code) {
				t.Fatalf("exit status %d, want one of %v; output:\n%s", r.code, tt.codes, tailText(r.output(), 8000))
			}
			if !strings.Contains(r.output(), tt.want) || !strings.Contains(r.output(), "GA database") {
				t.Errorf("the output does not say %q about the GA database:\n%s", tt.want, r.output())
			}
			if strings.Contains(r.output(), src.server.Password) {
				t.Errorf("the output shows the password")
			}
			compareLists(t, "source objects before and after", before, m.source.catalog())
		})
	}
	compareLists(t, "GA objects before and after", gaBefore, m.target.catalog())
}

func TestMigrateToolsMissingOrTooOld(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	before := m.target.catalog()
	pg15 := "/usr/lib/postgresql/15/bin"

	tests := []struct {
		name  string
		pgBin string
		want  []string
	}{
		{"empty folder", t.TempDir(), []string{"pg_dump", "found", "install", "--pg-bin"}},
		{"pg_dump 15 for a PostgreSQL 16 server", pg15, []string{"pg_dump 16 or newer", "PostgreSQL 16", "found: pg_dump 15", "install"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(tt.pgBin, "pg_dump")); tt.pgBin == pg15 && err != nil {
				t.Skipf("missing prerequisite: %s/pg_dump (Debian's postgresql-client-15)", pg15)
			}
			m := m.sub(t)
			r := m.run("--non-interactive", "--pg-bin", tt.pgBin)
			r.wantExit(3)
			for _, w := range tt.want {
				if !strings.Contains(r.output(), w) {
					t.Errorf("the output does not say %q:\n%s", w, r.output())
				}
			}
			if f := dumpFiles(t, m.dir); len(f) > 0 {
				t.Errorf("dump files were created: %v", f)
			}
			compareLists(t, "target objects before and after", before, m.target.catalog())
		})
	}
}

func TestMigrateLockedFolder(t *testing.T) {
	// About 2.5 MB through a gateway capped at 512 kB/s: a dump of several
	// seconds. The target is direct, so that the restore is quick.
	m := newMigration(t, withBandwidth(512<<10))
	m.source.exec(`CREATE TABLE public.payload AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 60000) g;
		ALTER TABLE public.payload ADD PRIMARY KEY (id)`)
	direct := toTarget(m.target.url)
	first := m.ppg(direct).start("--non-interactive", "--json")
	first.waitFor(stepStarted("dump"))
	for _, args := range [][]string{{"--non-interactive"}, {"--non-interactive", "--restart"}, {"--non-interactive", "--json", "--dir", m.dir}} {
		second := m.ppg(direct)
		if slices.Contains(args, "--dir") {
			second = m.ppg(direct, inDir(t.TempDir()))
		}
		r := second.run(args...)
		if first.exited() {
			t.Fatalf("the first run ended before the second (%v) did: the test proves nothing", args)
		}
		r.wantExit(7)
		if !strings.Contains(r.output(), "another ppg migration is running in this folder") {
			t.Errorf("%v: the output does not say another migration is running:\n%s", args, r.output())
		}
	}
	r := first.wait()
	r.wantExit(0)
	r.wantVerified()
	compareMaps(t, "table fingerprints", m.source.tableMD5s(), m.target.tableMD5s())
}

func TestMigrateNoSecretsAnywhere(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	m.source.exec(manyForeignKeysSQL(300)...)
	gaURL := m.target.url
	secrets := map[string]string{"the EA key": m.source.key, "the GA password": m.target.server.Password, "the GA URL": gaURL}
	checkText := func(t *testing.T, where, text string) {
		t.Helper()
		for what, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows %s", where, what)
			}
		}
	}
	checkDir := func(t *testing.T, dir string) {
		t.Helper()
		files := dirContents(t, dir)
		if len(files) == 0 {
			t.Errorf("%s is empty", dir)
		}
		for name, data := range files {
			checkText(t, name, string(data))
		}
	}

	t.Run("migration", func(t *testing.T) {
		m := m.sub(t)
		var toolLines func() []string
		m.pgBin, toolLines = loggedTools(t, m.pgBin)
		p := m.ppg(toTarget(gaURL)).start("--non-interactive", "--json")
		stop := childCmdlines(p.pid(), 20*time.Millisecond)
		r := p.wait()
		cmdlines := append(stop(), toolLines()...)
		r.wantExit(0)
		var dumps, restores int
		for _, cl := range cmdlines {
			checkText(t, "the command line "+cl, cl)
			if strings.Contains(cl, "pg_dump ") && strings.Contains(cl, "--format=custom") {
				dumps++
			}
			if strings.Contains(cl, "pg_restore ") && strings.Contains(cl, "--section=") {
				restores++
			}
		}
		if dumps == 0 || restores == 0 {
			t.Errorf("sampled %d pg_dump and %d pg_restore command lines, want some of each: %q", dumps, restores, cmdlines)
		}
		t.Logf("sampled %d command lines", len(cmdlines))
		checkText(t, "the output", r.output())
		if state := filepath.Join(m.dir, migrate.StateFileName); !fileExists(state) {
			t.Errorf("no state file %s", state)
		}
		if len(dumpFiles(t, m.dir)) < 2 { // the dump and its manifest
			t.Errorf("no dump and manifest in %s: %v", m.dir, dumpFiles(t, m.dir))
		}
		checkDir(t, m.dir)
	})

	t.Run("wrong EA key", func(t *testing.T) {
		m := m.sub(t)
		wrong := sandbox.NewKey("wrong")
		for _, format := range [][]string{nil, {"--json"}} {
			dir := t.TempDir()
			r := m.ppg(fromSource(wrong), toTarget(gaURL), inDir(dir)).run(append([]string{"--non-interactive"}, format...)...)
			r.wantExit(4)
			if !strings.Contains(r.output(), "rejected the API key (HTTP 401)") || !requestIDRE.MatchString(r.output()) {
				t.Errorf("%v: the output lacks the 401 message or the request id:\n%s", format, r.output())
			}
			if strings.Contains(r.output(), wrong) {
				t.Errorf("%v: the output shows the rejected key", format)
			}
			for name, data := range dirContents(t, dir) {
				if strings.Contains(string(data), wrong) {
					t.Errorf("%s shows the rejected key", name)
				}
			}
		}
	})

	t.Run("wrong GA password", func(t *testing.T) {
		wrongURL := strings.Replace(gaURL, m.target.server.Password, "Wrong-Password-123", 1)
		m := m.sub(t)
		r := m.ppg(toTarget(wrongURL)).run("--non-interactive", "--json")
		r.wantExit(4)
		// What a person reads: the JSON message and the last line on
		// stderr. (The failure's "cause" keeps the driver's own words for
		// scripts.)
		failed := r.all(stepFailed("connect-source"))
		if len(failed) != 1 || !strings.Contains(failed[0].Message, "the password in the URL was refused") || strings.Contains(failed[0].Message, "SQLSTATE") {
			t.Errorf("the failure's message does not say plainly that the password was refused:\n%s", r.output())
		}
		if !strings.Contains(r.stderr, "Connect to the GA database failed") || strings.Contains(r.stderr, "SQLSTATE") {
			t.Errorf("stderr does not name the GA database plainly:\n%s", r.stderr)
		}
		for _, s := range []string{"Wrong-Password-123", wrongURL, m.source.key} {
			if strings.Contains(r.output(), s) {
				t.Errorf("the output shows a secret %.20q...", s)
			}
		}
		// The target is checked with the source, before the dump: nothing
		// was dumped, nor written to the folder.
		if r.has(stepStarted("dump")) {
			t.Error("the dump started with a target whose password is wrong")
		}
		for name, data := range dirContents(t, m.dir) {
			if strings.Contains(string(data), "Wrong-Password-123") {
				t.Errorf("%s shows the wrong password", name)
			}
		}
	})
}

func TestMigrateJSONAndClosedStdin(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)

	t.Run("json with stdin at end of file", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		_ = pw.Close()
		defer func() { _ = pr.Close() }()
		m := m.sub(t)
		r := m.ppg(withStdin(pr)).run("--non-interactive", "--json")
		r.wantExit(0)
		for i, ev := range r.events {
			if err := ev.check(); err != nil {
				t.Errorf("event %d: %v", i, err)
			}
		}
		if last := r.events[len(r.events)-1]; last.Kind != kindFinished || last.Summary == nil || last.Summary.Verified == nil {
			t.Errorf("the last event is %s %s, want finished with the verdict", last.Kind, last.Step)
		}
		if !r.has(stepFinished("verify")) {
			t.Error("no step_finished event for verify")
		}
		if r.stderr != "" {
			t.Errorf("stderr of a successful --json run: %q", r.stderr)
		}
	})

	t.Run("without --non-interactive and without a terminal", func(t *testing.T) {
		m := m.sub(t)
		for _, args := range [][]string{nil, {"--json"}} {
			dir := t.TempDir()
			r := m.ppg(inDir(dir)).run(args...)
			r.wantExit(2)
			if !strings.Contains(r.stderr, "--non-interactive") {
				t.Errorf("%v: stderr does not point to --non-interactive:\n%s", args, r.output())
			}
			if files := dirContents(t, dir); len(files) > 0 {
				t.Errorf("%v: files were created: %v", args, files)
			}
		}
	})
}
