package words

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

func TestCutoverNamesSkippedObjects(t *testing.T) {
	v := &migrate.VerifySummary{TargetVersion: 170002, SkippedFile: "/home/me/shop/ppg-skipped.sql",
		Skipped: []migrate.SkippedObject{{Desc: "POLICY", Schema: "public", Name: "docs docs_auditors", Roles: []string{"auditor"}}}}
	lines := Migrate.Cutover(v, nil)
	want := "1 object was not restored (policy public.docs docs_auditors): create the roles auditor, then run psql -f /home/me/shop/ppg-skipped.sql."
	if len(lines) == 0 || lines[0] != want {
		t.Errorf("the first cutover line is %q, want %q", lines, want)
	}
	for _, l := range Migrate.Cutover(&migrate.VerifySummary{TargetVersion: 170002}, nil) {
		if strings.Contains(l, "not restored") {
			t.Errorf("nothing was skipped, yet the cutover says %q", l)
		}
	}
}

func TestMismatchOfContent(t *testing.T) {
	for _, tt := range []struct {
		m    migrate.Mismatch
		want string
	}{
		{migrate.Mismatch{Kind: "table content", Name: "public.customers", Source: 500, Target: -1},
			"table public.customers: the content of its rows differs from the source database's (500 rows in the dump)"},
		{migrate.Mismatch{Kind: "large object content", Source: 2, Target: -1},
			"large objects: the content of one or more differs from the source database's (2 large objects in the dump)"},
		{migrate.Mismatch{Kind: "table", Name: "public.a", Source: 10, Target: 3},
			"table public.a: 10 on the source database, 3 on the target database"},
	} {
		if got := Migrate.Mismatch(tt.m); got != tt.want {
			t.Errorf("Mismatch(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}
