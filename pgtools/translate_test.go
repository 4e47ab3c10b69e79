package pgtools

import (
	"reflect"
	"strings"
	"testing"
)

// The inputs are what pg_dump 18.6 wrote for a PostgreSQL 18.4 source;
// the outputs were checked by running them on PostgreSQL 17.
func TestTranslate(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		opt     TranslateOptions
		want    string
		changes []Change
	}{{
		name: "virtual column becomes stored, stored one untouched",
		sql: "CREATE TABLE public.items (\n    id integer NOT NULL,\n    qty integer NOT NULL,\n    price numeric NOT NULL,\n" +
			"    total numeric GENERATED ALWAYS AS (((qty)::numeric * price)),\n    stored_total numeric GENERATED ALWAYS AS (((qty)::numeric * price)) STORED\n);",
		want: "CREATE TABLE public.items (\n    id integer NOT NULL,\n    qty integer NOT NULL,\n    price numeric NOT NULL,\n" +
			"    total numeric GENERATED ALWAYS AS (((qty)::numeric * price)) STORED,\n    stored_total numeric GENERATED ALWAYS AS (((qty)::numeric * price)) STORED\n);",
		changes: []Change{{ChangeVirtualToStored, "public.items.total"}},
	}, {
		name:    "virtual last column, quoted names",
		sql:     "CREATE TABLE \"My Schema\".\"T\" (\n    \"A b\" integer,\n    \"Twice\" integer GENERATED ALWAYS AS ((\"A b\" * 2)) VIRTUAL\n);",
		want:    "CREATE TABLE \"My Schema\".\"T\" (\n    \"A b\" integer,\n    \"Twice\" integer GENERATED ALWAYS AS ((\"A b\" * 2)) STORED\n);",
		changes: []Change{{ChangeVirtualToStored, `"My Schema"."T"."Twice"`}},
	}, {
		name: "identity columns are not generated expressions",
		sql:  "ALTER TABLE public.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.t_id_seq\n    START WITH 1\n);",
		want: "ALTER TABLE public.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.t_id_seq\n    START WITH 1\n);",
	}, {
		name:    "NOT NULL NO INHERIT",
		sql:     "CREATE TABLE public.nih (\n    id integer,\n    c text NOT NULL NO INHERIT\n);",
		want:    "CREATE TABLE public.nih (\n    id integer,\n    c text NOT NULL\n);",
		changes: []Change{{ChangeNotNullNoInherit, "public.nih.c"}},
	}, {
		name:    "NOT VALID NOT NULL becomes a NOT VALID check",
		sql:     "ALTER TABLE public.named_nn\n    ADD CONSTRAINT named_nn_a_nn NOT NULL a NOT VALID;",
		want:    "ALTER TABLE public.named_nn\n    ADD CONSTRAINT named_nn_a_nn CHECK (a IS NOT NULL) NOT VALID;",
		changes: []Change{{ChangeNotNullNotValid, "public.named_nn.named_nn_a_nn"}},
	}, {
		name:    "table-level named NOT NULL",
		sql:     "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_x_required NOT NULL x;",
		want:    "ALTER TABLE ONLY public.t\n    ALTER COLUMN x SET NOT NULL;",
		changes: []Change{{ChangeNotNullNamed, "public.t.t_x_required"}},
	}, {
		name:    "table-level NOT NULL NO INHERIT",
		sql:     "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_x_nn NOT NULL \"X\" NO INHERIT;",
		want:    "ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_x_nn CHECK (\"X\" IS NOT NULL) NO INHERIT;",
		changes: []Change{{ChangeNotNullNoInherit, `public.t."X"`}},
	}, {
		name: "inline named NOT NULL is 17's syntax already",
		sql:  "CREATE TABLE public.named_nn (\n    id integer CONSTRAINT named_nn_id_required NOT NULL,\n    a text\n);",
		want: "CREATE TABLE public.named_nn (\n    id integer CONSTRAINT named_nn_id_required NOT NULL,\n    a text\n);",
	}, {
		name: "temporal key without consent is left for the plan to block",
		sql:  "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pk PRIMARY KEY (room, during WITHOUT OVERLAPS);",
		want: "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pk PRIMARY KEY (room, during WITHOUT OVERLAPS);",
	}, {
		name:    "temporal key with consent becomes its exclusion constraint",
		sql:     "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pk PRIMARY KEY (room, during WITHOUT OVERLAPS);",
		opt:     TranslateOptions{TemporalKeys: true},
		want:    "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pk EXCLUDE USING gist (room WITH =, during WITH &&);",
		changes: []Change{{ChangeTemporalToExclusion, "public.rooms.rooms_pk"}},
	}, {
		name:    "temporal unique key with consent",
		sql:     "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_u UNIQUE (a, b, valid_at WITHOUT OVERLAPS);",
		opt:     TranslateOptions{TemporalKeys: true},
		want:    "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_u EXCLUDE USING gist (a WITH =, b WITH =, valid_at WITH &&);",
		changes: []Change{{ChangeTemporalToExclusion, "public.r.r_u"}},
	}, {
		name: "plain keys untouched with consent",
		sql:  "ALTER TABLE ONLY public.u7\n    ADD CONSTRAINT u7_pkey PRIMARY KEY (id);",
		opt:  TranslateOptions{TemporalKeys: true},
		want: "ALTER TABLE ONLY public.u7\n    ADD CONSTRAINT u7_pkey PRIMARY KEY (id);",
	}, {
		name: "literals, bodies and comments are not looked into",
		sql: "CREATE FUNCTION public.f() RETURNS text\n    LANGUAGE sql\n    AS $_$SELECT 'x GENERATED ALWAYS AS (1)'::text$_$;\n" +
			"COMMENT ON TABLE public.t IS 'c text NOT NULL NO INHERIT';\n-- GENERATED ALWAYS AS (2)\n/* NOT NULL NO INHERIT */",
		want: "CREATE FUNCTION public.f() RETURNS text\n    LANGUAGE sql\n    AS $_$SELECT 'x GENERATED ALWAYS AS (1)'::text$_$;\n" +
			"COMMENT ON TABLE public.t IS 'c text NOT NULL NO INHERIT';\n-- GENERATED ALWAYS AS (2)\n/* NOT NULL NO INHERIT */",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes := Translate("public", tt.sql, tt.opt)
			if got != tt.want {
				t.Errorf("Translate:\n%s\nwant:\n%s", got, tt.want)
			}
			if !reflect.DeepEqual(changes, tt.changes) {
				t.Errorf("changes %v, want %v", changes, tt.changes)
			}
		})
	}
}

