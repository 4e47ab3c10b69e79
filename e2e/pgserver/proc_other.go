//go:build !unix

package pgserver

import (
	"os"
	"syscall"
)

// serverAccount returns nil: the server runs as the current user.
func serverAccount() (*account, error) {
	return nil, nil
}

// procAttr returns nil: no special process attributes off Unix.
func procAttr(*account) *syscall.SysProcAttr {
	return nil
}

// interrupt kills the process: there are no signals to ask postgres for a
// fast shutdown off Unix.
func interrupt(p *os.Process) error {
	return p.Kill()
}
