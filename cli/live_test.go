package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// TestLiveFlags: --live and --replica-identity-full reach the engine's
// configuration; misuse is a usage error.
func TestLiveFlags(t *testing.T) {
	h := newHarness(t, map[string]string{"PPG_SOURCE_URL": "postgres://a@h/db", "PPG_TARGET_URL": "postgres://b@h/db"})
	if code := h.run("migrate", "--non-interactive", "--dir", h.wd, "--live", "--replica-identity-full=logs, audit.trail"); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err)
	}
	l := h.eng.cfg.Live
	if l == nil || l.AllFullIdentity || strings.Join(l.FullIdentity, "|") != "logs|audit.trail" {
		t.Errorf("live options %+v", l)
	}
	h = newHarness(t, nil)
	h.run("migrate", "--non-interactive", "--dir", h.wd, "--live", "--replica-identity-full=all")
	if l := h.eng.cfg.Live; l == nil || !l.AllFullIdentity {
		t.Errorf("--replica-identity-full=all gives %+v", l)
	}
	for _, args := range [][]string{
		{"migrate", "--non-interactive", "--replica-identity-full=all"},
		{"migrate", "--replica-identity-full=all"},
	} {
		h := newHarness(t, nil)
		h.terminal = true
		if code := h.run(args...); code != words.StatusUsage {
			t.Errorf("%v: exit %d, want %d (usage)", args, code, words.StatusUsage)
		}
	}
}

// TestCutoverWithoutMigration: ppg cutover in a folder without a live
// migration, or where none runs, says so and asks for nothing.
func TestCutoverWithoutMigration(t *testing.T) {
	h := newHarness(t, nil)
	if code := h.run("cutover", "--dir", h.wd); code == 0 || !strings.Contains(h.err.String(), "no live migration is running") {
		t.Errorf("no migration: exit %d, stderr %q", code, h.err)
	}
	s := migrate.NewState(time.Now())
	s.Live = &migrate.LiveState{Slot: "ppg_x", Publication: "ppg_x"}
	dir := h.wd
	if err := s.Save(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, nil)
	code := h.run("cutover", "--dir", dir)
	if code == 0 || !strings.Contains(h.err.String(), "resume it") {
		t.Errorf("a live migration not running: exit %d, stderr %q", code, h.err)
	}
}
