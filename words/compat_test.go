package words

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

func TestCompatPlanItems(t *testing.T) {
	kinds := []migrate.CompatKind{migrate.CompatVirtualColumn, migrate.CompatNotNullNoInherit, migrate.CompatNotNullNotValid,
		migrate.CompatNotNullNamed, migrate.CompatNotEnforced, migrate.CompatTemporalKey, migrate.CompatTemporalForeignKey,
		migrate.CompatNewFunction, migrate.CompatUnicodeFast, migrate.CompatReturningOldNew, migrate.CompatNotValidPartitionedFK,
		migrate.CompatDatabaseCollation}
	for _, k := range kinds {
		for _, v := range []migrate.Verdict{migrate.VerdictHandled, migrate.VerdictBlocks, migrate.VerdictWarn} {
			it := migrate.CheckItem{Code: migrate.CheckCompat(k), Verdict: v, Names: []string{"public.t.obj"}, Target: 171000, Path: "/w/ppg-skipped.sql"}
			s := Migrate.PlanItem(it)
			if !strings.HasPrefix(s, "public.t.obj: ") || strings.Contains(s, string(k)) || len(s) < 60 {
				t.Errorf("%s %s: %q, want the object, then words", k, v, s)
			}
			if v == migrate.VerdictWarn && !strings.Contains(s, "blocks only if") {
				t.Errorf("%s warn: %q does not say when it blocks", k, s)
			}
		}
	}
	for _, k := range []migrate.CompatKind{migrate.CompatNewFunction, migrate.CompatUnicodeFast, migrate.CompatReturningOldNew, migrate.CompatTemporalKey,
		migrate.CompatNotValidPartitionedFK} {
		s := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckCompat(k), Verdict: migrate.VerdictBlocks, Names: []string{"x"}, Target: 171000})
		if !strings.Contains(s, "PostgreSQL 17") || !strings.Contains(s, "on the source database") {
			t.Errorf("%s blocks: %q, want why (PostgreSQL 17) and what to do on the source", k, s)
		}
	}
	blocked := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckCompat(migrate.CompatTemporalKey), Verdict: migrate.VerdictBlocks, Names: []string{"public.rooms.rooms_pk"}})
	if !strings.Contains(blocked, "--accept-downgrade=temporal-keys") || !strings.Contains(blocked, "drop them on the source database") {
		t.Errorf("a blocking temporal key does not say what to do: %q", blocked)
	}
	rls := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckRowSecurity, Verdict: migrate.VerdictWarn, Names: []string{"shop.orders"}})
	if !strings.Contains(rls, "shop.orders") || !strings.Contains(rls, "will not restrict an application that connects as that role") {
		t.Errorf("row security: %q", rls)
	}
	pending := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckRowSecurity, Verdict: migrate.VerdictOK, Names: []string{"shop.orders"}})
	if strings.Contains(pending, "will not restrict") || !strings.Contains(pending, "checked when its key is given") {
		t.Errorf("row security before the target is known: %q", pending)
	}
	v := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 180004, Target: 170010})
	if !strings.Contains(v, "pg_dump 18 dumps it") {
		t.Errorf("versions 18 into 17: %q", v)
	}
}

func TestCompatNotices(t *testing.T) {
	for _, k := range []pgtools.ChangeKind{pgtools.ChangeVirtualToStored, pgtools.ChangeNotNullNoInherit, pgtools.ChangeNotNullNotValid,
		pgtools.ChangeNotNullNamed, pgtools.ChangeTemporalToExclusion} {
		s := Migrate.Notice(&migrate.Notice{Code: migrate.NoticeTranslated(k), Names: []string{"shop.items.total"}})
		if !strings.HasPrefix(s, "translated for the older target database: ") || !strings.HasSuffix(s, ": shop.items.total") || strings.Contains(s, string(k)) {
			t.Errorf("%s: %q", k, s)
		}
	}
	s := Migrate.Notice(&migrate.Notice{Code: migrate.NoticeRowSecurityBypassed, Names: []string{"shop.orders"}})
	if !strings.Contains(s, "shop.orders") || !strings.Contains(s, "will not restrict") {
		t.Errorf("row security notice: %q", s)
	}
	slow := Migrate.Notice(&migrate.Notice{Code: migrate.NoticeSlowConnect, Side: migrate.Target, Count: 5})
	if !strings.Contains(slow, "idle Prisma Postgres database goes into standby") {
		t.Errorf("slow connect: %q", slow)
	}
}

