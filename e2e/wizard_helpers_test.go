//go:build e2e

package e2e

// Helpers for end-to-end tests of the interactive wizard (ppg
// migrate-from-ea in a terminal): a small driver for a real terminal, tmux
// on a private server, that runs the real ppg binary, types, pastes and
// resizes, captures the screen, and records every screen it captured so
// that a test can assert what never showed (the keys).

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// wizPoll is how often a wait captures the screen.
const wizPoll = 50 * time.Millisecond

// wizTerm is a private tmux server in which tests run ppg, one tmux session
// a run. Its methods fail the test on tmux errors. The server, and every
// process it started, is gone when the test ends.
type wizTerm struct {
	t      testing.TB
	socket string // tmux -L: the server's socket name, unique to the test
	conf   string // the tmux configuration file

	mu      sync.Mutex
	session string   // the current run's session
	runs    int      // runs started
	panes   []int    // the shell pid of every run's pane
	screens []string // every distinct screen captured, in order
	secrets []string // texts no screen may show
	checked int      // screens checkSecrets has seen
	last    string   // the latest capture
}

// newWizTerm starts nothing yet: the first run starts the tmux server.
// tmux missing skips the test (fails it under CI=true).
func newWizTerm(t testing.TB) *wizTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		msg := "missing prerequisite: tmux is not installed (apt-get install tmux)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	w := &wizTerm{t: t, socket: "ppg-e2e-" + hex.EncodeToString(suffix)}
	// No status line (the pane gets the whole window), no user
	// configuration, a history long enough to hold a run's summary.
	w.conf = filepath.Join(t.TempDir(), "tmux.conf")
	conf := "set -g status off\nset -g history-limit 5000\nset -g remain-on-exit off\nset -g escape-time 0\n"
	if err := os.WriteFile(w.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

// close kills the tmux server and whatever the runs left (tools ppg
// started that outlived it), then checks the recorded screens for secrets.
func (w *wizTerm) close() {
	w.mu.Lock()
	panes := append([]int(nil), w.panes...)
	w.mu.Unlock()
	var left []int
	for _, p := range panes {
		left = append(left, descendants(p)...)
	}
	_, _ = w.tmuxRaw(nil, "kill-server")
	// The server leaves its socket behind: tmux -L puts it in
	// $TMUX_TMPDIR (or /tmp)/tmux-UID/.
	tmp := os.Getenv("TMUX_TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	_ = os.Remove(filepath.Join(tmp, fmt.Sprintf("tmux-%d", os.Getuid()), w.socket))
	for _, pid := range left {
		_ = syscall.Kill(pid, syscall.SIGKILL) // already gone, mostly
	}
	w.checkSecrets()
	if w.t.Failed() {
		screens := w.Screens()
		from := max(0, len(screens)-wizShowScreens)
		for i := from; i < len(screens); i++ {
			w.t.Logf("screen %d of %d:\n%s", i+1, len(screens), wizFrame(screens[i]))
		}
	}
}

// wizShowScreens is how many of the last screens a failed test logs.
const wizShowScreens = 8

// tmuxRaw runs a tmux command on the test's server.
func (w *wizTerm) tmuxRaw(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-u", "-L", w.socket, "-f", w.conf}, args...)...)
	cmd.Env = append(wizToolEnv(), "LC_ALL=C.UTF-8")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("tmux %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (w *wizTerm) tmux(args ...string) string {
	w.t.Helper()
	out, err := w.tmuxRaw(nil, args...)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// wizToolEnv is the environment of tmux and of the runs: the basics only,
// no PG* or PPG_* variables, no terminal settings of the machine's.
func wizToolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TMUX_TMPDIR", "GOCOVERDIR":
			env = append(env, kv)
		}
	}
	return env
}

// wizRun is one run of ppg in the terminal.
type wizRun struct {
	Dir           string   // the working folder
	Env           []string // NAME=value added to the basic environment
	Args          []string // after "ppg"; default migrate-from-ea
	Width, Height int      // default 80x24
	// Redirect is appended to ppg's command line as is: shell
	// redirections such as "> out.txt".
	Redirect string
}

// start runs ppg in a new tmux session of its own (the previous run's
// session is closed). The shell prints EXIT=<status> when ppg ends and
// keeps the pane open, so that the last screen and the status can be read.
func (w *wizTerm) start(r wizRun) {
	w.t.Helper()
	if r.Width == 0 {
		r.Width, r.Height = 80, 24
	}
	if r.Args == nil {
		r.Args = []string{"migrate-from-ea"}
	}
	env := append(wizToolEnv(), "TERM=xterm-256color", "LANG=C.UTF-8")
	env = append(env, r.Env...)
	var sh strings.Builder
	sh.WriteString("env -i")
	for _, kv := range env {
		sh.WriteString(" " + wizQuote(kv))
	}
	sh.WriteString(" " + wizQuote(ppgBin))
	for _, a := range r.Args {
		sh.WriteString(" " + wizQuote(a))
	}
	if r.Redirect != "" {
		sh.WriteString(" " + r.Redirect)
	}
	sh.WriteString("; echo EXIT=$?; sleep 600")

	w.mu.Lock()
	prev := w.session
	w.runs++
	name := fmt.Sprintf("run%d", w.runs)
	w.mu.Unlock()
	w.tmux("new-session", "-d", "-s", name, "-x", strconv.Itoa(r.Width), "-y", strconv.Itoa(r.Height), "-c", r.Dir, sh.String())
	// Only now close the previous session: killing the server's last
	// session ends the server, and a new-session racing with its exit
	// fails ("server exited unexpectedly").
	if prev != "" {
		_, _ = w.tmuxRaw(nil, "kill-session", "-t", prev)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(w.tmux("display-message", "-p", "-t", name, "#{pane_pid}")))
	if err != nil {
		w.t.Fatalf("tmux pane pid: %v", err)
	}
	w.mu.Lock()
	w.session = name
	w.panes = append(w.panes, pid)
	w.mu.Unlock()
}

// wizQuote quotes s for sh.
func wizQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (w *wizTerm) target() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.session
}

