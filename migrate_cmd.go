package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tui"
	"github.com/ppg-cli/ppg/tunnel"
)

// Environment variables of the headless mode.
const (
	envSourceKey = "PPG_EA_DATABASE_URL"
	envTargetKey = "PPG_GA_DATABASE_URL"
	envPGBin     = "PPG_PG_BIN"
)

// Exit statuses of migrate-from-ea, by failure class (documented in the
// command's help and the README).
const (
	exitTools    = 3 // pg_dump/pg_restore missing or too old
	exitConnect  = 4 // a key was refused or a database unreachable
	exitRefused  = 5 // target not empty (unconfirmed) or the source itself
	exitMismatch = 6 // verification found differences
	exitLocked   = 7 // another migration runs in this folder
)

type migrateFlags struct {
	nonInteractive bool
	json           bool
	dir            string
	pgBin          string
	jobs           int
	restart        bool
	allowNonEmpty  bool
	eaKeyFile      string
	gaKeyFile      string
}

func newMigrateCmd() *cobra.Command {
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
could not be reached; 5 the GA database was refused (not empty and not
confirmed, or the EA database itself); 6 verification found differences;
7 another migration is running in this folder; 130 stopped (Ctrl-C).`,
		Example: `  # Interactive: paste the keys when asked
  ppg migrate-from-ea

  # Headless, with JSON events on stdout
  PPG_EA_DATABASE_URL=... PPG_GA_DATABASE_URL=... ppg migrate-from-ea --non-interactive --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.nonInteractive {
				if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
					return usageError{errors.New("no terminal to run the interactive wizard in: use --non-interactive, with the keys in PPG_EA_DATABASE_URL and PPG_GA_DATABASE_URL")}
				}
				return runWizard(cmd.Context(), f)
			}
			return runHeadless(cmd.Context(), cmd.OutOrStdout(), f)
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
	fl.StringVar(&f.eaKeyFile, "ea-key-file", "", "read the EA key or URL from this file instead of $PPG_EA_DATABASE_URL")
	fl.StringVar(&f.gaKeyFile, "ga-key-file", "", "read the GA key or URL from this file instead of $PPG_GA_DATABASE_URL")
	return cmd
}

// exitCoder is an error that selects its exit status.
type exitCoder struct {
	err  error
	code int
}

func (e exitCoder) Error() string { return e.err.Error() }
func (e exitCoder) Unwrap() error { return e.err }

// engineConfig is the engine's configuration for the flags.
func (f migrateFlags) engineConfig(restart bool) migrate.Config {
	pgBin := f.pgBin
	if pgBin == "" {
		pgBin = os.Getenv(envPGBin)
	}
	return migrate.Config{
		Dir:                 f.dir,
		Finder:              pgtools.Finder{Dir: pgBin},
		Tunnel:              tunnel.Config{UserAgent: "ppg/" + userAgentVersion()},
		Jobs:                f.jobs,
		Restart:             restart,
		AllowNonEmptyTarget: f.allowNonEmpty,
	}
}

// runWizard runs the interactive wizard in the terminal.
func runWizard(ctx context.Context, f migrateFlags) error {
	err := tui.Run(ctx, tui.Options{
		Dir:     f.dir,
		Version: userAgentVersion(),
		Restart: f.restart,
		NewEngine: func(restart bool, p migrate.Prompter) *migrate.Engine {
			return migrate.New(f.engineConfig(restart), p)
		},
	})
	if err == nil {
		return nil
	}
	return classify(err)
}

