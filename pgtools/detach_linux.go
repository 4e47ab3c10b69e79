package pgtools

import (
	"os/exec"
	"syscall"
)

// detach puts the tool in a process group of its own, so that Ctrl-C in the
// terminal reaches ppg alone, and ppg stops the tool in order (it cancels the
// run, which interrupts the tool): otherwise the tool could die first and
// ppg record a failure instead of an interruption. If ppg itself is killed,
// the kernel sends the tool SIGTERM (which pg_dump and pg_restore handle as
// Ctrl-C), so that no orphaned pg_restore goes on writing while ppg is run
// again.
func detach(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
