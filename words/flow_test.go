package words

import (
	"strings"
	"testing"

	"github.com/ppg-cli/ppg/migrate"
)

func TestFlowMismatchWords(t *testing.T) {
	f := FromEA.Explain(&migrate.FlowMismatchError{Dir: "/home/ada/move", Flow: "ppg", Running: "ppg-ea"})
	if f.Status != StatusUsage || !strings.Contains(f.Headline, "started by ppg migrate (copy a PostgreSQL database") ||
		!strings.Contains(f.Hint, "run ppg migrate in this folder") {
		t.Errorf("%+v", f)
	}
	g := Migrate.Explain(&migrate.FlowMismatchError{Dir: "/home/ada/move", Flow: "ppg-ea", Running: "ppg"})
	if !strings.Contains(g.Headline, "started by ppg migrate-from-ea") || !strings.Contains(g.Hint, "--restart") {
		t.Errorf("%+v", g)
	}
	u := Migrate.Explain(&migrate.FlowMismatchError{Dir: "/d", Flow: "custom", Running: "ppg"})
	if !strings.Contains(u.Headline, "custom-…") {
		t.Errorf("%+v", u)
	}
}
