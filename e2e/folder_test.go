//go:build e2e

package e2e

// What a run leaves in its working folder: the state file, the dump and
// its manifest, and nothing else (no partial dumps, lists or secrets).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

// readState reads the state file of dir with ppg's own reader (versioned,
// known steps and statuses, no done step after one not done), failing the
// test if it is missing or unreadable.
func readState(t testing.TB, dir string) *migrate.State {
	t.Helper()
	st, err := migrate.ReadState(dir)
	if err != nil {
		t.Fatalf("read the state file: %v", err)
	}
	if st == nil {
		t.Fatalf("no state file in %s", dir)
	}
	return st
}

// wantAllDone fails the test unless every step of the state is done and
// verified, and the dump matches its recorded checksum.
func wantAllDone(t testing.TB, dir string, st *migrate.State) {
	t.Helper()
	for _, step := range migrate.Steps() {
		if rec := st.Step(step); rec.Status != migrate.Done || rec.Error != "" {
			t.Errorf("state: step %s is %q (error %q), want done", step, rec.Status, rec.Error)
		}
	}
	if st.Verified == nil || len(st.Verified.Mismatches) != 0 {
		t.Errorf("state: verified %+v", st.Verified)
	}
	wantDumpIntact(t, dir, st)
}

// dumpPath is the path of the state's dump (recorded relative to dir, or
// absolute).
func dumpPath(dir string, st *migrate.State) string {
	if filepath.IsAbs(st.Dump.Path) {
		return st.Dump.Path
	}
	return filepath.Join(dir, st.Dump.Path)
}

// wantDumpIntact fails the test unless the state records a dump whose
// file matches the recorded checksum.
func wantDumpIntact(t testing.TB, dir string, st *migrate.State) {
	t.Helper()
	if st.Dump == nil {
		t.Fatal("the state file records no dump")
	}
	if sum := fileSHA256(t, dumpPath(dir, st)); sum != st.Dump.SHA256 {
		t.Errorf("the dump %s has sha256 %s, the state records %s", st.Dump.Path, sum, st.Dump.SHA256)
	}
}

// fileSHA256 is the hex SHA-256 of a file's content.
func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fileNames lists the names in dir.
func fileNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// wantNoLeftovers fails the test if dir holds a partial dump, a restore
// list or a temporary file: what a run must clean up.
func wantNoLeftovers(t testing.TB, dir string) {
	t.Helper()
	for _, name := range fileNames(t, dir) {
		if strings.HasSuffix(name, ".partial") || strings.HasSuffix(name, ".list") || strings.Contains(name, ".tmp-") {
			t.Errorf("left behind in the working folder: %s", name)
		}
	}
}

// dirContents reads every regular file under dir, by path relative to dir.
func dirContents(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpFiles returns the dumps (finished or partial), their manifests and
// restore lists in dir: the files named ppg-ea-*.
func dumpFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for name := range dirContents(t, dir) {
		if strings.HasPrefix(filepath.Base(name), "ppg-ea-") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// noSecretsInFiles fails the test if a file under dir holds one of
// secrets, or if dir is empty (nothing was checked).
func noSecretsInFiles(t testing.TB, dir string, secrets ...string) {
	t.Helper()
	files := dirContents(t, dir)
	if len(files) == 0 {
		t.Errorf("no files in %s: nothing was checked", dir)
	}
	for name, data := range files {
		for i, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds secret %d of %d (%d characters)", name, i+1, len(secrets), len(s))
			}
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
