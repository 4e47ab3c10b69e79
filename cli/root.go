// Package cli is ppg's command line: the cobra commands, the headless front
// end (a prompter that answers from flags and the environment, and a
// reporter that prints the engine's events as lines or JSON), and the map
// from every error to its exit status (through words.Explain). It starts
// the wizard (tui) when migrate-from-ea runs in a terminal.
//
// Each command is built the way cli/cli builds its own: newXCmd(deps,
// runF) binds the flags to an options struct that also holds the
// command's dependencies (deps: streams, terminal check, environment,
// working folder, clock, engine and wizard constructors), and RunE calls
// runF with the options when a test gives one, else the command's run
// function. Only processDeps reads the process's state, so every command
// runs in tests with fakes, and the flow whose words explain a failure is
// the command that ran.
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
	return execute(ctx, processDeps(b, stdout, stderr), args)
}

// execute runs ppg with args and d's streams and dependencies, and returns
// the exit status.
func execute(ctx context.Context, d deps, args []string) int {
	root, flows := rootCmd(d)
	root.SetArgs(args)
	root.SetIn(d.io.in)
	root.SetOut(d.io.out)
	root.SetErr(d.io.errOut)
	ran, err := root.ExecuteContextC(ctx)
	if err != nil && ctx.Err() != nil {
		err = errors.Join(context.Canceled, err)
	}
	flow, ok := flows[ran]
	if !ok {
		flow = words.FromEA
	}
	return exit(d.io.errOut, flow, err)
}

// reported marks an error whose front end has already told the user all
// about it: only its exit status remains.
type reported struct{ err error }

func (r reported) Error() string { return r.err.Error() }
func (r reported) Unwrap() error { return r.err }

// exit prints the final line of a failure, once, in the words of the
// command's flow, and returns the status.
func exit(stderr io.Writer, flow words.Flow, err error) int {
	if err == nil {
		return words.StatusOK
	}
	f := flow.Explain(err)
	if wh := (withHint{}); errors.As(err, &wh) {
		f.Hint = wh.hint
	}
	var r reported
	switch {
	case errors.As(err, &r):
	case f.Status == words.StatusStopped:
		_, _ = fmt.Fprintln(stderr, "ppg: stopped")
	case f.Step != "":
		// The step's failure was reported in full already.
		_, _ = fmt.Fprintf(stderr, "ppg: %s failed (details above); next: %s\n", f.What, f.Hint)
	case f.Hint != "":
		_, _ = fmt.Fprintf(stderr, "ppg: %s\nnext: %s\n", f.Headline, f.Hint)
	default:
		_, _ = fmt.Fprintf(stderr, "ppg: %s\n", f.Headline)
	}
	return f.Status
}

// rootCmd is ppg with its commands, and the flow whose words explain each
// command's errors (the root's and version's are migrate-from-ea's).
func rootCmd(d deps) (*cobra.Command, map[*cobra.Command]words.Flow) {
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
	flows := map[*cobra.Command]words.Flow{}
	for _, c := range []struct {
		cmd  *cobra.Command
		flow words.Flow
	}{
		{newMigrateCmd(d, fromEA, nil), fromEA.flow},
		{newMigrateCmd(d, anyPostgres, nil), anyPostgres.flow},
		{newTunnelCmd(d, nil), words.Tunnel},
		{newBackupCmd(d, nil), words.Backup},
		{newRestoreCmd(d, nil), words.Restore},
		{newVersionCmd(d, nil), words.FromEA},
		{newCutoverCmd(d, nil), words.Migrate},
	} {
		root.AddCommand(c.cmd)
		flows[c.cmd] = c.flow
	}
	return root, flows
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return words.UsageError{Err: fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
