package words

import (
	"fmt"
	"time"
)

// Pace follows how fast a dump or restore moves its bytes, for the speed
// and the time left that both front ends show. The speed is over the last
// ten seconds; the time left is the bytes to go at the average speed since
// the phase began, and only once that is steady: at least 10% of the bytes
// and 5 seconds in. The zero Pace is ready to use.
type Pace struct {
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
func (p *Pace) Reset(t time.Time, done int64) {
	p.from, p.fromBytes, p.samples = t, done, nil
}

// Add records that done bytes are done at t.
func (p *Pace) Add(t time.Time, done int64) {
	if p.from.IsZero() {
		p.Reset(t, done)
	}
	p.samples = append(p.samples, sample{t, done})
	for len(p.samples) > 2 && t.Sub(p.samples[0].at) > paceWindow {
		p.samples = p.samples[1:]
	}
}

// Speed is the bytes per second over the last ten seconds; 0 when unknown.
func (p *Pace) Speed() float64 {
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
func (p *Pace) Left(now time.Time, total int64) (time.Duration, bool) {
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

// Speed writes a speed: "12.3 MB/s".
func Speed(bytesPerSecond float64) string {
	if bytesPerSecond <= 0 {
		return ""
	}
	return Bytes(int64(bytesPerSecond)) + "/s"
}

// Duration writes d to the second: 45s, 3m05s, 1h02m.
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
