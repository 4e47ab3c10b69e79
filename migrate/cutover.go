package migrate

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvFinding is a line of an application's .env file that still points at
// hosted Accelerate, which was retired on 1 December 2026: the application
// must move to the new database's URL. It holds no secret.
type EnvFinding struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Name string `json:"name"`
}

// acceleratePrefixes are the URLs of hosted Accelerate.
var acceleratePrefixes = [...]string{"prisma+postgres://accelerate.prisma-data.net", "prisma://accelerate.prisma-data.net"}

// CheckEnvFile looks for Accelerate URLs in dir/.env. A missing file finds
// nothing.
func CheckEnvFile(dir string) ([]EnvFinding, error) {
	path := filepath.Join(dir, ".env")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	var out []EnvFinding
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"'`)
		for _, p := range acceleratePrefixes {
			if strings.HasPrefix(value, p) {
				out = append(out, EnvFinding{Path: path, Line: n, Name: strings.TrimSpace(name)})
				break
			}
		}
	}
	return out, sc.Err()
}
