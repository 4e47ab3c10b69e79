//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/e2e/pgserver"
)

// Run with: go test -tags e2e -count=1 -run 'TestPG18' ./e2e/
//
// PostgreSQL 18 sources: into 18 and from 16 into 18 as before, and into
// 17 (Prisma Postgres) with the translation of what 17 cannot hold.

// pair is a `ppg migrate` between two servers of given major versions, by
// direct URLs, with the client tools that suit the source (18 for an 18
// source or target, else 17).
type pair struct {
	t              *testing.T
	source, target *database
	env            []string
	dir            string
}

func newPair(t *testing.T, from, to int) *pair {
	t.Helper()
	bin := need(t, "PPG_CLIENT_BIN")
	if from >= 18 || to >= 18 {
		bin = need(t, "PPG_CLIENT18_BIN")
	}
	s, d := pgserver.StartT(t, from), pgserver.StartT(t, to)
	p := &pair{t: t, dir: t.TempDir(),
		source: &database{t: t, server: s, name: "postgres", url: s.URL("postgres")},
		target: &database{t: t, server: d, name: "postgres", url: d.URL("postgres")},
	}
	p.env = []string{"PPG_PG_BIN=" + bin, "PPG_SOURCE_URL=" + p.source.url, "PPG_TARGET_URL=" + p.target.url}
	return p
}

// run runs `ppg migrate --non-interactive args...` to its end.
func (p *pair) run(args ...string) result {
	p.t.Helper()
	return runPPG(p.t, p.dir, p.env, append([]string{"migrate", "--non-interactive"}, args...)...)
}

// pg18AppSQL is an application's tables on 18, with the 18-only forms that
// 17 can hold once translated: a virtual generated column, a named NOT
// NULL, a NOT VALID NOT NULL over rows that hold NULLs, a NOT NULL NO
// INHERIT, a NOT ENFORCED check and foreign key (over rows that break
// them).
const pg18AppSQL = smallSchemaSQL + `
CREATE TABLE shop.items (
	id serial PRIMARY KEY,
	qty int NOT NULL,
	price numeric(10, 2) NOT NULL,
	total numeric GENERATED ALWAYS AS (qty * price) VIRTUAL,
	sku text CONSTRAINT items_sku_required NOT NULL
);
INSERT INTO shop.items (qty, price, sku) SELECT g % 7, g * 1.25, 'sku-' || g FROM generate_series(1, 400) g;
CREATE TABLE public.profiles (id bigserial PRIMARY KEY, nickname text, bio text NOT NULL NO INHERIT);
INSERT INTO public.profiles (nickname, bio) SELECT CASE WHEN g % 3 = 0 THEN NULL ELSE 'nick ' || g END, 'bio ' || g FROM generate_series(1, 300) g;
ALTER TABLE public.profiles ADD CONSTRAINT profiles_nickname_nn NOT NULL nickname NOT VALID;
CREATE TABLE shop.reviews (id serial PRIMARY KEY, item_id int, stars int,
	CONSTRAINT reviews_stars_range CHECK (stars BETWEEN 1 AND 5) NOT ENFORCED,
	CONSTRAINT reviews_item_fk FOREIGN KEY (item_id) REFERENCES shop.items (id) NOT ENFORCED);
INSERT INTO shop.reviews (item_id, stars) SELECT g, g % 9 FROM generate_series(1, 600) g;
`

func TestPG18IntoNewer(t *testing.T) {
	for _, from := range []int{18, 16} {
		t.Run(map[int]string{18: "18 into 18", 16: "16 into 18"}[from], func(t *testing.T) {
			p := newPair(t, from, 18)
			schema := smallSchemaSQL
			if from == 18 {
				schema = pg18AppSQL
			}
			p.source.exec(schema)
			r := p.run("--json")
			r.wantExit(0)
			r.wantVerified()
			compareData(t, p.source, p.target)
			if got := p.target.value("SELECT current_setting('server_version_num')::int / 10000"); got != "18" {
				t.Fatalf("the target runs %s, want 18", got)
			}
			if n := len(r.all(eventWhere("a translation notice", isTranslation))); n > 0 {
				t.Errorf("%d translation notices into a target as new as the source", n)
			}
			if from == 18 {
				// Nothing changed form: the column is still virtual, the
				// NOT ENFORCED constraints are there.
				if got := p.target.value(`SELECT attgenerated FROM pg_attribute WHERE attrelid = 'shop.items'::regclass AND attname = 'total'`); got != "v" {
					t.Errorf("shop.items.total has attgenerated %q on the target, want v (virtual)", got)
				}
				if got := p.target.number(`SELECT count(*) FROM pg_constraint WHERE NOT conenforced`); got != 2 {
					t.Errorf("%d NOT ENFORCED constraints on the target, want 2", got)
				}
			}
		})
	}
}

func isTranslation(ev event) bool {
	if ev.Notice == nil {
		return false
	}
	return strings.HasPrefix(string(ev.Notice.Code), "translated_")
}
