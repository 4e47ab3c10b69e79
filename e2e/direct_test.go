//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateDirectURLsWithPlanAndAnalyze is Prisma's current path: direct
// postgres:// URLs on both sides, PostgreSQL 16 to 17, no tunnel. --dry-run
// first prints the plan and writes nothing (no dump, the target still
// empty); the migration then verifies, checked independently, and the
// target's tables have planner statistics (ANALYZE ran).
func TestMigrateDirectURLsWithPlanAndAnalyze(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	direct := m.ppg(fromSource(m.source.url), toTarget(m.target.url))

	plan := direct.run("--non-interactive", "--dry-run")
	plan.wantExit(0)
	if !strings.Contains(plan.stdout, "Nothing blocks the migration") {
		t.Errorf("the plan does not say nothing blocks:\n%s", plan.output())
	}
	if n := m.target.number("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"); n != 0 {
		t.Errorf("--dry-run left %d relations in the target", n)
	}
	dumps, _ := filepath.Glob(filepath.Join(m.dir, "*.dump"))
	if len(dumps) > 0 {
		t.Errorf("--dry-run wrote a dump: %v", dumps)
	}

	r := direct.run("--non-interactive", "--json")
	r.wantExit(0)
	r.wantVerified()
	if n := m.gateway.Stats().Accepted; n != 0 {
		t.Errorf("a migration over direct URLs opened %d gateway sessions", n)
	}
	compareData(t, m.source, m.target)
	wantStatistics(t, m.target)
	if _, err := os.Stat(filepath.Join(m.dir, "ppg-skipped.sql")); err == nil {
		t.Error("ppg-skipped.sql was written although nothing was skipped")
	}
}

// wantStatistics checks that ANALYZE ran on the target of smallSchemaSQL:
// every non-empty table has planner statistics, and all three have
// reltuples > 0.
func wantStatistics(t *testing.T, target *database) {
	t.Helper()
	for _, row := range target.rows(`SELECT s.schemaname || '.' || s.relname, coalesce(s.last_analyze, s.last_autoanalyze) IS NOT NULL, c.reltuples
		FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.n_live_tup > 0 OR c.reltuples > 0`) {
		if row[1] != "true" && row[2] == "-1" {
			t.Errorf("table %s of the target has no statistics after the migration", row[0])
		}
	}
	if n := target.number(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname IN ('public', 'shop') AND c.reltuples > 0`); n != 3 {
		t.Errorf("%d tables of the target have reltuples > 0, want all 3", n)
	}
}

// TestWizardDirectURLs is Prisma's current EA-to-GA path in the wizard:
// the EA database's direct URL (PostgreSQL 16) and the GA database's
// (PostgreSQL 17) pasted as keys. No gateway session opens, the result
// verifies (checked independently), the target has statistics, and no
// password shows on a screen or in a file.
func TestWizardDirectURLs(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	w := newWizTerm(t)
	w.secret(m.source.server.Password, m.target.server.Password)
	w.start(wizRun{Dir: m.dir, Env: m.toolEnv()})
	w.waitFor(30*time.Second, wizBegin, "found pg_dump 17")
	w.keys("Enter")
	w.waitFor(10*time.Second, wizEAPrompt)
	w.paste(m.source.url)
	w.waitFor(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len(m.source.url)))
	w.keys("Enter")
	w.waitFor(30*time.Second, wizGAPrompt, wizLater)
	w.paste(m.target.url)
	w.waitFor(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len(m.target.url)))
	w.keys("Enter")
	s := w.waitSettled(30*time.Second, wizConfirmEA, "y/enter dump it")
	if !wizHas(s, "PostgreSQL 16.", "3 tables", "PostgreSQL 17.") {
		t.Errorf("the confirmation lacks the server versions or the table count:\n%s", wizFrame(s))
	}
	w.keys("y")
	done := wizFinish(t, w)
	if !wizHas(done, "3 tables and", "rows match") {
		t.Errorf("the done screen does not give the verified counts:\n%s", wizFrame(done))
	}
	if n := m.gateway.Stats().Accepted; n != 0 {
		t.Errorf("a wizard run over direct URLs opened %d gateway sessions", n)
	}
	compareData(t, m.source, m.target)
	wantStatistics(t, m.target)
	noSecretsInFiles(t, m.dir, m.source.server.Password, m.target.server.Password)
	w.checkSecrets()
}
