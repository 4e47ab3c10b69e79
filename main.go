// Command ppg moves Prisma Postgres databases from Early Access to General
// Availability, and runs the local tunnel that Early Access databases need.
//
// main wires the subcommands, builds a context cancelled by Ctrl-C or
// SIGTERM, and maps the error a command returns to the exit status: 0 ok,
// 1 failure, 2 bad usage, 130 stopped by the user. Only main calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/migrate"
)

// Set at build time by scripts/dist.sh (-ldflags "-X main.version=... -X
// main.commit=... -X main.date=..."). Builds without them (go install, go
// build) report the module version and the VCS revision Go recorded.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitAborted = 130
)

// usageError marks mistakes in the command line, which exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	// A closed terminal (SIGHUP) stops ppg as Ctrl-C does: the running tool
	// is stopped in order and the progress saved.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := newRootCmd().ExecuteContext(ctx)
	aborted := ctx.Err() != nil
	stop()
	os.Exit(exitStatus(err, aborted))
}

func exitStatus(err error, aborted bool) int {
	var ue usageError
	var ec exitCoder
	switch {
	case err == nil:
		return exitOK
	case aborted || errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "ppg: stopped")
		return exitAborted
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "ppg: %v\nRun 'ppg --help' for usage.\n", err)
		return exitUsage
	case errors.As(err, &ec):
		printFailure(err)
		return ec.code
	default:
		printFailure(err)
		return exitFailure
	}
}

func newRootCmd() *cobra.Command {
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newMigrateCmd(), newTunnelCmd(), newBackupCmd(), newRestoreCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print ppg's version",
		Example: `  ppg version`,
		Args:    noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
		},
	}
}

// versionLine is what ppg version prints: the version, the commit and its
// date, and the Go release and platform of the build.
func versionLine() string {
	v, c, d := buildInfo()
	line := "ppg " + v
	if c != "" {
		line += " (commit " + c
		if d != "" {
			line += ", " + d
		}
		line += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildInfo returns the stamped version, commit and date if set; otherwise
// the module version ("(devel)" becomes "dev") and the VCS revision and time
// Go recorded in the binary.
func buildInfo() (ver, rev, when string) {
	ver, rev, when = version, commit, date
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if ver == "" {
			ver = "unknown"
		}
		return ver, rev, when
	}
	if ver == "" {
		ver = "dev"
		if v := info.Main.Version; v != "" && v != "(devel)" {
			ver = v
		}
	}
	dirty := false
	vcsRev, vcsTime := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			vcsRev = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" && vcsRev != "" {
		rev = vcsRev
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
	}
	if when == "" {
		when = vcsTime
	}
	return ver, rev, when
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// printFailure writes the final line of a failed run. A failed migration
// step was reported in full already: repeat only what and what next.
func printFailure(err error) {
	var se *migrate.StepError
	if errors.As(err, &se) {
		fmt.Fprintf(os.Stderr, "ppg: %s failed (details above); next: %s\n", se.Step.Title(), se.Hint)
		return
	}
	fmt.Fprintf(os.Stderr, "ppg: %v\n", err)
}

// userAgentVersion is the version sent to the gateway and kept in state files.
func userAgentVersion() string {
	v, _, _ := buildInfo()
	return v
}
