package words

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

func TestCutoverNamesSkippedObjects(t *testing.T) {
	v := &migrate.VerifySummary{TargetVersion: 170002, SkippedFile: "/work/app/ppg-skipped.sql",
		Skipped: []migrate.SkippedObject{{Desc: "POLICY", Schema: "public", Name: "docs docs_auditors", Roles: []string{"auditor"}}}}
	lines := Migrate.Cutover(v, nil)
	want := "1 object was not restored (policy public.docs docs_auditors): create the roles auditor, then run psql -f /work/app/ppg-skipped.sql."
	if len(lines) == 0 || lines[0] != want {
		t.Errorf("the first cutover line is %q, want %q", lines, want)
	}
	for _, l := range Migrate.Cutover(&migrate.VerifySummary{TargetVersion: 170002}, nil) {
		if strings.Contains(l, "not restored") {
			t.Errorf("nothing was skipped, yet the cutover says %q", l)
		}
	}
}
