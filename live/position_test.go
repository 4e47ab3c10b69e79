package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestStartPosition(t *testing.T) {
	if got := startPosition(100, 50); got != 100 {
		t.Errorf("target ahead: %d", got)
	}
	if got := startPosition(50, 100); got != 100 {
		t.Errorf("slot ahead: %d", got)
	}
	// A transaction whose commit record starts before the recorded end of
	// the last applied one is that one (or older); the next starts at or
	// after it.
	if !alreadyApplied(90, 100) || alreadyApplied(100, 100) || alreadyApplied(120, 100) {
		t.Error("alreadyApplied")
	}
}

func TestPosition(t *testing.T) {
	var p position
	p.applied = 100
	p.inTxn = true
	p.keepalive(500) // inside a transaction: says nothing of what is applied
	if p.caughtUp() != 100 || p.flush() != 100 {
		t.Fatalf("in a transaction: caught up %d, flush %d", p.caughtUp(), p.flush())
	}
	p.committed(200)
	if p.inTxn || p.caughtUp() != 200 || p.flush() != 200 {
		t.Fatalf("after commit: %+v", p)
	}
	p.keepalive(300)
	if p.caughtUp() != 300 || p.flush() != 300 {
		t.Fatalf("idle keepalive: caught up %d, flush %d", p.caughtUp(), p.flush())
	}
	// A streamed transaction in progress: caught up may pass it (it has
	// not committed), the flush may not (it would be lost on restart).
	p.streaming = 1
	p.keepalive(400)
	if p.caughtUp() != 400 || p.flush() != 200 {
		t.Fatalf("streamed in progress: caught up %d, flush %d", p.caughtUp(), p.flush())
	}
	p.streaming = 0
	p.committed(450)
	if p.flush() != 450 {
		t.Fatalf("after the streamed commit: flush %d", p.flush())
	}
	p.keepalive(10) // never backwards
	if p.caughtUp() != 450 {
		t.Fatalf("went backwards: %d", p.caughtUp())
	}
}

func TestLag(t *testing.T) {
	if LagBytes(100, 150) != 0 || LagBytes(150, 100) != 50 {
		t.Error("LagBytes")
	}
	now := time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)
	commit := now.Add(-4 * time.Second)
	for _, tc := range []struct {
		name                           string
		inFlight, lastCommit, lastDone time.Time
		bytes                          int64
		want                           float64
	}{
		{"nothing behind", commit, commit, now, 0, 0},
		{"applying a transaction committed 4 s ago", commit, time.Time{}, time.Time{}, 10, 4},
		{"between transactions: the last one's delay", time.Time{}, commit, commit.Add(1500 * time.Millisecond), 10, 1.5},
		{"nothing known", time.Time{}, time.Time{}, time.Time{}, 10, 0},
		{"clocks apart: never negative", now.Add(time.Second), time.Time{}, time.Time{}, 10, 0},
	} {
		if got := LagSeconds(now, tc.inFlight, tc.lastCommit, tc.lastDone, tc.bytes); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := rate(100, 400, 2*time.Second); got != 150 {
		t.Errorf("rate %v", got)
	}
	if rate(100, 50, time.Second) != 0 || rate(0, 10, 0) != 0 {
		t.Error("rate of a reset or an empty interval")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if backoff(30) != 15*time.Second {
		t.Errorf("backoff is not capped: %v", backoff(30))
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true},
		{fmt.Errorf("apply: %w", &ApplyError{Err: &pgconn.PgError{Code: "57P01"}}), true},
		{&ApplyError{Err: &pgconn.PgError{Code: "23505"}}, false},
		{&ApplyError{Err: io.ErrUnexpectedEOF}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "55006"}, true},
		{&pgconn.PgError{Code: "42704"}, false},
		{&SlotActiveError{Slot: "s", PID: 1}, true},
		{&DDLError{}, false},
		{fmt.Errorf("slot: %w", ErrSlotMissing), false},
		{io.EOF, true},
		{context.Canceled, false},
		{errors.New("receive message failed: connection reset"), true},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestSettleInterval(t *testing.T) {
	for took, want := range map[time.Duration]time.Duration{
		0:                      5 * time.Millisecond,
		time.Millisecond:       5 * time.Millisecond,
		10 * time.Millisecond:  40 * time.Millisecond,
		50 * time.Millisecond:  200 * time.Millisecond,
		300 * time.Millisecond: 250 * time.Millisecond,
	} {
		if got := settleInterval(took); got != want {
			t.Errorf("settleInterval(%v) = %v, want %v", took, got, want)
		}
	}
}
