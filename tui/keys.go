package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
)

// keyMaps holds the bindings of every screen. Screens copy their map and
// disable what does not apply at the moment, so that the help bar only
// shows keys that work.
type keyMaps struct {
	start    startKeys
	input    inputKeys
	confirm  confirmKeys
	progress progressKeys
	verify   verifyKeys
	end      endKeys
	done     doneKeys
	stop     stopKeys
	// scroll moves what scrolls (the log, the warnings, the tables, the
	// plan): bubbles' viewport keys.
	scroll viewport.KeyMap
}

func newKeyMaps() keyMaps {
	stop := key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop"))
	quitNow := key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))
	// Scroll and page only label the help bar: the viewport's keys move.
	scroll := key.NewBinding(key.WithKeys("up", "down", "k", "j"), key.WithHelp("↑/↓", "scroll"))
	page := key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "page"))
	return keyMaps{
		start: startKeys{
			Continue: key.NewBinding(key.WithKeys("enter", "c"), key.WithHelp("enter", "continue")),
			Restart:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start over")),
			Quit:     key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "quit")),
			Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, start over")),
			No:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
			Stop:     quitNow,
		},
		input: inputKeys{
			Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "connect")),
			Clear:  key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "clear")),
			Later:  key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", "paste it later")),
			Stop:   stop,
		},
		confirm: confirmKeys{
			Yes:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
			No:     key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
			Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
			// The plan's choices; their help says what pressing does.
			Live:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "live")),
			Identity: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "consent")),
			Scroll:   scroll,
			Stop:     stop,
		},
		progress: progressKeys{
			Scroll: scroll, Page: page,
			Follow:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end", "follow")),
			Warnings: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "warnings")),
			Stop:     stop,
		},
		verify: verifyKeys{
			Scroll: scroll, Page: page,
			Quit: key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q", "quit")),
			Stop: stop,
		},
		end: endKeys{
			Quit: key.NewBinding(key.WithKeys("q", "esc", "enter"), key.WithHelp("q/enter", "quit")),
		},
		done: doneKeys{
			Scroll: scroll, Page: page,
			Quit: key.NewBinding(key.WithKeys("q", "esc", "enter"), key.WithHelp("q/enter", "quit")),
		},
		stop: stopKeys{
			Yes: key.NewBinding(key.WithKeys("y", "ctrl+c"), key.WithHelp("y", "stop")),
			No:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "go on")),
		},
		scroll: viewport.DefaultKeyMap(),
	}
}

// startKeys are the start screen's: continue, start over (with its
// confirmation), quit.
type startKeys struct {
	Continue, Restart, Quit, Yes, No, Stop key.Binding
}

func (k startKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Continue, k.Restart, k.Yes, k.No, k.Quit, k.Stop}
}
func (k startKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// inputKeys are the key input's; every other key types into the input.
type inputKeys struct {
	Submit, Clear, Later, Stop key.Binding
}

func (k inputKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Clear, k.Later, k.Stop}
}
func (k inputKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// confirmKeys answer the engine's questions; which keys say yes depends on
// the question (confirmModel.keys). Submit is Enter after typing "yes".
// Live and Identity make the plan's choices, when it offers live.
type confirmKeys struct {
	Yes, No, Submit, Live, Identity, Scroll, Stop key.Binding
}

func (k confirmKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Yes, k.Submit, k.No, k.Live, k.Identity, k.Scroll, k.Stop}
}
func (k confirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// progressKeys scroll the tool's log and toggle the warnings list.
type progressKeys struct {
	Scroll, Page, Follow, Warnings, Stop key.Binding
}

func (k progressKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll, k.Page, k.Follow, k.Warnings, k.Stop}
}
func (k progressKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// verifyKeys scroll the table of row counts.
type verifyKeys struct {
	Scroll, Page, Quit, Stop key.Binding
}

func (k verifyKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll, k.Page, k.Quit, k.Stop}
}
func (k verifyKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// endKeys close the failure screen.
type endKeys struct {
	Quit key.Binding
}

// doneKeys scroll and close the done screen.
type doneKeys struct {
	Scroll, Page, Quit key.Binding
}

func (k doneKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Scroll, k.Page, k.Quit} }
func (k doneKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

func (k endKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Quit} }
func (k endKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// stopKeys answer "Stop the migration?".
type stopKeys struct {
	Yes, No key.Binding
}

func (k stopKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Yes, k.No} }
func (k stopKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
