package words

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

var update = flag.Bool("update", false, "rewrite the sentence goldens in testdata/sentences")

// The flows with a golden each: every sentence the flow can print.
var goldenFlows = []struct {
	name string
	flow Flow
}{
	{"migrate-from-ea", FromEA}, {"migrate", Migrate}, {"backup", Backup}, {"restore", Restore}, {"tunnel", Tunnel},
}

// TestSentenceGoldens lists every sentence of each flow, with
// representative facts, in testdata/sentences/<flow>.golden: a change of
// wording is a reviewed diff. Refresh with go test ./words/ -update.
func TestSentenceGoldens(t *testing.T) {
	// Dates print in local time: fix it.
	local := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = local })
	for _, g := range goldenFlows {
		t.Run(g.name, func(t *testing.T) {
			got := catalogue(g.flow)
			path := filepath.Join("testdata", "sentences", g.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./words/ -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("the sentences of %s changed; if that is meant, run go test ./words/ -update and review the diff:\n%s",
					g.name, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// catalogue writes every sentence of f, section by section.
func catalogue(f Flow) string {
	var b strings.Builder
	section := func(name string, lines []string) {
		fmt.Fprintf(&b, "## %s\n\n", name)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	section("steps", stepLines(f))
	section("notices", noticeLines(f))
	section("harmless errors", harmlessLines(f))
	section("failures", failureLines(f))
	section("preflight checks", planLines(f))
	section("summaries", summaryLines(f))
	section("mismatches", mismatchLines(f))
	section("cutover", f.Cutover(sampleVerified(), []migrate.EnvFinding{{Path: ".env", Line: 3, Name: "DATABASE_URL"}}))
	section("install", installLines())
	section("live", liveLines(f))
	section("live choice", liveOfferLines(f))
	return b.String()
}

func stepLines(f Flow) []string {
	var out []string
	for _, st := range []migrate.Step{migrate.StepCheckTools, migrate.StepConnectSource, migrate.StepDump, migrate.StepCheckArchive,
		migrate.StepConnectTarget, migrate.StepRestore, migrate.StepVerify, migrate.StepDone} {
		out = append(out, fmt.Sprintf("step %s: %s", st, f.Step(st)))
	}
	for _, p := range []migrate.Phase{migrate.PhaseDump, migrate.PhaseSchema, migrate.PhaseData, migrate.PhasePostData, migrate.PhaseAnalyze, migrate.PhaseVerify} {
		out = append(out, fmt.Sprintf("phase %s: %s", p, Phase(p)))
	}
	return out
}

// sampleNotices are representative notices of every code.
func sampleNotices() []migrate.Notice {
	changed := &migrate.DumpChangedError{Path: "ppg-dump/app.dump", How: migrate.DumpModified}
	lost := &migrate.ConnectionLostError{Tool: "pg_restore", Side: migrate.Target, Tunnel: true, Cause: "server closed the connection unexpectedly"}
	return append([]migrate.Notice{
		{Code: migrate.NoticeStartingOver, Path: "ppg-dump/app.dump"},
		{Code: migrate.NoticeDumpChanged, Path: changed.Path, Err: changed, Cause: changed.Error()},
		{Code: migrate.NoticeWritesNotMigrated},
		{Code: migrate.NoticeNoSharedSnapshot, Cause: "ERROR: cannot export a snapshot from a standby"},
		{Code: migrate.NoticeSnapshotRefused},
		{Code: migrate.NoticeSourceWritten, Count: 1},
		{Code: migrate.NoticeSourceWritten, Count: 42},
		{Code: migrate.NoticeHarmlessError, Cause: `extension "plpgsql" already exists`, Harmless: migrate.HarmlessResumed},
		{Code: migrate.NoticeRestoreNote, Note: pgtools.NoteTransactionTimeout, Count: 17, Of: 16},
		{Code: migrate.NoticeRestoreNote, Note: pgtools.TargetNote(99)},
		{Code: migrate.NoticeTargetReset},
		{Code: migrate.NoticeDataResumed, Count: 80, Of: 230},
		{Code: migrate.NoticeTablesEmptied, Names: []string{"public.orders", "public.line_items"}},
		{Code: migrate.NoticePostDataResumed, Count: 12, Of: 30},
		{Code: migrate.NoticeNoManifest, Path: "/home/me/backups/app.dump.manifest.json"},
		{Code: migrate.NoticeLargeObjectsReloaded, Count: 3},
		{Code: migrate.NoticeSourceChanged, Count: 2, Names: []string{"public.orders", "public.users"}},
		{Code: migrate.NoticeChangesUnknown},
		{Code: migrate.NoticeRedumping},
		{Code: migrate.NoticeDumpingAgain},
		{Code: migrate.NoticeLowDiskSpace, Path: "/home/me/shop", Count: 2_000_000_000, Of: 3_500_000_000},
		{Code: migrate.NoticeRetrying, Count: 1, Of: 3, Err: lost, Cause: lost.Error()},
		{Code: migrate.NoticeDeadlockRetry, Count: 2, Of: 3},
		{Code: migrate.NoticeNoPipeline, Cause: "pgtools: script: entry 12 holds a psql command"},
		{Code: migrate.NoticeSlowConnect, Side: migrate.Target, Count: 30},
		{Code: migrate.NoticeRowSecurityBypassed, Count: 2, Names: []string{"shop.orders", "shop.invoices"}},
		{Code: migrate.NoticeTranslated(pgtools.ChangeVirtualToStored), Count: 1, Names: []string{"shop.items.total"}},
		{Code: migrate.NoticeTranslated(pgtools.ChangeNotNullNoInherit), Count: 1, Names: []string{"public.parents.code"}},
		{Code: migrate.NoticeTranslated(pgtools.ChangeNotNullNotValid), Count: 1, Names: []string{"public.profiles.profiles_nickname_nn"}},
		{Code: migrate.NoticeTranslated(pgtools.ChangeNotNullNamed), Count: 1, Names: []string{"public.users.users_email_required"}},
		{Code: migrate.NoticeTranslated(pgtools.ChangeTemporalToExclusion), Count: 1, Names: []string{"public.rooms.rooms_pk"}},
		{Code: migrate.NoticeTranslated("from_a_newer_engine"), Count: 1, Names: []string{"public.t.c"}},
		{Code: "from_a_newer_engine", Cause: "raw text that must not print"},
	}, liveSampleNotices()...)
}

func noticeLines(f Flow) []string {
	var out []string
	for _, n := range sampleNotices() {
		out = append(out, fmt.Sprintf("%s: %s", n.Code, f.Notice(&n)))
	}
	return out
}

func harmlessLines(f Flow) []string {
	var out []string
	for _, r := range []migrate.HarmlessReason{migrate.HarmlessTransactionTimeout, migrate.HarmlessExtensionComment,
		migrate.HarmlessPublicSchema, migrate.HarmlessResumed} {
		out = append(out, fmt.Sprintf("%s: %s", r, f.Harmless(r)))
	}
	return out
}

func installLines() []string {
	var out []string
	for _, goos := range []string{"darwin", "linux", "windows", "freebsd"} {
		out = append(out, fmt.Sprintf("%s: %s", goos, Install(goos, 17)))
	}
	return out
}

func failureLines(f Flow) []string {
	var out []string
	for _, e := range sampleErrors() {
		x := f.Explain(e.err)
		line := fmt.Sprintf("%s [%s, exit %d]\n  headline: %s\n  hint: %s", e.name, x.Class, x.Status, x.Headline, x.Hint)
		if x.What != "" {
			line += "\n  what: " + x.What
		}
		if x.Reprompt != "" {
			line += "\n  reprompt: " + x.Reprompt
		}
		out = append(out, line)
	}
	return out
}

type namedError struct {
	name string
	err  error
}

// sampleErrors are representative errors of every family.
func sampleErrors() []namedError {
	step := func(st migrate.Step, err error) error {
		return &migrate.StepError{Step: st, Err: err, Cause: err.Error(), Resumable: true}
	}
	out := []namedError{
		{"usage", UsageError{Err: errors.New("unknown flag: --x")}},
		{"stopped", fmt.Errorf("dump: %w", context.Canceled)},
		{"locked", &migrate.LockedError{Dir: "/home/me/shop"}},
		{"declined", step(migrate.StepConnectSource, migrate.ErrDeclined)},
		{"state file of another version", fmt.Errorf("read state ppg-state.json: %w 3 (this ppg reads version 2)", migrate.ErrStateVersion)},
		{"damaged state file", fmt.Errorf("read state ppg-state.json: %w (no salt or steps)", migrate.ErrStateDamaged)},
		{"no key", fmt.Errorf("%w for the source", ErrNoKey)},
		{"not a key", &tunnel.KeyError{Problem: "this is not an API key", Hint: "paste the API key, or the whole DATABASE_URL value"}},
		{"no key found", &tunnel.KeyError{Problem: "no API key found",
			Hint: "set PDP_API_KEY or DATABASE_URL (prisma+postgres://...?api_key=...) in the environment or in a .env file in this folder"}},
		{"bad key in .env", fmt.Errorf("DATABASE_URL in .env: %w", &tunnel.KeyError{Problem: "the prisma+postgres:// URL has no api_key parameter",
			Hint: "copy the whole URL from the Prisma Console or your .env (it ends in ?api_key=...)"})},
		{"key from the environment refused", &SourcedError{From: "PPG_GA_DATABASE_URL", Side: migrate.Target, Err: &tunnel.KeyError{Problem: "this is not an API key"}}},
		{"key changed", step(migrate.StepConnectSource, &migrate.KeyChangedError{Side: migrate.Source})},
		{"something else", step(migrate.StepDump, errors.New("pg_dump: error: query failed: ERROR: permission denied for table secrets"))},
		{"not resumable", &migrate.StepError{Step: migrate.StepVerify, Err: errors.New("read the manifest: unexpected end of JSON input")}},
	}
	out = append(out, connectErrors(step)...)
	out = append(out, toolErrors(step)...)
	out = append(out, targetErrors(step)...)
	return append(out, runErrors(step)...)
}

func connectErrors(step func(migrate.Step, error) error) []namedError {
	lost := &migrate.ConnectionLostError{Tool: "pg_restore", Side: migrate.Target, Tunnel: true,
		Cause: `pg_restore: error: connection to server at "127.0.0.1", port 5433 failed: FATAL:  ppg tunnel: the gateway refused the connection (HTTP 503 Service Unavailable) (request id r-1)`}
	return []namedError{
		{"gateway unavailable", step(migrate.StepRestore, lost)},
		{"key rejected (401)", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Source, Err: &tunnel.HandshakeError{Status: 401, RequestID: "r-2"}})},
		{"key without a database (410)", step(migrate.StepConnectTarget, &migrate.ConnectError{Side: migrate.Target, Err: &tunnel.HandshakeError{Status: 410}})},
		{"gateway forbids (403)", step(migrate.StepConnectTarget, &migrate.ConnectError{Side: migrate.Target, Err: &tunnel.HandshakeError{Status: 403, RequestID: "r-3"}})},
		{"gateway unreachable", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Source,
			Err: &tunnel.UnreachableError{Endpoint: "wss://ppg-tunnel.prisma-data.net/websocket", Err: errors.New("dial tcp: lookup ppg-tunnel.prisma-data.net: no such host")}})},
		{"database unreachable", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Source, Err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")})},
		{"password refused", step(migrate.StepConnectSource, &migrate.ConnectError{Side: migrate.Target, Auth: true, Err: errors.New("password authentication failed")})},
		{"connection lost", step(migrate.StepRestore, &migrate.ConnectionLostError{Tool: "pg_restore", Side: migrate.Target, Cause: "server closed the connection unexpectedly"})},
		{"connection lost in the tunnel", step(migrate.StepDump, &migrate.ConnectionLostError{Tool: "pg_dump", Side: migrate.Source, Tunnel: true, Cause: "SSL SYSCALL error: EOF detected"})},
		{"stalled", step(migrate.StepDump, &migrate.StalledError{Tool: "pg_dump", After: 2 * time.Minute})},
	}
}

func toolErrors(step func(migrate.Step, error) error) []namedError {
	found := []pgtools.Tool{{Name: "pg_dump", Path: "/usr/lib/postgresql/15/bin/pg_dump", Version: pgtools.Version{Major: 15, Minor: 18}}}
	return []namedError{
		{"pg_dump too old", step(migrate.StepCheckTools, &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 16, Reason: "to dump a PostgreSQL 16 server", Found: found, GOOS: "linux"})},
		{"no pg_restore", step(migrate.StepCheckArchive, &pgtools.NotFoundError{Tool: "pg_restore", MinMajor: 17, GOOS: "darwin"})},
		{"downgrade", step(migrate.StepConnectTarget, &pgtools.DowngradeError{From: 17, To: 16})},
		{"downgrade from 18", step(migrate.StepConnectTarget, &pgtools.DowngradeError{From: 18, To: 16})},
	}
}

func targetErrors(step func(migrate.Step, error) error) []namedError {
	plan := &migrate.Plan{Items: []migrate.CheckItem{
		{Code: migrate.CheckExtensions, Verdict: migrate.VerdictBlocks, Names: []string{"postgis"}},
		{Code: migrate.CheckConnections, Verdict: migrate.VerdictBlocks, Count: 1, Of: 4},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
	}}
	return []namedError{
		{"target is the source's key", step(migrate.StepConnectTarget, &migrate.TargetRefusedError{Reason: migrate.RefuseIsSource, SameKey: true})},
		{"target is the source", step(migrate.StepConnectTarget, &migrate.TargetRefusedError{Reason: migrate.RefuseIsSource})},
		{"target not empty", step(migrate.StepConnectTarget, &migrate.TargetRefusedError{Reason: migrate.RefuseNotEmpty})},
		{"preflight blocks", step(migrate.StepConnectSource, &migrate.PlanError{Plan: plan})},
		{"verification", &migrate.StepError{Step: migrate.StepVerify, NeedsRestart: true, Err: &migrate.VerifyError{Mismatches: sampleMismatches()}}},
		{"reset impossible", &migrate.StepError{Step: migrate.StepRestore, NeedsRestart: true, Err: &migrate.ResetError{}}},
	}
}

func runErrors(step func(migrate.Step, error) error) []namedError {
	failures := []string{
		`FUNCTION public.f() (entry 226): language "plperl" does not exist`,
		`TABLE public.t1 (entry 12): permission denied for schema public`,
	}
	return []namedError{
		{"dump file exists", &migrate.FileExistsError{Path: "app.dump"}},
		{"migration's dump file exists", step(migrate.StepDump, &migrate.FileExistsError{Path: "ppg-dump/app.dump", Migration: true})},
		{"disk space", step(migrate.StepDump, &migrate.DiskSpaceError{Dir: "/home/me/shop", Free: 1_000_000_000, Need: 3_000_000_000})},
		{"disk space, known", step(migrate.StepDump, &migrate.DiskSpaceError{Dir: "/home/me/shop", Free: 1_000_000_000, Need: 3_000_000_000, Known: true})},
		{"disk full", step(migrate.StepDump, &migrate.DiskFullError{Dir: "/home/me/shop", Cause: "pg_dump: error: could not write to output file: No space left on device"})},
		{"dump changed", step(migrate.StepCheckArchive, &migrate.DumpChangedError{Path: "ppg-dump/app.dump", How: migrate.DumpMissing})},
		{"dump unreadable", &migrate.ReadDumpError{Path: "app.dump", Err: errors.New("open app.dump: no such file or directory")}},
		{"source changed", step(migrate.StepVerify, &migrate.SourceChangedError{Tables: []string{"public.orders", "public.users"},
			DumpedAt: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)})},
		{"source changed during the dump", step(migrate.StepDump, &migrate.SourceChangedError{Step: migrate.StepDump, Writes: 1,
			DumpedAt: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)})},
		{"folder of another flow", &migrate.FlowMismatchError{Dir: "/home/me/shop", Flow: "ppg-ea", Running: "ppg"}},
		{"entries refused", step(migrate.StepRestore, &migrate.EntriesError{Section: "post-data", Failures: failures})},
	}
}

