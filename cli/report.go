package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// JSONEvent is one line of --json output: the engine's event as it encodes
// itself, with the words the plain output would print (Message) and, for a
// failure, the next thing to do (Hint) and the exit status it leads to
// (Status). The README documents the format.
type JSONEvent struct {
	migrate.Event
	Message string `json:"message,omitempty"`
	Hint    string `json:"hint,omitempty"`
	Status  int    `json:"status,omitempty"`
	// Cutover and Env are on the finished event: what to change now, and
	// the .env lines still on retired Accelerate.
	Cutover []string             `json:"cutover,omitempty"`
	Env     []migrate.EnvFinding `json:"env_accelerate,omitempty"`
	// Blocked is on the plan event: the plan stops the migration.
	Blocked bool `json:"blocked,omitempty"`
}

// reporter prints engine events as plain lines or JSON objects. Its
// methods may be called from several goroutines.
type reporter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	enc      *json.Encoder
	flow     words.Flow
	now      func() time.Time
	lastProg time.Time
	lastPh   migrate.Phase
	lastLine string // the progress line printed last
	finished *migrate.Summary
	err      error // the first write error
	// saved is set while a state file holds this migration's progress:
	// a failure before that does not say that a run again resumes.
	saved bool
	// restarted is set when this run starts over a recorded migration:
	// until saved, the folder keeps the earlier one as it was.
	restarted bool
}

func newReporter(w io.Writer, asJSON bool, flow words.Flow) *reporter {
	return &reporter{w: w, json: asJSON, enc: json.NewEncoder(w), flow: flow, now: time.Now}
}

func (r *reporter) event(ev migrate.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Kind == migrate.Finished {
		r.finished = ev.Summary
		return // done prints it, with the cutover
	}
	if ev.Kind == migrate.StepFinished && ev.Step == migrate.StepConnectSource {
		r.saved = true // the engine has written the state file
	}
	if r.json {
		je := JSONEvent{Event: ev, Message: r.message(ev)}
		if ev.Failure != nil {
			f := r.flow.Explain(ev.Failure)
			je.Message, je.Hint, je.Status = f.Headline, r.flow.NextStep(ev.Failure, r.saved), f.Status
		}
		r.keep(r.enc.Encode(je))
		return
	}
	ts := ev.Time.Format("15:04:05")
	switch ev.Kind {
	case migrate.StepStarted:
		r.started(ts, ev)
	case migrate.Progress:
		r.progress(ts, ev.Progress)
	case migrate.Warning:
		r.printf("%s   warning: %s\n", ts, r.message(ev))
	case migrate.Info:
		r.printf("%s   %s\n", ts, r.message(ev))
	case migrate.Report:
		r.printVerify(ev.Report)
	case migrate.StepFinished:
		r.printf("%s %s: done: %s\n", ts, r.flow.Step(ev.Step), r.message(ev))
		if ev.Summary != nil && ev.Summary.Plan != nil {
			r.printPlan(ev.Summary.Plan)
		}
	case migrate.StepFailed:
		r.failed(ts, ev.Failure)
	case migrate.ToolLine, migrate.Finished, migrate.PlanReport:
		// The tools' own lines are for --json readers; the end and the
		// plan are printed by done and plan.
	}
}

// started prints a step's start, and how it starts: again, resumed.
func (r *reporter) started(ts string, ev migrate.Event) {
	verb := "started"
	switch {
	case ev.Attempt > 1:
		verb = fmt.Sprintf("try %d, where it stopped", ev.Attempt)
	case ev.Resumed && ev.Step == migrate.StepDump:
		verb = "started again (a dump always starts from the beginning)"
	case ev.Resumed:
		verb = "resumed"
	}
	r.lastPh = 0
	r.printf("%s %s: %s\n", ts, r.flow.Step(ev.Step), verb)
}

// progress prints at most one progress line a second, plus each phase
// change and each phase's end; never the same line twice.
func (r *reporter) progress(ts string, p *migrate.ProgressInfo) {
	line := progressLine(p)
	end := p.TablesDone == p.TablesTotal && p.TablesTotal > 0 && p.Phase != migrate.PhasePostData ||
		p.Phase == migrate.PhasePostData && p.EntriesDone == p.EntriesTotal
	now := r.now()
	if line == r.lastLine || now.Sub(r.lastProg) < time.Second && p.Phase == r.lastPh && !end {
		return
	}
	r.lastProg, r.lastPh, r.lastLine = now, p.Phase, line
	if p.Phase == migrate.PhaseDump || p.Phase == migrate.PhaseData {
		if p.BytesPerSecond > 0 {
			line += ", " + words.Speed(p.BytesPerSecond)
		}
		if p.SecondsLeft > 0 {
			line += ", about " + words.Duration(time.Duration(p.SecondsLeft)*time.Second) + " left"
		}
	}
	r.printf("%s   %s\n", ts, line)
}

// failed prints a step's failure: the headline, the tool's last lines and
// what to do next.
func (r *reporter) failed(ts string, err error) {
	f := r.flow.Explain(err)
	r.printf("%s %s: FAILED: %s\n", ts, f.What, f.Headline)
	if len(f.Tail) > 0 {
		r.printf("  last lines of the tool's output:\n")
		for _, l := range f.Tail[max(0, len(f.Tail)-10):] {
			r.printf("    %s\n", l)
		}
	}
	r.printf("  next: %s\n", r.flow.NextStep(err, r.saved))
}

