package pgtools

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// Tool is a pg_dump or pg_restore executable and its version.
type Tool struct {
	// Name is "pg_dump" or "pg_restore" (without ".exe").
	Name string `json:"name"`
	// Path is where the tool was found.
	Path string `json:"path"`
	// RealPath is Path with symbolic links resolved. On Debian and Ubuntu
	// /usr/bin/pg_dump resolves to pg_wrapper, a script that picks a
	// version itself; Choose prefers the real binary of the same version.
	RealPath string `json:"-"`
	// Version is what `Path --version` printed; zero if Err is set.
	Version Version `json:"version"`
	// Explicit reports that the tool was found in Finder.Dir.
	Explicit bool `json:"explicit,omitempty"`
	// Err, if not nil, says why the version could not be read (the file
	// does not run, or printed no version). Choose skips such tools and
	// lists them in its error.
	Err error `json:"-"`
}

// String describes the tool for messages: "pg_dump 17.11
// (/usr/lib/postgresql/17/bin/pg_dump)".
func (t Tool) String() string {
	if t.Err != nil {
		return fmt.Sprintf("%s (%s, unusable: %v)", t.Name, t.Path, t.Err)
	}
	return fmt.Sprintf("%s %s (%s)", t.Name, t.Version, t.Path)
}

// wrapper reports whether the tool's real file has another name than the
// tool (Debian's pg_wrapper), so that it may run another version than the
// one it reported.
func (t Tool) wrapper() bool {
	return t.RealPath != "" && toolName(t.RealPath) != t.Name
}

// toolNames are the programs Find looks for.
var toolNames = [...]string{"pg_dump", "pg_restore"}

// Finder looks for pg_dump and pg_restore. The zero value searches this
// machine; the fields let tests search a fake tree.
type Finder struct {
	// Dir is a directory the user named (the CLI maps --pg-bin and
	// PPG_PG_BIN to it). Tools found there are Explicit, and Choose uses
	// only them when there are any. Find fails if Dir holds neither tool.
	Dir string
	// GOOS selects the install locations and executable names; empty
	// means runtime.GOOS.
	GOOS string
	// Getenv reads PATH (and ProgramFiles on Windows); nil means
	// os.Getenv.
	Getenv func(string) string
	// Root is prefixed to the install locations (not to Dir or PATH), so
	// tests can build them under a temporary directory.
	Root string
	// Version reads a tool's version; nil means running `path --version`.
	Version func(ctx context.Context, path string) (Version, error)
}

// Find returns every pg_dump and pg_restore found, in search order: Dir,
// then the directories of PATH, then the usual install locations:
//
//   - Linux: /usr/lib/postgresql/N/bin (Debian, Ubuntu), /usr/pgsql-N/bin
//     (RHEL, Fedora from PGDG), /usr/local/pgsql/bin (source builds),
//     Homebrew on Linux;
//   - macOS: Homebrew's kegs /opt/homebrew/opt/postgresql@N/bin and
//     /opt/homebrew/opt/libpq/bin, /opt/homebrew/bin (Apple silicon), the
//     same under /usr/local (Intel), Postgres.app
//     (/Applications/Postgres.app/Contents/Versions/*/bin), the EDB
//     installer's /Library/PostgreSQL/N/bin;
//   - Windows: the EDB installer's %ProgramFiles%\PostgreSQL\N\bin.
//
// Files reached twice (through symbolic links, or a directory listed
// twice) are returned once. Each tool's version is read by running it with
// --version; tools where that fails are returned with Err set.
func (f Finder) Find(ctx context.Context) ([]Tool, error) {
	goos := f.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	version := f.Version
	if version == nil {
		version = readVersion
	}

	var tools []Tool
	seen := make(map[string]bool)
	for _, d := range f.dirs(goos, getenv) {
		for _, name := range toolNames {
			t, ok := lookTool(d, name, goos, seen)
			if !ok {
				continue
			}
			t.Version, t.Err = version(ctx, t.Path)
			if t.Err != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("find pg_dump and pg_restore: %w", ctx.Err())
			}
			tools = append(tools, t)
		}
	}
	if f.Dir != "" && !slices.ContainsFunc(tools, func(t Tool) bool { return t.Explicit }) {
		return nil, fmt.Errorf("no pg_dump or pg_restore in %s: %w", f.Dir, ErrNotFound)
	}
	return tools, nil
}

