package words

import (
	"errors"
	"fmt"

	"github.com/ppg-cli/ppg/migrate"
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

// statuses is the exit status of each class of failure: errors are
// classified first (migrate.ClassOf), then worded.
var statuses = map[migrate.Class]int{
	migrate.ClassOther:    StatusFailure,
	migrate.ClassStopped:  StatusStopped,
	migrate.ClassUsage:    StatusUsage,
	migrate.ClassTools:    StatusTools,
	migrate.ClassConnect:  StatusConnect,
	migrate.ClassGateway:  StatusConnect,
	migrate.ClassRefused:  StatusRefused,
	migrate.ClassMismatch: StatusMismatch,
	migrate.ClassLocked:   StatusLocked,
	migrate.ClassChanged:  StatusChanged,
}

// ExitStatus is the exit status of a class of failure.
func ExitStatus(c migrate.Class) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return StatusFailure
}

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
	// Class is the kind of failure; Status follows from it.
	Class migrate.Class
	// Status is the exit status.
	Status int
	// Resumable says that running the same command again resumes.
	Resumable bool
}

// UsageError marks a mistake in the command line: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Class is migrate.ClassUsage.
func (e UsageError) Class() migrate.Class { return migrate.ClassUsage }

// ErrNoKey marks a key that was not given at all.
var ErrNoKey error = noKeyError{}

type noKeyError struct{}

func (noKeyError) Error() string        { return "no key" }
func (noKeyError) Class() migrate.Class { return migrate.ClassConnect }
func (noKeyError) Is(target error) bool { return target == ErrNoKey }

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
// status. It is the one place where errors become words: the error's class
// gives the status, and the first rule of its family (rules) the words.
func (f Flow) Explain(err error) Failure {
	if err == nil {
		return Failure{Status: StatusOK}
	}
	var se *migrate.StepError
	if errors.As(err, &se) {
		return f.explainStep(se)
	}
	var src *SourcedError
	if errors.As(err, &src) {
		out := f.Explain(src.Err)
		out.Headline = fmt.Sprintf("%s, for the %s: %s", src.From, f.Side(src.Side), out.Headline)
		if out.Class == migrate.ClassOther {
			out.Class, out.Status = migrate.ClassConnect, StatusConnect
		}
		return out
	}
	class := migrate.ClassOf(err)
	out := Failure{Headline: err.Error(), Class: class, Status: ExitStatus(class)}
	for _, r := range rules {
		if r(f, err, &out) {
			break
		}
	}
	return out
}

// explainStep explains the failure of a step: its cause's words, the
// step's name, and the resume hint when the cause has none.
func (f Flow) explainStep(se *migrate.StepError) Failure {
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
