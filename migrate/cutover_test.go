package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckEnvFile(t *testing.T) {
	dir := t.TempDir()
	env := "# app\nexport DIRECT_URL=\"postgres://u:p@db.prisma.io:5432/postgres\"\nDATABASE_URL=\"prisma+postgres://accelerate.prisma-data.net/?api_key=SECRETKEY\"\n\nOTHER=1\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := CheckEnvFile(dir)
	if err != nil || len(got) != 1 || got[0].Line != 3 || got[0].Name != "DATABASE_URL" {
		t.Fatalf("CheckEnvFile = %+v, %v", got, err)
	}
	if strings.Contains(got[0].Path+got[0].Name, "SECRET") {
		t.Error("a finding holds the key")
	}
	if got, err := CheckEnvFile(t.TempDir()); err != nil || got != nil {
		t.Errorf("no .env: %v %v", got, err)
	}
}