// searchDir is a directory Find looks in.
type searchDir struct {
	path     string
	explicit bool // Finder.Dir
}

// dirs returns the directories to search, in Find's order.
func (f Finder) dirs(goos string, getenv func(string) string) []searchDir {
	var dirs []searchDir
	if f.Dir != "" {
		dirs = append(dirs, searchDir{f.Dir, true})
	}
	listSep := ":"
	if goos == "windows" {
		listSep = ";"
	}
	for _, d := range strings.Split(getenv("PATH"), listSep) {
		// Relative entries ("", ".") would make the result depend on the
		// working directory; os/exec refuses them too.
		if d != "" && isAbs(d, goos) {
			dirs = append(dirs, searchDir{d, false})
		}
	}
	for _, pattern := range installPatterns(goos, getenv) {
		matches, err := filepath.Glob(filepath.Join(f.Root, filepath.FromSlash(pattern)))
		if err != nil {
			continue // only a malformed pattern fails
		}
		// Reverse name order, so that postgresql@17 comes before
		// postgresql@16 (order only breaks ties in Choose).
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		for _, m := range matches {
			dirs = append(dirs, searchDir{m, false})
		}
	}
	return dirs
}

// lookTool returns the tool name in d, without its version, if it is an
// executable file not already in seen (by its real path), and adds it to
// seen.
func lookTool(d searchDir, name, goos string, seen map[string]bool) (Tool, bool) {
	path := filepath.Join(d.path, name)
	if goos == "windows" {
		path += ".exe"
	}
	if !isExecutable(path) {
		return Tool{}, false
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Tool{}, false
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	key := name + "\x00" + real
	if goos == "windows" || goos == "darwin" {
		key = strings.ToLower(key) // case-insensitive file systems
	}
	if seen[key] {
		return Tool{}, false
	}
	seen[key] = true
	return Tool{Name: name, Path: path, RealPath: real, Explicit: d.explicit}, true
}

// installPatterns returns glob patterns (with forward slashes) of the
// directories where PostgreSQL's client tools are usually installed.
func installPatterns(goos string, getenv func(string) string) []string {
	switch goos {
	case "linux":
		return []string{
			"/usr/lib/postgresql/*/bin",
			"/usr/pgsql-*/bin",
			"/usr/local/pgsql/bin",
			"/home/linuxbrew/.linuxbrew/opt/postgresql@*/bin",
			"/home/linuxbrew/.linuxbrew/opt/libpq/bin",
		}
	case "darwin":
		return []string{
			"/opt/homebrew/opt/postgresql@*/bin",
			"/opt/homebrew/opt/libpq/bin",
			"/opt/homebrew/bin",
			"/usr/local/opt/postgresql@*/bin",
			"/usr/local/opt/libpq/bin",
			"/usr/local/bin",
			"/Applications/Postgres.app/Contents/Versions/*/bin",
			"/Library/PostgreSQL/*/bin",
		}
	case "windows":
		pf := getenv("ProgramFiles")
		if pf == "" {
			pf = `C:\Program Files`
		}
		return []string{strings.ReplaceAll(pf, `\`, "/") + "/PostgreSQL/*/bin"}
	}
	return []string{"/usr/local/bin", "/usr/local/pgsql/bin"}
}

// isAbs reports whether a PATH entry is absolute on goos.
func isAbs(p, goos string) bool {
	if goos == "windows" {
		return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
	}
	return strings.HasPrefix(p, "/")
}

// isExecutable reports whether path is a regular file this machine would
// run.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0
}

// readVersion runs `path --version` and parses what it prints.
func readVersion(ctx context.Context, path string) (Version, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = buildEnv(os.Environ(), nil)
	cmd.WaitDelay = time.Second
	var out limitedBuffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return Version{}, fmt.Errorf("%s --version failed: %w", path, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	v, err := ParseVersion(first)
	if err != nil {
		return Version{}, fmt.Errorf("%s --version: %w", path, err)
	}
	return v, nil
}

// limitedBuffer keeps the first 4 KiB written to it and discards the rest.
type limitedBuffer struct{ bytes.Buffer }

// Write keeps what fits and reports all of p written.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
