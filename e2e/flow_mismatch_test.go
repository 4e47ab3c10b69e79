//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/words"
)

// TestFlowMismatchRefused: a folder holding a migrate-from-ea migration
// (dumped, waiting for the GA key) is refused by ppg migrate, which says
// which command the folder belongs to and changes nothing in it.
func TestFlowMismatchRefused(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	r := m.ppg(toTarget("")).run("--non-interactive", "--json")
	if !r.has(stepFinished("dump")) {
		t.Fatalf("the EA run did not dump:\n%s", r.show())
	}
	before := m.state()
	if before.Flow != "ppg-ea" {
		t.Fatalf("the state file records the flow %q, want ppg-ea", before.Flow)
	}

	env := append(m.toolEnv(), "PPG_SOURCE_URL="+m.source.key, "PPG_TARGET_URL="+m.target.key)
	r = startPPG(t, m.dir, env, nil, "migrate", "--non-interactive").wait()
	r.wantExit(words.StatusUsage)
	if !strings.Contains(r.stderr, "started by ppg migrate-from-ea") || !strings.Contains(r.stderr, "run ppg migrate-from-ea in this folder") {
		t.Errorf("stderr does not name the folder's command:\n%s", r.stderr)
	}
	after := m.state()
	if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Dump.SHA256 != before.Dump.SHA256 {
		t.Errorf("the refused run changed the state file")
	}
	if n := m.target.number(`SELECT count(*) FROM pg_class WHERE relname = 'customers'`); n != 0 {
		t.Error("the refused run restored into the target")
	}
}
