//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// Run with: go test -tags e2e -count=1 -run 'TestPG18Into17|TestPG18RowSecurity' ./e2e/

// translated returns the objects the notices of kind k name.
func translated(r result, k pgtools.ChangeKind) []string {
	var out []string
	for _, ev := range r.all(eventWhere("a translation notice", isTranslation)) {
		if ev.Notice.Code == migrate.NoticeTranslated(k) {
			out = append(out, ev.Notice.Names...)
		}
	}
	return out
}

func TestPG18Into17Translated(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(pg18AppSQL)

	// --verify=content: every row's text is hashed on both sides, the
	// virtual column's values with it.
	r := p.run("--json", "--verify=content")
	r.wantExit(0)
	r.wantVerified()
	if rep := r.verifyReport(); !rep.Content {
		t.Error("the verification did not compare the rows' content")
	}

	// The data, independently: every table's ordered rows (the virtual
	// column by its values: row text holds it on both sides), sequences.
	compareData(t, p.source, p.target)
	if got := p.source.value(`SELECT sum(total) FROM shop.items`); got != p.target.value(`SELECT sum(total) FROM shop.items`) || got == "" {
		t.Errorf("sum of shop.items.total: source %s, target %s", got, p.target.value(`SELECT sum(total) FROM shop.items`))
	}

	// Each translated object is named by a notice.
	for k, want := range map[pgtools.ChangeKind][]string{
		pgtools.ChangeVirtualToStored:  {"shop.items.total"},
		pgtools.ChangeNotNullNoInherit: {"public.profiles.bio"},
		pgtools.ChangeNotNullNotValid:  {"public.profiles.profiles_nickname_nn"},
	} {
		if got := translated(r, k); !slices.Equal(got, want) {
			t.Errorf("notices of %s name %v, want %v", k, got, want)
		}
	}
	// The plan named the NOT ENFORCED constraints and the named NOT NULL.
	plan := planOf(t, r)
	for k, want := range map[migrate.CompatKind][]string{
		migrate.CompatNotEnforced:   {"shop.reviews.reviews_item_fk", "shop.reviews.reviews_stars_range"},
		migrate.CompatNotNullNamed:  {"shop.items.items_sku_required"},
		migrate.CompatVirtualColumn: {"shop.items.total"},
	} {
		it := planItem(plan, migrate.CheckCompat(k))
		if it == nil || it.Verdict != migrate.VerdictHandled || !slices.Equal(it.Names, want) {
			t.Errorf("plan item %s: %+v, want handled, naming %v", k, it, want)
		}
	}

	// The forms on 17: stored column, NOT NULLs, the NOT VALID check, the
	// NOT ENFORCED constraints left out and kept in the skipped file.
	dst := p.target
	if got := dst.value(`SELECT attgenerated FROM pg_attribute WHERE attrelid = 'shop.items'::regclass AND attname = 'total'`); got != "s" {
		t.Errorf("shop.items.total has attgenerated %q on the target, want s (stored)", got)
	}
	if got := dst.value(`SELECT string_agg(attname || '=' || attnotnull, ' ' ORDER BY attname) FROM pg_attribute
		WHERE attrelid IN ('shop.items'::regclass, 'public.profiles'::regclass) AND attname IN ('sku', 'bio', 'nickname')`); got != "bio=true nickname=false sku=true" {
		t.Errorf("NOT NULL on the target: %s", got)
	}
	if got := dst.value(`SELECT pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint WHERE conname = 'profiles_nickname_nn'`); got != "CHECK ((nickname IS NOT NULL)) NOT VALID false" {
		t.Errorf("profiles_nickname_nn on the target: %q", got)
	}
	if n := dst.number(`SELECT count(*) FROM pg_constraint WHERE conname IN ('reviews_stars_range', 'reviews_item_fk')`); n != 0 {
		t.Errorf("%d NOT ENFORCED constraints on the 17 target, want 0 (left out)", n)
	}
	skipped, err := os.ReadFile(filepath.Join(p.dir, migrate.SkippedFileName))
	if err != nil {
		t.Fatalf("the skipped statements: %v", err)
	}
	for _, c := range []string{"reviews_stars_range", "reviews_item_fk"} {
		if !strings.Contains(string(skipped), c) {
			t.Errorf("%s holds no statement of %s:\n%s", migrate.SkippedFileName, c, skipped)
		}
	}
	// New rows behave as on the source: the NOT VALID check refuses a
	// NULL nickname, the stored column computes.
	if err := execErr(dst, `INSERT INTO public.profiles (nickname, bio) VALUES (NULL, 'x')`); err == nil {
		t.Error("the target accepted a NULL nickname")
	}
	dst.exec(`INSERT INTO shop.items (qty, price, sku) VALUES (3, 2.5, 'new')`)
	if got := dst.value(`SELECT total FROM shop.items WHERE sku = 'new'`); got != "7.50" {
		t.Errorf("the stored column computes %s for a new row, want 7.50", got)
	}

	// The verify report tells translated objects from missing ones.
	rep := r.verifyReport()
	i := slices.IndexFunc(rep.Objects, func(o migrate.ObjectCheck) bool { return o.Kind == "constraints" })
	if i < 0 || rep.Objects[i].Translated != -1 || rep.Objects[i].Target != rep.Objects[i].Source-1 {
		t.Errorf("constraints in the verify report: %+v, want one fewer on the target, marked translated (-1: two left out, one NOT NULL made a check)", rep.Objects)
	}
}