// keys sends named keys (Enter, Escape, C-c, Up, End) or single characters.
func (w *wizTerm) keys(keys ...string) {
	w.t.Helper()
	w.tmux(append([]string{"send-keys", "-t", w.target()}, keys...)...)
}

// paste pastes text as a terminal does (bracketed paste, when the program
// asked for it). The text goes to tmux on stdin, never on a command line.
func (w *wizTerm) paste(text string) {
	w.t.Helper()
	if _, err := w.tmuxRaw([]byte(text), "load-buffer", "-b", "wizpaste", "-"); err != nil {
		w.t.Fatal(err)
	}
	w.tmux("paste-buffer", "-p", "-d", "-b", "wizpaste", "-t", w.target())
}

// resize sets the window's size, as a terminal resized by the user.
func (w *wizTerm) resize(width, height int) {
	w.t.Helper()
	w.tmux("resize-window", "-t", w.target(), "-x", strconv.Itoa(width), "-y", strconv.Itoa(height))
}

// capture returns the screen as text (and records it).
func (w *wizTerm) capture() string { return w.captureWith() }

// captureColors returns the screen with its SGR escape sequences.
func (w *wizTerm) captureColors() string { return w.captureWith("-e") }

// captureJoined returns the screen with the lines the terminal wrapped
// joined again: a line wider than the window shows as a longer line.
func (w *wizTerm) captureJoined() string { return w.captureWith("-J") }

// history returns the pane's scrollback and screen (the normal screen,
// where the summary stays once the wizard has left the alternate screen).
func (w *wizTerm) history() string { return w.captureWith("-S", "-", "-E", "-") }

func (w *wizTerm) captureWith(opts ...string) string {
	w.t.Helper()
	s := w.tmux(append([]string{"capture-pane", "-p", "-t", w.target()}, opts...)...)
	s = strings.TrimSuffix(s, "\n")
	w.mu.Lock()
	if len(opts) == 0 {
		w.last = s
	}
	if n := len(w.screens); n == 0 || w.screens[n-1] != s {
		w.screens = append(w.screens, s)
	}
	w.mu.Unlock()
	return s
}

// Last is the latest plain capture.
func (w *wizTerm) Last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Screens returns every distinct screen captured so far.
func (w *wizTerm) Screens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.screens...)
}

// secret registers texts that no captured screen may contain; checked at
// the end of the test, and by checkSecrets.
func (w *wizTerm) secret(texts ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets = append(w.secrets, texts...)
}

// checkSecrets fails the test for each secret found in a screen recorded
// since the last check, and returns how many screens were checked in all.
func (w *wizTerm) checkSecrets() int {
	w.t.Helper()
	w.mu.Lock()
	screens, secrets, from := w.screens, w.secrets, w.checked
	w.checked = len(screens)
	w.mu.Unlock()
	for _, s := range secrets {
		for i := from; i < len(screens); i++ {
			if wizContainsSecret(screens[i], s) {
				w.t.Errorf("screen %d of %d shows a key (%d characters):\n%s", i+1, len(screens), len(s), wizFrame(screens[i]))
				break
			}
		}
	}
	return len(screens)
}

