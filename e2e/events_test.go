//go:build e2e

package e2e

// The events of `ppg migrate-from-ea --json` as the tests read them: one
// type, one decoder, and the matchers that select events by kind, step and
// text. The kinds' names appear in this file only.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/cli"
	"github.com/ppg-cli/ppg/migrate"
)

// event is one line of `ppg migrate-from-ea --json`, decoded into the
// headless front end's own type (cli.JSONEvent: a migrate.Event with its
// sentence, hint and status), with the facts the tests read most named
// plainly.
type event struct {
	cli.JSONEvent
	// Kind and Step are the event's kind and step as their names.
	Kind string
	Step string
	// Text is the sentence the plain output prints.
	Text string
	// Error and Tail are a failure's cause and the tool's last lines.
	Error string
	Tail  []string
	// Verify is the verification report.
	Verify *migrate.VerifyReport
	// Arrived is when the test read the line (not part of the format).
	Arrived time.Time
}

// The kinds of event.
const (
	kindStepStarted  = "step_started"
	kindProgress     = "progress"
	kindToolLine     = "tool_line"
	kindWarning      = "warning"
	kindInfo         = "info"
	kindReport       = "report"
	kindStepFinished = "step_finished"
	kindStepFailed   = "step_failed"
	kindFinished     = "finished"
	kindPlan         = "plan"
)

var eventKinds = []string{kindStepStarted, kindProgress, kindToolLine, kindWarning, kindInfo, kindReport, kindStepFinished, kindStepFailed, kindFinished, kindPlan}

// decodeEvent decodes one output line read at arrived; ok is false for a
// line that is not an event.
func decodeEvent(line string, arrived time.Time) (ev event, ok bool) {
	if err := json.Unmarshal([]byte(line), &ev.JSONEvent); err != nil || ev.JSONEvent.Kind == 0 {
		return event{}, false
	}
	je := ev.JSONEvent
	ev.Kind, ev.Step, ev.Text, ev.Verify, ev.Arrived = je.Kind.String(), string(je.Step), je.Message, je.Report, arrived
	if f := je.Failure; f != nil {
		ev.Error, ev.Tail = f.Cause, f.Tail
	}
	return ev, true
}

// check reports what is wrong with the event's form: an unknown kind, no
// time, or no step where every event of its kind has one.
func (ev event) check() error {
	switch {
	case !slices.Contains(eventKinds, ev.Kind):
		return fmt.Errorf("unknown kind %q", ev.Kind)
	case ev.Time.IsZero():
		return fmt.Errorf("%s without a time", ev.Kind)
	case ev.Step == "" && !slices.Contains([]string{kindInfo, kindWarning, kindFinished, kindPlan}, ev.Kind):
		return fmt.Errorf("%s without a step", ev.Kind)
	}
	return nil
}

// anyStep matches events of every step.
const anyStep = ""

// eventMatch selects events; what names them in failure messages.
type eventMatch struct {
	what string
	ok   func(event) bool
}

// matches reports whether ev is one of the selected events.
func (m eventMatch) matches(ev event) bool { return m.ok(ev) }

// saying narrows m to events whose text holds every part.
func (m eventMatch) saying(parts ...string) eventMatch {
	return eventMatch{fmt.Sprintf("%s saying %q", m.what, parts), func(ev event) bool {
		if !m.ok(ev) {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(ev.Text, p) {
				return false
			}
		}
		return true
	}}
}

// eventWhere selects the events for which ok holds. A wait calls ok once
// for each event, in order, so that ok may count.
func eventWhere(what string, ok func(event) bool) eventMatch { return eventMatch{what, ok} }

func ofKind(kind, step string) eventMatch {
	what := kind
	if step != anyStep {
		what += " of " + step
	}
	return eventMatch{what, func(ev event) bool { return ev.Kind == kind && (step == anyStep || ev.Step == step) }}
}

func stepStarted(step string) eventMatch  { return ofKind(kindStepStarted, step) }
func stepFinished(step string) eventMatch { return ofKind(kindStepFinished, step) }
func stepFailed(step string) eventMatch   { return ofKind(kindStepFailed, step) }
func progressOf(step string) eventMatch   { return ofKind(kindProgress, step) }
func toolLineOf(step string) eventMatch   { return ofKind(kindToolLine, step) }
func infoOf(step string) eventMatch       { return ofKind(kindInfo, step) }
func warningOf(step string) eventMatch    { return ofKind(kindWarning, step) }

// describe prints events for failure messages: tool lines left out,
// repeated progress shown once, a failure's last tool lines.
func describe(events []event) string {
	var sb strings.Builder
	lastProgress := ""
	for _, ev := range events {
		switch ev.Kind {
		case kindToolLine:
			continue
		case kindProgress:
			s := ev.Step
			if p := ev.Progress; p != nil {
				s = fmt.Sprintf("%s %s %d/%d", ev.Step, p.Phase, p.TablesDone, p.TablesTotal)
			}
			if s != lastProgress {
				lastProgress = s
				sb.WriteString("  progress " + s + "\n")
			}
			continue
		}
		fmt.Fprintf(&sb, "  %s %s %s", ev.Time.Format("15:04:05.000"), ev.Kind, ev.Step)
		for _, s := range []string{ev.Text, ev.Error, ev.Hint} {
			if s != "" {
				sb.WriteString(" | " + s)
			}
		}
		if ev.Resumed {
			sb.WriteString(" (resumed)")
		}
		sb.WriteString("\n")
		for _, l := range ev.Tail[max(0, len(ev.Tail)-8):] {
			sb.WriteString("      " + l + "\n")
		}
	}
	return sb.String()
}
