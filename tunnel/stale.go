package tunnel

import (
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

// removeStale removes the socket directories under tmp left by tunnels
// whose process has ended. A directory without an owner file (being made
// right now, or left by an older ppg) is removed only when it is more than
// a day old.
func removeStale(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, "ppg-tunnel-*"))
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