func runHeadless(ctx context.Context, out io.Writer, f migrateFlags) error {
	p := &headlessPrompter{files: map[migrate.Side]string{migrate.Source: f.eaKeyFile, migrate.Target: f.gaKeyFile}}
	eng := migrate.New(f.engineConfig(f.restart), p)
	rep := newReporter(out, f.json)
	err := eng.Run(ctx, rep.event)
	dir, _ := filepath.Abs(f.dir)
	if err == nil {
		rep.done(dir)
		return nil
	}
	if errors.Is(err, context.Canceled) && !f.json {
		fmt.Fprintf(out, "\nStopped. The progress is saved in %s: run ppg migrate-from-ea again there to resume.\n",
			filepath.Join(dir, migrate.StateFileName))
	}
	return classify(err)
}

// classify maps an engine error to the exit status of its class.
func classify(err error) error {
	var (
		nf  *pgtools.NotFoundError
		he  *tunnel.HandshakeError
		ue  *tunnel.UnreachableError
		ke  *tunnel.KeyError
		ce  *migrate.ConnectError
		ve  *migrate.VerifyError
		dwn *pgtools.DowngradeError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, migrate.ErrLocked):
		return exitCoder{err, exitLocked}
	case errors.As(err, &nf), errors.Is(err, pgtools.ErrNotFound):
		// ErrNotFound alone: Finder.Find found no tools in --pg-bin.
		return exitCoder{err, exitTools}
	case errors.As(err, &ve):
		return exitCoder{err, exitMismatch}
	case errors.As(err, &he), errors.As(err, &ue), errors.As(err, &ke), errors.As(err, &ce), errors.Is(err, errNoKey):
		return exitCoder{err, exitConnect}
	case errors.As(err, &dwn), errors.Is(err, migrate.ErrTargetRefused):
		return exitCoder{err, exitRefused}
	}
	return err
}

var errNoKey = errors.New("no key")

// headlessPrompter answers the engine from the environment and flags. It
// cannot ask again: a refused key ends the run with the reason.
type headlessPrompter struct {
	files map[migrate.Side]string
}

func (p *headlessPrompter) Key(_ context.Context, side migrate.Side, problem error) (string, error) {
	name := envSourceKey
	if side == migrate.Target {
		name = envTargetKey
	}
	source := name
	v := os.Getenv(name)
	if path := p.files[side]; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%w for the %s: read %s: %v", errNoKey, side, path, err)
		}
		v, source = string(data), path
	}
	if problem != nil {
		return "", fmt.Errorf("%s, for the %s: %w", source, side, problem)
	}
	if strings.TrimSpace(v) == "" {
		flag := "--ea-key-file"
		if side == migrate.Target {
			flag = "--ga-key-file"
		}
		return "", fmt.Errorf("%w for the %s: set %s, or pass %s", errNoKey, side, name, flag)
	}
	return v, nil
}

func (p *headlessPrompter) Confirm(_ context.Context, q migrate.Question) (bool, error) {
	// Headless runs go on with the source they were given; everything
	// else needs an explicit flag, which the engine reads itself.
	return q.Kind == migrate.ConfirmSource, nil
}

// reporter prints engine events as plain lines or JSON objects.
type reporter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	enc      *json.Encoder
	lastProg time.Time
	lastText string
}

func newReporter(w io.Writer, asJSON bool) *reporter {
	return &reporter{w: w, json: asJSON, enc: json.NewEncoder(w)}
}

// jsonEvent is the JSON form of an event.
type jsonEvent struct {
	Time     time.Time             `json:"time"`
	Kind     string                `json:"kind"`
	Step     migrate.Step          `json:"step,omitempty"`
	Text     string                `json:"text,omitempty"`
	Line     string                `json:"line,omitempty"`
	Progress *migrate.ProgressInfo `json:"progress,omitempty"`
	Error    string                `json:"error,omitempty"`
	Hint     string                `json:"hint,omitempty"`
	Tail     []string              `json:"tail,omitempty"`
	Resumed  bool                  `json:"resumed,omitempty"`
	Verify   *migrate.Report       `json:"verify,omitempty"`
}

