package pgtools

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeTool writes an executable script at dir/file that prints a
// --version line for name and version, and returns its path.
func fakeTool(t *testing.T, dir, file, name, version string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	script := "#!/bin/sh\necho '" + name + " (PostgreSQL) " + version + "'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func skipScripts(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake tools are shell scripts")
	}
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// summary describes found tools as "name version path-relative-to-root".
func summary(root string, tools []Tool) []string {
	var out []string
	for _, t := range tools {
		rel, err := filepath.Rel(root, t.Path)
		if err != nil {
			rel = t.Path
		}
		s := t.Name + " " + t.Version.String() + " " + filepath.ToSlash(rel)
		if t.Explicit {
			s += " explicit"
		}
		if t.Err != nil {
			s += " broken"
		}
		out = append(out, s)
	}
	return out
}

func TestFindLinux(t *testing.T) {
	skipScripts(t)
	root := t.TempDir()
	deb15 := filepath.Join(root, "usr/lib/postgresql/15/bin")
	deb17 := filepath.Join(root, "usr/lib/postgresql/17/bin")
	rhel16 := filepath.Join(root, "usr/pgsql-16/bin")
	fakeTool(t, deb15, "pg_dump", "pg_dump", "15.18 (Debian 15.18-0+deb12u1)")
	fakeTool(t, deb15, "pg_restore", "pg_restore", "15.18 (Debian 15.18-0+deb12u1)")
	dump17 := fakeTool(t, deb17, "pg_dump", "pg_dump", "17.11 (Debian 17.11-1.pgdg120+1)")
	fakeTool(t, deb17, "pg_restore", "pg_restore", "17.11 (Debian 17.11-1.pgdg120+1)")
	fakeTool(t, rhel16, "pg_dump", "pg_dump", "16.4")
	// Not executable: ignored.
	if err := os.WriteFile(filepath.Join(rhel16, "pg_restore"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// PATH: a symlink to the 17 pg_dump (found twice: kept once), Debian's
	// wrapper for pg_restore, and a broken pg_dump.
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dump17, filepath.Join(bin, "pg_dump")); err != nil {
		t.Fatal(err)
	}
	wrapper := fakeTool(t, filepath.Join(root, "share"), "pg_wrapper", "pg_restore", "15.18 (Debian 15.18-0+deb12u1)")
	if err := os.Symlink(wrapper, filepath.Join(bin, "pg_restore")); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(root, "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "pg_dump"), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	f := Finder{
		GOOS:   "linux",
		Root:   root,
		Getenv: envFunc(map[string]string{"PATH": strings.Join([]string{"", ".", "relative/dir", bin, broken, bin, filepath.Join(root, "missing")}, ":")}),
	}
	tools, err := f.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := summary(root, tools)
	want := []string{
		"pg_dump 17.11 bin/pg_dump",
		"pg_restore 15.18 bin/pg_restore",
		"pg_dump 0.0.0 broken/pg_dump broken",
		"pg_restore 17.11 usr/lib/postgresql/17/bin/pg_restore",
		"pg_dump 15.18 usr/lib/postgresql/15/bin/pg_dump",
		"pg_restore 15.18 usr/lib/postgresql/15/bin/pg_restore",
		"pg_dump 16.4 usr/pgsql-16/bin/pg_dump",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !tools[1].wrapper() || tools[0].wrapper() {
		t.Errorf("wrapper detection: %+v", tools[:2])
	}

	set, err := Choose(tools, 16)
	if err != nil {
		t.Fatal(err)
	}
	if set.Dump.Version.Major != 17 || set.Restore.Path != filepath.Join(deb17, "pg_restore") {
		t.Errorf("chose %v and %v", set.Dump, set.Restore)
	}
}

func TestFindExplicitDir(t *testing.T) {
	skipScripts(t)
	root := t.TempDir()
	mine := filepath.Join(root, "mine")
	fakeTool(t, mine, "pg_dump", "pg_dump", "16.2")
	fakeTool(t, mine, "pg_restore", "pg_restore", "16.2")
	path := filepath.Join(root, "path")
	fakeTool(t, path, "pg_dump", "pg_dump", "17.1")
	fakeTool(t, path, "pg_restore", "pg_restore", "17.1")

	f := Finder{Dir: mine, GOOS: "linux", Root: root, Getenv: envFunc(map[string]string{"PATH": path})}
	tools, err := f.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pg_dump 16.2 mine/pg_dump explicit",
		"pg_restore 16.2 mine/pg_restore explicit",
		"pg_dump 17.1 path/pg_dump",
		"pg_restore 17.1 path/pg_restore",
	}
	if got := summary(root, tools); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The user's directory wins over newer tools elsewhere.
	set, err := Choose(tools, 16)
	if err != nil || !set.Dump.Explicit || !set.Restore.Explicit {
		t.Errorf("chose %+v, %v", set, err)
	}
	// ...and is not replaced by them when too old.
	if _, err := Choose(tools, 17); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "[--pg-bin]") {
		t.Errorf("err = %v", err)
	}

	f.Dir = filepath.Join(root, "empty")
	if tools, err := f.Find(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find in an empty --pg-bin: %v, %v", tools, err)
	}
}

