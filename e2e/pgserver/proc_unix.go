//go:build unix && !linux

package pgserver

import (
	"os"
	"syscall"
)

// procAttr runs the child as acct (if set) and in its own process group so
// a terminal's Ctrl-C reaches only the test binary.
func procAttr(acct *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if acct != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid)}
	}
	return attr
}

// interrupt asks postgres for a fast shutdown.
func interrupt(p *os.Process) error {
	return p.Signal(syscall.SIGINT)
}
