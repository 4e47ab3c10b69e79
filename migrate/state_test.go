package migrate

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestStateRoundTripAndMode(t *testing.T) {
	dir := t.TempDir()
	s := NewState(t0)
	s.Step(StepCheckTools).Status = Done
	s.Source = &Database{KeyHash: s.HashKey("secret-key"), Kind: "api-key", ServerVersion: 160004}
	s.Dump = &DumpInfo{Path: filepath.Join(dir, "x.dump"), Size: 10, SHA256: "ab"}
	if err := s.Save(dir, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("state file mode %v, want 0600", perm)
	}
	got, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || got.Salt != s.Salt || got.Source.KeyHash != s.Source.KeyHash || got.Dump.SHA256 != "ab" {
		t.Fatalf("round trip lost data: %+v", got)
	}
	if got.Next() != StepConnectSource {
		t.Fatalf("Next() = %s, want connect-source", got.Next())
	}
	data, _ := os.ReadFile(filepath.Join(dir, StateFileName))
	if strings.Contains(string(data), "secret-key") {
		t.Fatal("the state file contains the key")
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("files in dir: %v", entries)
	}
}

func TestHashKeyIsSaltedAndStable(t *testing.T) {
	a, b := NewState(t0), NewState(t0)
	if h1, h2 := a.HashKey("k"), a.HashKey("k"); h1 != h2 {
		t.Fatal("hash not stable")
	}
	if a.HashKey("k") == b.HashKey("k") {
		t.Fatal("two states hash a key the same: no salt")
	}
	if a.HashKey("k") == a.HashKey("k2") {
		t.Fatal("different keys share a hash")
	}
}

func TestReadStateMissing(t *testing.T) {
	s, err := ReadState(t.TempDir())
	if s != nil || err != nil {
		t.Fatalf("ReadState(empty dir) = %v, %v", s, err)
	}
}

func TestDecodeStateRejects(t *testing.T) {
	valid := func() map[string]any {
		s := NewState(t0)
		var m map[string]any
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	enc := func(m map[string]any) []byte { b, _ := json.Marshal(m); return b }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("{"), "not a ppg state file"},
		{"future version", []byte(`{"version": 9}`), "unsupported state file version 9"},
		{"no salt", func() []byte { m := valid(); delete(m, "salt"); return enc(m) }(), "no salt"},
		{"unknown step", func() []byte {
			m := valid()
			m["steps"].(map[string]any)["teleport"] = map[string]any{"status": "done"}
			return enc(m)
		}(), `unknown step "teleport"`},
		{"bad status", func() []byte {
			m := valid()
			m["steps"].(map[string]any)["dump"] = map[string]any{"status": "half"}
			return enc(m)
		}(), `status "half"`},
		{"done after not done", func() []byte {
			m := valid()
			m["steps"].(map[string]any)["restore"] = map[string]any{"status": "done"}
			return enc(m)
		}(), "earlier one is not"},
	}
	for _, tt := range tests {
		_, err := DecodeState(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := DecodeState([]byte(`{"version": 2}`)); !errors.Is(err, ErrStateVersion) {
		t.Errorf("future version error %v is not ErrStateVersion", err)
	}
}

func TestSaveIsAtomic(t *testing.T) {
	// A save that cannot complete leaves the previous file intact.
	dir := t.TempDir()
	s := NewState(t0)
	if err := s.Save(dir, t0); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, StateFileName))
	if err := os.Chmod(dir, 0o500); err != nil { // no new files: the temporary file cannot be made
		t.Fatal(err)
	}
	defer func() { _ = os.Chmod(dir, 0o700) }()
	s.Step(StepCheckTools).Status = Done
	if os.Geteuid() != 0 { // root ignores directory permissions
		if err := s.Save(dir, t0); err == nil {
			t.Fatal("save into a read-only folder succeeded")
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, StateFileName))
	if os.Geteuid() != 0 && string(after) != string(before) {
		t.Fatal("a failed save changed the state file")
	}
	if _, err := DecodeState(after); err != nil {
		t.Fatalf("state file damaged: %v", err)
	}
}

func TestNextAndReset(t *testing.T) {
	s := NewState(t0)
	e := &Engine{state: s}
	for _, st := range Steps() {
		if s.Next() != st {
			t.Fatalf("Next() = %s, want %s", s.Next(), st)
		}
		s.Step(st).Status = Done
	}
	if s.Next() != StepDone {
		t.Fatalf("Next() = %s after all done", s.Next())
	}
	s.Restore = &RestoreInfo{Sections: []string{"pre-data"}}
	e.reset(StepDump)
	if s.Next() != StepDump || s.Step(StepConnectSource).Status != Done || s.Step(StepVerify).Status != Pending || s.Restore != nil {
		t.Fatalf("reset(dump) left %+v, restore %+v", s.Steps, s.Restore)
	}
	// A restore that had begun is remembered, so the next one first empties
	// what it left in the target.
	s.Restore = &RestoreInfo{StartedSections: []string{"pre-data", "data"}, Sections: []string{"pre-data"}, Loaded: []int{3}}
	e.reset(StepDump)
	if s.Restore == nil || len(s.Restore.Sections) != 0 || len(s.Restore.Loaded) != 0 || len(s.Restore.StartedSections) != 1 || s.Restore.StartedSections[0] != "pre-data" {
		t.Fatalf("reset(dump) after a begun restore: %+v", s.Restore)
	}
}

func TestLockRefusesSecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLock(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	_ = l.Unlock()
	l2, err := AcquireLock(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	_ = l2.Unlock()
}

func FuzzDecodeState(f *testing.F) {
	b, _ := json.Marshal(NewState(t0))
	f.Add(b)
	f.Add([]byte(`{"version":1,"salt":"x","steps":{"dump":{"status":"done"}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeState(data)
		if err != nil {
			return
		}
		// A decoded state is usable: Next is defined and saving works.
		next := s.Next()
		if next != StepDone && !knownStep(next) {
			t.Fatalf("Next() = %q", next)
		}
		for _, st := range Steps() {
			if s.Step(st) == nil {
				t.Fatalf("step %s has no record", st)
			}
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRelocateFollowsAMovedFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ppg-ea-x.dump"), []byte("d"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := New(Config{Dir: dir}, nil)
	e.state = NewState(t0)
	e.state.Dump = &DumpInfo{Path: "/old/place/ppg-ea-x.dump", ManifestPath: "/old/place/ppg-ea-x.manifest.json"}
	e.relocate()
	if want := filepath.Join(dir, "ppg-ea-x.dump"); e.state.Dump.Path != want {
		t.Fatalf("dump path %q, want %q", e.state.Dump.Path, want)
	}
	if e.state.Dump.ManifestPath != "/old/place/ppg-ea-x.manifest.json" {
		t.Fatalf("a file missing in both places changed path: %q", e.state.Dump.ManifestPath)
	}
	if !filepath.IsAbs(e.cfg.Dir) {
		t.Fatalf("Dir %q is not absolute", e.cfg.Dir)
	}
}
