//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// pipelineSourceSQL has an extension with a comment and an index that
// needs it, a table the refusing target holds already, and enough
// entries that the schema and post-data go through several windows.
const pipelineSourceSQL = `
CREATE EXTENSION pg_trgm;
CREATE TABLE public.clash (id int PRIMARY KEY, word text);
INSERT INTO public.clash SELECT g, 'word ' || g FROM generate_series(1, 200) g;
CREATE INDEX clash_word_trgm ON public.clash USING gin (word gin_trgm_ops);
DO $$ BEGIN
  FOR i IN 1..40 LOOP
    EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, ref int REFERENCES public.clash(id), note text)', i);
    EXECUTE format('CREATE INDEX ON public.t%s (note)', i);
    EXECUTE format('INSERT INTO public.t%s SELECT g, g, md5(g::text) FROM generate_series(1, 20) g', i);
  END LOOP;
END $$;
`

// TestPipelinedRestoreHarmlessError: a managed target has the source's
// extension already, made by its superuser; the login user owns the
// database but not the extension, so the entry that comments on the
// extension is refused. That is a warning, not a failure: the rest of the
// pipelined schema, data and post-data go in, and the data is the same.
func TestPipelinedRestoreHarmlessError(t *testing.T) {
	m := newMigration(t)
	src, dst := m.source, m.target
	src.exec(pipelineSourceSQL)
	password := fmt.Sprint("ga-", time.Now().UnixNano())
	dst.exec(`CREATE EXTENSION pg_trgm; CREATE ROLE ga_user LOGIN PASSWORD '` + password + `'; ALTER DATABASE postgres OWNER TO ga_user; ALTER SCHEMA public OWNER TO ga_user;`)
	login := dst.as(fmt.Sprintf("postgres://ga_user:%s@%s:%d/postgres?sslmode=disable", password, dst.server.Host, dst.server.Port))
	m.gateway.AddDatabase(dst.key, login.url)

	r := m.run("--non-interactive", "--json")
	r.wantExit(0)
	r.wantVerified()
	if !r.has(warningOf("restore").saying("must be owner of extension pg_trgm")) {
		t.Errorf("no warning about the extension's comment:\n%s", r.show())
	}
	restored := func(what string) eventMatch {
		return eventWhere("a restored "+what+" line", func(ev event) bool {
			return toolLineOf("restore").matches(ev) && strings.HasPrefix(ev.Line, "restored "+what)
		})
	}
	if !r.has(restored("TABLE public.t40")) || !r.has(restored("FK CONSTRAINT public.t40")) {
		t.Errorf("the schema and post-data were not sent by ppg (no \"restored\" lines):\n%s", r.show())
	}
	compareData(t, src, dst)
	if n := dst.number(`SELECT count(*) FROM pg_constraint WHERE contype = 'f'`); n != 40 {
		t.Errorf("the target has %d foreign keys, want 40", n)
	}
	if n := dst.number(`SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'`); n != 82 {
		t.Errorf("the target has %d indexes, want 82", n)
	}
}

// TestPipelinedRestoreRealError: a target that already holds one of the
// source's tables (confirmed non-empty) refuses that CREATE TABLE. The
// step fails, and its error names the entry and the server's reason.
func TestPipelinedRestoreRealError(t *testing.T) {
	m := newMigration(t)
	m.source.exec(pipelineSourceSQL)
	m.target.exec(`CREATE TABLE public.clash (other text)`)

	r := m.run("--non-interactive", "--json", "--allow-non-empty-target")
	if r.code == 0 {
		t.Fatalf("the restore into a target holding public.clash succeeded:\n%s", r.show())
	}
	failed := r.all(stepFailed("restore"))
	if len(failed) != 1 {
		t.Fatalf("%d restore failures, want 1:\n%s", len(failed), r.show())
	}
	for _, want := range []string{"TABLE public.clash (entry ", `relation "clash" already exists`} {
		if !strings.Contains(failed[0].Text, want) {
			t.Errorf("the failure does not say %q: %s", want, failed[0].Text)
		}
	}
	// The other entries were restored: one entry's error is its own.
	if n := m.target.number(`SELECT count(*) FROM pg_class WHERE relname = 't40'`); n != 1 {
		t.Errorf("public.t40 is not on the target: the error stopped other entries")
	}
	if got := m.target.value(`SELECT string_agg(attname, ',') FROM pg_attribute WHERE attrelid = 'public.clash'::regclass AND attnum > 0`); got != "other" {
		t.Errorf("the target's own public.clash changed: columns %s", got)
	}
}