// pg18TemporalSQL adds a temporal key and a temporal foreign key.
const pg18TemporalSQL = `
CREATE EXTENSION btree_gist;
CREATE TABLE public.rooms (room int, during tstzrange, CONSTRAINT rooms_pk PRIMARY KEY (room, during WITHOUT OVERLAPS));
INSERT INTO public.rooms SELECT g, tstzrange('2026-01-01', '2026-02-01') FROM generate_series(1, 20) g;
CREATE TABLE public.bookings (id serial PRIMARY KEY, room int, during tstzrange,
	CONSTRAINT bookings_room_fk FOREIGN KEY (room, PERIOD during) REFERENCES public.rooms (room, PERIOD during));
INSERT INTO public.bookings (room, during) SELECT g, tstzrange('2026-01-02', '2026-01-03') FROM generate_series(1, 20) g;
`

func TestPG18Into17TemporalKeyBlocks(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(pg18AppSQL, pg18TemporalSQL)

	start := time.Now()
	r := p.run("--dry-run")
	took := time.Since(start)
	t.Logf("--dry-run refused in %v", took.Round(time.Millisecond))
	r.wantExit(5)
	if took > 5*time.Second {
		t.Errorf("--dry-run took %v to refuse, want under 5 s", took.Round(time.Millisecond))
	}
	for _, want := range []string{"public.rooms.rooms_pk", "WITHOUT OVERLAPS", "public.bookings.bookings_room_fk", "--accept-downgrade=temporal-keys",
		"shop.items.total"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, r.output())
		}
	}
	if n := p.target.number(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userSchemasSQL); n != 0 {
		t.Errorf("the target holds %d relations after a refused --dry-run", n)
	}
	if files, _ := filepath.Glob(filepath.Join(p.dir, "*")); len(files) > 0 {
		t.Errorf("the refused --dry-run wrote %v", files)
	}

	// With the user's consent: the key becomes its exclusion constraint,
	// the temporal foreign key is left out; the data arrives whole.
	r = p.run("--json", "--accept-downgrade=temporal-keys")
	r.wantExit(0)
	r.wantVerified()
	compareData(t, p.source, p.target)
	if got := translated(r, pgtools.ChangeTemporalToExclusion); !slices.Equal(got, []string{"public.rooms.rooms_pk"}) {
		t.Errorf("temporal key notices name %v", got)
	}
	if got := p.target.value(`SELECT contype::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'rooms_pk'`); got != "x EXCLUDE USING gist (room WITH =, during WITH &&)" {
		t.Errorf("rooms_pk on the target: %q", got)
	}
	if err := execErr(p.target, `INSERT INTO public.rooms VALUES (1, tstzrange('2026-01-15', '2026-03-01'))`); err == nil {
		t.Error("the target accepted an overlapping room booking")
	}
}

