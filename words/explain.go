package words

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

// Exit statuses, the same for every command (documented in the README).
const (
	StatusOK       = 0
	StatusFailure  = 1   // any other failure
	StatusUsage    = 2   // a mistake in the command line
	StatusTools    = 3   // pg_dump/pg_restore missing or too old
	StatusConnect  = 4   // a key was refused or a database unreachable
	StatusRefused  = 5   // the target was refused (not empty, or the source itself)
	StatusMismatch = 6   // verification found differences
	StatusLocked   = 7   // another migration runs in this folder
	StatusChanged  = 8   // the source was written to after the dump
	StatusStopped  = 130 // stopped by the user (Ctrl-C, SIGTERM, a closed terminal)
)

// Failure is what a front end says about an error.
type Failure struct {
	// Step is the step that failed, "" when none had started.
	Step migrate.Step
	// What names the part that failed, as a step's title: "Connect to the
	// GA database". It differs from Step's title when a step checks the
	// other side early (the target is connected with the source, before
	// the dump).
	What string
	// Headline says what happened.
	Headline string
	// Hint is the next thing to do, without final punctuation.
	Hint string
	// Reprompt is the hint for a refused key when the user can simply
	// paste another one ("" when the headline says enough).
	Reprompt string
	// Tail is the tool's last output lines, when a tool failed.
	Tail []string
	// Status is the exit status.
	Status int
	// Resumable says that running the same command again resumes.
	Resumable bool
}

// UsageError marks a mistake in the command line: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// ErrNoKey marks a key that was not given at all.
var ErrNoKey = errors.New("no key")

// SourcedError is a refused key with where it came from ("PPG_EA_DATABASE_URL",
// a key file), for a front end that cannot ask again.
type SourcedError struct {
	From string
	Side migrate.Side
	Err  error
}

func (e *SourcedError) Error() string {
	return fmt.Sprintf("%s, for the %s: %v", e.From, e.Side, e.Err)
}
func (e *SourcedError) Unwrap() error { return e.Err }

