package migrate

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A folder of one flow is refused by the other, with the flow it belongs
// to; the same flow resumes it.
func TestFlowMismatchIsRefused(t *testing.T) {
	w, dir := newWorld(t), t.TempDir()
	k := bothKeys()
	w.fail = func(cmd string) error {
		if cmd == "pg_restore pre-data" {
			return errors.New("stop here")
		}
		return nil
	}
	e := w.engine(dir, k)
	e.cfg.Retries = -1
	if err := e.Run(t.Context(), nil); err == nil {
		t.Fatal("the first run did not stop")
	}
	s, err := ReadState(dir)
	if err != nil || s.Flow != "ppg-test" {
		t.Fatalf("state flow %q (%v), want ppg-test", s.Flow, err)
	}

	other := w.engine(dir, bothKeys())
	other.cfg.DumpPrefix = "ppg-other"
	err = other.Run(t.Context(), nil)
	var fm *FlowMismatchError
	if !errors.As(err, &fm) || fm.Flow != "ppg-test" || fm.Running != "ppg-other" {
		t.Fatalf("Run with another flow = %v, want a flow mismatch naming ppg-test", err)
	}
	if w.dumps != 1 {
		t.Errorf("the refused run dumped (%d dumps)", w.dumps)
	}

	w.fail = nil
	if err := w.engine(dir, bothKeys()).Run(t.Context(), nil); err != nil {
		t.Fatalf("the same flow does not resume: %v", err)
	}
}

// State files written before the flow was recorded: the flow is read from
// the dump's file name; without a dump any flow takes the folder.
func TestFlowOfOldStateFiles(t *testing.T) {
	s := NewState(time.Date(2026, 12, 2, 10, 42, 33, 0, time.UTC))
	if got := StateFlow(s); got != "" {
		t.Errorf("no dump: flow %q", got)
	}
	s.Dump = &DumpInfo{Path: filepath.Join("/w", DumpFileName("ppg-ea", s))}
	if got := StateFlow(s); got != "ppg-ea" {
		t.Errorf("flow %q, want ppg-ea", got)
	}
	if err := CheckFlow(s, "/w", "ppg"); err == nil || !strings.Contains(err.Error(), "ppg-ea") {
		t.Errorf("CheckFlow = %v", err)
	}
	if err := CheckFlow(s, "/w", "ppg-ea"); err != nil {
		t.Errorf("CheckFlow of the same flow = %v", err)
	}
	s.Dump.Path = "/w/other-name.dump"
	if got := StateFlow(s); got != "" {
		t.Errorf("a dump of another name: flow %q, want none", got)
	}
	if err := CheckFlow(nil, "/w", "ppg"); err != nil {
		t.Errorf("no state: %v", err)
	}
}