// resuming records whether the folder holds progress that a run of the
// same command resumes: a state file, unless this run starts over.
func (r *reporter) resuming(dir string, restart bool) {
	st, err := migrate.ReadState(dir)
	r.mu.Lock()
	defer r.mu.Unlock()
	recorded := err == nil && st != nil
	r.saved, r.restarted = recorded && !restart, recorded && restart
}

// withHint is a failure whose next step the reporter knows better than the
// error alone: whether anything was saved for a run again to resume.
type withHint struct {
	err  error
	hint string
}

func (w withHint) Error() string { return w.err.Error() }
func (w withHint) Unwrap() error { return w.err }

// failure is err with the next step the run's last line names.
func (r *reporter) failure(err error) error {
	if err == nil {
		return nil
	}
	r.mu.Lock()
	saved := r.saved
	r.mu.Unlock()
	return withHint{err: err, hint: r.flow.NextStep(err, saved)}
}

// stopped says where a stopped run leaves the folder: its progress saved,
// or nothing saved yet.
func (r *reporter) stopped(dir string) {
	r.mu.Lock()
	saved, restarted := r.saved, r.restarted
	r.mu.Unlock()
	r.printf("\n%s\n", r.flow.StoppedHeadless(filepath.Join(dir, migrate.StateFileName), saved, restarted))
}

// message is the event's sentence, "" for events that have none.
func (r *reporter) message(ev migrate.Event) string {
	if line, ok := liveStatusLine(ev); ok {
		return line
	}
	switch {
	case ev.Notice != nil:
		return r.flow.Notice(ev.Notice)
	case ev.Summary != nil:
		return r.flow.Summary(ev.Step, ev.Summary)
	case ev.Progress != nil:
		return progressLine(ev.Progress)
	}
	return ""
}

// progressLine writes a dump's or restore's advance: "data: 3/8 tables,
// 42%, now public.orders".
func progressLine(p *migrate.ProgressInfo) string {
	phase := ""
	if p.Phase != migrate.PhaseDump {
		phase = words.Phase(p.Phase) + ": "
	}
	var line string
	switch {
	case p.Phase == migrate.PhasePostData:
		line = fmt.Sprintf("%s%d of %d entries", phase, p.EntriesDone, p.EntriesTotal)
	case p.Phase == migrate.PhaseSchema:
		line = phase + "restoring"
	case p.BytesTotal > 0:
		line = fmt.Sprintf("%s%d of %d tables, %s of %s of table data (%.0f%%)", phase, p.TablesDone, p.TablesTotal,
			words.Bytes(p.BytesDone), words.Bytes(p.BytesTotal), 100*float64(p.BytesDone)/float64(p.BytesTotal))
	default:
		line = fmt.Sprintf("%s%d of %d tables", phase, p.TablesDone, p.TablesTotal)
	}
	if p.Current != "" {
		line += ", now " + p.Current
	}
	return line
}

func (r *reporter) printVerify(rep *migrate.VerifyReport) {
	r.printf("  %-48s %14s %14s\n", "table", r.flow.SourceShort+" rows", r.flow.TargetShort+" rows")
	shown := 0
	for _, t := range rep.Tables {
		mark := ""
		if t.Source != t.Target {
			mark = "  <- differs"
		} else if shown >= 20 {
			continue
		}
		shown++
		r.printf("  %-48s %14d %14d%s\n", t.Name, t.Source, t.Target, mark)
	}
	if len(rep.Tables) > shown {
		r.printf("  ... and %d more tables, all matching\n", len(rep.Tables)-shown)
	}
	for _, o := range rep.Objects {
		r.printf("  %-48s %14d %14d%s\n", o.Kind, o.Source, o.Target, words.Translated(o))
	}
}

// plan prints the preflight's plan: a line an item, or one JSON object.
func (r *reporter) plan(p *migrate.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		r.keep(r.enc.Encode(JSONEvent{Event: migrate.Event{Kind: migrate.PlanReport, Time: r.now(), Plan: p}, Blocked: p.Blocked()}))
		return
	}
	r.printPlan(p)
	if p.Blocked() {
		r.printf("\nThe plan blocks the migration (✗ above): nothing was dumped or written.\n")
	} else {
		r.printf("\nNothing blocks the migration. Run the same command without --dry-run to migrate.\n")
	}
}

func (r *reporter) printPlan(p *migrate.Plan) {
	r.printf("Plan:\n")
	for _, it := range p.Items {
		r.printf("  %s %s\n", words.Mark(it.Verdict), r.flow.PlanItem(it))
	}
	if !p.TargetKnown {
		r.printf("  · the %s is checked when its key is given\n", r.flow.Target)
	}
}

// done prints the end of a verified migration: what to do next.
func (r *reporter) done(dir string, v *migrate.VerifySummary, env []migrate.EnvFinding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		ev := migrate.Event{Kind: migrate.Finished, Time: r.now(), Summary: r.finished}
		if ev.Summary == nil {
			ev.Summary = &migrate.Summary{Verified: v}
		}
		r.keep(r.enc.Encode(JSONEvent{Event: ev, Message: "migration complete and verified", Cutover: r.flow.Cutover(v, env), Env: env}))
		return
	}
	r.printf("\nMigration complete and verified.\nNext:\n")
	for _, l := range r.flow.Cutover(v, env) {
		r.printf("  - %s\n", l)
	}
	r.printf("The dump and the record of this migration stay in %s.\n", dir)
}

func (r *reporter) printf(format string, args ...any) {
	_, err := fmt.Fprintf(r.w, format, args...)
	r.keep(err)
}

// keep remembers the first write error (a closed pipe); later writes are
// attempted anyway, and the migration goes on.
func (r *reporter) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}
