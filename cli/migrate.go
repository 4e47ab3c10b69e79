package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/tui"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

const envPGBin = "PPG_PG_BIN"

// command describes one of the two migration commands: they run the same
// engine with their own words, variables and flags.
type command struct {
	flow       words.Flow
	use, short string
	long       string
	example    string
	// env names the environment variables of each side's key.
	env map[migrate.Side]string
	// fileFlag names the flags of each side's key file.
	fileFlag   map[migrate.Side]string
	dumpPrefix string
	// sourceNewest is the newest major version the source can run (0:
	// any): a newer one makes the plan ask whether the keys were swapped.
	sourceNewest int
	// fromTo adds --from and --to.
	fromTo bool
}

var fromEA = command{
	flow: words.FromEA, use: "migrate-from-ea", dumpPrefix: "ppg-ea", sourceNewest: 16,
	short:    "Move an Early Access database to a General Availability database",
	env:      map[migrate.Side]string{migrate.Source: "PPG_EA_DATABASE_URL", migrate.Target: "PPG_GA_DATABASE_URL"},
	fileFlag: map[migrate.Side]string{migrate.Source: "ea-key-file", migrate.Target: "ga-key-file"},
	long: `migrate-from-ea dumps your Early Access database, restores it into your new
General Availability database, gathers its statistics (ANALYZE) and verifies
every table's row count, the sequences, the large objects and the schema
objects against the dump.

Each side is a direct URL (postgresql://USER:PASSWORD@HOST:5432/postgres?
sslmode=require, what Prisma's guide uses), or an API key or
prisma+postgres:// URL, reached through a private tunnel.

Before the dump, with both databases known, ppg checks the plan: versions,
free disk, an empty target, extensions the target lacks, policies for roles
it lacks, event triggers, connections. --dry-run prints the plan and stops.

Every step is recorded in ppg-migration.json in the working folder (no key
is ever written there). Running the command again resumes from the first
step not done; a dump file that is missing or changed is dumped again.

Headless (--non-interactive), the keys come from the environment or files:
  PPG_EA_DATABASE_URL  the EA database: a postgres:// URL, an API key or a prisma+postgres:// URL
  PPG_GA_DATABASE_URL  the GA database: the same forms
or --ea-key-file/--ga-key-file. pg_dump and pg_restore are looked up in
--pg-bin (or PPG_PG_BIN), PATH and the usual install places.`,
	example: `  # Interactive: paste the keys or URLs when asked
  ppg migrate-from-ea

  # The plan only: what would happen, what blocks
  PPG_EA_DATABASE_URL=... PPG_GA_DATABASE_URL=... ppg migrate-from-ea --non-interactive --dry-run

  # Headless, with JSON events on stdout
  PPG_EA_DATABASE_URL=... PPG_GA_DATABASE_URL=... ppg migrate-from-ea --non-interactive --json`,
}

var anyPostgres = command{
	flow: words.Migrate, use: "migrate", dumpPrefix: "ppg", fromTo: true,
	short:    "Copy any PostgreSQL database (13 or newer) into another, such as Prisma Postgres",
	env:      map[migrate.Side]string{migrate.Source: "PPG_SOURCE_URL", migrate.Target: "PPG_TARGET_URL"},
	fileFlag: map[migrate.Side]string{migrate.Source: "source-key-file", migrate.Target: "target-key-file"},
	long: `migrate copies a PostgreSQL database (13 or newer: Neon, Supabase, RDS,
self-hosted, a Prisma Postgres one) into a target at least as new, such as a
new Prisma Postgres database: the same checked, resumable dump, restore,
ANALYZE and verification as migrate-from-ea. A PostgreSQL 18 source can also
go into 17 (Prisma Postgres): what 17 cannot hold is translated, or the plan
names it and what to do (--accept-downgrade=temporal-keys for temporal keys).

Each side is a postgres:// URL (the target's direct URL for Prisma Postgres,
not the pooled one), or a Prisma API key or prisma+postgres:// URL.

Headless (--non-interactive), the URLs come from PPG_SOURCE_URL and
PPG_TARGET_URL, from --source-key-file/--target-key-file, or from --from and
--to, which take env:NAME (read the variable NAME), file:PATH, or a URL
without a password (a password on the command line is visible to every
user of the machine, so ppg refuses it).`,
	example: `  # Interactive
  ppg migrate

  # Headless
  PPG_SOURCE_URL='postgres://...' PPG_TARGET_URL='postgres://...' ppg migrate --non-interactive

  # The plan only
  ppg migrate --non-interactive --from env:NEON_URL --to file:./target.url --dry-run`,
}

