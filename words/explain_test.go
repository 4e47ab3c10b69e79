package words

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
	"github.com/ppg-cli/ppg/tunnel"
)

func TestExplainNamesThePartThatFailed(t *testing.T) {
	refused := errors.New("failed SASL auth (SQLSTATE 28P01)")
	cases := []struct {
		name     string
		err      error
		what     string
		headline string
		status   int
	}{
		{
			name:     "the source's password",
			err:      &migrate.StepError{Step: migrate.StepConnectSource, Err: &migrate.ConnectError{Side: migrate.Source, Err: refused, Auth: true}},
			what:     "Connect to the EA database",
			headline: "the password in the URL was refused",
			status:   StatusConnect,
		},
		{
			// The target is checked with the source, before the dump.
			name:     "the target's password, checked early",
			err:      &migrate.StepError{Step: migrate.StepConnectSource, Err: &migrate.ConnectError{Side: migrate.Target, Err: refused, Auth: true}},
			what:     "Connect to the GA database",
			headline: "connect to the GA database: the password in the URL was refused",
			status:   StatusConnect,
		},
		{
			name:     "a dump that failed",
			err:      &migrate.StepError{Step: migrate.StepDump, Err: errors.New("pg_dump: error: query failed"), Resumable: true},
			what:     "Dump the EA database",
			headline: "pg_dump: error: query failed",
			status:   StatusFailure,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := FromEA.Explain(c.err)
			if f.What != c.what {
				t.Errorf("What = %q, want %q", f.What, c.what)
			}
			if !strings.Contains(f.Headline, c.headline) || strings.Contains(f.Headline, "SQLSTATE") && c.status == StatusConnect {
				t.Errorf("Headline = %q, want it to contain %q (and no SQLSTATE)", f.Headline, c.headline)
			}
			if f.Status != c.status {
				t.Errorf("Status = %d, want %d", f.Status, c.status)
			}
			if f.Hint == "" {
				t.Error("no hint")
			}
		})
	}
}

func TestExplainGatewayDownIsNotTheKey(t *testing.T) {
	for _, c := range []struct {
		status         int
		headline, hint string
	}{
		{503, "Prisma's gateway is unavailable (HTTP 503 Service Unavailable)", "wait a few minutes"},
		{502, "Prisma's gateway is unavailable (HTTP 502 Bad Gateway)", "wait a few minutes"},
		{401, "the gateway rejected the API key (HTTP 401)", "check the key: copy it again from the Prisma Console"},
	} {
		err := &migrate.StepError{Step: migrate.StepRestore, Resumable: true,
			Err: &migrate.ConnectError{Side: migrate.Target, Err: &tunnel.HandshakeError{Status: c.status}}}
		f := FromEA.Explain(err)
		if !strings.HasPrefix(f.Headline, c.headline) || !strings.Contains(f.Hint, c.hint) {
			t.Errorf("HTTP %d: %q / %q, want %q / %q", c.status, f.Headline, f.Hint, c.headline, c.hint)
		}
		if f.Status != StatusConnect {
			t.Errorf("HTTP %d: status %d, want %d", c.status, f.Status, StatusConnect)
		}
		// One piece of advice: the key is to be copied again once.
		if n := strings.Count(strings.ToLower(f.Headline+" "+f.Hint), "copy"); n > 1 {
			t.Errorf("HTTP %d: the advice comes %d times: %q / %q", c.status, n, f.Headline, f.Hint)
		}
	}
}

func TestExplainEntriesErrorNamesTheEntries(t *testing.T) {
	var failures []string
	for i := 1; i <= 7; i++ {
		failures = append(failures, fmt.Sprintf("TABLE public.t%d (entry %d): permission denied", i, i))
	}
	err := &migrate.StepError{Step: migrate.StepRestore, Resumable: true,
		Err: &migrate.EntriesError{Section: "pre-data", Failures: failures}}
	f := FromEA.Explain(err)
	for _, want := range []string{"refused 7 entries", "TABLE public.t1 (entry 1): permission denied", "TABLE public.t5", "and 2 more"} {
		if !strings.Contains(f.Headline, want) {
			t.Errorf("headline %q lacks %q", f.Headline, want)
		}
	}
	if strings.Contains(f.Headline, "public.t6") {
		t.Errorf("headline %q names more than five entries", f.Headline)
	}
	if !strings.Contains(f.Hint, "everything else of it was restored") || !strings.Contains(f.Hint, "again") {
		t.Errorf("hint %q", f.Hint)
	}
	one := FromEA.Explain(&migrate.EntriesError{Section: "post-data", Failures: failures[:1]})
	if !strings.Contains(one.Headline, "refused 1 entry of") {
		t.Errorf("one failure: headline %q", one.Headline)
	}
}

// Tools too old for the server: the install advice is said once, in the
// hint, not also in the headline.
func TestExplainToolsAdviceOnce(t *testing.T) {
	nf := &pgtools.NotFoundError{Tool: "pg_dump", MinMajor: 16, Reason: "to dump a PostgreSQL 16 server", GOOS: "linux",
		Found: []pgtools.Tool{{Name: "pg_dump", Path: "/usr/lib/postgresql/15/bin/pg_dump", Version: pgtools.Version{Major: 15, Minor: 18}}}}
	f := FromEA.Explain(&migrate.StepError{Step: migrate.StepConnectSource, Err: nf, Resumable: true})
	if n := strings.Count(f.Headline+" "+f.Hint, "apt install"); n != 1 {
		t.Errorf("the install advice is given %d times, want once:\nheadline %q\nhint %q", n, f.Headline, f.Hint)
	}
	if !strings.Contains(f.Headline, "pg_dump 16 or newer not found") || !strings.Contains(f.Headline, "pg_dump 15.18") {
		t.Errorf("headline %q, want what is missing and what was found", f.Headline)
	}
	if f.Status != StatusTools {
		t.Errorf("status %d, want %d", f.Status, StatusTools)
	}
}
