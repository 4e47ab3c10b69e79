package migrate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// The file a tool writes keeps the stall timer from firing while it grows,
// and only then: a table's rows that the server has sent may still be
// crossing a slow link, with nothing to see on the server.
func TestWatchCountsAGrowingFileAsMoving(t *testing.T) {
	e := New(Config{StallTimeout: 300 * time.Millisecond}, nil)
	quiet := func(ctx context.Context, _ func()) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
			return nil
		}
	}

	var size atomic.Int64
	grow := func() int64 { return size.Add(1) }
	if err := e.watch(t.Context(), nil, "app", "pg_dump", nil, grow, quiet); err != nil {
		t.Errorf("a tool whose file grows was stopped: %v", err)
	}

	still := func() int64 { return 42 }
	var st *StalledError
	if err := e.watch(t.Context(), nil, "app", "pg_dump", nil, still, quiet); !errors.As(err, &st) {
		t.Errorf("a tool whose file stays the same: %v, want a *StalledError", err)
	}
}
