//go:build unix

package tunnel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A SIGKILL leaves a unix tunnel's socket directory behind; the next
// tunnel removes it once its process is gone, and never a live one's.
func TestRemoveStaleSocketDirectories(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, pid int) string {
		dir := filepath.Join(tmp, "ppg-tunnel-"+name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if pid > 0 {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	gone := []string{mk("dead", dead.Process.Pid), mk("old", 0)}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(gone[1], old, old); err != nil {
		t.Fatal(err)
	}
	kept := []string{mk("parent", os.Getppid()), mk("self", os.Getpid()), mk("new", 0)}
	other := filepath.Join(tmp, "something-else")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}

	removeStale(tmp, "ppg-tunnel-")
	for _, dir := range gone {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s was kept (err %v)", filepath.Base(dir), err)
		}
	}
	for _, dir := range append(kept, other) {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(dir), err)
		}
	}
}

func TestUnixTunnelRecordsItsOwner(t *testing.T) {
	if !UnixSupported() {
		t.Skip("no unix sockets here")
	}
	tun, err := Start(t.Context(), Config{Network: "unix", Key: "k", Endpoint: "ws://127.0.0.1:1/websocket"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(tun.dir, ownerFile))
	if err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("owner file %q, %v; want this process's id", b, err)
	}
	dir := tun.dir
	_ = tun.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s", dir)
	}
}

// PrivateSocketDir makes a 0700 directory that records its owner, after
// removing the ones of the same prefix whose process is gone; another
// prefix's are not its business.
func TestPrivateSocketDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, prefix := range []string{"ppg-relay-", "ppg-tunnel-"} {
		dir := filepath.Join(tmp, prefix+"dead")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		left = append(left, dir)
	}
	dir, err := PrivateSocketDir("ppg-relay-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if filepath.Dir(dir) != tmp || !strings.HasPrefix(filepath.Base(dir), "ppg-relay-") {
		t.Errorf("directory %s, want ppg-relay-* in %s", dir, tmp)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ownerFile)); err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("owner file %q, %v; want this process's id", b, err)
	}
	if _, err := os.Stat(left[0]); !os.IsNotExist(err) {
		t.Errorf("the dead relay's directory was kept (err %v)", err)
	}
	if _, err := os.Stat(left[1]); err != nil {
		t.Errorf("another prefix's directory was removed: %v", err)
	}
}
