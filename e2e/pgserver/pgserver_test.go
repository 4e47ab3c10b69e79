//go:build e2e

package pgserver

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func query(t *testing.T, connString, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	res, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return string(res[0].Rows[0][0])
}

func TestStartQueryStop(t *testing.T) {
	s := StartT(t, DefaultVersion)
	if got := query(t, s.URL("postgres"), "select current_user"); got != "postgres" {
		t.Errorf("current_user = %q, want postgres", got)
	}
	if got := query(t, s.URL("postgres"), "show fsync"); got != "off" {
		t.Errorf("fsync = %q, want off", got)
	}
	if got := query(t, s.URL("postgres"), "show max_connections"); got != "200" {
		t.Errorf("max_connections = %q, want 200", got)
	}
	if got := query(t, s.URL("postgres"), "show server_version_num"); !strings.HasPrefix(got, strconv.Itoa(s.Version)) {
		t.Errorf("server_version_num = %q, want major %d", got, s.Version)
	}
	if !strings.Contains(s.URL("db1"), "/db1?sslmode=disable") {
		t.Errorf("URL = %q", s.URL("db1"))
	}
	if s.Logs() == "" {
		t.Errorf("Logs() is empty")
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(s.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir still there after Stop: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := pgconn.Connect(ctx, s.URL("postgres")); err == nil {
		_ = conn.Close(ctx) // the test fails on the connect already
		t.Errorf("connect after Stop succeeded")
	}
}

func TestPasswordRequiredOverTCP(t *testing.T) {
	s := StartT(t, DefaultVersion)
	wrong := strings.Replace(s.URL("postgres"), s.Password, "wrong", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, wrong)
	if err == nil {
		_ = conn.Close(ctx) // the test fails on the connect already
		t.Fatal("connect with a wrong password succeeded")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("err = %v, want SQLSTATE 28P01", err)
	}
}

func TestUnixSocketTrusted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix sockets")
	}
	s := StartT(t, DefaultVersion)
	connString := "host=" + s.SocketDir + " port=" + strconv.Itoa(s.Port) + " user=postgres dbname=postgres sslmode=disable"
	if got := query(t, connString, "select 1"); got != "1" {
		t.Errorf("select 1 = %q", got)
	}
}

func TestSettingsAndConcurrentServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := StartT(t, DefaultVersion)
	binDir := binDirOf(t, DefaultVersion)
	s, err := Start(ctx, Options{BinDir: binDir, Settings: map[string]string{"work_mem": "7MB", "max_connections": "50"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	if s.Port == base.Port || s.DataDir == base.DataDir {
		t.Errorf("two servers share port %d or dir %s", s.Port, s.DataDir)
	}
	if got := query(t, s.URL("postgres"), "show work_mem"); got != "7MB" {
		t.Errorf("work_mem = %q, want 7MB", got)
	}
	if got := query(t, s.URL("postgres"), "show max_connections"); got != "50" {
		t.Errorf("max_connections = %q, want 50 (Settings must override defaults)", got)
	}
	if got := query(t, base.URL("postgres"), "show work_mem"); got == "7MB" {
		t.Errorf("settings leaked to the other server")
	}
}

func TestBadSettingFailsWithLog(t *testing.T) {
	StartT(t, DefaultVersion) // skips when binaries are missing
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{BinDir: binDirOf(t, DefaultVersion), Settings: map[string]string{"no_such_setting": "1"}})
	if err == nil {
		_ = s.Stop() // the test fails on the start already
		t.Fatal("Start with an unknown setting succeeded")
	}
	if !strings.Contains(err.Error(), "no_such_setting") {
		t.Errorf("error does not show the server log: %v", err)
	}
}

func binDirOf(t *testing.T, version int) string {
	t.Helper()
	dir, err := resolveBinDir(version, "", os.Getenv)
	if err != nil {
		t.Fatalf("resolve binaries: %v", err)
	}
	return dir
}

func TestVersions(t *testing.T) {
	for _, version := range []int{16, 17, 18} {
		t.Run(strconv.Itoa(version), func(t *testing.T) {
			t.Parallel()
			s := StartT(t, version)
			num := query(t, s.URL("postgres"), "show server_version_num")
			if !strings.HasPrefix(num, strconv.Itoa(s.Version)) {
				t.Errorf("server_version_num %s, Server.Version %d", num, s.Version)
			}
			if s.Version != version {
				t.Logf("asked for PostgreSQL %d, got %d: PPG_PG%d_BIN points elsewhere", version, s.Version, version)
			}
		})
	}
}