func planLines(f Flow) []string {
	items := []migrate.CheckItem{
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004},
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 160004, Target: 170002},
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictBlocks, Source: 170002, Target: 160004},
		{Code: migrate.CheckSwapped, Verdict: migrate.VerdictWarn},
		{Code: migrate.CheckSwapped, Verdict: migrate.VerdictWarn, Count: 3, Source: 170002},
		{Code: migrate.CheckSameDatabase, Verdict: migrate.VerdictBlocks},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictOK},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictWarn, Count: 12, Names: []string{"public", "audit"}},
		{Code: migrate.CheckTargetEmpty, Verdict: migrate.VerdictBlocks, Count: 1},
		{Code: migrate.CheckDiskSpace, Verdict: migrate.VerdictOK, Path: "/home/me/shop", Count: 50_000_000_000, Of: 3_000_000_000},
		{Code: migrate.CheckDiskSpace, Verdict: migrate.VerdictWarn, Path: "/home/me/shop", Count: 2_000_000_000, Of: 3_000_000_000},
		{Code: migrate.CheckDiskSpace, Verdict: migrate.VerdictBlocks, Path: "/home/me/shop", Count: 1_000_000_000, Of: 3_000_000_000},
		{Code: migrate.CheckExtensions, Verdict: migrate.VerdictOK},
		{Code: migrate.CheckExtensions, Verdict: migrate.VerdictBlocks, Names: []string{"postgis"}},
		{Code: migrate.CheckExtensions, Verdict: migrate.VerdictBlocks, Names: []string{"postgis", "timescaledb"}},
		{Code: migrate.CheckRoles, Verdict: migrate.VerdictOK},
		{Code: migrate.CheckRoles, Verdict: migrate.VerdictHandled, Names: []string{"public.docs docs_auditors"}, Roles: []string{"auditor"}, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckEventTriggers, Verdict: migrate.VerdictOK, Names: []string{"audit_ddl"}},
		{Code: migrate.CheckEventTriggers, Verdict: migrate.VerdictHandled, Names: []string{"audit_ddl"}, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckPublications, Verdict: migrate.VerdictHandled, Names: []string{"pub_orders"}},
		{Code: migrate.CheckLargeObjects, Verdict: migrate.VerdictOK, Count: 3},
		{Code: migrate.CheckConnections, Verdict: migrate.VerdictOK, Count: 97, Of: 4},
		{Code: migrate.CheckConnections, Verdict: migrate.VerdictHandled, Count: 3, Of: 2},
		{Code: migrate.CheckConnections, Verdict: migrate.VerdictBlocks, Count: 1},
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictOK, Source: 180004, Target: 170010},
		{Code: migrate.CheckVersions, Verdict: migrate.VerdictBlocks, Source: 180004, Target: 160009},
		{Code: migrate.CheckCompat(migrate.CompatVirtualColumn), Verdict: migrate.VerdictHandled, Names: []string{"shop.items.total"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotNullNoInherit), Verdict: migrate.VerdictHandled, Names: []string{"public.parents.code"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotNullNoInherit), Verdict: migrate.VerdictBlocks, Names: []string{"public.parents.code (inheritance children)"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotNullNotValid), Verdict: migrate.VerdictHandled, Names: []string{"public.profiles.profiles_nickname_nn"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotNullNamed), Verdict: migrate.VerdictHandled, Names: []string{"public.users.users_email_required"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotEnforced), Verdict: migrate.VerdictHandled, Names: []string{"shop.reviews.reviews_item_fk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatTemporalKey), Verdict: migrate.VerdictBlocks, Names: []string{"public.rooms.rooms_pk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatTemporalKey), Verdict: migrate.VerdictWarn, Names: []string{"public.rooms.rooms_pk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatTemporalKey), Verdict: migrate.VerdictHandled, Names: []string{"public.rooms.rooms_pk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatTemporalForeignKey), Verdict: migrate.VerdictBlocks, Names: []string{"public.bookings.bookings_room_fk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatTemporalForeignKey), Verdict: migrate.VerdictHandled, Names: []string{"public.bookings.bookings_room_fk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNewFunction), Verdict: migrate.VerdictBlocks, Names: []string{"column public.t.id (uuidv7())"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatUnicodeFast), Verdict: migrate.VerdictBlocks, Names: []string{"column public.t.name (pg_unicode_fast)"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatReturningOldNew), Verdict: migrate.VerdictBlocks, Names: []string{"function public.f()"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatNotValidPartitionedFK), Verdict: migrate.VerdictBlocks, Names: []string{"public.events.events_user_fk"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatDatabaseCollation), Verdict: migrate.VerdictHandled, Names: []string{"database app (PG_UNICODE_FAST)"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatRowSecurity), Verdict: migrate.VerdictOK, Names: []string{"shop.orders"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat(migrate.CompatRowSecurity), Verdict: migrate.VerdictWarn, Names: []string{"shop.orders"}, Source: 180004, Target: 170010, Path: "/home/me/shop/ppg-skipped.sql"},
		{Code: migrate.CheckCompat("from_a_newer_engine"), Verdict: migrate.VerdictWarn, Names: []string{"public.t"}},
		{Code: "from_a_newer_engine", Verdict: migrate.VerdictWarn},
	}
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s %s %s: %s", Mark(it.Verdict), it.Code, it.Verdict, f.PlanItem(it)))
	}
	return out
}

