//go:build e2e

package e2e

// Processes as /proc shows them (Linux): parents, command names and lines,
// CPU time and peak memory, for tests that look at what ppg starts and
// benchmarks that measure it.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// procInfo is one process's line of /proc/PID/stat: its parent, command
// name and CPU times in clock ticks.
type procInfo struct {
	pid, ppid    int
	comm         string
	utime, stime int64
}

// readProc reads /proc/PID/stat; ok is false once the process is gone.
func readProc(pid int) (p procInfo, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procInfo{}, false
	}
	// After the name: state (field 3), ppid (4) ... utime (14), stime (15).
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return procInfo{}, false
	}
	num := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
	return procInfo{pid: pid, ppid: int(num(1)), comm: s[open+1 : end], utime: num(11), stime: num(12)}, true
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ).
const clockTick = 10 * time.Millisecond

// cpu is the process's own user+system CPU time.
func (p procInfo) cpu() time.Duration { return time.Duration(p.utime+p.stime) * clockTick }

// allProcs reads every process of /proc.
func allProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// childOf returns the pid of a child of parent named comm, or 0.
func childOf(parent int, comm string) int {
	for _, p := range allProcs() {
		if p.ppid == parent && p.comm == comm {
			return p.pid
		}
	}
	return 0
}

// descendants returns the pids of root's descendants.
func descendants(root int) []int {
	children := map[int][]int{}
	for _, p := range allProcs() {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	var out []int
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// loggedTools makes a folder of the tools in bin in which pg_dump and
// pg_restore first append their whole command line to a log, then run the
// real tool; every other file is a link to bin's. Handing ppg that folder
// (PPG_PG_BIN) records every command line ppg gives them, however short the
// tool's life: sampling /proc can miss a pg_restore that ends in a few
// milliseconds on a busy machine. lines returns the recorded lines.
func loggedTools(t testing.TB, bin string) (dir string, lines func() []string) {
	t.Helper()
	dir = t.TempDir()
	logPath := filepath.Join(t.TempDir(), "argv.log")
	entries, err := os.ReadDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		real, wrapped := filepath.Join(bin, e.Name()), filepath.Join(dir, e.Name())
		if e.Name() != "pg_dump" && e.Name() != "pg_restore" {
			if err := os.Symlink(real, wrapped); err != nil {
				t.Fatal(err)
			}
			continue
		}
		script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"%s $*\" >> '%s'\nexec '%s' \"$@\"\n", real, logPath, real)
		if err := os.WriteFile(wrapped, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, func() []string {
		data, err := os.ReadFile(logPath)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
}

// childCmdlines samples, every interval until stop is called, the command
// lines of pid and its descendants, and returns every distinct one seen,
// arguments separated by spaces.
func childCmdlines(pid int, interval time.Duration) (stop func() []string) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		quit = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			for _, p := range append(descendants(pid), pid) {
				cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
				if err != nil || len(cl) == 0 {
					continue
				}
				mu.Lock()
				seen[strings.TrimRight(strings.ReplaceAll(string(cl), "\x00", " "), " ")] = true
				mu.Unlock()
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []string {
		close(quit)
		<-done
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for cl := range seen {
			out = append(out, cl)
		}
		sort.Strings(out)
		return out
	}
}

// peakRSS returns a process's peak resident set size (VmHWM) in bytes, 0
// once it is gone.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
