package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// migrateOpts runs command c with args and returns the options its flags
// set, captured through runF, or the error the command line gave.
func migrateOpts(t *testing.T, h *harness, c command, args ...string) (*migrateOptions, error) {
	t.Helper()
	var got *migrateOptions
	cmd := newMigrateCmd(h.d, c, func(_ context.Context, o *migrateOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	return got, nil
}

// TestMigrateFlags checks the map from each migration command's flags
// (and PPG_PG_BIN) to the engine's configuration.
func TestMigrateFlags(t *testing.T) {
	base := func(c command) migrate.Config {
		cfg := migrate.Config{
			Dir:            ".",
			DumpPrefix:     "ppg",
			Finder:         pgtools.Finder{},
			Tunnel:         tunnel.Config{UserAgent: "ppg/1.2.3"},
			Retries:        3,
			StallTimeout:   2 * time.Minute,
			OnSourceChange: migrate.ChangeFail,
		}
		if c.use == "migrate-from-ea" {
			// An EA database runs 16: a newer source means swapped keys.
			cfg.DumpPrefix, cfg.SourceNewestMajor = "ppg-ea", 16
		}
		return cfg
	}
	tests := []struct {
		name string
		cmd  command
		args []string
		env  map[string]string
		want func(*migrate.Config)
	}{
		{name: "migrate, defaults", cmd: anyPostgres, want: func(*migrate.Config) {}},
		{name: "migrate-from-ea, defaults", cmd: fromEA, want: func(*migrate.Config) {}},
		{name: "every flag", cmd: anyPostgres,
			args: []string{"--dir", "/w", "--pg-bin", "/pg/bin", "--jobs", "2", "--restart", "--reset-target", "--allow-non-empty-target",
				"--stall-timeout", "90s", "--retries", "5", "--verify", "content", "--on-source-change", "redump"},
			want: func(c *migrate.Config) {
				c.Dir, c.Finder, c.Jobs = "/w", pgtools.Finder{Dir: "/pg/bin"}, 2
				c.Restart, c.ResetTarget, c.AllowNonEmptyTarget = true, true, true
				c.StallTimeout, c.Retries, c.VerifyContent, c.OnSourceChange = 90*time.Second, 5, true, migrate.ChangeRedump
			}},
		{name: "PPG_PG_BIN", cmd: fromEA, env: map[string]string{envPGBin: "/env/bin"},
			want: func(c *migrate.Config) { c.Finder = pgtools.Finder{Dir: "/env/bin"} }},
		{name: "--pg-bin over PPG_PG_BIN", cmd: fromEA, args: []string{"--pg-bin", "/flag/bin"}, env: map[string]string{envPGBin: "/env/bin"},
			want: func(c *migrate.Config) { c.Finder = pgtools.Finder{Dir: "/flag/bin"} }},
		{name: "no retries", cmd: anyPostgres, args: []string{"--retries", "0"},
			want: func(c *migrate.Config) { c.Retries = -1 }},
		{name: "keep a changed source", cmd: anyPostgres, args: []string{"--on-source-change", "keep"},
			want: func(c *migrate.Config) { c.OnSourceChange = migrate.ChangeKeep }},
		{name: "an 18 source into 17 with its temporal keys", cmd: anyPostgres, args: []string{"--accept-downgrade", "temporal-keys"},
			want: func(c *migrate.Config) { c.AcceptTemporalKeys = true }},
		{name: "counts", cmd: fromEA, args: []string{"--verify", "counts", "--stall-timeout", "1h"},
			want: func(c *migrate.Config) { c.StallTimeout = time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := migrateOpts(t, newHarness(t, tt.env), tt.cmd, append([]string{"--non-interactive"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := o.headlessConfig()
			if err != nil {
				t.Fatal(err)
			}
			want := base(tt.cmd)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestMigrateFlagErrors checks that a wrong value is a usage error (exit
// status 2) that names the flag, and that nothing runs.
func TestMigrateFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--stall-timeout", "0s"}, `--stall-timeout "0s": must be positive`},
		{[]string{"--stall-timeout", "soon"}, `--stall-timeout "soon"`},
		{[]string{"--retries", "-1"}, "--retries -1: use 0 or more"},
		{[]string{"--verify", "all"}, `--verify "all": use counts or content`},
		{[]string{"--on-source-change", "ask"}, `--on-source-change "ask": use fail, redump or keep`},
		{[]string{"--accept-downgrade", "everything"}, `--accept-downgrade "everything": use temporal-keys`},
		{[]string{"--jobs", "many"}, `invalid argument "many" for "--jobs"`},
		{[]string{"--from", "file:/k", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		h := newHarness(t, map[string]string{"PPG_SOURCE_URL": "postgres://a@h/db", "PPG_TARGET_URL": "postgres://b@h/db"})
		args := append([]string{"migrate", "--non-interactive", "--dir", t.TempDir()}, tt.args...)
		if got := h.run(args...); got != words.StatusUsage || !strings.Contains(h.err.String(), tt.want) || h.eng.ran {
			t.Errorf("ppg %s: status %d, stderr %q, ran %v; want %d, %q, not run", strings.Join(args, " "), got, h.err.String(), h.eng.ran, words.StatusUsage, tt.want)
		}
	}
}

// TestMigrateModes checks what runs without --non-interactive: the wizard
// in a terminal, a usage error elsewhere or with headless-only flags.
func TestMigrateModes(t *testing.T) {
	h := newHarness(t, nil)
	if got := h.run("migrate-from-ea", "--dry-run"); got != words.StatusUsage || !strings.Contains(h.err.String(), "--dry-run and --json go with --non-interactive") {
		t.Errorf("--dry-run alone: status %d, stderr %q", got, h.err.String())
	}
	h = newHarness(t, nil)
	if got := h.run("migrate"); got != words.StatusUsage ||
		!strings.Contains(h.err.String(), "no terminal to run the interactive wizard in: use --non-interactive, with the keys in PPG_SOURCE_URL and PPG_TARGET_URL") {
		t.Errorf("no terminal: status %d, stderr %q", got, h.err.String())
	}
	if h.built != 0 {
		t.Errorf("%d engines built for usage errors", h.built)
	}
}

func TestParseKeySource(t *testing.T) {
	tests := []struct {
		spec    string
		want    keySource
		refused bool // a secret on the command line
		bad     bool // not a key at all
	}{
		{spec: "env:NEON_URL", want: keySource{env: "NEON_URL"}},
		{spec: "file:./target.url", want: keySource{file: "./target.url"}},
		{spec: "file:/abs/path with space", want: keySource{file: "/abs/path with space"}},
		{spec: "postgres://app@db.example.com:5432/postgres?sslmode=require", want: keySource{value: "postgres://app@db.example.com:5432/postgres?sslmode=require"}},
		{spec: "postgresql://db.example.com/app", want: keySource{value: "postgresql://db.example.com/app"}},
		{spec: "postgres://app:s3cret@db.example.com/postgres", refused: true},
		{spec: "postgres://app@db.example.com/postgres?password=s3cret", refused: true},
		{spec: "prisma+postgres://accelerate.prisma-data.net/?api_key=" + testAPIKey, refused: true},
		{spec: testAPIKey, refused: true},
		{spec: "", bad: true},
		{spec: "mysql://app@db/x", bad: true},
	}
	for _, tt := range tests {
		got, err := parseKeySource(tt.spec)
		switch {
		case tt.refused:
			if err == nil || !strings.Contains(err.Error(), "visible to every user of this machine (ps): use env:NAME or file:PATH") {
				t.Errorf("%q: %v, want the refusal", tt.spec, err)
			}
		case tt.bad:
			if err == nil {
				t.Errorf("%q: accepted as %+v", tt.spec, got)
			}
		case err != nil || got != tt.want:
			t.Errorf("%q: %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error shows the password: %v", tt.spec, err)
		}
	}
}

func TestHasPassword(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"postgres://app:pw@h/db", true},
		{"postgres://app:@h/db", true},
		{"postgres://app@h/db?sslmode=require&password=pw", true},
		{"postgres://app@h/db?sslmode=require", false},
		{"postgres://h/db", false},
		{"postgres://app@h/db?passfile=/home/app/.pgpass", false},
		{"postgres://%zz@h/db", true}, // unparsable: refused
	}
	for _, tt := range tests {
		if got := hasPassword(tt.url); got != tt.want {
			t.Errorf("hasPassword(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

// TestPasswordRefused checks that --from and --to refuse a secret before
// anything connects, without repeating it.
func TestPasswordRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--from", "postgres://app:s3cret@db.example.com/postgres", "--to", "env:T"},
		{"--from", "env:S", "--to", "postgresql://app@db.example.com/postgres?password=s3cret"},
		{"--from", "env:S", "--to", "prisma+postgres://accelerate.prisma-data.net/?api_key=s3cret" + testAPIKey},
	} {
		h := newHarness(t, map[string]string{"S": "postgres://a@h/db", "T": "postgres://b@h/db"})
		got := h.run(append([]string{"migrate", "--non-interactive", "--dir", t.TempDir()}, args...)...)
		flag := args[0]
		if strings.Contains(args[3], "s3cret") {
			flag = args[2]
		}
		if got != words.StatusUsage || !strings.Contains(h.err.String(), flag+": a key or password on the command line is visible to every user") {
			t.Errorf("%v: status %d, stderr %q", args, got, h.err.String())
		}
		if strings.Contains(h.err.String()+h.out.String(), "s3cret") {
			t.Errorf("%v: the output repeats the secret: %q", args, h.err.String()+h.out.String())
		}
		if h.built != 0 {
			t.Errorf("%v: an engine was built", args)
		}
	}
}

// testAPIKey looks like a Prisma API key (a JWT).
const testAPIKey = "eyJhbGciOiJIUzI1NiJ9.eyJkYiI6ImVhIn0.c2lnbmF0dXJl"

// TestHeadlessKeys checks where the headless prompter finds each side's
// key: variables, key files, --from and --to, in that order of
// precedence, and what it says when there is none.
func TestHeadlessKeys(t *testing.T) {
	files := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srcFile, tgtFile := write("source.url", "postgres://file-source@h/db\n"), write("target.url", "postgres://file-target@h/db")
	missing := filepath.Join(files, "missing.url")
	env := map[string]string{
		"PPG_SOURCE_URL": "postgres://env-source@h/db", "PPG_TARGET_URL": "postgres://env-target@h/db",
		"PPG_EA_DATABASE_URL": "postgres://ea@h/db", "PPG_GA_DATABASE_URL": "postgres://ga@h/db",
		"NEON": "postgres://neon@h/db", "EMPTY": "",
	}
	tests := []struct {
		name     string
		args     []string
		unset    []string
		src, tgt string
		status   int    // when not 0: the run fails so
		stderr   string // with this
	}{
		{name: "variables", args: []string{"migrate"}, src: env["PPG_SOURCE_URL"], tgt: env["PPG_TARGET_URL"]},
		{name: "EA variables", args: []string{"migrate-from-ea"}, src: env["PPG_EA_DATABASE_URL"], tgt: env["PPG_GA_DATABASE_URL"]},
		{name: "key files over variables", args: []string{"migrate", "--source-key-file", srcFile, "--target-key-file", tgtFile},
			src: "postgres://file-source@h/db\n", tgt: "postgres://file-target@h/db"},
		{name: "EA key files", args: []string{"migrate-from-ea", "--ga-key-file", tgtFile}, src: env["PPG_EA_DATABASE_URL"], tgt: "postgres://file-target@h/db"},
		{name: "--from env: and --to file:", args: []string{"migrate", "--from", "env:NEON", "--to", "file:" + tgtFile},
			src: env["NEON"], tgt: "postgres://file-target@h/db"},
		{name: "--from over a key file", args: []string{"migrate", "--source-key-file", srcFile, "--from", "postgres://cli@h/db"},
			src: "postgres://cli@h/db", tgt: env["PPG_TARGET_URL"]},
		{name: "no target", args: []string{"migrate"}, unset: []string{"PPG_TARGET_URL"}, src: env["PPG_SOURCE_URL"],
			status: words.StatusConnect, stderr: "set PPG_TARGET_URL, or pass --target-key-file"},
		{name: "empty variable", args: []string{"migrate", "--from", "env:EMPTY"},
			status: words.StatusConnect, stderr: "set PPG_SOURCE_URL, or pass --source-key-file"},
		{name: "missing key file", args: []string{"migrate-from-ea", "--ea-key-file", missing},
			status: words.StatusConnect, stderr: "missing.url"},
		{name: "missing file:", args: []string{"migrate", "--to", "file:" + missing}, src: env["PPG_SOURCE_URL"],
			status: words.StatusConnect, stderr: "missing.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, maps(env, tt.unset...))
			got := h.run(append(tt.args, "--non-interactive", "--dir", t.TempDir())...)
			if got != tt.status || !strings.Contains(h.err.String(), tt.stderr) {
				t.Errorf("status %d, stderr %q; want %d, %q", got, h.err.String(), tt.status, tt.stderr)
			}
			if h.eng.keys[migrate.Source] != tt.src || h.eng.keys[migrate.Target] != tt.tgt {
				t.Errorf("keys %q, want source %q, target %q", h.eng.keys, tt.src, tt.tgt)
			}
		})
	}
}

// maps copies m without the names in unset.
func maps(m map[string]string, unset ...string) map[string]string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	for _, k := range unset {
		delete(c, k)
	}
	return c
}

// TestHeadlessPrompter checks the answers that do not come from a key's
// source: a refused key, an early ask, the questions.
func TestHeadlessPrompter(t *testing.T) {
	ctx := t.Context()
	env := map[string]string{"PPG_SOURCE_URL": "postgres://s@h/db"}
	p := &headlessPrompter{
		env:    anyPostgres.env,
		flags:  map[migrate.Side]string{migrate.Source: "--source-key-file", migrate.Target: "--target-key-file"},
		files:  map[migrate.Side]string{},
		values: map[migrate.Side]keySource{},
		getenv: func(name string) string { return env[name] },
	}
	refused := &tunnel.KeyError{Problem: "not a key"}
	var se *words.SourcedError
	if _, err := p.Key(ctx, migrate.Source, refused); !errors.As(err, &se) || se.From != "PPG_SOURCE_URL" || se.Side != migrate.Source || !errors.Is(err, refused) {
		t.Errorf("a refused key: %v, want a SourcedError from PPG_SOURCE_URL", err)
	}
	if v, err := p.EarlyKey(ctx, migrate.Source, nil); v != env["PPG_SOURCE_URL"] || err != nil {
		t.Errorf("early source key: %q, %v", v, err)
	}
	if _, err := p.EarlyKey(ctx, migrate.Target, nil); !errors.Is(err, migrate.ErrLater) {
		t.Errorf("early target key, none given: %v, want ErrLater", err)
	}
	if _, err := p.EarlyKey(ctx, migrate.Target, refused); !errors.As(err, &se) {
		t.Errorf("early target key, refused: %v, want a SourcedError", err)
	}
	p.files[migrate.Target] = filepath.Join(t.TempDir(), "none")
	if _, err := p.EarlyKey(ctx, migrate.Target, nil); !errors.Is(err, migrate.ErrLater) {
		t.Errorf("early target key, file missing: %v, want ErrLater (asked again when needed)", err)
	}
	for kind, want := range map[migrate.QuestionKind]bool{
		migrate.ConfirmSource: true, migrate.ConfirmNonEmptyTarget: false,
	} {
		if got, err := p.Confirm(ctx, migrate.Question{Kind: kind}); got != want || err != nil {
			t.Errorf("Confirm(%v) = %v, %v; want %v", kind, got, err, want)
		}
	}
	// Writes after the snapshot are --on-source-change's to decide: the
	// headless prompter never answers for the user.
	for _, kind := range []migrate.QuestionKind{migrate.ConfirmSourceChanged, migrate.ConfirmRedump} {
		if got, err := p.Confirm(ctx, migrate.Question{Kind: kind}); got || !errors.Is(err, errNoOneToAsk) {
			t.Errorf("Confirm(%v) = %v, %v; want false, errNoOneToAsk", kind, got, err)
		}
	}
}
