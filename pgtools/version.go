package pgtools

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a PostgreSQL version as the tools print it.
//
// From PostgreSQL 10 on a version is MAJOR.MINOR ("17.11": Major 17, Minor
// 11). Before 10 the major version had two parts ("9.6.24": Major 9, Minor
// 6, Patch 24). Pre-releases carry a suffix ("16beta1", "18devel", "15rc2")
// in Pre; they sort before the release they precede.
type Version struct {
	// Major is the major version: 17 for 17.11, 9 for 9.6.24.
	Major int `json:"major"`
	// Minor is the minor version: 11 for 17.11, 6 for 9.6.24.
	Minor int `json:"minor"`
	// Patch is the third number of versions before 10: 24 for 9.6.24.
	Patch int `json:"patch,omitempty"`
	// Pre is a pre-release suffix such as "beta1", "rc2" or "devel"; empty
	// for releases.
	Pre string `json:"pre,omitempty"`
	// Raw is the version as printed, packager's note included
	// ("17.11 (Debian 17.11-1.pgdg120+1)").
	Raw string `json:"raw"`
}

// versionRe matches the version number inside `pg_dump --version` output or
// an archive header: "17.11", "9.6.24", "16beta1", "18devel", "15rc2".
var versionRe = regexp.MustCompile(`(\d+)(?:\.(\d+))?(?:\.(\d+))?(devel|(?:alpha|beta|rc)\d*)?`)

// ParseVersion reads a version from `pg_dump --version` output ("pg_dump
// (PostgreSQL) 17.11 (Debian 17.11-1.pgdg120+1)"), from an archive header
// ("16.14", "15.18 (Debian 15.18-0+deb12u1)") or from a bare number. When
// "(PostgreSQL)" is present the version is the number after it; otherwise
// it is the first number in s.
func ParseVersion(s string) (Version, error) {
	text := strings.TrimSpace(s)
	if i := strings.Index(text, "(PostgreSQL)"); i >= 0 {
		text = strings.TrimSpace(text[i+len("(PostgreSQL)"):])
	}
	loc := versionRe.FindStringSubmatchIndex(text)
	if loc == nil {
		return Version{}, fmt.Errorf("no version number in %q", s)
	}
	num := func(i int) (int, error) {
		if loc[2*i] < 0 {
			return 0, nil
		}
		return strconv.Atoi(text[loc[2*i]:loc[2*i+1]])
	}
	var v Version
	var err error
	if v.Major, err = num(1); err != nil {
		return Version{}, fmt.Errorf("parse version %q: %w", s, err)
	}
	if v.Minor, err = num(2); err != nil {
		return Version{}, fmt.Errorf("parse version %q: %w", s, err)
	}
	if v.Patch, err = num(3); err != nil {
		return Version{}, fmt.Errorf("parse version %q: %w", s, err)
	}
	if loc[8] >= 0 {
		v.Pre = text[loc[8]:loc[9]]
	}
	v.Raw = strings.TrimSpace(text[loc[0]:])
	if nl := strings.IndexAny(v.Raw, "\r\n"); nl >= 0 {
		v.Raw = strings.TrimSpace(v.Raw[:nl])
	}
	return v, nil
}

// IsZero reports whether v is the zero Version (no version known).
func (v Version) IsZero() bool {
	return v.Major == 0 && v.Minor == 0 && v.Patch == 0 && v.Pre == ""
}

// String returns the version number without the packager's note:
// "17.11", "9.6.24", "16beta1".
func (v Version) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(v.Major))
	if v.Pre != "" && v.Minor == 0 && v.Patch == 0 {
		b.WriteString(v.Pre)
		return b.String()
	}
	b.WriteString(".")
	b.WriteString(strconv.Itoa(v.Minor))
	if v.Major < 10 || v.Patch != 0 {
		b.WriteString(".")
		b.WriteString(strconv.Itoa(v.Patch))
	}
	b.WriteString(v.Pre)
	return b.String()
}

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer
// than w. A pre-release is older than the release with the same numbers;
// pre-releases compare "devel" < "alpha" < "beta" < "rc", then by number.
func (v Version) Compare(w Version) int {
	for _, d := range [...]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	return comparePre(v.Pre, w.Pre)
}

// comparePre orders pre-release suffixes; "" (a release) is the newest.
func comparePre(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	ra, na := preRank(a)
	rb, nb := preRank(b)
	if ra != rb {
		return sign(ra - rb)
	}
	return sign(na - nb)
}

// preRank splits a pre-release suffix into a rank and its number.
func preRank(s string) (rank, n int) {
	for i, p := range [...]string{"devel", "alpha", "beta", "rc"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			n, _ = strconv.Atoi(rest)
			return i, n
		}
	}
	return -1, 0
}

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}
