package tunnel

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Credential is what a user gave to reach one database: either an API key for
// the gateway, or a direct postgres:// URL that needs no tunnel.
//
// Both fields are secrets. Print a Credential only through [Credential.String],
// which redacts them.
type Credential struct {
	// APIKey is the gateway's Bearer token; empty for a direct URL.
	APIKey string
	// URL is a direct postgres:// or postgresql:// connection URL, which may
	// hold a password; empty for an API key.
	URL string
}

// Direct reports whether the credential is a direct connection URL, which is
// used as is, without a tunnel.
func (c Credential) Direct() bool { return c.URL != "" }

// String describes the credential without revealing it: the kind and a short
// fingerprint for an API key, the URL with its password and query removed for
// a direct URL.
func (c Credential) String() string {
	if c.Direct() {
		return RedactURL(c.URL)
	}
	if c.APIKey == "" {
		return "no credential"
	}
	return "API key " + Fingerprint(c.APIKey)
}

// Fingerprint returns a short, stable, non-reversible label for a secret
// ("sha256:1a2b3c4d"), so that logs can tell two keys apart without showing
// either.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// RedactURL returns u with any password replaced by "xxxxx" and the query
// string (which may carry api_key or sslpassword) dropped. A URL that does not
// parse is replaced by a placeholder, never echoed.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return "<unparsable URL>"
	}
	p.RawQuery = ""
	p.Fragment = ""
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), "xxxxx")
		}
	}
	return p.String()
}

// KeyError says why a pasted value is not a usable key or URL. Its text,
// the Problem, never contains the value itself.
type KeyError struct {
	// Problem says what is wrong with the value.
	Problem string
	// Hint says what was expected, for the front end's advice; it is not
	// part of the error's text.
	Hint string
}

func (e *KeyError) Error() string { return e.Problem }

const expected = "paste the API key, or the whole DATABASE_URL value " +
	"(prisma+postgres://accelerate.prisma-data.net/?api_key=...), or a direct postgres:// URL"

// minKeyLength rejects values too short to be a Prisma API key (they are
// JWTs, hundreds of characters long) before any network round trip.
const minKeyLength = 20

var (
	assignment = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=`)
	keyChars   = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)
)

// ParseKey turns what a user pasted into a Credential. It accepts a raw API
// key; a prisma+postgres:// (or prisma://) URL with an api_key parameter; a
// postgres:// or postgresql:// URL, recognised as a direct connection that
// needs no tunnel; and any of these as a whole .env line (NAME="value",
// optionally with export, quotes and a trailing comment), with surrounding
// whitespace. Anything else is a [*KeyError] that says what was expected.
func ParseKey(s string) (Credential, error) {
	v := cleanValue(s)
	// NAME=value, perhaps quoted, perhaps nested: take the value. A raw
	// key can look like an assignment too (base64 has "=", a key has
	// letters and digits): what could be a key, and whose "name" is not
	// a variable's, stays whole.
	for {
		m := assignment.FindStringSubmatch(v)
		if m == nil || maybeKey(v, m[1]) {
			break
		}
		rest := v[len(m[0]):]
		if rest == "" {
			v = "" // NAME= with no value
			break
		}
		if strings.Trim(rest, "=") == "" {
			break // only "=" after the name: a raw key's base64 padding
		}
		v = cleanValue(rest)
	}
	if v == "" {
		return Credential{}, &KeyError{Problem: "no key given", Hint: expected}
	}
	if strings.Contains(v, "://") {
		return parseURL(v)
	}
	return parseRawKey(v)
}

// envName is the shape of an environment variable's name (PDP_API_KEY).
var envName = regexp.MustCompile(`^[A-Z0-9_]*_[A-Z0-9_]*$`)

// maybeKey tells a raw key that looks like an assignment ("A0b1=c2...",
// "A0b1...Z9=") from one (DATABASE_URL=...): it has only a key's
// characters and length, and the part before "=" is not a variable's
// name.
func maybeKey(v, name string) bool {
	return keyChars.MatchString(v) && len(v) >= minKeyLength && !envName.MatchString(name)
}

func parseURL(v string) (Credential, error) {
	u, err := url.Parse(v)
	if err != nil {
		// url.Error repeats the whole URL, secrets included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Credential{}, &KeyError{Problem: fmt.Sprintf("the URL does not parse (%v)", err), Hint: expected}
	}
	switch strings.ToLower(u.Scheme) {
	case "postgres", "postgresql":
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return Credential{}, &KeyError{Problem: "the URL's port is not a number from 1 to 65535", Hint: "copy the whole connection URL again"}
			}
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return Credential{}, &KeyError{Problem: "the postgres:// URL has no host", Hint: "copy the whole connection URL, e.g. postgres://USER:PASSWORD@HOST:5432/postgres?sslmode=require"}
		}
		return Credential{URL: v}, nil
	case "prisma+postgres", "prisma":
		key := u.Query().Get("api_key")
		if key == "" {
			return Credential{}, &KeyError{Problem: "the " + u.Scheme + ":// URL has no api_key parameter", Hint: "copy the whole URL from the Prisma Console or your .env (it ends in ?api_key=...)"}
		}
		c, err := parseRawKey(key)
		if err != nil {
			var ke *KeyError
			if errors.As(err, &ke) {
				ke.Problem = "the URL's api_key " + strings.TrimPrefix(ke.Problem, "the value ")
			}
			return Credential{}, err
		}
		return c, nil
	default:
		return Credential{}, &KeyError{Problem: fmt.Sprintf("unsupported URL scheme %q", u.Scheme), Hint: expected}
	}
}

func parseRawKey(v string) (Credential, error) {
	if !keyChars.MatchString(v) {
		i := strings.IndexFunc(v, func(r rune) bool { return !keyChars.MatchString(string(r)) })
		what := "a character"
		if r := []rune(v[i:])[0]; r == ' ' || r == '\t' {
			what = "a space"
		} else if r < ' ' || r == 0x7f {
			what = "a control character"
		} else if r > 0x7f {
			what = "a non-ASCII character"
		}
		return Credential{}, &KeyError{
			Problem: fmt.Sprintf("the value has %s at position %d that an API key never contains", what, len([]rune(v[:i]))+1),
			Hint:    expected,
		}
	}
	if len(v) < minKeyLength {
		return Credential{}, &KeyError{
			Problem: fmt.Sprintf("the value is too short to be an API key (%d characters)", len(v)),
			Hint:    expected,
		}
	}
	return Credential{APIKey: v}, nil
}

// cleanValue trims whitespace (and a byte order mark), then one pair of
// matching quotes; an unquoted value loses a trailing " # comment".
func cleanValue(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "\uFEFF"))
	if len(s) >= 2 {
		switch q := s[0]; q {
		case '"', '\'', '`':
			if end := strings.IndexByte(s[1:], q); end >= 0 {
				return strings.TrimSpace(s[1 : end+1])
			}
		}
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "\t#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Key sources, in the order standard mode reads them.
var keyVariables = []string{"PDP_API_KEY", "DATABASE_URL"}

