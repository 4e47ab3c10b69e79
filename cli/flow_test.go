package cli

import (
	"testing"

	"github.com/ppg-cli/ppg/words"
)

// The state file records a migration's flow by its dump prefix, and words
// names the flow from it: the commands' prefixes must be the ones words
// knows.
func TestDumpPrefixesNameTheirFlows(t *testing.T) {
	for _, c := range []command{fromEA, anyPostgres} {
		if fl, ok := words.FlowOfPrefix(c.dumpPrefix); !ok || fl.Command != c.flow.Command {
			t.Errorf("dump prefix %q names %q, want %q", c.dumpPrefix, fl.Command, c.flow.Command)
		}
	}
}
