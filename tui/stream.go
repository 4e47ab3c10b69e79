package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// streamModel shows a live migration's stream: the copy is done, the
// stream catches up or is in sync, the lag in bytes and seconds with a
// chart of the lag over the last minutes, rows applied per second, the
// WAL the slot holds on the source, and the key that asks for cutover.
type streamModel struct {
	status  *migrate.LiveStatus
	lags    []float64 // lag in seconds, one a status, the newest last
	note    string    // the latest notice of the step
	asked   bool      // cutover asked for
	askErr  error     // writing the request failed
	summary string    // the cutover's summary, once done
}

// lagHistory is how many statuses the chart keeps: about five minutes at
// one status every two seconds.
const lagHistory = 150

func newStreamModel() *streamModel { return &streamModel{} }

// streamKeys ask for cutover, and stop.
type streamKeys struct {
	Cutover, Stop key.Binding
}

func (k streamKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Cutover, k.Stop} }
func (k streamKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

var streamKeyMap = streamKeys{
	Cutover: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cut over")),
	Stop:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop (the slot stays)")),
}

func (s *streamModel) event(ev migrate.Event, c viewCtx) {
	if ev.Step != migrate.StepStream {
		return
	}
	switch ev.Kind {
	case migrate.Info, migrate.Warning:
		if ev.Live != nil {
			s.observe(ev.Live)
			return
		}
		s.note = noticeText(ev, c.flow)
	case migrate.StepFinished:
		if ev.Summary != nil {
			s.summary = c.flow.Summary(ev.Step, ev.Summary)
		}
	default:
		// Started, failed and the end are the root's.
	}
}

// observe keeps a status and its lag for the chart.
func (s *streamModel) observe(st *migrate.LiveStatus) {
	s.status = st
	s.lags = append(s.lags, st.LagSeconds)
	if len(s.lags) > lagHistory {
		s.lags = s.lags[len(s.lags)-lagHistory:]
	}
}

func (s *streamModel) update(msg tea.Msg, c viewCtx) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, streamKeyMap.Cutover) && !s.asked {
		s.askErr = requestCutover(c.absDir)
		s.asked = s.askErr == nil
	}
	return nil
}

// requestCutover asks the engine, which watches its working folder, to
// cut over: what ppg cutover does from another terminal.
func requestCutover(dir string) error {
	return os.WriteFile(filepath.Join(dir, migrate.CutoverRequestFile), []byte("cutover\n"), 0o600)
}

func (s *streamModel) helpKeys(c viewCtx) help.KeyMap {
	k := streamKeyMap
	k.Cutover.SetEnabled(!s.asked && c.running)
	return k
}

func (s *streamModel) setSize(viewCtx) {}

func (s *streamModel) view(c viewCtx) string {
	var b strings.Builder
	b.WriteString(c.st.Heading.Render("The copy is done: streaming the changes") + "\n\n")
	if s.status == nil {
		b.WriteString(c.st.Subtle.Render(c.spin+" starting the stream…") + "\n")
	} else {
		b.WriteString(s.facts(c))
	}
	switch {
	case s.summary != "":
		b.WriteString("\n" + c.st.OK.Render(s.summary) + "\n")
	case s.askErr != nil:
		b.WriteString("\n" + c.st.Error.Render("could not ask for cutover: "+s.askErr.Error()) + "\n")
	case s.asked:
		b.WriteString("\n" + c.st.Text.Render(c.spin+" cutting over: applying the last changes, setting the sequences, verifying") + "\n")
	default:
		b.WriteString("\n" + c.st.Subtle.Render("Stop your application's writes, then press c to cut over.") + "\n")
	}
	if s.note != "" {
		b.WriteString(c.st.Subtle.Render(s.note) + "\n")
	}
	return b.String()
}

// facts are the status lines and the lag chart.
func (s *streamModel) facts(c viewCtx) string {
	st := s.status
	state := c.st.Warning.Render("catching up")
	if st.InSync {
		state = c.st.OK.Render("in sync")
	}
	lines := []string{
		"state      " + state,
		"lag        " + c.st.Value.Render(fmt.Sprintf("%s, %.1f s", words.Bytes(st.LagBytes), st.LagSeconds)),
		"applied    " + c.st.Value.Render(fmt.Sprintf("%.0f rows/s, %s rows", st.RowsPerSecond, words.Count(st.Rows))),
		"WAL held   " + c.st.Value.Render(words.Bytes(st.WALHeld)) + c.st.Subtle.Render(" on the source"),
		"lag chart  " + sparkline(s.lags, max(10, c.width-12)),
	}
	return strings.Join(lines, "\n") + "\n"
}

// sparkLevels draw the chart, lowest first.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values, scaled to the largest of them;
// a flat zero line when there is no lag.
func sparkline(values []float64, width int) string {
	if len(values) > width {
		values = values[len(values)-width:]
	}
	var top float64
	for _, v := range values {
		top = max(top, v)
	}
	out := make([]rune, 0, len(values))
	for _, v := range values {
		i := 0
		if top > 0 {
			i = int(v / top * float64(len(sparkLevels)-1))
		}
		out = append(out, sparkLevels[min(max(i, 0), len(sparkLevels)-1)])
	}
	return string(out)
}
