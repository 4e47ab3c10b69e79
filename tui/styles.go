package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles holds every style the wizard renders with. All of them come from
// one renderer, so that NO_COLOR (the Ascii profile) reaches every string,
// the bubbles' included.
type Styles struct {
	Title    lipgloss.Style // the program's name in the header
	Step     lipgloss.Style // the step counter and title in the header
	Version  lipgloss.Style
	Heading  lipgloss.Style // a screen's first line
	Text     lipgloss.Style
	Subtle   lipgloss.Style // secondary facts, explanations
	Value    lipgloss.Style // facts the user looks for: sizes, names, counts
	OK       lipgloss.Style
	Warning  lipgloss.Style
	Error    lipgloss.Style
	Mask     lipgloss.Style // the masked key
	Prompt   lipgloss.Style // the "›" before an input
	Box      lipgloss.Style // a question that needs an answer
	AlertBox lipgloss.Style // a question with consequences (stop, non-empty target)
	LogTitle lipgloss.Style
	LogLine  lipgloss.Style
	TableHd  lipgloss.Style // a table's header row
	Mismatch lipgloss.Style // a verify row that differs
	Spinner  lipgloss.Style
	Help     help.Styles
	// BarFull and BarEmpty are the progress bar's colours, drawn in
	// Profile (the bar writes its colours itself).
	BarFull, BarEmpty string
	Profile           termenv.Profile
}

// newStyles builds the styles from r, whose colour profile decides whether
// colours are emitted at all.
func newStyles(r *lipgloss.Renderer) Styles {
	var (
		accent  = lipgloss.AdaptiveColor{Light: "#1E6FD9", Dark: "#6CB6FF"}
		subtle  = lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#9A9A9A"}
		faint   = lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#707070"}
		green   = lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"}
		yellow  = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"}
		red     = lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"}
		keyHelp = lipgloss.AdaptiveColor{Light: "#555555", Dark: "#B0B0B0"}
	)
	s := Styles{
		Title:    r.NewStyle().Bold(true).Foreground(accent),
		Step:     r.NewStyle().Foreground(subtle),
		Version:  r.NewStyle().Foreground(faint),
		Heading:  r.NewStyle().Bold(true),
		Text:     r.NewStyle(),
		Subtle:   r.NewStyle().Foreground(subtle),
		Value:    r.NewStyle().Foreground(accent),
		OK:       r.NewStyle().Foreground(green),
		Warning:  r.NewStyle().Foreground(yellow),
		Error:    r.NewStyle().Foreground(red),
		Mask:     r.NewStyle().Foreground(accent),
		Prompt:   r.NewStyle().Foreground(accent).Bold(true),
		Box:      r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
		AlertBox: r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(yellow).Padding(0, 1),
		LogTitle: r.NewStyle().Foreground(subtle).Bold(true),
		LogLine:  r.NewStyle().Foreground(faint),
		TableHd:  r.NewStyle().Bold(true).Foreground(subtle),
		Mismatch: r.NewStyle().Bold(true).Foreground(red),
		Spinner:  r.NewStyle().Foreground(accent),
		BarFull:  "#6CB6FF",
		BarEmpty: "#444444",
		Profile:  r.ColorProfile(),
	}
	s.Help = help.Styles{
		Ellipsis:       r.NewStyle().Foreground(faint),
		ShortKey:       r.NewStyle().Foreground(keyHelp).Bold(true),
		ShortDesc:      r.NewStyle().Foreground(subtle),
		ShortSeparator: r.NewStyle().Foreground(faint),
		FullKey:        r.NewStyle().Foreground(keyHelp).Bold(true),
		FullDesc:       r.NewStyle().Foreground(subtle),
		FullSeparator:  r.NewStyle().Foreground(faint),
	}
	return s
}
