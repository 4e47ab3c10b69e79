//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ppg/e2e/gateway"
)

// runPPG runs the ppg binary with args in dir with a minimal environment
// plus env, and returns its combined output and exit status.
func runPPG(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(ppgBin, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestBackupAndRestore(t *testing.T) {
	b := newMigrateBed(t, gateway.Options{})
	dbExec(t, b.EA.URL("postgres"), smallSchemaSQL)
	dir := t.TempDir()
	env := []string{"PPG_WS_URL=" + b.WSURL, "PPG_PG_BIN=" + b.PGBin}

	// Backup through the tunnel, with the key from ./.env as people have it.
	os.WriteFile(filepath.Join(dir, ".env"), []byte(`DATABASE_URL="prisma+postgres://accelerate.prisma-data.net/?api_key=`+b.EAKey+`"`+"\n"), 0o600)
	out, code := runPPG(t, dir, env, "backup", "-o", "ea.dump")
	if code != 0 || !strings.Contains(out, "Backup written:") {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	info, err := os.Stat(filepath.Join(dir, "ea.dump"))
	if err != nil || info.Mode().Perm() != 0o600 || info.Size() == 0 {
		t.Fatalf("dump file: %v, %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ea.manifest.json")); err != nil {
		t.Fatalf("no manifest beside the dump: %v", err)
	}
	if strings.Contains(out, b.EAKey) {
		t.Fatal("backup output shows the key")
	}
	// A second backup never overwrites the first.
	before, _ := os.ReadFile(filepath.Join(dir, "ea.dump"))
	out, code = runPPG(t, dir, env, "backup", "-o", "ea.dump")
	if code == 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("second backup to the same file: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ea.dump")); string(after) != string(before) {
		t.Fatal("the dump file was changed")
	}

	// Restore into the empty GA database by direct URL, verified.
	os.Remove(filepath.Join(dir, ".env"))
	target := append(env, "DATABASE_URL="+b.GA.URL("postgres"))
	out, code = runPPG(t, dir, target, "restore", "ea.dump")
	if code != 0 || !strings.Contains(out, "Verify the GA database: done") || !strings.Contains(out, "Restore complete.") {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	if strings.Contains(out, b.GA.Password) {
		t.Fatal("restore output shows the password")
	}
	compareMaps(t, "tables", tableFingerprints(t, b.EA.URL("postgres")), tableFingerprints(t, b.GA.URL("postgres")))

	// Restoring again into the now non-empty database is refused.
	out, code = runPPG(t, dir, target, "restore", "ea.dump")
	if code != 5 || !strings.Contains(out, "not empty") {
		t.Fatalf("restore into a non-empty database: exit %d\n%s", code, out)
	}
}
