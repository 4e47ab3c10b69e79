//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
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

func TestMigrateWarnsAboutWritesDuringDump(t *testing.T) {
	// A slow gateway keeps the dump running while the application writes.
	b := newMigrateBed(t, gateway.Options{BandwidthBytesPerSec: 256 << 10})
	dbExec(t, b.EA.URL("postgres"), smallSchemaSQL+`
		CREATE TABLE public.filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 8000) g;`)
	dir := t.TempDir()
	p := migrateStart(t, dir, b.keyEnv(), "--non-interactive", "--json")
	waitFor(t, time.Minute, "the dump to start copying tables", func() bool {
		for _, l := range p.Lines() {
			if strings.Contains(l.Text, `"kind":"progress"`) && strings.Contains(l.Text, `"step":"dump"`) {
				return true
			}
		}
		return p.Exited()
	})
	dbExec(t, b.EA.URL("postgres"), `INSERT INTO public.customers (name) SELECT 'late ' || g FROM generate_series(1, 25) g`)
	r := p.wait(migrateTimeout)
	wantExit(t, r, 0)
	var warned bool
	for _, ev := range r.Find("warning", "dump") {
		if strings.Contains(ev.Text, "after the dump's snapshot") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning about writes during the dump:\n%s", tailText(r.Output(), 6000))
	}
	// The migration is consistent with the snapshot: the late rows are on
	// the source only.
	src := dbValue(t, b.EA.URL("postgres"), `SELECT count(*) FROM public.customers`)
	dst := dbValue(t, b.GA.URL("postgres"), `SELECT count(*) FROM public.customers`)
	if src != "525" || dst != "500" {
		t.Fatalf("customers: source %s, target %s; want 525 and 500", src, dst)
	}
}