func sampleVerified() *migrate.VerifySummary {
	return &migrate.VerifySummary{Tables: 230, Rows: 5_100_000, Sequences: 12, LargeObjects: 3, Content: true,
		WritesDuring: 4, KeptChanges: []string{"public.orders"}, TargetVersion: 170002,
		DumpedAt: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC), SkippedFile: "/home/me/shop/ppg-skipped.sql",
		Skipped: []migrate.SkippedObject{{Desc: "POLICY", Schema: "public", Name: "docs docs_auditors", Roles: []string{"auditor"}},
			{Desc: "EVENT TRIGGER", Name: "audit_ddl", Superuser: true}}, RowSecurityBypassed: []string{"shop.orders"}}
}

func summaryLines(f Flow) []string {
	db := &migrate.Database{ServerVersion: 160004, Size: 1_200_000_000, DataBytes: 900_000_000, Tables: 230, EstimatedRows: 5_100_000}
	tools := &pgtools.Toolset{
		Dump:    pgtools.Tool{Name: "pg_dump", Path: "/usr/lib/postgresql/17/bin/pg_dump", Version: pgtools.Version{Major: 17, Minor: 2}},
		Restore: pgtools.Tool{Name: "pg_restore", Path: "/usr/lib/postgresql/17/bin/pg_restore", Version: pgtools.Version{Major: 17, Minor: 2}},
	}
	target := &migrate.Database{ServerVersion: 170002, Size: 8_000_000}
	nonEmpty := &migrate.Database{ServerVersion: 170002, Size: 9_000_000, ConfirmedNonEmpty: true}
	sums := []struct {
		st migrate.Step
		s  *migrate.Summary
	}{
		{migrate.StepCheckTools, &migrate.Summary{Tools: tools}},
		{migrate.StepConnectSource, &migrate.Summary{Database: db}},
		{migrate.StepConnectTarget, &migrate.Summary{Database: target}},
		{migrate.StepConnectTarget, &migrate.Summary{Database: nonEmpty}},
		{migrate.StepConnectTarget, &migrate.Summary{Database: target, TargetResumed: true}},
		{migrate.StepDump, &migrate.Summary{Dump: &migrate.DumpInfo{Path: "ppg-dump/app.dump", Size: 300_000_000, Tables: 230, Rows: 5_100_000, SHA256: "0123456789abcdef0123456789abcdef"}}},
		{migrate.StepCheckArchive, &migrate.Summary{Archive: &migrate.ArchiveInfo{Entries: 1200, DataEntries: 230, DumpedBy: "17.2", DumpedFrom: "16.4", Restore: tools.Restore}}},
		{migrate.StepRestore, &migrate.Summary{Restore: &migrate.RestoreSummary{Tables: 230, Jobs: 4, Warnings: 2, AnalyzeSeconds: 3.2,
			Skipped: sampleVerified().Skipped, SkippedFile: "/home/me/shop/ppg-skipped.sql"}}},
		{migrate.StepRestore, &migrate.Summary{Restore: &migrate.RestoreSummary{Tables: 230, Jobs: 4,
			Skipped:     append(sampleVerified().Skipped, migrate.SkippedObject{Desc: "FK CONSTRAINT", Schema: "shop", Name: "reviews reviews_item_fk", Downgrade: true}),
			SkippedFile: "/home/me/shop/ppg-skipped.sql"}}},
		{migrate.StepVerify, &migrate.Summary{Verified: sampleVerified()}},
		{migrate.StepVerify, &migrate.Summary{Verified: func() *migrate.VerifySummary {
			v := sampleVerified()
			v.CountedOnly = []string{"public.jobs"}
			return v
		}()}},
		{migrate.StepVerify, nil},
	}
	var out []string
	for _, s := range sums {
		out = append(out, fmt.Sprintf("%s: %s", s.st, f.Summary(s.st, s.s)))
	}
	return out
}

