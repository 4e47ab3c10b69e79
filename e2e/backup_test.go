//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupAndRestore(t *testing.T) {
	m := newMigration(t)
	m.source.exec(smallSchemaSQL)
	dir := m.dir
	env := m.toolEnv()
	// ppg's combined output and exit status.
	ppg := func(env []string, args ...string) (string, int) {
		r := runPPG(t, dir, env, args...)
		return r.output(), r.code
	}

	// Backup through the tunnel, with the key from ./.env as people have it.
	_ = os.WriteFile(filepath.Join(dir, ".env"), []byte(`DATABASE_URL="prisma+postgres://accelerate.prisma-data.net/?api_key=`+m.source.key+`"`+"\n"), 0o600)
	out, code := ppg(env, "backup", "-o", "ea.dump")
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
	if strings.Contains(out, m.source.key) {
		t.Fatal("backup output shows the key")
	}
	// A second backup never overwrites the first.
	before, _ := os.ReadFile(filepath.Join(dir, "ea.dump"))
	out, code = ppg(env, "backup", "-o", "ea.dump")
	if code == 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("second backup to the same file: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ea.dump")); string(after) != string(before) {
		t.Fatal("the dump file was changed")
	}

	// Restore into the empty GA database by direct URL, verified.
	_ = os.Remove(filepath.Join(dir, ".env"))
	target := append(env, "DATABASE_URL="+m.target.url)
	out, code = ppg(target, "restore", "ea.dump")
	if code != 0 || !strings.Contains(out, "Verify the database: done") || !strings.Contains(out, "Restore complete.") {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	if strings.Contains(out, m.target.server.Password) {
		t.Fatal("restore output shows the password")
	}
	compareMaps(t, "tables", m.source.tableMD5s(), m.target.tableMD5s())

	// Restoring again into the now non-empty database is refused.
	out, code = ppg(target, "restore", "ea.dump")
	if code != 5 || !strings.Contains(out, "not empty") {
		t.Fatalf("restore into a non-empty database: exit %d\n%s", code, out)
	}
}

func TestMigrateWarnsAboutWritesDuringDump(t *testing.T) {
	// A slow gateway keeps the dump running while the application writes.
	m := newMigration(t, withBandwidth(256<<10))
	m.source.exec(smallSchemaSQL + `
		CREATE TABLE public.filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 8000) g;`)
	// Keeping the dump as of its snapshot is a choice the user makes
	// (the default fails: see latewrite_rule_test.go).
	p := m.start("--non-interactive", "--json", "--on-source-change=keep")
	p.waitFor(progressOf("dump"))
	m.source.exec(`INSERT INTO public.customers (name) SELECT 'late ' || g FROM generate_series(1, 25) g`)
	r := p.wait()
	r.wantExit(0)
	if !r.has(warningOf("dump").saying("after the dump's snapshot")) {
		t.Fatalf("no warning about writes during the dump:\n%s", r.show())
	}
	// The migration is consistent with the snapshot: the late rows are on
	// the source only.
	src := m.source.value(`SELECT count(*) FROM public.customers`)
	dst := m.target.value(`SELECT count(*) FROM public.customers`)
	if src != "525" || dst != "500" {
		t.Fatalf("customers: source %s, target %s; want 525 and 500", src, dst)
	}
}
