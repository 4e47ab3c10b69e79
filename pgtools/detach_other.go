//go:build !unix

package pgtools

import "os/exec"

// detach does nothing here: Windows delivers Ctrl-C to the console's
// processes, and ppg kills the tool when a run is cancelled.
func detach(*exec.Cmd) {}
