package pgtools

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in                  string
		major, minor, patch int
		pre, str, raw       string
	}{
		{"pg_dump (PostgreSQL) 17.11 (Debian 17.11-1.pgdg120+1)", 17, 11, 0, "", "17.11", "17.11 (Debian 17.11-1.pgdg120+1)"},
		{"pg_dump (PostgreSQL) 17.11\n", 17, 11, 0, "", "17.11", "17.11"},
		{"pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", 15, 18, 0, "", "15.18", "15.18 (Debian 15.18-0+deb12u1)"},
		{"pg_dump (PostgreSQL) 16beta1", 16, 0, 0, "beta1", "16beta1", "16beta1"},
		{"pg_dump (PostgreSQL) 18devel", 18, 0, 0, "devel", "18devel", "18devel"},
		{"pg_dump (PostgreSQL) 15rc2", 15, 0, 0, "rc2", "15rc2", "15rc2"},
		{"pg_dump (PostgreSQL) 9.6.24", 9, 6, 24, "", "9.6.24", "9.6.24"},
		{"pg_dump (PostgreSQL) 17.2 (Homebrew)", 17, 2, 0, "", "17.2", "17.2 (Homebrew)"},
		{"pg_dump.exe (PostgreSQL) 16.4", 16, 4, 0, "", "16.4", "16.4"},
		{"16.14", 16, 14, 0, "", "16.14", "16.14"},
		{"15.18 (Debian 15.18-0+deb12u1)", 15, 18, 0, "", "15.18", "15.18 (Debian 15.18-0+deb12u1)"},
		{"  17  ", 17, 0, 0, "", "17.0", "17"},
		{"pg_dump (PostgreSQL) 10.23", 10, 23, 0, "", "10.23", "10.23"},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if v.Major != tt.major || v.Minor != tt.minor || v.Patch != tt.patch || v.Pre != tt.pre {
			t.Errorf("ParseVersion(%q) = %+v, want %d.%d.%d%s", tt.in, v, tt.major, tt.minor, tt.patch, tt.pre)
		}
		if v.String() != tt.str {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tt.in, v.String(), tt.str)
		}
		if v.Raw != tt.raw {
			t.Errorf("ParseVersion(%q).Raw = %q, want %q", tt.in, v.Raw, tt.raw)
		}
	}
	for _, bad := range []string{"", "pg_dump (PostgreSQL)", "no digits here", "pg_dump: command not found"} {
		if v, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want error", bad, v)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	ordered := []string{"9.6.24", "10.1", "15.18", "16devel", "16alpha1", "16beta1", "16beta2", "16rc1", "16.0", "16.14", "17.0", "17.11"}
	var vs []Version
	for _, s := range ordered {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	for i := range vs {
		for j := range vs {
			want := sign(i - j)
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if !(Version{}).IsZero() || vs[0].IsZero() {
		t.Error("IsZero wrong")
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"pg_dump (PostgreSQL) 17.11 (Debian 17.11-1.pgdg120+1)", "16beta1", "9.6.24", "15rc2", "18devel", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if v.Major < 0 || v.Minor < 0 || v.Patch < 0 {
			t.Fatalf("negative version %+v from %q", v, s)
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%+v not equal to itself", v)
		}
		if !strings.Contains(s, v.Raw) {
			t.Fatalf("Raw %q not in input %q", v.Raw, s)
		}
		// String's output parses back to the same numbers.
		w, err := ParseVersion(v.String())
		if err != nil || w.Compare(v) != 0 {
			t.Fatalf("ParseVersion(%q) = %+v, %v; want %+v", v.String(), w, err, v)
		}
	})
}
