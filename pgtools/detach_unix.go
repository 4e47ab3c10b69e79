//go:build unix && !linux

package pgtools

import (
	"os/exec"
	"syscall"
)

// detach puts the tool in a process group of its own, so that Ctrl-C in the
// terminal reaches ppg alone, and ppg stops the tool in order (see the Linux
// version; other systems have no parent-death signal).
func detach(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