// wizContainsSecret reports whether screen shows secret or a recognisable
// part of it: the whole, either half, or (for a JWT-like key) its payload
// or signature, also across wrapped lines.
func wizContainsSecret(screen, secret string) bool {
	if secret == "" {
		return false
	}
	flat := strings.Join(strings.Fields(ansi.Strip(screen)), "")
	parts := []string{secret}
	if len(secret) >= 32 {
		parts = append(parts, secret[:len(secret)/2], secret[len(secret)/2:])
	}
	if segs := strings.Split(secret, "."); len(segs) == 3 {
		parts = append(parts, segs[1], segs[2])
	}
	for _, p := range parts {
		if strings.Contains(screen, p) || strings.Contains(flat, p) {
			return true
		}
	}
	return false
}

// wizFlat is the screen's words separated by single spaces: texts wrapped
// over several lines, also inside a box, are found whole.
func wizFlat(screen string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(screen, "│", " ")), " ")
}

// wizHas reports whether the screen shows every text (whitespace in the
// text and on screen compared loosely).
func wizHas(screen string, texts ...string) bool {
	flat := wizFlat(screen)
	for _, t := range texts {
		if !strings.Contains(flat, wizFlat(t)) {
			return false
		}
	}
	return true
}

// waitUntil captures the screen every wizPoll until cond holds for it and
// returns that screen; after timeout it fails the test with what and the
// last screen.
func (w *wizTerm) waitUntil(timeout time.Duration, what string, cond func(screen string) bool) string {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := w.capture()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", timeout, what, wizFrame(s))
		}
		time.Sleep(wizPoll)
	}
}

// waitFor waits until the screen shows every text.
func (w *wizTerm) waitFor(timeout time.Duration, texts ...string) string {
	w.t.Helper()
	return w.waitUntil(timeout, fmt.Sprintf("%q", texts), func(s string) bool { return wizHas(s, texts...) })
}

// waitSettled waits until the screen shows every text and has not changed
// since the previous capture (see waitSettledUntil).
func (w *wizTerm) waitSettled(timeout time.Duration, texts ...string) string {
	w.t.Helper()
	return w.waitSettledUntil(timeout, fmt.Sprintf("%q", texts), func(s string) bool { return wizHas(s, texts...) })
}

// waitSettledUntil is waitUntil for a screen that also has not changed
// since the previous capture: a frame the terminal has drawn whole (a
// frame arrives in pieces, and a capture can fall between them). A screen
// with a spinner settles only between two of its frames: it takes longer.
func (w *wizTerm) waitSettledUntil(timeout time.Duration, what string, cond func(screen string) bool) string {
	w.t.Helper()
	prev := ""
	return w.waitUntil(timeout, what+" on a settled screen", func(s string) bool {
		settled := s == prev && cond(s)
		prev = s
		return settled
	})
}

var wizExitRE = regexp.MustCompile(`(?m)^EXIT=(\d+)$`)

// exitStatus waits for ppg to end and returns its exit status, read from
// the line the shell prints.
func (w *wizTerm) exitStatus(timeout time.Duration) int {
	w.t.Helper()
	s := w.waitUntil(timeout, "ppg to exit (the EXIT= line)", func(s string) bool { return wizExitRE.MatchString(s) })
	code, _ := strconv.Atoi(wizExitRE.FindStringSubmatch(s)[1])
	return code
}

// pasteKey pastes key at the wizard's key prompt, checks that the wizard
// received it whole (it shows the count of characters, never the key),
// and presses Enter.
func (w *wizTerm) pasteKey(key string) {
	w.t.Helper()
	w.waitFor(20*time.Second, "paste here, then press Enter")
	w.paste(key)
	w.waitFor(10*time.Second, fmt.Sprintf("•••••••• (%d characters)", len([]rune(key))))
	w.keys("Enter")
}

// panePID is the pid of the current run's shell.
func (w *wizTerm) panePID() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.panes[len(w.panes)-1]
}

// ppgPID waits for the current run's ppg process and returns its pid.
func (w *wizTerm) ppgPID() int {
	w.t.Helper()
	var pid int
	waitFor(w.t, 10*time.Second, "the ppg process in the pane", func() bool {
		pid = childOf(w.panePID(), "ppg")
		return pid != 0
	})
	return pid
}

// wizFrame draws a screen in a frame, for failure messages.
func wizFrame(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	b.WriteString("  ┌" + strings.Repeat("─", 40) + "\n")
	for _, l := range lines {
		b.WriteString("  │" + l + "\n")
	}
	b.WriteString("  └" + strings.Repeat("─", 40))
	return b.String()
}
