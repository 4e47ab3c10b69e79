package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// cutoverOptions are ppg cutover's flags.
type cutoverOptions struct {
	deps
	dir string
}

// cutoverPoll is how often ppg cutover looks for the migration's answer.
const cutoverPoll = 50 * time.Millisecond

// newCutoverCmd is ppg cutover; runF, if set, runs instead.
func newCutoverCmd(d deps, runF func(context.Context, *cutoverOptions) error) *cobra.Command {
	opts := &cutoverOptions{deps: d}
	cmd := &cobra.Command{
		Use:   "cutover",
		Short: "Ask the live migration running in a folder to cut over, and wait for it",
		Long: `cutover asks the live migration (ppg migrate --live) running in --dir to
cut over: stop your application's writes first. The migration applies the
last changes, sets the sequences, verifies exact counts, drops its
replication slot and publication, and prints the downtime; cutover waits
for it and exits with its status (0: cut over, the target is ready).`,
		Example: `  ppg cutover --dir ./migration`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCutover(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.dir, "dir", ".", "the working folder of the running live migration")
	return cmd
}

// CutoverError is a cutover that the migration reports as failed.
type CutoverError struct{ Msg string }

func (e *CutoverError) Error() string { return "cutover failed: " + e.Msg }

// errNotRunning: no migration holds the folder's lock.
var errNotRunning = errors.New("no live migration is running in this folder")

func runCutover(ctx context.Context, o *cutoverOptions) error {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	s, err := migrate.ReadState(dir)
	if err != nil {
		return err
	}
	if s == nil || s.Live == nil {
		return fmt.Errorf("%s: %w (start one with ppg migrate --live)", dir, errNotRunning)
	}
	if !running(dir) {
		return fmt.Errorf("%s: %w: run the same ppg migrate --live command there to resume it, then ppg cutover", dir, errNotRunning)
	}
	result := filepath.Join(dir, migrate.CutoverResultFile)
	_ = os.Remove(result)
	if err := os.WriteFile(filepath.Join(dir, migrate.CutoverRequestFile), []byte("cutover\n"), 0o600); err != nil {
		return fmt.Errorf("ask for cutover: %w", err)
	}
	_, _ = fmt.Fprintf(o.io.out, "Cutover asked for in %s: waiting for the migration to apply the last changes…\n", dir)
	res, err := waitCutover(ctx, dir, result)
	if err != nil {
		// Not answered: a later run must not take it for a request of
		// its own.
		_ = os.Remove(filepath.Join(dir, migrate.CutoverRequestFile))
		return err
	}
	if !res.OK {
		return &CutoverError{Msg: res.Error}
	}
	if res.Summary != nil {
		_, _ = fmt.Fprintf(o.io.out, "Done: %s.\nDowntime: %.1f s. Point your application at the target now.\n",
			words.Migrate.CutoverSummary(res.Summary), res.Summary.DowntimeSeconds)
	}
	return nil
}

// running reports whether a migration holds dir's lock.
func running(dir string) bool {
	l, err := migrate.AcquireLock(dir)
	if err != nil {
		return errors.Is(err, migrate.ErrLocked)
	}
	_ = l.Unlock()
	return false
}

// waitCutover waits for the migration's answer, or for the migration to
// stop without one.
func waitCutover(ctx context.Context, dir, result string) (*migrate.CutoverResult, error) {
	t := time.NewTicker(cutoverPoll)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(result); err == nil {
			var res migrate.CutoverResult
			if err := json.Unmarshal(b, &res); err != nil {
				return nil, fmt.Errorf("read the migration's answer: %w", err)
			}
			return &res, nil
		}
		if !running(dir) {
			// It may have answered just before it stopped.
			if _, err := os.Stat(result); err == nil {
				continue
			}
			return nil, fmt.Errorf("%s: the migration stopped before cutting over: run its ppg migrate --live command again to resume, then ppg cutover", dir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
