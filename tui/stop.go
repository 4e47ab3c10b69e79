package tui

// stopView asks whether to stop the migration (after ctrl+c), saying what
// a stop keeps: the progress when a state file holds it, else nothing (a
// fresh migration before its source is confirmed writes no file; one
// started over leaves the earlier migration's file as it was). The answer
// is handled by the root model: y cancels the engine's ctx, and the
// program quits once the engine has saved its state and returned.
func stopView(c viewCtx, saved, restarted bool) string {
	again := c.flow.Command + dirFlag(c.dir)
	text := "Stop the migration? Progress is saved; run " + again + " again to resume."
	switch {
	case restarted && !saved:
		text = "Stop the migration? Nothing of the new start is saved yet: the folder keeps the earlier migration as it was."
	case !saved:
		text = "Stop the migration? Nothing is saved yet: " + again + " starts again from the beginning."
	}
	return c.st.AlertBox.Render(wrap(text, c.width-4, ""))
}

// stopShort is the stop question in one line, for a low window.
func stopShort(saved bool) string {
	if saved {
		return "Stop? Progress is saved."
	}
	return "Stop? Nothing is saved yet."
}