func TestTranslatesAndCheckDowngrade(t *testing.T) {
	for _, tt := range []struct {
		from, to  int
		translate bool
		refused   bool
	}{
		{18, 17, true, false}, {18, 18, false, false}, {16, 18, false, false}, {17, 17, false, false},
		{18, 16, false, true}, {17, 16, false, true}, {19, 18, false, true}, {0, 17, false, false},
	} {
		if got := Translates(tt.from, tt.to); got != tt.translate {
			t.Errorf("Translates(%d, %d) = %v", tt.from, tt.to, got)
		}
		if err := CheckDowngrade(tt.from, tt.to); (err != nil) != tt.refused {
			t.Errorf("CheckDowngrade(%d, %d) = %v", tt.from, tt.to, err)
		}
	}
}

// FuzzTranslate: Translate never panics, leaves text without 18-only
// forms as it is, and its output, translated again, does not change.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE public.t (\n    a integer,\n    b integer GENERATED ALWAYS AS ((a * 2))\n);",
		"ALTER TABLE public.t ADD CONSTRAINT n NOT NULL a NOT VALID;",
		"ALTER TABLE ONLY public.r ADD CONSTRAINT k PRIMARY KEY (a, p WITHOUT OVERLAPS);",
		"CREATE TABLE t (c text NOT NULL NO INHERIT, d text DEFAULT E'it''s \\' GENERATED ALWAYS AS (');",
		"SELECT $a$ $b$ $$ /* -- */ \"x\"\"y\" 'z''w' $a$;",
		"GENERATED ALWAYS AS ((",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, sql string, temporal bool) {
		opt := TranslateOptions{TemporalKeys: temporal}
		once, changes := Translate("s", sql, opt)
		if len(changes) == 0 && once != sql {
			t.Fatalf("no changes, but the text changed:\n%q\n%q", sql, once)
		}
		twice, _ := Translate("s", once, opt)
		if twice != once {
			t.Fatalf("not stable:\n%q\n%q\n%q", sql, once, twice)
		}
		if !strings.Contains(strings.ToUpper(sql), "NOT NULL") && strings.Contains(strings.ToUpper(once), "IS NOT NULL") &&
			!strings.Contains(strings.ToUpper(sql), "IS NOT NULL") {
			t.Fatalf("a NOT NULL check out of nothing:\n%q\n%q", sql, once)
		}
	})
}
