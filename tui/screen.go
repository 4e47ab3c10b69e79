package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// component is one screen of the wizard, as soft-serve's common.Component
// is a page: it takes the messages meant for it (the keys pressed while it
// shows, the engine's questions, its own results), the engine's events for
// its steps, draws itself, names the keys that work now for the help bar
// and lays itself out for the window's size. Every screen is a pointer in
// the root's table, indexed by the screen enum; the root picks which one
// shows and hands each the same context.
type component interface {
	// update handles msg; the Cmd reports what it means to the root (a
	// screen ends by returning a message).
	update(msg tea.Msg, c viewCtx) tea.Cmd
	// event takes an engine event; screens keep what concerns them.
	event(ev migrate.Event, c viewCtx)
	view(c viewCtx) string
	// helpKeys are the bindings that work now.
	helpKeys(c viewCtx) help.KeyMap
	// setSize lays out what is laid out ahead of view, for c's size.
	setSize(c viewCtx)
}

// screen names what the body shows, and indexes the root's table.
type screen int

const (
	screenStart screen = iota
	screenKey
	screenConfirm
	screenDump
	screenRestore
	screenVerify
	screenDone
	screenFailure
	screenStream
	screenCount
)

// viewCtx is what every screen is handed: the styles, the words of the
// flow, the keys, the room it has, the moment's spinner frame and time,
// and what the root knows of the migration.
type viewCtx struct {
	st     Styles
	flow   words.Flow
	keys   keyMaps
	width  int
	height int
	spin   string
	now    time.Time
	dir    string // the working folder as given
	absDir string // and made absolute, when Run could

	running   bool         // the engine runs
	continued bool         // the user has left the start screen
	ask       *askMsg      // the engine's open question, if any
	side      migrate.Side // the side the key screen is about
	// saved and restarted say what the folder's state file holds: this
	// migration's progress, or still the one the user started over.
	saved, restarted bool
	// other names the target of the migration started over when the new
	// target's key is another database's.
	other string
}

// newScreens builds the table of screens for a folder whose state file
// read as state (nil when there is none) or failed with stateErr.
func newScreens(st Styles, state *migrate.State, stateErr error) [screenCount]component {
	return [screenCount]component{
		screenStart:   newStartModel(state, stateErr),
		screenKey:     newKeyScreen(state),
		screenConfirm: newConfirmModel(migrate.Question{}),
		screenDump:    newProgressModel(migrate.StepDump, st),
		screenRestore: newProgressModel(migrate.StepRestore, st),
		screenVerify:  newVerifyModel(),
		screenDone:    newDoneModel(),
		screenFailure: &failureModel{},
		screenStream:  newStreamModel(),
	}
}

// Messages the root hands to every screen.
type (
	// startOverMsg says the user started over the migration old (nil
	// when its record could not be read).
	startOverMsg struct{ old *migrate.State }
)
