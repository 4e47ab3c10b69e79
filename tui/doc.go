// Package tui is the interactive wizard of ppg migrate-from-ea: a face on
// migrate.Engine and nothing more.
//
// Run reads the state file for the resume summary, starts a bubbletea
// program (alternate screen) and runs the engine in a goroutine owned by a
// runner. The engine's events and questions travel through one buffered
// channel, read by a re-armed Cmd (waitForEngine), so that they reach Update
// in the order the engine produced them. A question is an askMsg holding a
// reply channel (buffer 1) that the screen on show answers; the engine's
// goroutine blocks on it or on its ctx.
//
// The root model (model.go) keeps the window, the runner, the stop question
// (ctrl+c asks first) and the screen on show. Every screen is a component
// (screen.go), as soft-serve's pages are: it takes the messages meant for
// it, the engine's events, draws itself, names its keys for the help bar
// and lays itself out for the window. The screens sit in a table indexed
// by the screen enum; the root hands every event and every screen's result
// to all of them, each keeping what concerns it, and picks which one shows.
// Each screen lives in its own file and ends by returning a message. Ctrl-C cancels the engine's ctx and the
// program quits only after the engine returned (state saved, tools stopped).
// After the program ends Run prints a short summary to the output, so that
// the result stays in the terminal's scrollback, and returns the engine's
// error for main to map to an exit status.
package tui
