package words

import (
	"testing"
	"time"
)

func TestPace(t *testing.T) {
	var p Pace
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
