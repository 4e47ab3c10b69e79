package pgserver

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// StartT starts a server of the given major version for a test, as Start
// does with default options, and registers Stop with t.Cleanup. When no
// binaries are found it skips the test, or fails it when the environment
// variable CI is "true", naming the missing prerequisite and the script that
// installs it. If the test failed, the server's log tail is logged at
// cleanup.
func StartT(t testing.TB, version int) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Version: version})
	if errors.Is(err, ErrNotFound) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("missing prerequisite: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("start PostgreSQL %d: %v", version, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL %d on port %d, log tail:\n%s", s.Version, s.Port, s.Logs())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return s
}
