package tui

// stopView asks whether to stop the migration (after ctrl+c). The answer is
// handled by the root model: y cancels the engine's ctx, and the program
// quits once the engine has saved its state and returned.
func stopView(c viewCtx) string {
	return c.st.AlertBox.Render(wrap("Stop the migration? Progress is saved; run "+c.flow.Command+dirFlag(c.dir)+" again to resume.", c.width-4, ""))
}