// migrateOptions are one migration command's flags and dependencies.
type migrateOptions struct {
	deps
	cmd command

	nonInteractive bool
	json           bool
	dryRun         bool
	dir            string
	pgBin          string
	jobs           int
	restart        bool
	allowNonEmpty  bool
	resetTarget    bool
	onChange       string
	stall          string
	verify         string
	retries        int
	keyFiles       map[migrate.Side]*string
	from, to       string
	acceptDown     string
	live           liveFlags
}

const exitHelp = `

Exit statuses: 0 migrated and verified (or, with --dry-run, nothing blocks);
1 other failure; 2 bad usage; 3 pg_dump/pg_restore missing or too old; 4 a
key was refused, a database unreachable, or a connection lost or stalled;
5 the target was refused (not empty and not confirmed, the source itself, or
the plan found what would fail); 6 verification found differences; 7 another
migration is running in this folder; 8 the source was written to after the
dump (--on-source-change); 130 stopped (Ctrl-C).`

// newMigrateCmd is the command c (migrate or migrate-from-ea). runF, if
// set, runs instead of the migration, with the options the flags set:
// tests use it to check the flags.
func newMigrateCmd(d deps, c command, runF func(context.Context, *migrateOptions) error) *cobra.Command {
	opts := &migrateOptions{deps: d, cmd: c, keyFiles: map[migrate.Side]*string{migrate.Source: new(string), migrate.Target: new(string)}}
	cmd := &cobra.Command{
		Use:     c.use,
		Short:   c.short,
		Long:    c.long + exitHelp,
		Example: c.example,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !opts.nonInteractive {
				if opts.dryRun || opts.json {
					return words.UsageError{Err: errors.New("--dry-run and --json go with --non-interactive")}
				}
				if !opts.io.isTerminal() {
					return words.UsageError{Err: fmt.Errorf("no terminal to run the interactive wizard in: use --non-interactive, with the keys in %s and %s",
						c.env[migrate.Source], c.env[migrate.Target])}
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if !opts.nonInteractive {
				return runWizard(cmd.Context(), opts)
			}
			return runHeadless(cmd.Context(), opts)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

func (o *migrateOptions) addFlags(cmd *cobra.Command) {
	c := o.cmd
	fl := cmd.Flags()
	fl.BoolVar(&o.nonInteractive, "non-interactive", false, "run without the wizard: keys from the environment or files, progress as lines")
	fl.BoolVar(&o.json, "json", false, "with --non-interactive: print events as JSON, one object a line")
	fl.BoolVar(&o.dryRun, "dry-run", false, "with --non-interactive: check both databases, print the plan, and stop before the dump (writes nothing)")
	fl.StringVar(&o.dir, "dir", ".", "working folder for the state file and the dump")
	fl.StringVar(&o.pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore (default: $PPG_PG_BIN, PATH, usual install places)")
	fl.IntVar(&o.jobs, "jobs", 0, "parallel restore jobs (default 4, fewer when the target's connections are short)")
	fl.BoolVar(&o.restart, "restart", false, "discard the recorded progress and start over (the old dump file is kept)")
	fl.BoolVar(&o.allowNonEmpty, "allow-non-empty-target", false, "restore into a target that already holds objects")
	fl.BoolVar(&o.resetTarget, "reset-target", false, "with --restart: empty the target that the migration started over had restored into (drops its schemas and large objects)")
	fl.StringVar(&o.onChange, "on-source-change", "fail", "with --non-interactive, when the source was written to after the dump's snapshot (during the dump or later): fail (exit 8), redump (dump, and restore, again), or keep (keep the migration as of the snapshot)")
	fl.StringVar(&o.verify, "verify", "counts", "what to compare: counts (exact row counts, sequences, objects, large objects), or content too (a hash of every row and large object on both sides: reads all the data twice more; use it when the data must be proven byte for byte)")
	fl.IntVar(&o.retries, "retries", 3, "how many times a step that lost its connection or stalled is tried again, each resuming where it stopped (0: none)")
	fl.StringVar(&o.acceptDown, "accept-downgrade", "", "for a PostgreSQL 18 source going into 17: temporal-keys accepts temporal keys as exclusion constraints and leaves temporal foreign keys out")
	fl.StringVar(&o.stall, "stall-timeout", "2m", "stop a tool that moves no data for this long, call the connection stalled, and retry")
	for _, side := range []migrate.Side{migrate.Source, migrate.Target} {
		fl.StringVar(o.keyFiles[side], c.fileFlag[side], "", fmt.Sprintf("read the %s key or URL from this file instead of $%s", c.flow.Side(side), c.env[side]))
	}
	o.live.add(fl)
	if c.fromTo {
		fl.StringVar(&o.from, "from", "", "the source: env:NAME, file:PATH, or a URL without a password")
		fl.StringVar(&o.to, "to", "", "the target: env:NAME, file:PATH, or a URL without a password")
	}
}

// config is the engine's configuration for the flags, or a usage error.
func (o *migrateOptions) config() (migrate.Config, error) {
	cfg := o.engineConfig(o.dir, o.pgBin, o.jobs)
	cfg.DumpPrefix, cfg.SourceNewestMajor = o.cmd.dumpPrefix, o.cmd.sourceNewest
	cfg.Restart, cfg.AllowNonEmptyTarget, cfg.ResetTarget = o.restart, o.allowNonEmpty, o.resetTarget
	stall, err := parseDuration(o.stall)
	if err != nil {
		return cfg, words.UsageError{Err: fmt.Errorf("--stall-timeout %q: %v", o.stall, err)}
	}
	cfg.StallTimeout = stall
	if err := o.live.apply(&cfg); err != nil {
		return cfg, err
	}
	switch {
	case o.retries < 0:
		return cfg, words.UsageError{Err: fmt.Errorf("--retries %d: use 0 or more", o.retries)}
	case o.retries == 0:
		cfg.Retries = -1
	default:
		cfg.Retries = o.retries
	}
	switch o.acceptDown {
	case "":
	case "temporal-keys":
		cfg.AcceptTemporalKeys = true
	default:
		return cfg, words.UsageError{Err: fmt.Errorf("--accept-downgrade %q: use temporal-keys", o.acceptDown)}
	}
	switch o.verify {
	case "counts":
	case "content":
		cfg.VerifyContent = true
	default:
		return cfg, words.UsageError{Err: fmt.Errorf("--verify %q: use counts or content", o.verify)}
	}
	return cfg, nil
}

// headlessConfig is config, with --on-source-change, which only headless
// runs read (the wizard asks).
func (o *migrateOptions) headlessConfig() (migrate.Config, error) {
	cfg, err := o.config()
	if err != nil {
		return cfg, err
	}
	switch o.onChange {
	case "fail":
		cfg.OnSourceChange = migrate.ChangeFail
	case "redump":
		cfg.OnSourceChange = migrate.ChangeRedump
	case "keep":
		cfg.OnSourceChange = migrate.ChangeKeep
	default:
		return cfg, words.UsageError{Err: fmt.Errorf("--on-source-change %q: use fail, redump or keep", o.onChange)}
	}
	return cfg, nil
}

// prompter is the headless prompter for the key flags and variables.
func (o *migrateOptions) prompter() (*headlessPrompter, error) {
	c := o.cmd
	p := &headlessPrompter{env: c.env, flags: map[migrate.Side]string{}, files: map[migrate.Side]string{},
		values: map[migrate.Side]keySource{}, getenv: o.getenv}
	for side, flag := range c.fileFlag {
		p.flags[side] = "--" + flag
		p.files[side] = *o.keyFiles[side]
	}
	for _, s := range []struct {
		side       migrate.Side
		flag, spec string
	}{{migrate.Source, "--from", o.from}, {migrate.Target, "--to", o.to}} {
		if s.spec == "" {
			continue
		}
		ks, err := parseKeySource(s.spec)
		if err != nil {
			return nil, words.UsageError{Err: fmt.Errorf("%s: %v", s.flag, err)}
		}
		p.values[s.side] = ks
	}
	return p, nil
}

// wizardConfig is config for the wizard: without --live, its plan screen
// offers live when the source can stream.
func (o *migrateOptions) wizardConfig() (migrate.Config, error) {
	cfg, err := o.config()
	cfg.OfferLive = cfg.Live == nil
	return cfg, err
}

// runWizard runs the interactive wizard in the terminal.
func runWizard(ctx context.Context, o *migrateOptions) error {
	cfg, err := o.wizardConfig()
	if err != nil {
		return err
	}
	v, _, _ := o.build.resolve()
	err = o.wizard(ctx, tui.Options{
		Dir:        o.dir,
		Flow:       o.cmd.flow,
		DumpPrefix: o.cmd.dumpPrefix,
		Version:    v,
		Restart:    o.restart,
		NewEngine: func(restart bool, p migrate.Prompter) *migrate.Engine {
			cfg := cfg
			cfg.Restart = restart
			return migrate.New(cfg, p)
		},
	})
	if err == nil {
		return nil
	}
	// The wizard's summary said it all when it ended, a stop included.
	return reported{err}
}

// runHeadless runs the migration (or, with --dry-run, its plan) without
// the wizard, printing its events as lines or JSON.
func runHeadless(ctx context.Context, o *migrateOptions) error {
	p, err := o.prompter()
	if err != nil {
		return err
	}
	cfg, err := o.headlessConfig()
	if err != nil {
		return err
	}
	eng := o.newEngine(cfg, p)
	rep := newReporter(o.io.out, o.json, o.cmd.flow)
	rep.now = o.now
	rep.resuming(o.dir, o.restart)
	if o.dryRun {
		return dryRun(ctx, eng, rep)
	}
	if o.live.abandon {
		return abandonLive(ctx, eng, rep)
	}
	var verified *migrate.VerifySummary
	err = eng.Run(ctx, func(ev migrate.Event) {
		if ev.Summary != nil && ev.Summary.Verified != nil {
			verified = ev.Summary.Verified
		}
		rep.event(ev)
	})
	dir, _ := filepath.Abs(o.dir)
	if err == nil {
		if verified == nil {
			// Verified by an earlier run: the state file has the verdict.
			if s, serr := migrate.ReadState(o.dir); serr == nil && s != nil {
				verified = s.Verified
			}
		}
		cwd, _ := o.getwd()
		env, _ := migrate.CheckEnvFile(cwd)
		rep.done(dir, verified, env)
		return nil
	}
	if errors.Is(err, context.Canceled) && !o.json {
		rep.stopped(dir)
		return reported{err}
	}
	return rep.failure(err)
}

// dryRun prints the plan; a plan that blocks is a failure, reported.
func dryRun(ctx context.Context, eng engine, rep *reporter) error {
	plan, err := eng.Preflight(ctx)
	if err != nil {
		return err
	}
	rep.plan(plan)
	if plan.Blocked() {
		return reported{&migrate.PlanError{Plan: plan}}
	}
	return nil
}

// hasPassword reports whether a connection URL carries a password.
func hasPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return true // unknown: refuse rather than risk it
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	return u.Query().Has("password")
}

// parseDuration reads a positive duration ("2m", "90s").
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

// keySource is where --from or --to says a key is.
type keySource struct {
	env, file, value string
}

// parseKeySource reads env:NAME, file:PATH or a URL without a password.
func parseKeySource(spec string) (keySource, error) {
	switch {
	case strings.HasPrefix(spec, "env:"):
		return keySource{env: strings.TrimPrefix(spec, "env:")}, nil
	case strings.HasPrefix(spec, "file:"):
		return keySource{file: strings.TrimPrefix(spec, "file:")}, nil
	}
	cred, err := tunnel.ParseKey(spec)
	if err != nil {
		return keySource{}, err
	}
	if !cred.Direct() || hasPassword(cred.URL) {
		return keySource{}, errors.New("a key or password on the command line is visible to every user of this machine (ps): use env:NAME or file:PATH")
	}
	return keySource{value: spec}, nil
}
