package tunnel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testKey = "eyJhbGciOiJIUzI1NiJ9.eyJkYiI6ImVhIn0.c2lnbmF0dXJl"

func TestParseKey(t *testing.T) {
	direct := "postgres://user:s3cret@db.example.com:5432/postgres?sslmode=require"
	tests := []struct {
		name    string
		in      string
		key     string
		url     string
		wantErr string
	}{
		{name: "raw key", in: testKey, key: testKey},
		{name: "raw key with whitespace", in: "  \t" + testKey + "\r\n", key: testKey},
		{name: "byte order mark", in: "\uFEFF" + testKey, key: testKey},
		{name: "prisma+postgres URL", in: "prisma+postgres://accelerate.prisma-data.net/?api_key=" + testKey, key: testKey},
		{name: "prisma URL", in: "prisma://accelerate.prisma-data.net/?api_key=" + testKey, key: testKey},
		{name: "env line with quotes", in: `DATABASE_URL="prisma+postgres://accelerate.prisma-data.net/?api_key=` + testKey + `"`, key: testKey},
		{name: "env line single quotes", in: `DATABASE_URL='prisma+postgres://accelerate.prisma-data.net/?api_key=` + testKey + `'`, key: testKey},
		{name: "export env line with comment", in: `export PDP_API_KEY=` + testKey + ` # production`, key: testKey},
		{name: "env line spaces around =", in: `PDP_API_KEY = "` + testKey + `"`, key: testKey},
		{name: "quoted raw key", in: `"` + testKey + `"`, key: testKey},
		{name: "direct postgres URL", in: direct, url: direct},
		{name: "direct postgresql URL in env line", in: `DIRECT_URL="` + strings.Replace(direct, "postgres:", "postgresql:", 1) + `"`, url: strings.Replace(direct, "postgres:", "postgresql:", 1)},
		{name: "key ending in padding", in: "QUJDREVGR0hJSktMTU5PUFFSU1RVVg==", key: "QUJDREVGR0hJSktMTU5PUFFSU1RVVg=="},
		{name: "key ending in one padding character", in: "QUJDREVGR0hJSktMTU5PUFFSU1RVVgAB=", key: "QUJDREVGR0hJSktMTU5PUFFSU1RVVgAB="},
		{name: "key with = inside", in: "A00000000000000000=0", key: "A00000000000000000=0"},
		{name: "env line holding such a key", in: "PDP_API_KEY=A00000000000000000=0", key: "A00000000000000000=0"},
		{name: "empty", in: "", wantErr: "no key given"},
		{name: "only spaces", in: "   \n", wantErr: "no key given"},
		{name: "empty quotes", in: `""`, wantErr: "no key given"},
		{name: "env line without value", in: `DATABASE_URL=`, wantErr: "no key given"},
		{name: "URL without api_key", in: "prisma+postgres://accelerate.prisma-data.net/?other=1", wantErr: "has no api_key parameter"},
		{name: "URL with empty api_key", in: "prisma+postgres://accelerate.prisma-data.net/?api_key=", wantErr: "has no api_key parameter"},
		{name: "URL with garbled api_key", in: "prisma+postgres://accelerate.prisma-data.net/?api_key=abc%20defghijklmnopqrstuvwxyz", wantErr: "the URL's api_key has a space at position 4"},
		{name: "unsupported scheme", in: "mysql://root@localhost/db", wantErr: `unsupported URL scheme "mysql"`},
		{name: "postgres URL without host", in: "postgres:///postgres", wantErr: "has no host"},
		{name: "port out of range", in: "postgres://u:secretpw@host:99999999999/db", wantErr: "port is not a number from 1 to 65535"},
		{name: "garbled port", in: "postgres://u:secretpw@host:abc/db", wantErr: "the URL does not parse"},
		{name: "space inside", in: "eyJhbGciOi JIUzI1NiJ9abcdefghij", wantErr: "a space at position 11"},
		{name: "non-ASCII", in: "eyJhbGciOiJIUzI1NiJ9abcdé", wantErr: "a non-ASCII character at position 25"},
		{name: "control character", in: "eyJhbGciOiJIUzI1NiJ9\x01abcdef", wantErr: "a control character at position 21"},
		{name: "too short", in: "abc123", wantErr: "too short to be an API key (6 characters)"},
		{name: "two lines pasted", in: "PDP_API_KEY=" + testKey + "\nDATABASE_URL=x", wantErr: "a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseKey(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseKey() = %+v, want error containing %q", c, tt.wantErr)
				}
				var ke *KeyError
				if !errors.As(err, &ke) {
					t.Fatalf("error %T is not a *KeyError", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secretpw") || strings.Contains(err.Error(), "eyJhbGciOi") {
					t.Fatalf("error %q repeats the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey() error: %v", err)
			}
			if c.APIKey != tt.key || c.URL != tt.url {
				t.Fatalf("ParseKey() = {APIKey:%q URL:%q}, want {APIKey:%q URL:%q}", c.APIKey, c.URL, tt.key, tt.url)
			}
			if c.Direct() != (tt.url != "") {
				t.Fatalf("Direct() = %v", c.Direct())
			}
		})
	}
}

