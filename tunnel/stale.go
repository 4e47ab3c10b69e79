package tunnel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ownerFile, in a unix tunnel's socket directory, holds the process id of
// the ppg that made it: a tunnel ended by SIGKILL cannot remove its
// directory, and the next tunnel does, once that process is gone.
const ownerFile = "owner.pid"

// writeOwner records this process as the owner of dir.
func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
}

// PrivateSocketDir creates a directory for a Unix socket under the
// system's temporary folder, named prefix followed by random characters,
// of mode 0700 and recording this process as its owner; first it removes
// the directories of that prefix that processes now gone left behind (a
// SIGKILL leaves them). The caller removes the directory when done. ppg's
// tunnels use the prefix "ppg-tunnel-", the dump's relay "ppg-relay-".
func PrivateSocketDir(prefix string) (string, error) {
	removeStale(os.TempDir(), prefix)
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("protect socket directory: %w", err)
	}
	if err := writeOwner(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	return dir, nil
}

// removeStale removes the socket directories named prefix* under tmp
// left by processes that have ended. A directory without an owner file
// (being made right now, or left by an older ppg) is removed only when it
// is more than a day old.
func removeStale(tmp, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, prefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			if os.IsNotExist(err) && time.Since(fi.ModTime()) > 24*time.Hour {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
