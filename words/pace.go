package words

import (
	"fmt"
	"time"
)

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