// Explain maps any error of any command to its headline, hint and exit
// status. It is the one place where errors become words.
func (f Flow) Explain(err error) Failure {
	if err == nil {
		return Failure{Status: StatusOK}
	}
	var se *migrate.StepError
	if errors.As(err, &se) {
		out := f.Explain(se.Err)
		out.Step, out.Tail, out.Resumable = se.Step, se.Tail, se.Resumable && f.Resumable
		out.What = f.Step(se.Step)
		var ce *migrate.ConnectError
		if se.Step == migrate.StepConnectSource && errors.As(se.Err, &ce) && ce.Side == migrate.Target {
			out.What = f.Step(migrate.StepConnectTarget)
		}
		if out.Hint == "" {
			if out.Resumable {
				out.Hint = "run " + f.Command + " again to resume from this step"
			} else {
				out.Hint = "fix the cause, then run the command again"
			}
		}
		return out
	}
	var src *SourcedError
	if errors.As(err, &src) {
		out := f.Explain(src.Err)
		out.Headline = fmt.Sprintf("%s, for the %s: %s", src.From, f.Side(src.Side), out.Headline)
		if out.Status == StatusFailure {
			out.Status = StatusConnect
		}
		return out
	}
	var fm *migrate.FlowMismatchError
	if errors.As(err, &fm) {
		return f.flowMismatch(fm)
	}
	out := Failure{Headline: err.Error(), Status: StatusFailure}
	var (
		ue  UsageError
		nf  *pgtools.NotFoundError
		dwn *pgtools.DowngradeError
		he  *tunnel.HandshakeError
		un  *tunnel.UnreachableError
		ke  *tunnel.KeyError
		ce  *migrate.ConnectError
		kc  *migrate.KeyChangedError
		tr  *migrate.TargetRefusedError
		fe  *migrate.FileExistsError
		ds  *migrate.DiskSpaceError
		dc  *migrate.DumpChangedError
		re  *migrate.ResetError
		rd  *migrate.ReadDumpError
		sc  *migrate.SourceChangedError
		pe  *migrate.PlanError
		cl  *migrate.ConnectionLostError
		st  *migrate.StalledError
		df  *migrate.DiskFullError
		ve  *migrate.VerifyError
		le  *migrate.LockedError
		ee  *migrate.EntriesError
	)
	again := f.Command + " again"
	switch {
	case errors.Is(err, context.Canceled):
		out.Headline, out.Status = "stopped", StatusStopped
	case errors.As(err, &ue):
		out.Hint, out.Status = "run 'ppg --help' for usage", StatusUsage
	case errors.As(err, &le):
		out.Headline = fmt.Sprintf("another ppg migration is running in this folder (%s)", le.Dir)
		out.Hint, out.Status = "wait for it to finish, or stop it, then run ppg again", StatusLocked
	case errors.Is(err, migrate.ErrDeclined):
		out.Headline = "stopped at your request: nothing was changed"
	case errors.As(err, &nf):
		// The error says how to install the tools; the hint says it, once.
		out.Headline = strings.Replace(out.Headline, "; "+nf.Hint(), "", 1)
		out.Hint, out.Status = nf.Hint()+"; then run "+again, StatusTools
	case errors.Is(err, pgtools.ErrNotFound):
		// Finder.Find's error for a --pg-bin folder without the tools.
		hint := (&pgtools.NotFoundError{MinMajor: pgtools.RecommendedMajor, GOOS: runtime.GOOS}).Hint()
		out.Hint, out.Status = hint+"; then run "+again, StatusTools
	case errors.As(err, &ve):
		names := make([]string, len(ve.Mismatches))
		for i, m := range ve.Mismatches {
			names[i] = f.Mismatch(m)
		}
		out.Headline = fmt.Sprintf("the %s differs from the dump in %s: %s", f.Target,
			Plural(int64(len(ve.Mismatches)), "place", "places"), strings.Join(first(names, 10), "; "))
		out.Hint = "nothing was deleted; inspect the " + f.Target + ", then run " + f.Command + " --restart to migrate again into an empty " + f.Target
		if !f.Resumable {
			out.Hint = "nothing was deleted; inspect the " + f.Target + ", then restore again into an empty database"
		}
		out.Status = StatusMismatch
	case errors.As(err, &kc):
		out.Headline = fmt.Sprintf("this is not the key of the %s this migration started with", f.Side(kc.Side))
		out.Hint, out.Status = "paste the same key as before, or start over with --restart", StatusConnect
		out.Reprompt = out.Hint
	case errors.As(err, &tr):
		out.Status = StatusRefused
		switch {
		case tr.Reason == migrate.RefuseIsSource && tr.SameKey:
			out.Headline = fmt.Sprintf("the %s was refused: this is the %s's key; the %s must be another database", f.Target, f.Source, f.Target)
			out.Hint = "paste the key of the new " + f.Target
			out.Reprompt = out.Hint
		case tr.Reason == migrate.RefuseIsSource:
			out.Headline = fmt.Sprintf("the %s was refused: it is the %s itself", f.Target, f.Source)
			out.Hint = "run again and paste the key of the new " + f.Target
		default:
			out.Headline = fmt.Sprintf("the %s was refused: it is not empty, and restoring into it was not confirmed", f.Target)
			out.Hint = "use an empty " + f.Target + ", or confirm (headless: --allow-non-empty-target); after a --restart, --reset-target empties a target the earlier run restored into; nothing was changed"
			out.Reprompt = "paste the key of an empty database, or type yes to restore into this one"
		}
	case errors.As(err, &dwn):
		out.Hint = fmt.Sprintf("restore into a PostgreSQL server at least as new as the %s (Prisma Postgres GA runs 17)", f.Source)
		out.Status = StatusRefused
	case errors.As(err, &he) && he.Status >= 500:
		// The gateway itself is down or overloaded: the key is not at fault.
		out.Headline = f.connectHeadline(err)
		out.Hint, out.Status = "Prisma's gateway is unavailable; wait a few minutes, then run "+again, StatusConnect
	case errors.As(err, &he), errors.As(err, &ke):
		out.Headline = f.connectHeadline(err)
		out.Hint, out.Status = "check the key, then run "+again, StatusConnect
	case errors.As(err, &ce):
		out.Headline = f.connectHeadline(err)
		out.Hint, out.Status = "check the key or URL and the network, then run "+again, StatusConnect
		if ce.Auth {
			out.Hint = "check the user name and password in the URL (copy the URL again from the Prisma Console), then run " + again
			out.Reprompt = "check the user name and password in the URL (copy the URL again from the Prisma Console)"
		}
	case errors.As(err, &un), errors.Is(err, ErrNoKey):
		out.Status = StatusConnect
	case errors.As(err, &fe) && fe.Migration:
		out.Hint = "move it elsewhere, then run " + again + "; ppg never overwrites a dump it did not write"
	case errors.As(err, &fe):
		out.Hint = "choose another file name with -o; ppg never overwrites a dump"
	case errors.As(err, &ds):
		out.Headline = fmt.Sprintf("not enough free disk space in %s: %s free, and the dump of the %s takes at least %s", ds.Dir, Bytes(ds.Free), f.Source, Bytes(ds.Need))
		if ds.Known {
			out.Headline = fmt.Sprintf("not enough free disk space in %s: %s free, and the earlier dump of the %s took %s", ds.Dir, Bytes(ds.Free), f.Source, Bytes(ds.Need))
		}
		out.Hint = "free some space, or run " + f.Command + " from a folder on a larger disk"
	case errors.As(err, &dc):
		out.Hint = "run " + again + " to dump again"
	case errors.As(err, &re):
		out.Headline = fmt.Sprintf("the schema restore into the non-empty %s was interrupted, and ppg cannot tell its objects from yours", f.Target)
		out.Hint = "remove what the interrupted restore created, or drop and re-create the " + f.Target + ", then run " + f.Command + " --restart"
	case errors.As(err, &rd):
		out.Hint = "check the file name"
	case errors.As(err, &pe):
		var blocks []string
		for _, it := range pe.Plan.Items {
			if it.Verdict == migrate.VerdictBlocks {
				blocks = append(blocks, f.PlanItem(it))
			}
		}
		out.Headline = "the preflight check found what would make the migration fail: " + strings.Join(blocks, "; ")
		out.Hint = "fix what it names (nothing was dumped or written), then run " + again
		out.Status = StatusRefused
	case errors.As(err, &sc):
		out.Headline, out.Hint = f.sourceChanged(sc)
		out.Status = StatusChanged
	case errors.As(err, &cl):
		link := "the connection to the " + f.Side(cl.Side)
		if cl.Tunnel {
			link = "the tunnel's connection to the " + f.Side(cl.Side) + " (through Prisma's gateway)"
		}
		out.Headline = fmt.Sprintf("%s was lost; %s said: %s", link, cl.Tool, cl.Cause)
		out.Hint = "check the network, then run " + again + ": it resumes where it stopped"
		out.Status = StatusConnect
	case errors.As(err, &st):
		out.Headline = fmt.Sprintf("the connection stalled: %s moved no data for %s, so ppg stopped it", st.Tool, st.After.Round(time.Second))
		out.Hint = "check the network, then run " + again + ": it resumes where it stopped"
		out.Status = StatusConnect
	case errors.As(err, &ee):
		out.Headline = fmt.Sprintf("the %s refused %s of the restore's %s: %s", f.Target,
			Plural(int64(len(ee.Failures)), "entry", "entries"), Phase(sectionPhase(ee.Section)), strings.Join(first(ee.Failures, 5), "; "))
		if len(ee.Failures) > 5 {
			out.Headline += fmt.Sprintf("; and %d more", len(ee.Failures)-5)
		}
		out.Hint = "everything else of it was restored; fix what the " + f.Target + " refused, then run " + again
	case errors.As(err, &df):
		out.Headline = fmt.Sprintf("the disk of %s is full (%s); the unfinished dump file was removed", df.Dir, df.Cause)
		out.Hint = "free some disk space there (or use a folder on a larger disk), then run " + again
	}
	return out
}

// connectHeadline names the database that could not be reached: "connect
// to the EA database: …".
func (f Flow) connectHeadline(err error) string {
	var ce *migrate.ConnectError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	if ce.Auth {
		return fmt.Sprintf("connect to the %s: the password in the URL was refused", f.Side(ce.Side))
	}
	return fmt.Sprintf("connect to the %s: %v", f.Side(ce.Side), ce.Err)
}

// sectionPhase is the phase that restores a section.
func sectionPhase(sec string) migrate.Phase {
	switch sec {
	case "pre-data":
		return migrate.PhaseSchema
	case "data":
		return migrate.PhaseData
	}
	return migrate.PhasePostData
}
