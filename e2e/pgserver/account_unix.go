//go:build unix

package pgserver

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// serverAccount returns the account servers must run as: nil (the current
// user) unless we are root, which PostgreSQL refuses to run as; then
// Debian's "postgres" account.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverAccountName)
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: look up user %q to run it as: %w", serverAccountName, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("parse uid of user %q: %w", serverAccountName, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("parse gid of user %q: %w", serverAccountName, err)
	}
	return &account{name: serverAccountName, uid: uid, gid: gid}, nil
}