var kindNames = map[migrate.EventKind]string{
	migrate.StepStarted: "step_started", migrate.Progress: "progress", migrate.ToolLine: "tool_line",
	migrate.Warning: "warning", migrate.Info: "info", migrate.StepFinished: "step_finished", migrate.StepFailed: "step_failed",
}

func (r *reporter) event(ev migrate.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		je := jsonEvent{Time: ev.Time, Kind: kindNames[ev.Kind], Step: ev.Step, Text: ev.Text, Line: ev.Line,
			Progress: ev.Progress, Hint: ev.Hint, Tail: ev.Tail, Resumed: ev.Resumed, Verify: ev.Verify}
		if ev.Err != nil {
			je.Error = ev.Err.Error()
		}
		r.enc.Encode(je)
		return
	}
	ts := ev.Time.Format("15:04:05")
	switch ev.Kind {
	case migrate.StepStarted:
		verb := "started"
		if ev.Resumed {
			verb = "resumed"
		}
		fmt.Fprintf(r.w, "%s %s: %s\n", ts, ev.Step.Title(), verb)
	case migrate.Progress:
		p := ev.Progress
		// At most one progress line a second, plus each phase change.
		if time.Since(r.lastProg) < time.Second && p.Phase == r.lastText && p.TablesDone != p.TablesTotal {
			return
		}
		r.lastProg, r.lastText = time.Now(), p.Phase
		pct := 100.0
		if p.BytesTotal > 0 {
			pct = 100 * float64(p.BytesDone) / float64(p.BytesTotal)
		}
		phase := ""
		if p.Phase != "" {
			phase = p.Phase + ": "
		}
		line := fmt.Sprintf("%s   %s%d/%d tables, %.0f%%", ts, phase, p.TablesDone, p.TablesTotal, pct)
		if p.Current != "" {
			line += ", now " + p.Current
		}
		fmt.Fprintln(r.w, line)
	case migrate.Warning:
		fmt.Fprintf(r.w, "%s   warning: %s\n", ts, ev.Text)
	case migrate.Info:
		if ev.Verify != nil {
			printVerify(r.w, ev.Verify)
			return
		}
		fmt.Fprintf(r.w, "%s   %s\n", ts, ev.Text)
	case migrate.StepFinished:
		fmt.Fprintf(r.w, "%s %s: done: %s\n", ts, ev.Step.Title(), ev.Text)
	case migrate.StepFailed:
		fmt.Fprintf(r.w, "%s %s: FAILED: %v\n", ts, ev.Step.Title(), ev.Err)
		if len(ev.Tail) > 0 {
			fmt.Fprintln(r.w, "  last lines of the tool's output:")
			for _, l := range ev.Tail[max(0, len(ev.Tail)-10):] {
				fmt.Fprintln(r.w, "    "+l)
			}
		}
		fmt.Fprintf(r.w, "  next: %s\n", ev.Hint)
	}
}

func printVerify(w io.Writer, rep *migrate.Report) {
	fmt.Fprintf(w, "  %-48s %14s %14s\n", "table", "EA rows", "GA rows")
	shown := 0
	for _, t := range rep.Tables {
		mark := ""
		if t.Source != t.Target {
			mark = "  <- differs"
		} else if shown >= 20 {
			continue
		}
		shown++
		fmt.Fprintf(w, "  %-48s %14d %14d%s\n", t.Name, t.Source, t.Target, mark)
	}
	if len(rep.Tables) > shown {
		fmt.Fprintf(w, "  ... and %d more tables, all matching\n", len(rep.Tables)-shown)
	}
	for _, o := range rep.Objects {
		fmt.Fprintf(w, "  %-48s %14d %14d\n", o.Kind, o.Source, o.Target)
	}
}

func (r *reporter) done(dir string) {
	if r.json {
		return
	}
	fmt.Fprintf(r.w, "\nMigration complete and verified. Point your application's DATABASE_URL at the GA database.\n"+
		"The dump and the record of this migration stay in %s.\n", dir)
}