func TestCredentialStringRedacts(t *testing.T) {
	for _, c := range []Credential{
		{APIKey: testKey},
		{URL: "postgres://user:s3cret@db.example.com:5432/postgres?sslpassword=other"},
	} {
		s := c.String()
		if strings.Contains(s, "s3cret") || strings.Contains(s, "other") || strings.Contains(s, testKey) {
			t.Fatalf("String() = %q leaks the secret", s)
		}
	}
	if got := (Credential{URL: "postgres://user:s3cret@db:5432/postgres"}).String(); got != "postgres://user:xxxxx@db:5432/postgres" {
		t.Fatalf("String() = %q", got)
	}
	if Fingerprint("a") == Fingerprint("b") {
		t.Fatal("different secrets share a fingerprint")
	}
}

func TestLoadKey(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	url := func(key string) string { return "prisma+postgres://accelerate.prisma-data.net/?api_key=" + key }
	keyA, keyB, keyC := testKey+"A", testKey+"B", testKey+"C"

	tests := []struct {
		name       string
		env        map[string]string
		dotenv     string
		wantKey    string
		wantSource string
		wantErr    string
	}{
		{name: "PDP_API_KEY before DATABASE_URL", env: map[string]string{"PDP_API_KEY": keyA, "DATABASE_URL": url(keyB)}, wantKey: keyA, wantSource: "PDP_API_KEY (environment)"},
		{name: "DATABASE_URL from environment", env: map[string]string{"DATABASE_URL": url(keyB)}, wantKey: keyB, wantSource: "DATABASE_URL (environment)"},
		{name: "from .env", dotenv: "# comment\nexport DATABASE_URL=\"" + url(keyC) + "\"\n", wantKey: keyC, wantSource: "DATABASE_URL in .env"},
		{name: "environment wins over .env", env: map[string]string{"DATABASE_URL": url(keyA)}, dotenv: "DATABASE_URL=" + url(keyC), wantKey: keyA, wantSource: "DATABASE_URL (environment)"},
		{name: "PDP_API_KEY in .env before DATABASE_URL in environment", env: map[string]string{"DATABASE_URL": url(keyA)}, dotenv: "PDP_API_KEY='" + keyB + "'", wantKey: keyB, wantSource: "PDP_API_KEY in .env"},
		{name: "empty environment value falls through", env: map[string]string{"PDP_API_KEY": ""}, dotenv: "PDP_API_KEY=" + keyC, wantKey: keyC, wantSource: "PDP_API_KEY in .env"},
		{name: "nothing", wantErr: "no API key found"},
		{name: "bad value names its source", dotenv: "DATABASE_URL=prisma+postgres://x/?foo=1", wantErr: "DATABASE_URL in .env: the prisma+postgres:// URL has no api_key parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.dotenv != "" {
				if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(tt.dotenv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, source, err := LoadKey(env(tt.env), dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadKey() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.APIKey != tt.wantKey || source != tt.wantSource {
				t.Fatalf("LoadKey() = %q from %q, want %q from %q", c.APIKey, source, tt.wantKey, tt.wantSource)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		testKey, "  " + testKey + "\n", `DATABASE_URL="prisma+postgres://accelerate.prisma-data.net/?api_key=` + testKey + `"`,
		"postgres://u:p@h:5432/db", "prisma+postgres://h/?x=1", "export A='b' # c", "", `"`, "'abc", "\uFEFF", "a=b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseKey(s)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error %T is not a *KeyError", err)
			}
			if c != (Credential{}) {
				t.Fatalf("error with a credential: %+v", c)
			}
			// The problem must never repeat a secret-looking part of the
			// input. (The hint is ppg's own fixed text: an input may be a
			// piece of it, "sma+postgres://accel" say.)
			if v := cleanValue(s); len(v) >= minKeyLength && strings.Contains(ke.Problem, v) {
				t.Fatalf("error %q repeats the input", err)
			}
			return
		}
		if (c.APIKey == "") == (c.URL == "") {
			t.Fatalf("exactly one of APIKey and URL must be set: %+v", c)
		}
		if c.APIKey != "" {
			if !keyChars.MatchString(c.APIKey) || len(c.APIKey) < minKeyLength {
				t.Fatalf("accepted an impossible key %q", c.APIKey)
			}
			// Parsing is idempotent on what it returns.
			again, err := ParseKey(c.APIKey)
			if err != nil || again != c {
				t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", c.APIKey, again, err, c)
			}
		}
		if c.APIKey != "" && strings.Contains(c.String(), c.APIKey) {
			t.Fatal("String() leaks")
		}
	})
}
