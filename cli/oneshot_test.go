package cli

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// TestBackup checks where backup finds its key and file name, and what it
// prints.
func TestBackup(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("postgres://from-file@h/db"), 0o600); err != nil {
		t.Fatal(err)
	}
	dump := &migrate.DumpInfo{Path: "/w/x.dump", Size: 2048, SHA256: "abc123", ManifestPath: "/w/x.dump.manifest.json"}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		dotenv     string
		key, file  string
		stdout     string
		status     int
		noneBuilt  bool
		stderrPart string
	}{
		{name: "DATABASE_URL, default name", env: map[string]string{"DATABASE_URL": "postgres://app:pw@h/db"},
			key: "postgres://app:pw@h/db", file: "ppg-backup-20261121-103000.dump",
			stdout: "\nBackup written: /w/x.dump (2048 bytes, sha256 abc123)\nRow counts: /w/x.dump.manifest.json\n"},
		{name: "key file, -o", args: []string{"--key-file", keyFile, "-o", "mine.dump"}, env: map[string]string{"DATABASE_URL": "postgres://env@h/db"},
			key: "postgres://from-file@h/db", file: "mine.dump", stdout: "Backup written"},
		{name: ".env in the working folder", dotenv: "PDP_API_KEY=" + testAPIKey + "\n", key: testAPIKey, file: "ppg-backup-20261121-103000.dump"},
		{name: "json", args: []string{"--json"}, env: map[string]string{"PDP_API_KEY": testAPIKey}, key: testAPIKey, file: "ppg-backup-20261121-103000.dump"},
		{name: "no key", status: words.StatusConnect, noneBuilt: true, stderrPart: "no API key found"},
		{name: "missing key file", args: []string{"--key-file", keyFile + ".none"}, status: words.StatusFailure, noneBuilt: true, stderrPart: "read the key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.env)
			h.eng.dump = dump
			if tt.dotenv != "" {
				if err := os.WriteFile(filepath.Join(h.wd, ".env"), []byte(tt.dotenv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got := h.run(append([]string{"backup"}, tt.args...)...)
			if got != tt.status || !strings.Contains(h.err.String(), tt.stderrPart) {
				t.Fatalf("status %d, stderr %q; want %d, %q", got, h.err.String(), tt.status, tt.stderrPart)
			}
			if tt.noneBuilt {
				if h.built != 0 {
					t.Error("an engine was built without a key")
				}
				return
			}
			if h.eng.keys[migrate.Source] != tt.key || h.eng.file != tt.file || h.eng.cfg.Dir != "." {
				t.Errorf("key %q, file %q, dir %q; want %q, %q, .", h.eng.keys[migrate.Source], h.eng.file, h.eng.cfg.Dir, tt.key, tt.file)
			}
			if !strings.Contains(h.out.String(), tt.stdout) || strings.Contains(strings.Join(tt.args, " "), "--json") && strings.Contains(h.out.String(), "Backup written") {
				t.Errorf("stdout %q, want %q", h.out.String(), tt.stdout)
			}
		})
	}
}

// TestRestore checks restore's flags, its prompter's answers and its
// output.
func TestRestore(t *testing.T) {
	h := newHarness(t, map[string]string{"DATABASE_URL": "postgres://t@h/db", envPGBin: "/env/bin"})
	if got := h.run("restore", "x.dump", "--jobs", "2", "--allow-non-empty-target"); got != 0 || !strings.HasSuffix(h.out.String(), "\nRestore complete.\n") {
		t.Fatalf("status %d, stdout %q", got, h.out.String())
	}
	if h.eng.file != "x.dump" || h.eng.keys[migrate.Target] != "postgres://t@h/db" || h.eng.cfg.Jobs != 2 || !h.eng.cfg.AllowNonEmptyTarget {
		t.Errorf("file %q, keys %q, config %+v", h.eng.file, h.eng.keys, h.eng.cfg)
	}
	for kind, want := range map[migrate.QuestionKind]bool{migrate.ConfirmSource: true, migrate.ConfirmNonEmptyTarget: true, migrate.ConfirmSourceChanged: false} {
		if got, _ := h.eng.p.Confirm(t.Context(), migrate.Question{Kind: kind}); got != want {
			t.Errorf("Confirm(%v) = %v with --allow-non-empty-target", kind, got)
		}
	}

	h = newHarness(t, map[string]string{"DATABASE_URL": "postgres://t@h/db"})
	h.eng.err = &migrate.StepError{Step: migrate.StepConnectTarget, Err: &migrate.TargetRefusedError{Reason: migrate.RefuseNotEmpty}}
	if got := h.run("restore", "x.dump", "--json"); got != words.StatusRefused || h.out.String() != "" {
		t.Errorf("a refused target: status %d, stdout %q", got, h.out.String())
	}
	if ok, _ := h.eng.p.Confirm(t.Context(), migrate.Question{Kind: migrate.ConfirmNonEmptyTarget}); ok {
		t.Error("a non-empty target was confirmed without --allow-non-empty-target")
	}
	refused := &migrate.ConnectError{Side: migrate.Target, Err: errorString("auth"), Auth: true}
	if _, err := h.eng.p.Key(t.Context(), migrate.Target, refused); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Errorf("a refused key: %v", err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestTunnelFlags checks the tunnel's flags through runF.
func TestTunnelFlags(t *testing.T) {
	h := newHarness(t, nil)
	var got *tunnelOptions
	cmd := newTunnelCmd(h.d, func(_ context.Context, o *tunnelOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs([]string{"--host", "0.0.0.0", "--port", "5433", "--no-local-tls"})
	if err := cmd.ExecuteContext(t.Context()); err != nil || got == nil {
		t.Fatalf("%v, options %v", err, got)
	}
	if got.host != "0.0.0.0" || got.port != 5433 || !got.noLocalTLS {
		t.Errorf("options %+v", got)
	}
}

// gateway is a stand-in for Prisma's: it refuses any key but want with
// 401, and otherwise accepts the WebSocket and closes it when the tunnel
// does.
func gateway(t *testing.T, want string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+want {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.CloseNow() }()
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/websocket"
}

// TestTunnel runs ppg tunnel against a gateway on loopback: a refused key,
// a direct URL, and a tunnel that starts, prints how to connect, and stops
// when its context ends.
func TestTunnel(t *testing.T) {
	endpoint := gateway(t, testAPIKey)

	h := newHarness(t, map[string]string{"PDP_API_KEY": "eyJhbGciOiJIUzI1NiJ9.eyJkYiI6Im90aGVyIn0.c2lnbmF0dXJl", "PPG_WS_URL": endpoint})
	if got := h.run("tunnel"); got != words.StatusConnect {
		t.Errorf("a refused key: status %d, stderr %q", got, h.err.String())
	}
	h = newHarness(t, map[string]string{"DATABASE_URL": "postgres://app:pw@h/db"})
	if got := h.run("tunnel"); got != words.StatusFailure || !strings.Contains(h.err.String(), "needs no tunnel") || strings.Contains(h.err.String(), "pw@") {
		t.Errorf("a direct URL: status %d, stderr %q", got, h.err.String())
	}

	h = newHarness(t, map[string]string{"PDP_API_KEY": testAPIKey, "PPG_WS_URL": endpoint})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- execute(ctx, h.d, []string{"tunnel", "--no-local-tls"}) }()
	h.out.waitFor(t, "Press Ctrl-C to stop.", 30*time.Second)
	banner := h.out.String()
	for _, want := range []string{"the database of PDP_API_KEY (environment)", endpoint + " (PPG_WS_URL)", "Local SSL is off (--no-local-tls)", `psql "postgresql://postgres@127.0.0.1:`} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Contains(banner+h.err.String(), testAPIKey) {
		t.Error("the banner shows the key")
	}
	addr := banner[strings.Index(banner, "Listening on ")+len("Listening on "):]
	addr = addr[:strings.Index(addr, " ")]
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial the tunnel at %s: %v", addr, err)
	}
	_ = c.Close()
	cancel()
	select {
	case got := <-done:
		if got != 0 {
			t.Errorf("stopped tunnel: status %d", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the tunnel did not stop with its context")
	}
	if !strings.Contains(h.err.String(), "tunnel stopped") {
		t.Errorf("stderr %q", h.err.String())
	}
}