// TestPipelinedRestoreRefusedRows: the target refuses one small table's
// rows (an event trigger of its own adds a CHECK the rows break when the
// table is created). The pipelined COPYs of the other tables go in, and
// the step fails naming that table's data entry and the server's reason.
func TestPipelinedRestoreRefusedRows(t *testing.T) {
	m := newMigration(t)
	m.source.exec(pipelineSourceSQL)
	m.target.exec(`CREATE FUNCTION public.narrow_t7() RETURNS event_trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.t7' AND command_tag = 'CREATE TABLE') THEN
				ALTER TABLE public.t7 ADD CONSTRAINT t7_small CHECK (id < 5);
			END IF;
		END $$;
		CREATE EVENT TRIGGER narrow_t7 ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.narrow_t7();`)
	r := m.run("--non-interactive", "--json", "--allow-non-empty-target")
	if r.code == 0 {
		t.Fatalf("the restore succeeded although the target refuses public.t7's rows:\n%s", r.show())
	}
	failed := r.all(stepFailed("restore"))
	if len(failed) != 1 {
		t.Fatalf("%d restore failures, want 1:\n%s", len(failed), r.show())
	}
	for _, want := range []string{"TABLE DATA public.t7 (entry ", `violates check constraint "t7_small"`} {
		if !strings.Contains(failed[0].Text, want) {
			t.Errorf("the failure does not say %q: %s", want, failed[0].Text)
		}
	}
	if strings.Contains(failed[0].Text, "public.t8") {
		t.Errorf("the failure names a table the target took: %s", failed[0].Text)
	}
	// Every other table holds the source's rows, checked independently.
	want, got := m.source.tableMD5s(), m.target.tableMD5s()
	for name, fp := range want {
		if name == "public.t7" {
			if n := got[name].Rows; n != 0 {
				t.Errorf("public.t7 holds %d rows; its COPY was refused", n)
			}
			continue
		}
		if got[name] != fp {
			t.Errorf("%s: source %v, target %v", name, fp, got[name])
		}
	}
}

// TestStreamedRestoreRefusedLargeTable: the target refuses the rows of a
// large table, whose rows ppg streams to a COPY of their own (an event
// trigger adds a CHECK the rows break). The other tables go in, and the
// step fails naming that table's data entry and the server's reason.
func TestStreamedRestoreRefusedLargeTable(t *testing.T) {
	m := newMigration(t)
	m.source.exec(pipelineSourceSQL + `
		CREATE TABLE public.big (id int PRIMARY KEY, note text);
		INSERT INTO public.big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;
		ANALYZE;`)
	if n := m.source.number(`SELECT pg_table_size('public.big')`); n <= 512<<10 {
		t.Fatalf("public.big takes %d bytes: not a large table", n)
	}
	m.target.exec(`CREATE FUNCTION public.narrow_big() RETURNS event_trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'public.big' AND command_tag = 'CREATE TABLE') THEN
				ALTER TABLE public.big ADD CONSTRAINT big_small CHECK (id < 5);
			END IF;
		END $$;
		CREATE EVENT TRIGGER narrow_big ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.narrow_big();`)
	r := m.run("--non-interactive", "--json", "--allow-non-empty-target")
	if r.code == 0 {
		t.Fatalf("the restore succeeded although the target refuses public.big's rows:\n%s", r.show())
	}
	failed := r.all(stepFailed("restore"))
	if len(failed) != 1 {
		t.Fatalf("%d restore failures, want 1:\n%s", len(failed), r.show())
	}
	for _, want := range []string{"TABLE DATA public.big (entry ", `violates check constraint "big_small"`} {
		if !strings.Contains(failed[0].Text, want) {
			t.Errorf("the failure does not say %q: %s", want, failed[0].Text)
		}
	}
	if strings.Contains(failed[0].Text, "public.t8") {
		t.Errorf("the failure names a table the target took: %s", failed[0].Text)
	}
	if r.has(toolLineOf("restore").saying("pg_restore: processing data for table \"public.big\"")) {
		t.Errorf("pg_restore loaded public.big: it was not streamed")
	}
	want, got := m.source.tableMD5s(), m.target.tableMD5s()
	for name, fp := range want {
		if name == "public.big" {
			if n := got[name].Rows; n != 0 {
				t.Errorf("public.big holds %d rows; its COPY was refused", n)
			}
			continue
		}
		if got[name] != fp {
			t.Errorf("%s: source %v, target %v", name, fp, got[name])
		}
	}
}
