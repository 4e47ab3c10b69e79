package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// TestStreamScreen: the stream screen shows the stream's facts and the
// lag chart, and c writes the cutover request the engine watches for,
// once.
func TestStreamScreen(t *testing.T) {
	dir := t.TempDir()
	c := viewCtx{st: testStyles(), flow: words.Migrate, width: 60, height: 15, absDir: dir, running: true}
	s := newStreamModel()
	if v := s.view(c); !strings.Contains(v, "starting the stream") {
		t.Errorf("before any status:\n%s", v)
	}
	for _, lag := range []float64{4, 2, 1, 0} {
		s.event(migrate.Event{Kind: migrate.Info, Step: migrate.StepStream, Notice: &migrate.Notice{Code: migrate.NoticeLiveStatus},
			Live: &migrate.LiveStatus{LagBytes: int64(lag * 1000), LagSeconds: lag, Rows: 1234, RowsPerSecond: 56, WALHeld: 2 << 20, InSync: lag == 0}}, c)
	}
	v := s.view(c)
	for _, want := range []string{"in sync", "0 B, 0.0 s", "56 rows/s", "WAL held", "2.1 MB", "█▄▂▁", "press c to cut over"} {
		if !strings.Contains(v, want) {
			t.Errorf("the stream screen does not show %q:\n%s", want, v)
		}
	}
	s.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c")}, c)
	if _, err := os.Stat(filepath.Join(dir, migrate.CutoverRequestFile)); err != nil {
		t.Fatalf("c wrote no cutover request: %v", err)
	}
	if v := s.view(c); !strings.Contains(v, "cutting over") {
		t.Errorf("after c:\n%s", v)
	}
	if s.helpKeys(c).ShortHelp()[0].Enabled() {
		t.Error("the cutover key is still offered after it was pressed")
	}
}

func TestSparkline(t *testing.T) {
	if got := sparkline([]float64{0, 0, 0}, 10); got != "▁▁▁" {
		t.Errorf("no lag: %q", got)
	}
	if got := sparkline([]float64{1, 2, 3, 4, 5, 6, 7, 8}, 4); got != "▅▆▇█" {
		t.Errorf("the last four, scaled: %q", got)
	}
}
