package migrate

import (
	"sync"
	"time"
)

// pace follows how fast a dump or restore moves its bytes. The speed is
// over the last ten seconds; the time left is the bytes to go at the
// average speed since the phase began, and only once that is steady: at
// least 10% of the bytes and 5 seconds in. The zero pace is ready to use.
type pace struct {
	from      time.Time
	fromBytes int64
	samples   []sample
}

type sample struct {
	at    time.Time
	bytes int64
}

const paceWindow = 10 * time.Second

// Reset starts counting again at t from done bytes (a new phase, a dump
// started again).
func (p *pace) Reset(t time.Time, done int64) {
	p.from, p.fromBytes, p.samples = t, done, nil
}

// Add records that done bytes are done at t.
func (p *pace) Add(t time.Time, done int64) {
	if p.from.IsZero() {
		p.Reset(t, done)
	}
	p.samples = append(p.samples, sample{t, done})
	for len(p.samples) > 2 && t.Sub(p.samples[0].at) > paceWindow {
		p.samples = p.samples[1:]
	}
}

// Speed is the bytes per second over the last ten seconds; 0 when unknown.
func (p *pace) Speed() float64 {
	if len(p.samples) < 2 {
		return 0
	}
	a, b := p.samples[0], p.samples[len(p.samples)-1]
	d := b.at.Sub(a.at).Seconds()
	if d < 1 || b.bytes < a.bytes {
		return 0
	}
	return float64(b.bytes-a.bytes) / d
}

// Left estimates the time to total bytes at now; ok is false until the
// pace is steady.
func (p *pace) Left(now time.Time, total int64) (time.Duration, bool) {
	if len(p.samples) == 0 || total <= 0 {
		return 0, false
	}
	last := p.samples[len(p.samples)-1]
	done, spent := last.bytes-p.fromBytes, last.at.Sub(p.from)
	if spent < 5*time.Second || done <= 0 || float64(last.bytes)/float64(total) < 0.10 || last.bytes >= total {
		return 0, false
	}
	left := time.Duration(float64(spent) * float64(total-last.bytes) / float64(done))
	// Time passed since the last sample counts against it.
	left -= now.Sub(last.at)
	return max(left, 0), true
}

// pacer sets the speed and the time left of the engine's Progress events
// (ProgressInfo.BytesPerSecond and SecondsLeft), so that every front end,
// --json included, gets the same facts. A step's start, a new phase of
// the restore and a dump that starts again from nothing start the count
// again; a restore's data phase may start part done (a resumed run).
type pacer struct {
	mu    sync.Mutex
	pace  pace
	phase Phase
	last  int64 // the bytes of the latest Progress event
}

// observe notes ev and, for a Progress event of the dump or of the data,
// sets its pace in a copy of its ProgressInfo.
func (p *pacer) observe(ev *Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case ev.Kind == StepStarted:
		p.pace.Reset(ev.Time, 0)
		p.phase, p.last = 0, 0
		return
	case ev.Kind != Progress || ev.Progress == nil:
		return
	}
	pr := *ev.Progress
	switch {
	case pr.Phase != PhaseDump && pr.Phase != p.phase:
		p.pace.Reset(ev.Time, pr.BytesDone)
	case pr.Phase == PhaseDump && pr.BytesDone < p.last:
		p.pace.Reset(ev.Time, 0) // the dump started again
	}
	p.phase, p.last = pr.Phase, pr.BytesDone
	p.pace.Add(ev.Time, pr.BytesDone)
	if pr.Phase != PhaseDump && pr.Phase != PhaseData {
		return
	}
	pr.BytesPerSecond = p.pace.Speed()
	if left, ok := p.pace.Left(ev.Time, pr.BytesTotal); ok {
		pr.SecondsLeft = max(int64(left.Round(time.Second)/time.Second), 1)
	}
	ev.Progress = &pr
}

// Paced returns emit with the engine's pace: each Progress event gets its
// speed and time left as the Engine sets them on its own events. It is for
// events that do not come from an Engine (a front end's scripted fakes).
func Paced(emit func(Event)) func(Event) {
	p := new(pacer)
	return func(ev Event) {
		p.observe(&ev)
		emit(ev)
	}
}