func TestCompatEndOfRun(t *testing.T) {
	v := &migrate.VerifySummary{RowSecurityBypassed: []string{"shop.orders"}, SkippedFile: "/w/ppg-skipped.sql", Skipped: []migrate.SkippedObject{
		{Desc: "FK CONSTRAINT", Schema: "shop", Name: "reviews reviews_item_fk", Downgrade: true},
		{Desc: "POLICY", Schema: "app", Name: "t p", Roles: []string{"app_user"}},
	}}
	out := strings.Join(Migrate.Cutover(v, nil), "\n")
	for _, want := range []string{
		"Row security of shop.orders was restored, but the target database's role bypasses it",
		"1 object was not restored (policy app.t p): create the roles app_user, then run psql -f /w/ppg-skipped.sql",
		"1 object was left out by the translation for the older target database (fk constraint shop.reviews reviews_item_fk): it has no form for them; their statements are kept in /w/ppg-skipped.sql",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the end of the run does not say %q:\n%s", want, out)
		}
	}
	only := Migrate.Skipped(&migrate.RestoreSummary{Skipped: v.Skipped[:1]})
	if strings.Contains(only, "psql -f") || !strings.Contains(only, migrate.SkippedFileName) {
		t.Errorf("objects left out by the translation alone: %q", only)
	}
}

func TestTranslatedCount(t *testing.T) {
	for o, want := range map[migrate.ObjectCheck]string{
		{Kind: "constraints", Source: 10, Target: 9, Translated: -1}: "  (1 fewer by the translation, not missing)",
		{Kind: "constraints", Source: 10, Target: 12, Translated: 2}: "  (2 more by the translation)",
		{Kind: "tables", Source: 3, Target: 3}:                       "",
	} {
		if got := Translated(o); got != want {
			t.Errorf("Translated(%+v) = %q, want %q", o, got, want)
		}
	}
}

func TestDowngradeWords(t *testing.T) {
	v := Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckVersions, Verdict: migrate.VerdictBlocks, Source: 180004, Target: 160004})
	if !strings.Contains(v, "restore into PostgreSQL 17 or newer") {
		t.Errorf("18 into 16: %q", v)
	}
	v = Migrate.PlanItem(migrate.CheckItem{Code: migrate.CheckVersions, Verdict: migrate.VerdictBlocks, Source: 170004, Target: 160004})
	if !strings.Contains(v, "restore into PostgreSQL 17 or newer") {
		t.Errorf("17 into 16: %q", v)
	}
	h := Migrate.Explain(&pgtools.DowngradeError{From: 18, To: 16}).Hint
	if !strings.Contains(h, "can also go into 17, translated") {
		t.Errorf("hint for 18 into 16: %q", h)
	}
	if h := Migrate.Explain(&pgtools.DowngradeError{From: 17, To: 16}).Hint; strings.Contains(h, "translated") {
		t.Errorf("hint for 17 into 16: %q", h)
	}
}

// A source on 18 with only the 17 tools is told to install the 18 ones.
func TestInstallHintFor18(t *testing.T) {
	for goos, want := range map[string]string{"linux": "postgresql-client-18", "darwin": "postgresql@18", "windows": `PostgreSQL\18\bin`} {
		err := &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 18, Reason: "to dump a PostgreSQL 18 server", GOOS: goos}
		if h := Migrate.Explain(err).Hint; !strings.Contains(h, want) {
			t.Errorf("hint on %s: %q, want it to name %s", goos, h, want)
		}
	}
}
