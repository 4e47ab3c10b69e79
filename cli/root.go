// Package cli is ppg's command line: the cobra commands, the headless front
// end (a prompter that answers from flags and the environment, and a
// reporter that prints the engine's events as lines or JSON), and the map
// from every error to its exit status (through words.Explain). It starts
// the wizard (tui) when migrate-from-ea runs in a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/words"
)

// Build is what the release build stamped into the binary (empty for go
// install and go build: then the module version and VCS revision are
// used).
type Build struct {
	Version, Commit, Date string
}

// Main runs ppg with the process's arguments and returns the exit status.
// Ctrl-C, SIGTERM and a closed terminal (SIGHUP) cancel the command's
// context: the running tool is stopped in order and the progress saved.
func Main(b Build) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return Execute(ctx, b, os.Args[1:], os.Stdout, os.Stderr)
}

// Execute runs ppg with args and returns the exit status; the final
// message of a failure goes to stderr.
func Execute(ctx context.Context, b Build, args []string, stdout, stderr io.Writer) int {
	a := &app{build: b, flow: words.FromEA, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		err = errors.Join(context.Canceled, err)
	}
	return a.exit(err)
}

// app is one run of the command line: the command that ran sets the flow
// whose words its errors are explained with.
type app struct {
	build  Build
	flow   words.Flow
	stderr io.Writer
}

// reported marks an error whose front end has already told the user all
// about it: only its exit status remains.
type reported struct{ err error }

func (r reported) Error() string { return r.err.Error() }
func (r reported) Unwrap() error { return r.err }

// exit prints the final line of a failure, once, and returns the status.
func (a *app) exit(err error) int {
	if err == nil {
		return words.StatusOK
	}
	f := a.flow.Explain(err)
	var r reported
	switch {
	case errors.As(err, &r):
	case f.Status == words.StatusStopped:
		_, _ = fmt.Fprintln(a.stderr, "ppg: stopped")
	case f.Step != "":
		// The step's failure was reported in full already.
		_, _ = fmt.Fprintf(a.stderr, "ppg: %s failed (details above); next: %s\n", f.What, f.Hint)
	case f.Hint != "":
		_, _ = fmt.Fprintf(a.stderr, "ppg: %s\nnext: %s\n", f.Headline, f.Hint)
	default:
		_, _ = fmt.Fprintf(a.stderr, "ppg: %s\n", f.Headline)
	}
	return f.Status
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ppg",
		Short: "Move a Prisma Postgres database from Early Access to General Availability",
		Long: `ppg moves your data from a Prisma Postgres Early Access database to a new
General Availability database: it dumps through an authenticated tunnel,
restores, verifies every table, and resumes where it stopped if anything fails.

It also runs the tunnel on its own, so that psql, pg_dump or any Postgres
client can reach an Early Access database.`,
		Example: `  # Migrate, interactively: paste the two API keys when asked
  ppg migrate-from-ea

  # Open a tunnel to the database of PDP_API_KEY or DATABASE_URL (env or ./.env)
  ppg tunnel`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return words.UsageError{Err: err} })
	root.AddCommand(a.migrateCmd(), a.migrateAnyCmd(), a.tunnelCmd(), a.backupCmd(), a.restoreCmd(), a.versionCmd())
	return root
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return words.UsageError{Err: fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