// LoadKey finds the credential for standard mode the way @prisma/ppg-tunnel
// does: PDP_API_KEY first, then DATABASE_URL, each from the environment
// (through getenv) or else from the .env file in dir. It returns the
// credential and where it came from ("DATABASE_URL in .env"), for messages.
func LoadKey(getenv func(string) (string, bool), dir string) (Credential, string, error) {
	dotenvPath := filepath.Join(dir, ".env")
	dotenv, err := readDotenv(dotenvPath)
	if err != nil {
		return Credential{}, "", err
	}
	for _, name := range keyVariables {
		var v, source string
		if ev, ok := getenv(name); ok && strings.TrimSpace(ev) != "" {
			v, source = ev, name+" (environment)"
		} else if dv, ok := dotenv[name]; ok && strings.TrimSpace(dv) != "" {
			v, source = dv, name+" in .env"
		} else {
			continue
		}
		c, err := ParseKey(v)
		if err != nil {
			return Credential{}, source, fmt.Errorf("%s: %w", source, err)
		}
		return c, source, nil
	}
	return Credential{}, "", &KeyError{
		Problem: "no API key found",
		Hint:    "set PDP_API_KEY or DATABASE_URL (prisma+postgres://...?api_key=...) in the environment or in a .env file in this folder",
	}
}

// readDotenv reads NAME=value lines of a .env file. A missing file is an
// empty set; lines that are not assignments are ignored, as dotenv does.
func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	vars, err := parseDotenv(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return vars, nil
}

// ParseDotenv reads the NAME=value lines of the text of a .env file, as
// LoadKey reads the file: lines that are not assignments are ignored, a
// value loses its quotes or trailing comment. A front end calls it on a
// pasted .env file.
func ParseDotenv(text string) map[string]string {
	vars, _ := parseDotenv(strings.NewReader(text))
	return vars
}

// DotenvKey picks the key among the variables of a .env file the way
// LoadKey does: PDP_API_KEY first, then DATABASE_URL. ok is false when
// neither holds a value.
func DotenvKey(vars map[string]string) (name, value string, ok bool) {
	for _, name := range keyVariables {
		if v := vars[name]; strings.TrimSpace(v) != "" {
			return name, v, true
		}
	}
	return "", "", false
}

func parseDotenv(r io.Reader) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := assignment.FindStringSubmatch(line); m != nil {
			vars[m[1]] = cleanValue(line[len(m[0]):])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}
