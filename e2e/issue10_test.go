//go:build e2e

package e2e

// Proofs for issue 10 (Prisma Postgres as it is today): the preflight plan
// refuses a source extension the target lacks, a policy for a role the
// target lacks is skipped (never widened) and reported, `ppg migrate`
// speaks of source and target, the cutover names a .env line still on
// Accelerate without showing a secret, and --verify=content catches what
// the counts cannot.
//
// Run with: go test -tags e2e -count=1 -run 'TestIssue10' ./e2e/

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/e2e/sandbox"
	"github.com/ppg-cli/ppg/migrate"
)

// startServerWithout starts a PostgreSQL server of version whose install
// lacks the contrib extension ext: a copy of the toolchain's install (bin
// and share copied, lib linked) without ext's control and script files, so
// that pg_available_extensions does not list it. The server stops, and the
// copy goes, at the end of the test.
func startServerWithout(t testing.TB, version int, ext string) *pgserver.Server {
	t.Helper()
	bin, err := filepath.EvalSymlinks(need(t, fmt.Sprintf("PPG_PG%d_BIN", version)))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(bin)
	// Not t.TempDir: as root the server runs as another account, which
	// must reach the binaries.
	dir, err := os.MkdirTemp("", "ppg-e2e-pg-without-"+ext+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL finds its share and lib folders relative to the real
	// path of its executable: copy the executables, link the libraries.
	if err := copyTree(filepath.Join(root, "bin"), filepath.Join(dir, "bin"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "lib"), filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	removed := 0
	err = copyTree(filepath.Join(root, "share"), filepath.Join(dir, "share"), func(rel string) bool {
		name := filepath.Base(rel)
		skip := filepath.Base(filepath.Dir(rel)) == "extension" && (name == ext+".control" || strings.HasPrefix(name, ext+"--"))
		if skip {
			removed++
		}
		return skip
	})
	if err != nil {
		t.Fatal(err)
	}
	if removed == 0 {
		t.Fatalf("the install in %s has no extension %s to leave out", root, ext)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: version, BinDir: filepath.Join(dir, "bin")})
	if err != nil {
		t.Fatalf("start PostgreSQL %d without %s: %v", version, ext, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL %d without %s, log tail:\n%s", version, ext, s.Logs())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s
}

// copyTree copies the folder src to dst (regular files with their modes,
// symbolic links as links), leaving out the files skip selects by path
// relative to src.
func copyTree(src, dst string, skip func(rel string) bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case skip != nil && skip(rel):
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = in.Close() }()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			_ = out.Close()
			return err
		}
		return out.Close()
	})
}

// newMigrationOn is newMigration on servers of the test's choice.
func newMigrationOn(t testing.TB, src, dst *pgserver.Server) *migration {
	t.Helper()
	m := &migration{t: t, pgBin: need(t, "PPG_CLIENT_BIN"), dir: t.TempDir(), log: &syncBuffer{}}
	m.gateway, m.wsURL = testGateway(t, gateway.Options{Logf: func(format string, args ...any) { _, _ = fmt.Fprintf(m.log, format+"\n", args...) }})
	m.source = m.route(&database{t: t, server: src, name: "postgres", url: src.URL("postgres")}, "source")
	m.target = m.route(&database{t: t, server: dst, name: "postgres", url: dst.URL("postgres")}, "target")
	return m
}

