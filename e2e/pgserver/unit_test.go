package pgserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveBinDir(t *testing.T) {
	good := t.TempDir()
	for _, name := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(good, exe(name)), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name     string
		version  int
		explicit string
		env      map[string]string
		want     string
		wantErr  []string
	}{
		{name: "explicit", version: 17, explicit: good, want: good},
		{name: "explicit wins over env", version: 17, explicit: good, env: map[string]string{"PPG_PG17_BIN": empty}, want: good},
		{name: "env 16", version: 16, env: map[string]string{"PPG_PG16_BIN": good}, want: good},
		{name: "env 18", version: 18, env: map[string]string{"PPG_PG17_BIN": empty, "PPG_PG18_BIN": good}, want: good},
		{name: "18 missing names its variable", version: 18, env: map[string]string{"PPG_PG17_BIN": good, "PPG_PG18_BIN": empty},
			wantErr: []string{"PostgreSQL 18", "PPG_PG18_BIN=" + empty, "bash e2e/toolchain.sh"}},
		{name: "env of other version ignored", version: 17, env: map[string]string{"PPG_PG16_BIN": good, "PPG_PG17_BIN": empty},
			wantErr: []string{"PPG_PG17_BIN=" + empty, "bash e2e/toolchain.sh"}},
		{name: "explicit without binaries", version: 16, explicit: empty,
			wantErr: []string{"Options.BinDir=" + empty, "PPG_PG16_BIN", "bash e2e/toolchain.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveBinDir(tt.version, tt.explicit, env(tt.env))
			if tt.wantErr != nil {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolveBinDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestStartWithoutBinaries(t *testing.T) {
	_, err := Start(context.Background(), Options{Version: 16, BinDir: t.TempDir()})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestTailBuffer(t *testing.T) {
	b := newTailBuffer(10)
	write := func(s string) {
		t.Helper()
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	write("abc\n")
	if got := b.String(); got != "abc\n" {
		t.Errorf("String = %q", got)
	}
	write("defgh\nijk\n")
	if got := b.String(); got != "ijk\n" {
		t.Errorf("String after overflow = %q, want the lines after the cut", got)
	}
	b.Reset()
	if got := b.String(); got != "" {
		t.Errorf("String after Reset = %q", got)
	}
}

// binDirOf returns the directory StartT would use.