func TestPG18RowSecuritySuperuserTarget(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(smallSchemaSQL, `
		ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
		CREATE POLICY orders_own ON shop.orders USING (customer_id = 1);`)
	r := p.run("--dry-run")
	r.wantExit(0)
	if !strings.Contains(r.stdout, "shop.orders") || !strings.Contains(r.stdout, "will not restrict an application that connects as that role") {
		t.Errorf("the plan does not say the policies will not restrict the target's role:\n%s", r.output())
	}
	r = p.run()
	r.wantExit(0)
	for _, want := range []string{
		"row security of shop.orders is restored, but the target database's role bypasses it",  // after the restore
		"Row security of shop.orders was restored, but the target database's role bypasses it", // the end's "Next"
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the finished run does not say %q:\n%s", want, r.output())
		}
	}
	if got := p.target.value(`SELECT relrowsecurity::text FROM pg_class WHERE oid = 'shop.orders'::regclass`); got != "true" {
		t.Errorf("row security on the target: %s", got)
	}
}

// execErr runs sql on d and returns the server's error, if any.
func execErr(d *database, sql string) error {
	conn := d.connect()
	defer func() { _ = conn.Close(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := conn.Exec(ctx, sql)
	return err
}

// planOf is the plan a run reported.
func planOf(t *testing.T, r result) *migrate.Plan {
	t.Helper()
	for _, ev := range r.events {
		if ev.Plan != nil {
			return ev.Plan
		}
		if ev.Summary != nil && ev.Summary.Plan != nil {
			return ev.Summary.Plan
		}
	}
	t.Fatalf("no plan in the run's events:\n%s", r.show())
	return nil
}

func planItem(p *migrate.Plan, c migrate.CheckCode) *migrate.CheckItem {
	for i := range p.Items {
		if p.Items[i].Code == c {
			return &p.Items[i]
		}
	}
	return nil
}

// What 17 has no form for blocks, each object named with its cause, and
// nothing is dumped: a default of uuidv7(), a view using casefold(), a
// column in PG_UNICODE_FAST, a function with OLD in RETURNING, and a
// plpgsql body calling array_sort().
func TestPG18Into17BlocksNamingEach(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(smallSchemaSQL, `
		CREATE TABLE public.events (id uuid DEFAULT uuidv7() PRIMARY KEY, name text COLLATE pg_unicode_fast);
		CREATE VIEW public.event_names AS SELECT casefold(name) AS name FROM public.events;
		CREATE FUNCTION public.bump(x uuid) RETURNS text LANGUAGE sql BEGIN ATOMIC UPDATE public.events SET name = name || '!' WHERE id = x RETURNING old.name; END;
		CREATE FUNCTION public.sorted(a int[]) RETURNS int[] LANGUAGE plpgsql AS $$ BEGIN RETURN array_sort(a); END $$;
		CREATE TABLE public.ledger (id int, customer_id int) PARTITION BY RANGE (id);
		CREATE TABLE public.ledger_1 PARTITION OF public.ledger FOR VALUES FROM (0) TO (1000);
		ALTER TABLE public.ledger ADD CONSTRAINT ledger_customer_fk FOREIGN KEY (customer_id) REFERENCES public.customers (id) NOT VALID;`)
	r := p.run("--dry-run")
	r.wantExit(5)
	for _, want := range []string{
		"column public.events.id (uuidv7())", "view public.event_names (casefold(text))", "function public.sorted(a integer[]) (array_sort())",
		"column public.events.name (pg_unicode_fast)", "function public.bump(x uuid): they use OLD or NEW in RETURNING",
		"public.ledger.ledger_customer_fk: NOT VALID foreign keys on partitioned tables",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not name %q:\n%s", want, r.output())
		}
	}
	if files, _ := filepath.Glob(filepath.Join(p.dir, "*")); len(files) > 0 {
		t.Errorf("the refused --dry-run wrote %v", files)
	}
}

// The end-to-end schema of the other tests (partitions, views, functions,
// triggers, large objects, many tables), created on 18, goes into 17
// whole: nothing in it needs translating.
func TestPG18Into17ComplexSchema(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(complexSchemaSQL)
	r := p.run("--json")
	r.wantExit(0)
	r.wantVerified()
	compareData(t, p.source, p.target)
	compareMaps(t, "large objects (md5 of the content, comment)", p.source.largeObjects(), p.target.largeObjects())
	srcObj, dstObj := p.source.objects(), p.target.objects()
	for _, q := range schemaObjectQueries {
		src := srcObj[q.kind]
		if q.kind == "constraints" {
			// 18 lists NOT NULLs as constraints (contype n), 17 does not:
			// they are compared as the columns' attnotnull below.
			src = slices.DeleteFunc(slices.Clone(src), func(c string) bool { return strings.Contains(c, " n NOT NULL ") })
		}
		compareLists(t, q.kind, src, dstObj[q.kind])
	}
	const notNull = `SELECT format('%s.%I', a.attrelid::regclass, a.attname) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attnotnull AND a.attnum > 0 AND c.relkind IN ('r', 'p') AND ` + userSchemasSQL + ` ORDER BY 1`
	srcNN, dstNN := p.source.rows(notNull), p.target.rows(notNull)
	if len(srcNN) < 100 || fmt.Sprint(srcNN) != fmt.Sprint(dstNN) {
		t.Errorf("NOT NULL columns: %d on the source, %d on the target (or they differ)", len(srcNN), len(dstNN))
	}
	if n := len(r.all(eventWhere("a translation notice", isTranslation))); n > 0 {
		t.Errorf("%d translation notices for a schema with nothing to translate", n)
	}
}

// A source on 18 with only the 17 tools: ppg stops before anything is
// dumped and says to install the 18 ones.
func TestPG18SourceNeeds18Tools(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(smallSchemaSQL)
	p.env = append(p.env, "PPG_PG_BIN="+need(t, "PPG_CLIENT_BIN")) // the later one wins
	r := p.run("--dry-run")
	r.wantExit(3)
	for _, want := range []string{"pg_dump 18 or newer", "postgresql-client-18"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, r.output())
		}
	}
}

