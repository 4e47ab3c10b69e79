package migrate

import (
	"testing"
	"time"
)

func TestPace(t *testing.T) {
	var p pace
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const total = 1000 << 20
	// 10 MB/s, steadily.
	for s := 0; s <= 30; s++ {
		p.Add(t0.Add(time.Duration(s)*time.Second), int64(s)*10<<20)
		left, ok := p.Left(t0.Add(time.Duration(s)*time.Second), total)
		if s < 10 && ok {
			t.Fatalf("at %ds (%d%% done) a time left is given before the pace is steady", s, s)
		}
		if s >= 10 {
			want := time.Duration(100-s) * time.Second
			if !ok || left < want/2 || left > want*3/2 {
				t.Fatalf("at %ds: left %s (ok %v), want about %s", s, left, ok, want)
			}
		}
	}
	if sp := p.Speed(); sp < 9<<20 || sp > 11<<20 {
		t.Errorf("speed %.0f, want 10 MiB/s", sp)
	}
	p.Reset(t0.Add(time.Hour), 0)
	if _, ok := p.Left(t0.Add(time.Hour), total); ok || p.Speed() != 0 {
		t.Error("a reset pace still knows its speed")
	}
}

// TestPacerSetsTheFacts: the engine's Progress events carry the speed and
// the time left, for every front end.
func TestPacerSetsTheFacts(t *testing.T) {
	var p pacer
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	const total = 1000 << 20
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	progress := func(s int, ph Phase, done int64) *ProgressInfo {
		ev := Event{Kind: Progress, Time: at(s), Progress: &ProgressInfo{Phase: ph, BytesDone: done, BytesTotal: total}}
		orig := ev.Progress
		p.observe(&ev)
		if orig.BytesPerSecond != 0 || orig.SecondsLeft != 0 {
			t.Fatal("observe changed the event's ProgressInfo in place")
		}
		return ev.Progress
	}
	p.observe(&Event{Kind: StepStarted, Step: StepDump, Time: at(0)})
	var last *ProgressInfo
	for s := 0; s <= 30; s++ {
		last = progress(s, PhaseDump, int64(s)*10<<20)
		if s < 10 && last.SecondsLeft != 0 {
			t.Fatalf("at %ds a time left (%ds) before the pace is steady", s, last.SecondsLeft)
		}
	}
	if sp := last.BytesPerSecond; sp < 9<<20 || sp > 11<<20 {
		t.Errorf("speed %.0f, want 10 MiB/s", sp)
	}
	if l := last.SecondsLeft; l < 60 || l > 80 {
		t.Errorf("%ds left, want about 70", l)
	}
	// The dump starts again from nothing: the pace too.
	if again := progress(31, PhaseDump, 1<<20); again.BytesPerSecond != 0 || again.SecondsLeft != 0 {
		t.Errorf("a dump started again keeps its pace: %+v", again)
	}
	// A resumed restore's data phase starts part done; its schema phase
	// and its post-data phase carry no pace.
	p.observe(&Event{Kind: StepStarted, Step: StepRestore, Time: at(100)})
	if pr := progress(100, PhaseSchema, 0); pr.BytesPerSecond != 0 {
		t.Errorf("the schema phase has a speed: %+v", pr)
	}
	for s := 101; s <= 120; s++ {
		last = progress(s, PhaseData, 500<<20+int64(s-101)*20<<20)
	}
	if l := last.SecondsLeft; l < 1 || l > 10 {
		t.Errorf("a resumed data phase: %ds left, want about 6 (its own pace, not the resumed bytes')", l)
	}
	if pr := progress(121, PhasePostData, 0); pr.BytesPerSecond != 0 || pr.SecondsLeft != 0 {
		t.Errorf("the post-data phase has a pace: %+v", pr)
	}
}
