package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tui"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// Environment variables of the headless mode.
const (
	envSourceKey = "PPG_EA_DATABASE_URL"
	envTargetKey = "PPG_GA_DATABASE_URL"
	envPGBin     = "PPG_PG_BIN"
)

type migrateFlags struct {
	nonInteractive bool
	json           bool
	dir            string
	pgBin          string
	jobs           int
	restart        bool
	allowNonEmpty  bool
	onChange       string
	eaKeyFile      string
	gaKeyFile      string
}

func (a *app) migrateCmd() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate-from-ea",
		Short: "Move an Early Access database to a General Availability database",
		Long: `migrate-from-ea dumps your Early Access database through a tunnel, restores
it into your new General Availability database and verifies every table's
row count, the sequences and the schema objects against the dump.

Every step is recorded in ppg-migration.json in the working folder (no key
is ever written there). Running the command again resumes from the first
step not done; a dump file that is missing or changed is dumped again.

Headless (--non-interactive), the keys come from the environment or files:
  PPG_EA_DATABASE_URL  the EA database: API key, prisma+postgres:// URL or postgres:// URL
  PPG_GA_DATABASE_URL  the GA database: the same forms
or --ea-key-file/--ga-key-file. pg_dump and pg_restore are looked up in
--pg-bin (or PPG_PG_BIN), PATH and the usual install places.

Exit statuses: 0 migrated and verified; 1 other failure; 2 bad usage;
3 pg_dump/pg_restore missing or too old; 4 a key was refused or a database
could not be reached (or the connection was lost); 5 the GA database was
refused (not empty and not confirmed, or the EA database itself);
6 verification found differences; 7 another migration is running in this
folder; 8 the EA database was written to after the dump
(--on-source-change); 130 stopped (Ctrl-C).`,
		Example: `  # Interactive: paste the keys when asked
  ppg migrate-from-ea

  # Headless, with JSON events on stdout
  PPG_EA_DATABASE_URL=... PPG_GA_DATABASE_URL=... ppg migrate-from-ea --non-interactive --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.flow = words.FromEA
			if !f.nonInteractive {
				if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
					return words.UsageError{Err: errors.New("no terminal to run the interactive wizard in: use --non-interactive, with the keys in PPG_EA_DATABASE_URL and PPG_GA_DATABASE_URL")}
				}
				return a.runWizard(cmd.Context(), f)
			}
			return a.runHeadless(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.nonInteractive, "non-interactive", false, "run without the wizard: keys from the environment or files, progress as lines")
	fl.BoolVar(&f.json, "json", false, "with --non-interactive: print events as JSON, one object a line")
	fl.StringVar(&f.dir, "dir", ".", "working folder for the state file and the dump")
	fl.StringVar(&f.pgBin, "pg-bin", "", "folder holding pg_dump and pg_restore (default: $PPG_PG_BIN, PATH, usual install places)")
	fl.IntVar(&f.jobs, "jobs", 0, "parallel pg_restore jobs (default 4: the restore waits on the network; Prisma plans allow about 10 connections)")
	fl.BoolVar(&f.restart, "restart", false, "discard the recorded progress and start over (the old dump file is kept)")
	fl.BoolVar(&f.allowNonEmpty, "allow-non-empty-target", false, "restore into a GA database that already holds objects")
	fl.StringVar(&f.onChange, "on-source-change", "fail", "with --non-interactive, when the source was written to after the dump: fail (exit 8), redump (dump and restore again), or keep (keep the migration as of the dump)")
	fl.StringVar(&f.eaKeyFile, "ea-key-file", "", "read the EA key or URL from this file instead of $PPG_EA_DATABASE_URL")
	fl.StringVar(&f.gaKeyFile, "ga-key-file", "", "read the GA key or URL from this file instead of $PPG_GA_DATABASE_URL")
	return cmd
}

// engineConfig is the engine's configuration for the flags.
func (a *app) engineConfig(dir, pgBin string, jobs int) migrate.Config {
	if pgBin == "" {
		pgBin = os.Getenv(envPGBin)
	}
	return migrate.Config{
		Dir:        dir,
		DumpPrefix: "ppg-ea",
		Finder:     pgtools.Finder{Dir: pgBin},
		Tunnel:     tunnel.Config{UserAgent: a.build.userAgent()},
		Jobs:       jobs,
	}
}

// runWizard runs the interactive wizard in the terminal.
func (a *app) runWizard(ctx context.Context, f migrateFlags) error {
	v, _, _ := a.build.resolve()
	err := tui.Run(ctx, tui.Options{
		Dir:     f.dir,
		Flow:    a.flow,
		Version: v,
		Restart: f.restart,
		NewEngine: func(restart bool, p migrate.Prompter) *migrate.Engine {
			cfg := a.engineConfig(f.dir, f.pgBin, f.jobs)
			cfg.Restart, cfg.AllowNonEmptyTarget = restart, f.allowNonEmpty
			return migrate.New(cfg, p)
		},
	})
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	// The wizard's summary said it all when it ended.
	return reported{err}
}

func (a *app) runHeadless(ctx context.Context, out io.Writer, f migrateFlags) error {
	p := &headlessPrompter{files: map[migrate.Side]string{migrate.Source: f.eaKeyFile, migrate.Target: f.gaKeyFile},
		env:  map[migrate.Side]string{migrate.Source: envSourceKey, migrate.Target: envTargetKey},
		flag: map[migrate.Side]string{migrate.Source: "--ea-key-file", migrate.Target: "--ga-key-file"}}
	cfg := a.engineConfig(f.dir, f.pgBin, f.jobs)
	cfg.Restart, cfg.AllowNonEmptyTarget = f.restart, f.allowNonEmpty
	switch f.onChange {
	case "fail":
		cfg.OnSourceChange = migrate.ChangeFail
	case "redump":
		cfg.OnSourceChange = migrate.ChangeRedump
	case "keep":
		cfg.OnSourceChange = migrate.ChangeKeep
	default:
		return words.UsageError{Err: fmt.Errorf("--on-source-change %q: use fail, redump or keep", f.onChange)}
	}
	eng := migrate.New(cfg, p)
	rep := newReporter(out, f.json, a.flow)
	err := eng.Run(ctx, rep.event)
	dir, _ := filepath.Abs(f.dir)
	if err == nil {
		rep.done(dir)
		return nil
	}
	if errors.Is(err, context.Canceled) && !f.json {
		fmt.Fprintf(out, "\nStopped. The progress is saved in %s: run %s again there to resume.\n",
			filepath.Join(dir, migrate.StateFileName), a.flow.Command)
	}
	return err
}
