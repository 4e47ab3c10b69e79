package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/words"
)

var at = time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)

// events is a short migration as the engine reports it.
func events() []migrate.Event {
	tools := pgtools.Toolset{
		Dump:    pgtools.Tool{Name: "pg_dump", Path: "/opt/pg/bin/pg_dump", Version: pgtools.Version{Major: 17, Minor: 11}},
		Restore: pgtools.Tool{Name: "pg_restore", Path: "/opt/pg/bin/pg_restore", Version: pgtools.Version{Major: 17, Minor: 11}},
	}
	return []migrate.Event{
		{Kind: migrate.StepStarted, Step: migrate.StepCheckTools, Time: at},
		{Kind: migrate.StepFinished, Step: migrate.StepCheckTools, Time: at, Summary: &migrate.Summary{Tools: &tools}},
		{Kind: migrate.StepStarted, Step: migrate.StepDump, Time: at, Resumed: true},
		{Kind: migrate.Warning, Step: migrate.StepDump, Time: at, Notice: &migrate.Notice{Code: migrate.NoticeSourceWritten, Count: 1}},
		{Kind: migrate.Progress, Step: migrate.StepDump, Time: at, Progress: &migrate.ProgressInfo{Phase: migrate.PhaseDump, TablesDone: 3, TablesTotal: 8, BytesDone: 50, BytesTotal: 100, Current: "public.orders"}},
		{Kind: migrate.Info, Step: migrate.StepRestore, Time: at, Notice: &migrate.Notice{Code: migrate.NoticePostDataResumed, Count: 12, Of: 3}},
		{Kind: migrate.Report, Step: migrate.StepVerify, Time: at, Report: &migrate.VerifyReport{
			Tables:  []migrate.TableCheck{{Name: "public.a", Source: 10, Target: 10}, {Name: "public.b", Source: 5, Target: 4}},
			Objects: []migrate.ObjectCheck{{Kind: "tables", Source: 2, Target: 2}},
		}},
		{Kind: migrate.StepFailed, Step: migrate.StepVerify, Time: at, Failure: &migrate.StepError{
			Step: migrate.StepVerify, Err: &migrate.VerifyError{Mismatches: []migrate.Mismatch{{Kind: "table", Name: "public.b", Source: 5, Target: 4}}},
			Cause: "the target differs", NeedsRestart: true,
		}},
	}
}

func TestReporterPlain(t *testing.T) {
	var out bytes.Buffer
	r := newReporter(&out, false, words.FromEA)
	for _, ev := range events() {
		r.event(ev)
	}
	for _, want := range []string{
		"10:30:00 Check pg_dump and pg_restore: done: pg_dump 17.11 (/opt/pg/bin/pg_dump) and pg_restore 17.11 (/opt/pg/bin/pg_restore)\n",
		"10:30:00 Dump the EA database: started again (a dump always starts from the beginning)\n",
		"warning: 1 row was inserted, updated or deleted after the dump's snapshot",
		"10:30:00   3 of 8 tables, 50 B of 100 B of table data (50%), now public.orders\n",
		"resuming indexes and constraints: 12 already created, 3 to create\n",
		"EA rows        GA rows",
		"public.b                                                      5              4  <- differs",
		"Verify the GA database: FAILED: the GA database differs from the dump in 1 place: table public.b: 5 on the EA database, 4 on the GA database\n",
		"  next: nothing was deleted; inspect the GA database, then run ppg migrate-from-ea --restart",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if r.err != nil {
		t.Errorf("write error %v", r.err)
	}
}

func TestReporterJSON(t *testing.T) {
	var out bytes.Buffer
	r := newReporter(&out, true, words.Migrate)
	for _, ev := range events() {
		r.event(ev)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(events()) {
		t.Fatalf("%d lines for %d events:\n%s", len(lines), len(events()), out.String())
	}
	var got []JSONEvent
	for _, l := range lines {
		var je JSONEvent
		if err := json.Unmarshal([]byte(l), &je); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, je)
	}
	if got[0].Kind != migrate.StepStarted || got[0].Step != migrate.StepCheckTools || !got[0].Time.Equal(at) {
		t.Errorf("first event %+v", got[0])
	}
	if s := got[1].Summary; s == nil || s.Tools == nil || s.Tools.Dump.Version.Major != 17 || s.Tools.Restore.Path != "/opt/pg/bin/pg_restore" {
		t.Errorf("tools summary %+v", got[1].Summary)
	}
	if !got[2].Resumed {
		t.Error("resumed lost")
	}
	if n := got[3].Notice; n == nil || n.Code != migrate.NoticeSourceWritten || n.Count != 1 || !strings.Contains(got[3].Message, "1 row was") {
		t.Errorf("notice %+v, message %q", got[3].Notice, got[3].Message)
	}
	if p := got[4].Progress; p == nil || p.Phase != migrate.PhaseDump || p.BytesDone != 50 || p.Current != "public.orders" {
		t.Errorf("progress %+v", got[4].Progress)
	}
	if !strings.Contains(lines[4], `"phase":"dump"`) || !strings.Contains(lines[0], `"kind":"step_started"`) {
		t.Errorf("kinds and phases are not written as names: %s / %s", lines[0], lines[4])
	}
	if rep := got[6].Report; rep == nil || len(rep.Tables) != 2 || rep.Tables[1].Target != 4 {
		t.Errorf("report %+v", got[6].Report)
	}
	f := got[7]
	if f.Failure == nil || !f.Failure.NeedsRestart || f.Status != words.StatusMismatch ||
		!strings.Contains(f.Message, "the target database differs") || !strings.Contains(f.Hint, "ppg migrate --restart") {
		t.Errorf("failure %+v, message %q, hint %q, status %d", f.Failure, f.Message, f.Hint, f.Status)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestReporterKeepsWriteErrors(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		r := newReporter(failWriter{}, asJSON, words.FromEA)
		for _, ev := range events() {
			r.event(ev)
		}
		if r.err == nil {
			t.Errorf("json=%v: a failed write was not kept", asJSON)
		}
	}
}