func TestFindDarwin(t *testing.T) {
	skipScripts(t)
	root := t.TempDir()
	keg := filepath.Join(root, "opt/homebrew/opt/postgresql@17/bin")
	fakeTool(t, keg, "pg_dump", "pg_dump", "17.2 (Homebrew)")
	fakeTool(t, keg, "pg_restore", "pg_restore", "17.2 (Homebrew)")
	app := filepath.Join(root, "Applications/Postgres.app/Contents/Versions")
	fakeTool(t, filepath.Join(app, "16/bin"), "pg_dump", "pg_dump", "16.6")
	if err := os.Symlink(filepath.Join(app, "16"), filepath.Join(app, "latest")); err != nil {
		t.Fatal(err)
	}
	fakeTool(t, filepath.Join(root, "usr/local/opt/libpq/bin"), "pg_restore", "pg_restore", "16.1")

	tools, err := Finder{GOOS: "darwin", Root: root, Getenv: envFunc(nil)}.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pg_dump 17.2 opt/homebrew/opt/postgresql@17/bin/pg_dump",
		"pg_restore 17.2 opt/homebrew/opt/postgresql@17/bin/pg_restore",
		"pg_restore 16.1 usr/local/opt/libpq/bin/pg_restore",
		"pg_dump 16.6 Applications/Postgres.app/Contents/Versions/latest/bin/pg_dump",
	}
	if got := summary(root, tools); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFindWindows(t *testing.T) {
	skipScripts(t)
	root := t.TempDir()
	pf := filepath.Join(root, "C:", "Program Files", "PostgreSQL")
	fakeTool(t, filepath.Join(pf, "17", "bin"), "pg_dump.exe", "pg_dump", "17.4")
	fakeTool(t, filepath.Join(pf, "17", "bin"), "pg_restore.exe", "pg_restore", "17.4")
	fakeTool(t, filepath.Join(pf, "16", "bin"), "pg_dump", "pg_dump", "16.8") // no .exe: not a tool

	f := Finder{
		GOOS:   "windows",
		Root:   root,
		Getenv: envFunc(map[string]string{"PATH": `C:\Windows;relative;C:\Tools`, "ProgramFiles": `C:\Program Files`}),
	}
	tools, err := f.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pg_dump 17.4 C:/Program Files/PostgreSQL/17/bin/pg_dump.exe",
		"pg_restore 17.4 C:/Program Files/PostgreSQL/17/bin/pg_restore.exe",
	}
	if got := summary(root, tools); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tools[0].Name != "pg_dump" || tools[0].wrapper() {
		t.Errorf("tool %+v", tools[0])
	}
}

func TestFindInjectedVersion(t *testing.T) {
	skipScripts(t)
	root := t.TempDir()
	dir := filepath.Join(root, "usr/lib/postgresql/18/bin")
	fakeTool(t, dir, "pg_dump", "x", "0")
	var asked []string
	f := Finder{GOOS: "linux", Root: root, Getenv: envFunc(nil), Version: func(_ context.Context, path string) (Version, error) {
		asked = append(asked, path)
		return ParseVersion("18beta2")
	}}
	tools, err := f.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || tools[0].Version.String() != "18beta2" || len(asked) != 1 || asked[0] != filepath.Join(dir, "pg_dump") {
		t.Errorf("tools %+v, asked %q", tools, asked)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Version = nil
	if _, err := f.Find(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Find with a cancelled context: %v", err)
	}
}
