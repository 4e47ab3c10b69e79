//go:build e2e && linux

package pgserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestHelperServerProcess is not a test: TestServerDiesWithTestProcess runs
// the test binary as a child that starts a server, prints its port and
// waits to be killed.
func TestHelperServerProcess(t *testing.T) {
	if os.Getenv("PPG_PGSERVER_HELPER") != "1" {
		t.Skip("helper process")
	}
	s, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("port", s.Port, s.DataDir)
	time.Sleep(time.Minute)
	os.Exit(2)
}

func TestServerDiesWithTestProcess(t *testing.T) {
	StartT(t, DefaultVersion) // skips when binaries are missing
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServerProcess$")
	cmd.Env = append(os.Environ(), "PPG_PGSERVER_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var port int
	var dataDir string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "port %d %s", &port, &dataDir); err == nil {
			break
		}
		t.Logf("helper: %s", sc.Text())
	}
	if port == 0 {
		// It may have exited already; either way Wait reaps it, and its
		// error would only repeat why.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper did not start a server (scan: %v)", sc.Err())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("helper exited cleanly after SIGKILL")
	}
	// The helper cannot clean up after SIGKILL; do it for it once the
	// server is gone.
	t.Cleanup(func() {
		if err := os.RemoveAll(filepath.Dir(dataDir)); err != nil {
			t.Error(err)
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			return // the server is gone
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on port %d still accepts connections after its parent was killed", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
