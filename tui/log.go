package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// maxLogLines bounds the lines of tool output kept in memory: a dump of
// thousands of tables prints hundreds of thousands of lines.
const maxLogLines = 1000

// logView keeps the last maxLogLines lines of a tool's output in a ring and
// shows a window of them. It renders only the visible lines, because View
// runs after every message and a viewport would re-split its whole content
// for each new line.
type logView struct {
	lines []string // ring of at most maxLogLines
	first int      // index of the oldest line in lines
	total int      // lines ever added, kept or not
	// back is how many lines the window is scrolled up from the newest;
	// 0 follows new lines as they come.
	back int
}

// add appends a line, dropping the oldest beyond maxLogLines. A window
// scrolled up stays on the lines it shows.
func (l *logView) add(line string) {
	line = clean(line)
	l.total++
	if len(l.lines) < maxLogLines {
		l.lines = append(l.lines, line)
	} else {
		l.lines[l.first] = line
		l.first = (l.first + 1) % maxLogLines
	}
	if l.back > 0 {
		l.back = min(l.back+1, len(l.lines)-1)
	}
}

func (l *logView) len() int { return len(l.lines) }

// at returns the i-th kept line, oldest first.
func (l *logView) at(i int) string { return l.lines[(l.first+i)%len(l.lines)] }

// scroll moves the window up (negative n) or down, for a window of h lines.
func (l *logView) scroll(n, h int) {
	l.back = max(0, min(l.back-n, len(l.lines)-h))
}

// follow goes back to the newest lines.
func (l *logView) follow() { l.back = 0 }

// view renders the window of h lines, each cut to w cells.
func (l *logView) view(w, h int, st Styles) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	end := len(l.lines) - min(l.back, max(0, len(l.lines)-h))
	start := max(0, end-h)
	var b strings.Builder
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte('\n')
		}
		line := l.at(i)
		if ansi.StringWidth(line) > w {
			line = ansi.Truncate(line, w, "…")
		}
		b.WriteString(st.LogLine.Render(line))
	}
	return b.String()
}