func sampleMismatches() []migrate.Mismatch {
	return []migrate.Mismatch{
		{Kind: migrate.MismatchTable, Name: "public.orders", Source: 18_000, Target: 17_980},
		{Kind: migrate.MismatchSequence, Name: "public.orders_id_seq", Source: 18_000, Target: 1},
		{Kind: migrate.MismatchObjects, Object: "indexes", Source: 40, Target: 38},
		{Kind: migrate.MismatchLargeObjects, Source: 3, Target: 2},
		{Kind: migrate.MismatchTableContent, Name: "public.customers", Source: 500, Target: -1},
		{Kind: migrate.MismatchLargeObjectContent, Source: 3, Target: -1},
		{Kind: "from_a_newer_engine", Source: 1, Target: 2},
	}
}

func mismatchLines(f Flow) []string {
	var out []string
	for _, m := range sampleMismatches() {
		out = append(out, fmt.Sprintf("%s: %s", m.Kind, f.Mismatch(m)))
	}
	return out
}

// TestEveryNoticeHasWords: each notice code the engine can send has its
// own sentence, and the catalogue shows an example of each.
func TestEveryNoticeHasWords(t *testing.T) {
	shown := map[migrate.NoticeCode]bool{}
	for _, n := range sampleNotices() {
		shown[n.Code] = true
	}
	unknown := FromEA.Notice(&migrate.Notice{Code: "from_a_newer_engine", Cause: "raw text"})
	if strings.Contains(unknown, "raw text") || !strings.Contains(unknown, `"from_a_newer_engine"`) {
		t.Errorf("an unknown notice reads %q: want a generic sentence with its code, not its cause", unknown)
	}
	for _, c := range migrate.NoticeCodes() {
		if !shown[c] {
			t.Errorf("the sentence goldens show no notice %s", c)
		}
		for _, g := range goldenFlows {
			n := &migrate.Notice{Code: c, Note: pgtools.NoteTransactionTimeout}
			if s := g.flow.Notice(n); strings.Contains(s, "cannot describe") || s == "" {
				t.Errorf("%s: notice %s has no words: %q", g.name, c, s)
			}
		}
	}
}