// userObjectsSQL counts the target's relations, extensions (but
// plpgsql) and schemas (but public) outside the system's: what a
// migration would have written.
const userObjectsSQL = `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userSchemasSQL + `)
	+ (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
	+ (SELECT count(*) FROM pg_namespace n WHERE ` + userSchemasSQL + ` AND n.nspname <> 'public')`

// ppgFiles lists the files of dir that a migration writes (the state
// file, dumps, manifests, reports), all named ppg-*.
func ppgFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, name := range fileNames(t, dir) {
		if strings.HasPrefix(filepath.Base(name), "ppg-") && filepath.Base(name) != "ppg-migration.lock" {
			out = append(out, name)
		}
	}
	return out
}

func TestIssue10PlanRefusesMissingExtension(t *testing.T) {
	src, dst := pgserver.StartT(t, 16), startServerWithout(t, 17, "pg_trgm")
	m := newMigrationOn(t, src, dst)
	m.source.exec(smallSchemaSQL, `CREATE EXTENSION pg_trgm;
		CREATE INDEX customers_name_trgm ON public.customers USING gin (name gin_trgm_ops)`)
	// The target's server works, and offers the other contrib extensions.
	if got := m.target.value(`SELECT string_agg(name, ',' ORDER BY name) FROM pg_available_extensions WHERE name IN ('pg_trgm', 'hstore')`); got != "hstore" {
		t.Fatalf("the target offers %q of pg_trgm and hstore, want hstore only", got)
	}
	before := m.target.catalog()
	direct := m.ppg(fromSource(m.source.url), toTarget(m.target.url))

	r := direct.run("--non-interactive", "--dry-run")
	t.Logf("--dry-run took %v", r.elapsed.Round(time.Millisecond))
	r.wantExit(5)
	for _, want := range []string{"✗", "does not offer the extension pg_trgm", "nothing was dumped or written"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not say %q:\n%s", want, r.output())
		}
	}
	if r.elapsed >= 5*time.Second {
		t.Errorf("--dry-run took %v, want under 5 s", r.elapsed)
	}

	j := direct.run("--non-interactive", "--dry-run", "--json")
	j.wantExit(5)
	plans := j.all(ofKind(kindPlan, ""))
	if len(plans) != 1 || plans[0].Plan == nil || !plans[0].Blocked {
		t.Fatalf("--json: want one blocked plan event:\n%s", j.show())
	}
	blocked := false
	for _, it := range plans[0].Plan.Items {
		if it.Code == migrate.CheckExtensions {
			blocked = it.Verdict == migrate.VerdictBlocks && len(it.Names) == 1 && it.Names[0] == "pg_trgm"
		}
	}
	if !blocked {
		t.Errorf("--json: the plan's extensions item does not block on pg_trgm: %+v", plans[0].Plan.Items)
	}

	if files := ppgFiles(t, m.dir); len(files) > 0 {
		t.Errorf("--dry-run wrote %v", files)
	}

	// Without --dry-run: refused the same way, before the dump.
	full := direct.run("--non-interactive", "--json")
	full.wantExit(5)
	if full.has(stepStarted("dump")) {
		t.Errorf("the dump started although the target lacks pg_trgm:\n%s", full.show())
	}
	if !strings.Contains(full.stdout, "pg_trgm") {
		t.Errorf("the refused run does not name pg_trgm:\n%s", full.show())
	}

	// Nothing was written: not to the target, not to the folder.
	if n := m.target.number(userObjectsSQL); n != 0 {
		t.Errorf("the target holds %d relations, extensions or schemas after the refused runs", n)
	}
	compareLists(t, "target objects before and after", before, m.target.catalog())
	for _, name := range ppgFiles(t, m.dir) {
		if name != migrate.StateFileName {
			t.Errorf("the refused run wrote %s", name)
		}
	}
}

// policySQL builds, besides smallSchemaSQL, a table under row-level
// security with two policies: one for everyone (restored), one for the
// role auditor, which the target lacks (skipped).
const policySQL = `
CREATE ROLE auditor NOLOGIN;
CREATE TABLE public.docs (id int PRIMARY KEY, owner text NOT NULL, body text);
INSERT INTO public.docs SELECT g, 'user' || g % 7, 'body ' || g FROM generate_series(1, 200) g;
ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_owner ON public.docs USING (owner = current_user);
CREATE POLICY docs_auditors ON public.docs FOR SELECT TO auditor USING (true);
`

// policiesOf lists a table's policies: name, command, roles, expression.
const policiesOfDocs = `SELECT format('%s %s %s %s', p.polname, p.polcmd, p.polroles::regrole[]::text, pg_get_expr(p.polqual, p.polrelid))
	FROM pg_policy p WHERE p.polrelid = 'public.docs'::regclass ORDER BY 1`

func TestIssue10PolicyForMissingRoleIsSkipped(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL, policySQL)
	if n := m.target.number(`SELECT count(*) FROM pg_roles WHERE rolname = 'auditor'`); n != 0 {
		t.Fatal("the target's server has a role auditor")
	}

	for _, format := range []string{"plain", "json"} {
		t.Run(format, func(t *testing.T) {
			m := m.sub(t)
			if format == "json" {
				m.newTarget("with_json")
			}
			args := []string{"--non-interactive"}
			if format == "json" {
				args = append(args, "--json")
			}
			r := m.run(args...)
			r.wantExit(0)
			if format == "json" {
				r.wantVerified()
			} else if !strings.Contains(r.stdout, "Migration complete and verified.") {
				t.Errorf("the summary does not say verified:\n%s", r.output())
			}

			// The skipped statement, beside the state file, for the owner's
			// eyes only.
			path := filepath.Join(m.dir, migrate.SkippedFileName)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("no %s beside the state file: %v", migrate.SkippedFileName, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
			}
			sql, _ := os.ReadFile(path)
			if !strings.Contains(string(sql), "CREATE POLICY docs_auditors ON public.docs") || !strings.Contains(string(sql), "TO auditor") {
				t.Errorf("%s does not hold the policy for auditor:\n%s", path, sql)
			}
			if strings.Contains(string(sql), "docs_owner") {
				t.Errorf("%s holds the policy that was restored:\n%s", path, sql)
			}

			// The final report names the policy, and what to do.
			final := r.stdout
			if i := strings.Index(final, "Migration complete and verified."); i >= 0 {
				final = final[i:]
			}
			if format == "json" {
				final = ""
				if fin := r.all(ofKind(kindFinished, "")); len(fin) == 1 {
					final = strings.Join(fin[0].Cutover, "\n")
				}
			}
			for _, want := range []string{"policy public.docs docs_auditors", "create the roles auditor", path} {
				if !strings.Contains(final, want) {
					t.Errorf("the final report does not say %q:\n%s", want, final)
				}
			}

			// Everything else is there; the policy is not, in no wider form;
			// row-level security is still on.
			compareData(t, m.source, m.target)
			if got := m.target.rows(policiesOfDocs); len(got) != 1 || got[0][0] != "docs_owner * {-} (owner = CURRENT_USER)" {
				t.Errorf("the target's policies on public.docs: %q, want docs_owner alone", got)
			}
			if got := m.target.value(`SELECT relrowsecurity::text FROM pg_class WHERE oid = 'public.docs'::regclass`); got != "true" {
				t.Errorf("row-level security is off on the target's public.docs")
			}
			if n := m.target.number(`SELECT count(*) FROM pg_roles WHERE rolname = 'auditor'`); n != 0 {
				t.Error("the migration created the role auditor")
			}
		})
	}
}

// startPG15 starts Debian's PostgreSQL 15 server (postgresql-15): a
// source that is neither Prisma's nor the toolchain's.
func startPG15(t testing.TB) *pgserver.Server {
	t.Helper()
	const bin = "/usr/lib/postgresql/15/bin"
	if _, err := os.Stat(filepath.Join(bin, "postgres")); err != nil {
		msg := "missing prerequisite: " + bin + "/postgres (Debian's postgresql-15)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: 15, BinDir: bin})
	if err != nil {
		t.Fatalf("start PostgreSQL 15: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL 15 on port %d, log tail:\n%s", s.Port, s.Logs())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s
}

// selfHostedSQL is a self-hosted application's database: roles of its own
// that own and read its objects, several schemas (one with a mixed-case
// name), and smallSchemaSQL's tables in public and shop.
const selfHostedSQL = smallSchemaSQL + `
CREATE ROLE app_owner NOLOGIN;
CREATE ROLE app_reader NOLOGIN;
CREATE SCHEMA sales AUTHORIZATION app_owner;
CREATE SCHEMA inventory AUTHORIZATION app_owner;
CREATE SCHEMA "Reports";
CREATE TYPE sales.channel AS ENUM ('web', 'store', 'phone');
CREATE TABLE sales.invoices (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES public.customers (id), channel sales.channel NOT NULL, amount numeric(12, 2), issued timestamptz NOT NULL DEFAULT '2024-05-01 12:00:00+00');
INSERT INTO sales.invoices (customer_id, channel, amount) SELECT 1 + g % 500, (ARRAY['web', 'store', 'phone'])[1 + g % 3]::sales.channel, g * 1.25 FROM generate_series(1, 3000) g;
CREATE TABLE inventory.items (sku text PRIMARY KEY, stock int NOT NULL CHECK (stock >= 0), attrs jsonb);
INSERT INTO inventory.items SELECT 'SKU-' || g, g % 40, jsonb_build_object('colour', (ARRAY['red', 'blue'])[1 + g % 2]) FROM generate_series(1, 800) g;
CREATE INDEX items_attrs ON inventory.items USING gin (attrs);
CREATE TABLE "Reports"."Monthly Totals" (month date PRIMARY KEY, total numeric);
INSERT INTO "Reports"."Monthly Totals" SELECT d, extract(day FROM d) * 10 FROM generate_series('2024-01-01'::date, '2024-12-01', '1 month') d;
CREATE VIEW sales.by_channel AS SELECT channel, count(*), sum(amount) FROM sales.invoices GROUP BY channel;
CREATE FUNCTION inventory.in_stock(p_sku text) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT stock > 0 FROM inventory.items WHERE sku = p_sku $$;
ALTER TABLE sales.invoices OWNER TO app_owner;
ALTER TABLE inventory.items OWNER TO app_owner;
ALTER VIEW sales.by_channel OWNER TO app_owner;
GRANT USAGE ON SCHEMA sales, inventory TO app_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA sales, inventory TO app_reader;
`

// flowWordsRE finds the words of migrate-from-ea in a screen or output of
// ppg migrate, which speaks of the source and the target only.
var flowWordsRE = regexp.MustCompile(`\b(EA|GA)\b|Early Access|General Availability`)

// checkGenericWords fails the test if text uses the EA flow's words, or
// lacks "source" or "target".
func checkGenericWords(t testing.TB, where, text string) {
	t.Helper()
	if w := flowWordsRE.FindString(text); w != "" {
		t.Errorf("%s says %q, a word of migrate-from-ea:\n%s", where, w, tailText(text, 4000))
	}
	for _, w := range []string{"source", "target"} {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", where, w, tailText(text, 4000))
		}
	}
}

// checkMigrated checks a finished ppg migrate independently: the data,
// the sequences and the objects of every kind.
func checkMigrated(t testing.TB, src, dst *database) {
	t.Helper()
	compareData(t, src, dst)
	srcObj, dstObj := src.objects(), dst.objects()
	for _, q := range schemaObjectQueries {
		if q.kind != "views" { // a view's text differs: each server deparses it its own way
			compareLists(t, q.kind, srcObj[q.kind], dstObj[q.kind])
		}
	}
	// The views: the same names, the same rows.
	const views = `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ` + userSchemasSQL + ` ORDER BY 1`
	names := connColumn(t, src.connect(), views)
	compareLists(t, "view names", names, connColumn(t, dst.connect(), views))
	for _, v := range names {
		q := `SELECT count(*)::text || ' ' || coalesce(md5(string_agg(v::text, E'\n' ORDER BY v::text)), '') FROM ` + v + ` v`
		if s, d := src.value(q), dst.value(q); s != d {
			t.Errorf("view %s: source %s, target %s", v, s, d)
		}
	}
	if got := dst.value(`SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace n WHERE ` + userSchemasSQL); got != "Reports,inventory,public,sales,shop" {
		t.Errorf("the target's schemas: %s", got)
	}
	if got := dst.value(`SELECT inventory.in_stock('SKU-3')::text || ' ' || (SELECT count(*) FROM sales.by_channel)`); got != "true 3" {
		t.Errorf("the target's function and view: %q", got)
	}
}

func TestIssue10MigrateSelfHostedHeadless(t *testing.T) {
	src := startPG15(t)
	m := newMigrationOn(t, src, pgserver.StartT(t, 17))
	m.source.exec(selfHostedSQL)
	env := append(m.toolEnv(), "SELF_HOSTED_URL="+m.source.url, "NEW_DB_URL="+m.target.url)
	r := runPPG(t, m.dir, env, "migrate", "--non-interactive", "--from", "env:SELF_HOSTED_URL", "--to", "env:NEW_DB_URL")
	t.Logf("ppg migrate from PostgreSQL 15 took %v", r.elapsed.Round(time.Millisecond))
	r.wantExit(0)
	for _, want := range []string{"source database: PostgreSQL 15.", "target database: PostgreSQL 17.", "Dump the source database: done", "Restore into the target database: done",
		"Verify the target database: done", "Migration complete and verified.", "source rows", "target rows"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the output does not say %q:\n%s", want, tailText(r.output(), 6000))
		}
	}
	checkGenericWords(t, "the output of ppg migrate", r.output())
	checkMigrated(t, m.source, m.target)
	for name, data := range dirContents(t, m.dir) {
		checkGenericWords(t, name, string(data)+" source target")
		if strings.Contains(string(data), src.Password) {
			t.Errorf("%s holds the source's password", name)
		}
	}
	if n := m.gateway.Stats().Accepted; n != 0 {
		t.Errorf("a migration over direct URLs opened %d gateway sessions", n)
	}

	// The same by the environment variables of ppg migrate, with --json,
	// into a second database.
	second := m.newTarget("second")
	j := runPPG(t, t.TempDir(), append(m.toolEnv(), "PPG_SOURCE_URL="+m.source.url, "PPG_TARGET_URL="+second.url), "migrate", "--non-interactive", "--json")
	j.wantExit(0)
	j.wantVerified()
	checkGenericWords(t, "the JSON of ppg migrate", j.stdout)
	checkMigrated(t, m.source, second)
}

// The prompts of ppg migrate's wizard.
const (
	wizSourcePrompt  = "Paste the key of your source database"
	wizTargetPrompt  = "Paste the key of your new target database"
	wizConfirmSource = "Dump this source database?"
)

func TestIssue10MigrateSelfHostedWizard(t *testing.T) {
	src := startPG15(t)
	m := newMigrationOn(t, src, pgserver.StartT(t, 17))
	m.source.exec(selfHostedSQL)
	w := newWizTerm(t)
	w.secret(m.source.server.Password, m.target.server.Password)
	start := time.Now()
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv(), Args: []string{"migrate"}})

	s := w.waitFor(30*time.Second, wizBegin, "found pg_dump 17", "found pg_restore 17")
	if first := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(first, "ppg migrate") || strings.Contains(first, "migrate-from-ea") {
		t.Errorf("the start screen's first line is %q, want the title ppg migrate", first)
	}
	w.keys("Enter")
	w.waitFor(10*time.Second, wizSourcePrompt, "paste here, then press Enter")
	w.paste(m.source.url)
	w.waitFor(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len(m.source.url)))
	w.keys("Enter")
	w.waitFor(30*time.Second, wizTargetPrompt, wizLater, "paste here, then press Enter")
	w.paste(m.target.url)
	w.waitFor(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len(m.target.url)))
	w.keys("Enter")
	s = w.waitSettled(30*time.Second, wizConfirmSource, "y/enter dump it")
	if !wizHas(s, "PostgreSQL 15.", "6 tables", "PostgreSQL 17.") {
		t.Errorf("the confirmation lacks the server versions or the table count:\n%s", wizFrame(s))
	}
	w.keys("y")
	done := wizFinish(t, w)
	if !wizHas(done, "6 tables and", "rows match", "source rows", "target rows") {
		t.Errorf("the done screen does not compare the source's and the target's counts:\n%s", wizFrame(done))
	}
	t.Logf("wizard run of ppg migrate: %v", time.Since(start).Round(time.Millisecond))

	screens := w.Screens()
	if len(screens) < 6 {
		t.Errorf("only %d distinct screens were captured", len(screens))
	}
	for i, s := range screens {
		if w := flowWordsRE.FindString(s); w != "" {
			t.Errorf("screen %d of %d says %q, a word of migrate-from-ea:\n%s", i+1, len(screens), w, wizFrame(s))
		}
	}
	checkGenericWords(t, "the screens", strings.Join(screens, "\n"))
	if h := w.history(); flowWordsRE.MatchString(h) || !wizHas(h, "at the target database") {
		t.Errorf("the summary left in the terminal uses the words of migrate-from-ea, or does not name the target database:\n%s", wizFrame(h))
	}
	checkMigrated(t, m.source, m.target)
	noSecretsInFiles(t, m.dir, m.source.server.Password, m.target.server.Password)
	w.checkSecrets()
}

// writeAccelerateEnv writes an application's .env into dir: a direct URL with a
// password on line 2, and on line 3 the DATABASE_URL of hosted Accelerate
// with apiKey. It returns the secrets it holds.
func writeAccelerateEnv(t testing.TB, dir, apiKey string) []string {
	t.Helper()
	const password = "AppPassw0rd-9f3Kq"
	env := "# the application's settings\n" +
		"DIRECT_URL=\"postgres://app:" + password + "@db.example.com:5432/app?sslmode=require\"\n" +
		"DATABASE_URL=\"prisma+postgres://accelerate.prisma-data.net/?api_key=" + apiKey + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{password, apiKey}
}

// noSecretsInFolder is noSecretsInFiles for a folder that holds the
// application's .env, the one file where its secrets belong.
func noSecretsInFolder(t testing.TB, dir string, secrets ...string) {
	t.Helper()
	files := dirContents(t, dir)
	delete(files, ".env")
	if len(files) < 3 { // the state file, the dump and its manifest at least
		t.Errorf("only %d files besides .env in %s: %v", len(files), dir, files)
	}
	for name, data := range files {
		for i, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds secret %d of %d (%d characters)", name, i+1, len(secrets), len(s))
			}
		}
	}
}

func TestIssue10AccelerateEnvNamedNoSecrets(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	apiKey := sandbox.NewKey("accelerate")
	const envLine = "line 3 (DATABASE_URL) still holds a hosted Accelerate URL"

	t.Run("headless", func(t *testing.T) {
		for _, format := range []string{"plain", "json"} {
			m := m.sub(t)
			if format == "json" {
				m.newTarget("headless_json")
			}
			secrets := append(writeAccelerateEnv(t, m.dir, apiKey), m.source.key, m.target.server.Password, m.target.url)
			args := []string{"--non-interactive", "--verify=content"}
			if format == "json" {
				args = append(args, "--json")
			}
			var toolLines func() []string
			m.pgBin, toolLines = loggedTools(t, m.pgBin)
			p := m.ppg(toTarget(m.target.url)).start(args...)
			stop := childCmdlines(p.pid(), 20*time.Millisecond)
			r := p.wait()
			cmdlines := append(stop(), toolLines()...)
			r.wantExit(0)
			if len(cmdlines) == 0 {
				t.Error("no command line of ppg's children was sampled")
			}
			for _, cl := range append(cmdlines, strings.Join(p.args, " ")) {
				for i, s := range secrets {
					if strings.Contains(cl, s) {
						t.Errorf("a command line holds secret %d: %.80q...", i+1, cl)
					}
				}
			}
			for i, s := range secrets {
				if strings.Contains(r.output(), s) {
					t.Errorf("%s: the output shows secret %d of %d", format, i+1, len(secrets))
				}
			}
			envPath := filepath.Join(m.dir, ".env")
			switch format {
			case "plain":
				final := r.stdout[max(0, strings.Index(r.stdout, "Migration complete and verified.")):]
				if !strings.Contains(final, envPath+" "+envLine) || !strings.Contains(final, "retired on 1 December 2026") {
					t.Errorf("the summary does not name %s line 3:\n%s", envPath, final)
				}
			case "json":
				fin := r.all(ofKind(kindFinished, ""))
				if len(fin) != 1 || len(fin[0].Env) != 1 || fin[0].Env[0] != (migrate.EnvFinding{Path: envPath, Line: 3, Name: "DATABASE_URL"}) ||
					!strings.Contains(strings.Join(fin[0].Cutover, "\n"), envLine) {
					t.Errorf("the finished event does not name %s line 3:\n%s", envPath, r.show())
				}
			}
			compareData(t, m.source, m.target)
			noSecretsInFolder(t, m.dir, secrets...)
		}
	})

	t.Run("wizard", func(t *testing.T) {
		m := m.sub(t)
		m.newTarget("wizard")
		secrets := append(writeAccelerateEnv(t, m.dir, apiKey), m.source.key, m.target.key)
		w := newWizTerm(t)
		w.secret(secrets...)
		w.start(wizRun{Dir: m.dir, Env: m.toolEnv(), Width: 100, Height: 50})
		w.waitFor(30*time.Second, wizBegin, "found pg_restore")
		w.keys("Enter")
		w.waitFor(10*time.Second, wizEAPrompt)
		w.pasteKey(m.source.key)
		w.waitFor(30*time.Second, wizGAPrompt, wizLater)
		w.pasteKey(m.target.key)
		w.waitSettled(30*time.Second, wizConfirmEA)
		w.keys("y")
		done := w.waitSettled(2*time.Minute, wizVerified, "q/enter quit", "Next")
		if !wizHas(done, ".env "+envLine, "retired on 1 December 2026") {
			t.Errorf("the done screen does not name the .env line:\n%s", wizFrame(done))
		}
		w.keys("q")
		if code := w.exitStatus(20 * time.Second); code != 0 {
			t.Fatalf("exit status %d after q on the done screen, want 0", code)
		}
		compareData(t, m.source, m.target)
		noSecretsInFolder(t, m.dir, secrets...)
		if n := w.checkSecrets(); n < 8 {
			t.Errorf("only %d distinct screens were captured", n)
		}
	})
}

// largeObjectsSQL adds two large objects to smallSchemaSQL's database,
// one of several pages, and a table that refers to them.
const largeObjectsSQL = `
SELECT lo_from_bytea(90001, convert_to('a small large object', 'UTF8'));
SELECT lo_from_bytea(90002, convert_to(repeat('page ', 5000), 'UTF8'));
CREATE TABLE public.attachments (id int PRIMARY KEY, blob oid NOT NULL);
INSERT INTO public.attachments VALUES (1, 90001), (2, 90002);
`

// reverify marks the verify step of m's folder as not done, so that the
// next run verifies the target again (and does nothing else).
func reverify(t testing.TB, m *migration) {
	t.Helper()
	st := m.state()
	if st.Step(migrate.StepVerify).Status != migrate.Done && st.Step(migrate.StepVerify).Status != migrate.Failed {
		t.Fatalf("the verify step is %q: the migration did not get that far", st.Step(migrate.StepVerify).Status)
	}
	st.Steps[migrate.StepVerify] = &migrate.StepState{Status: migrate.Pending}
	st.Verified = nil
	if err := st.Save(m.dir, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// verifyAgain re-runs the verify step alone and returns the run.
func verifyAgain(t testing.TB, m *migration, args ...string) result {
	t.Helper()
	reverify(t, m)
	r := m.run(append([]string{"--non-interactive", "--json"}, args...)...)
	if got := r.started(); len(got) != 1 || got[0] != "verify" {
		t.Errorf("the re-run started the steps %v, want verify alone", got)
	}
	t.Logf("verify again: %v", r.elapsed.Round(time.Millisecond))
	return r
}

// wantVerifyFailed fails the test unless r's verify step failed (exit 6)
// naming want, and only it.
func wantVerifyFailed(t testing.TB, r result, want string, notWant ...string) {
	t.Helper()
	r.wantExit(6)
	failed := r.all(stepFailed("verify"))
	if len(failed) != 1 || !strings.Contains(failed[0].Message, want) {
		t.Fatalf("the verify step's failure does not name %q:\n%s", want, r.show())
	}
	for _, n := range notWant {
		if strings.Contains(failed[0].Message, n) {
			t.Errorf("the verify step's failure names %q too: %s", n, failed[0].Message)
		}
	}
	t.Logf("the failure: %s", failed[0].Message)
}

const (
	// oneByte changes one character of one row; unOneByte puts it back.
	oneByte   = `UPDATE public.customers SET name = overlay(name placing 'X' from 1 for 1) WHERE id = 42`
	unOneByte = `UPDATE public.customers SET name = overlay(name placing 'c' from 1 for 1) WHERE id = 42`
	// loByte changes one byte of large object 90002 ('p' at offset 100).
	loByte = `SELECT lo_put(90002, 100, '\x51')`
)

func TestIssue10VerifyContentCatchesOneByte(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL, largeObjectsSQL)
	srcFP, srcLO := m.source.tableMD5s(), m.source.largeObjects()
	if len(srcLO) != 2 {
		t.Fatalf("the source has %d large objects, want 2", len(srcLO))
	}

	t.Run("content", func(t *testing.T) {
		m := m.sub(t)
		r := m.run("--non-interactive", "--json", "--verify=content")
		r.wantExit(0)
		r.wantVerified()
		if rep := r.verifyReport(); !rep.Content {
			t.Fatalf("--verify=content did not compare the contents: %+v", rep)
		} else {
			t.Logf("the content hashes took %.3f s on the target; the whole run %v", rep.ContentSeconds, r.elapsed.Round(time.Millisecond))
		}
		compareData(t, m.source, m.target)
		compareMaps(t, "large objects", srcLO, m.target.largeObjects())

		// One byte of one row.
		m.target.exec(oneByte)
		if fp := m.target.tableMD5s()["public.customers"]; fp.Rows != srcFP["public.customers"].Rows || fp.MD5 == srcFP["public.customers"].MD5 {
			t.Fatalf("the change did not take: target %v, source %v", fp, srcFP["public.customers"])
		}
		wantVerifyFailed(t, verifyAgain(t, m, "--verify=content"), "table public.customers: the content of its rows differs", "shop.orders", "large object")

		// Put back, the target verifies again: the byte was the difference.
		m.target.exec(unOneByte)
		compareData(t, m.source, m.target)
		verifyAgain(t, m, "--verify=content").wantExit(0)

		// One byte of a large object.
		m.target.exec(loByte)
		if lo := m.target.largeObjects(); lo["90002"] == srcLO["90002"] || lo["90001"] != srcLO["90001"] {
			t.Fatalf("the large object change did not take: target %v, source %v", lo, srcLO)
		}
		wantVerifyFailed(t, verifyAgain(t, m, "--verify=content"), "large objects: the content of one or more differs", "table ")
	})

	t.Run("counts", func(t *testing.T) {
		m := m.sub(t)
		m.newTarget("by_counts")
		r := m.run("--non-interactive", "--json")
		r.wantExit(0)
		r.wantVerified()
		if rep := r.verifyReport(); rep.Content {
			t.Fatal("the default verification compared the contents")
		}
		compareData(t, m.source, m.target)
		// The same changes: the counts cannot tell.
		m.target.exec(oneByte, loByte)
		if m.target.tableMD5s()["public.customers"] == srcFP["public.customers"] || m.target.largeObjects()["90002"] == srcLO["90002"] {
			t.Fatal("the changes did not take")
		}
		again := verifyAgain(t, m)
		again.wantExit(0)
		again.wantVerified()
	})
}