// A translated migration killed in the restore, right after the schema was
// translated, resumes: the schema is restored and translated again, the
// consent to the temporal key given on the first run still holds (the
// second run does not repeat the flag), and the result verifies.
func TestPG18Into17Resumed(t *testing.T) {
	p := newPair(t, 18, 17)
	p.source.exec(pg18AppSQL, pg18TemporalSQL)
	first := startPPG(t, p.dir, p.env, nil, "migrate", "--non-interactive", "--json", "--accept-downgrade=temporal-keys")
	first.waitFor(eventWhere("a translation notice", isTranslation))
	first.kill()
	first.wait().wantExit(-1)

	r := p.run("--json")
	r.wantExit(0)
	r.wantVerified()
	if started := r.started(); slices.Contains(started, "dump") || !slices.Contains(started, "restore") {
		t.Errorf("the second run started %v: want it to resume at the restore, without dumping again", started)
	}
	compareData(t, p.source, p.target)
	if got := translated(r, pgtools.ChangeVirtualToStored); !slices.Equal(got, []string{"shop.items.total"}) {
		t.Errorf("the resumed run's notices name %v as made stored", got)
	}
	if got := p.target.value(`SELECT contype::text FROM pg_constraint WHERE conname = 'rooms_pk'`); got != "x" {
		t.Errorf("rooms_pk on the target has contype %q, want x (the accepted exclusion constraint)", got)
	}
}
