package words

import (
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/migrate"
)

func TestSourceChangedWords(t *testing.T) {
	at := time.Date(2026, 12, 7, 22, 4, 57, 0, time.UTC)
	dump := &migrate.StepError{Step: migrate.StepDump, Err: &migrate.SourceChangedError{Tables: []string{"public.customers"}, Writes: 1, DumpedAt: at, Step: migrate.StepDump}}
	f := Migrate.Explain(dump)
	if f.Status != StatusChanged || !strings.Contains(f.Headline, "during the dump") || !strings.Contains(f.Headline, "public.customers") ||
		!strings.Contains(f.Headline, at.Local().Format("15:04:05")) || !strings.Contains(f.Hint, "--on-source-change=redump") {
		t.Errorf("dump: %+v", f)
	}
	rows := Migrate.Explain(&migrate.SourceChangedError{Writes: 2, DumpedAt: at, Step: migrate.StepDump})
	if !strings.Contains(rows.Headline, "2 rows written") {
		t.Errorf("rows only: %q", rows.Headline)
	}
	later := FromEA.Explain(&migrate.SourceChangedError{Tables: []string{"public.a", "public.b"}, DumpedAt: at, Step: migrate.StepVerify})
	if !strings.Contains(later.Headline, "2 tables changed (public.a, public.b)") || !strings.Contains(later.Hint, "--on-source-change=keep") {
		t.Errorf("verify: %+v", later)
	}
}

func TestVerdictAsYouChose(t *testing.T) {
	one := FromEA.Summary(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 1, Rows: 1, WritesDuring: 1}})
	if !strings.Contains(one, "as you chose, 1 row written during the dump is not migrated") {
		t.Errorf("one row: %q", one)
	}
	two := FromEA.Summary(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 1, Rows: 1, WritesDuring: 2}})
	if !strings.Contains(two, "2 rows written during the dump are not migrated") {
		t.Errorf("two rows: %q", two)
	}
	// A keep at the dump is said once, as rows during the dump, even
	// though the dump also records the tables it found written to.
	kept := FromEA.Summary(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 1, Rows: 1, WritesDuring: 3,
		KeptChanges: []string{"public.a"}, SourceChanges: []migrate.ChangeDecision{
			{Choice: migrate.ChangeKeep, Asked: true, Step: migrate.StepDump, Tables: []string{"public.a"}, Writes: 3},
		}}})
	if !strings.Contains(kept, "as you chose, 3 rows written during the dump are not migrated") || strings.Contains(kept, "writes after the dump") {
		t.Errorf("a keep at the dump: %q", kept)
	}
	flag := FromEA.Summary(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 1, Rows: 1, WritesDuring: 1,
		KeptChanges: []string{"public.a", "public.b"}, SourceChanges: []migrate.ChangeDecision{
			{Choice: migrate.ChangeKeep, Step: migrate.StepDump, Tables: []string{"public.a"}, Writes: 1},
			{Choice: migrate.ChangeKeep, Step: migrate.StepVerify, Tables: []string{"public.b"}},
		}}})
	if strings.Contains(flag, "as you chose") || !strings.Contains(flag, "as --on-source-change=keep says, 1 row written during the dump is not migrated") ||
		!strings.Contains(flag, "as --on-source-change=keep says, writes after the dump to public.b are not migrated") {
		t.Errorf("keeps by the flag: %q", flag)
	}
	none := FromEA.Summary(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 1, Rows: 1}})
	if strings.Contains(none, "as you chose") {
		t.Errorf("nobody chose: %q", none)
	}
}

func TestSourceChoices(t *testing.T) {
	at := time.Date(2026, 12, 7, 22, 4, 57, 0, time.UTC)
	v := &migrate.VerifySummary{SourceChanges: []migrate.ChangeDecision{
		{Choice: migrate.ChangeRedump, Asked: true, Step: migrate.StepDump, SnapshotAt: at},
		{Choice: migrate.ChangeKeep, Asked: true, Step: migrate.StepVerify, SnapshotAt: at},
		{Choice: migrate.ChangeRedump, Step: migrate.StepVerify, SnapshotAt: at},
	}}
	got := FromEA.SourceChoices(v)
	if len(got) != 2 || !strings.Contains(got[0], "as you chose, it was dumped again") || !strings.Contains(got[1], "--on-source-change=redump") ||
		!strings.Contains(got[1], "dumped and restored again") {
		t.Errorf("choices %q", got)
	}
	if FromEA.SourceChoices(nil) != nil {
		t.Error("no verdict, yet choices")
	}
}
