//go:build ignore

// Command capture regenerates the pg_dump and pg_restore fixtures in this
// directory from real tools and real servers. Run it from the module root
// (it needs the toolchain of e2e/toolchain.sh and Debian's PostgreSQL 15
// client tools):
//
//	. "$(bash e2e/toolchain.sh)"
//	go run ./pgtools/testdata/capture.go
//
// How the fixtures are made:
//
//   - A PostgreSQL 16 server (the "EA" source, ppg/e2e/pgserver) gets
//     schema.sql in its "postgres" database: two schemas, an enum, sequences
//     (serial, identity, standalone), a view, a materialized view, functions,
//     a trigger, an event trigger, foreign keys, a row-level-security policy,
//     a partitioned table with two partitions, a table named "we""ird.name",
//     a table named "order items", jsonb and bytea data, a large object, a
//     publication, a default ACL, and a table owned by role ea_owner, which
//     does not exist on the target.
//   - pg_dump 15 refuses to dump a PostgreSQL 16 server
//     (pg_dump-15-server16.txt holds its message), so the version 15 dump
//     comes from a PostgreSQL 15 server (Debian's) loaded with the same
//     schema.sql.
//   - A PostgreSQL 17 server (the "GA" target) receives the restores, each
//     into a fresh database.
//   - For client versions 15 (Debian, /usr/lib/postgresql/15/bin) and 17
//     ($PPG_CLIENT_BIN), files are named after the tool and version:
//     pg_dump-V.txt        stderr of pg_dump -Fc -v
//     list-V.txt           stdout of pg_restore --list on that archive
//     list-V-S.txt         stdout of pg_restore --list --section S, for S
//     in pre-data, data, post-data (which entries each section holds)
//     pg_restore-V.txt     stderr of pg_restore -v into an empty database
//     pg_restore-V-errors.txt  the same restore run a second time into the
//     same database (every CREATE fails)
//     pg_restore-V-pre-data.txt, -data.txt, -post-data.txt  pg_restore -v
//     --section S, run one after the other into one empty database
//     pg_restore-V-j2.txt  pg_restore -v -j 2 of the custom archive
//   - Version 17 only: pg_dump-17-dir-j2.txt (pg_dump -Fd -j 2 -v) and
//     pg_restore-17-dir-j2.txt (pg_restore -v -j 2 of that directory);
//     pg_restore-17-into16.txt and pg_restore-17-into16-j2.txt (pg_restore
//     17 into a PostgreSQL 16 server, serial and with -j 2);
//     pg_restore-15-too-old.txt (pg_restore 15 given pg_dump 17's archive);
//     pg_dump-17-badpassword.txt (a wrong password);
//     pg_dump-17-interrupted.txt and pg_restore-17-interrupted.txt (SIGINT,
//     as Ctrl-C sends, while pg_dump waits for a lock on app.orders, and
//     while pg_restore --section data waits to load it).
//   - ea-15.dump and ea-17.dump are the custom-format archives themselves,
//     ea-17.dir/toc.dat the table of contents of the directory-format one
//     (its data files are left out), ea-17.tar a tar-format archive of the
//     same database (pg_dump 17 -Ft).
//   - fixtures.txt lists every file with its command line and exit status.
//
// Parallel runs (-j 2) interleave their workers' writes differently on
// every capture, sometimes mid-line ("pg_restore:pg_restore:  processing
// data …"); the tests check only what holds for any interleaving, and
// TestParserInterleaved keeps the garbled lines seen so far.
//
// Every tool runs with LC_ALL=C and PGSSLMODE=disable, the password in
// PGPASSWORD. The temporary directory's path is replaced by $TMP and the
// servers' ports by PORT in the fixtures. PostgreSQL 16 client tools are
// not available on these machines, so there are no 16 fixtures. Restores
// into the GA target report errors (exit status 1) because role ea_owner
// is missing there: that is intended, it is what such migrations meet.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ppg-cli/ppg/e2e/pgserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		os.Exit(1)
	}
}

type capturer struct {
	out      string // fixture directory
	tmp      string // archives
	manifest bytes.Buffer
	// ports are replaced by PORT in fixtures
	ports []int
	// wrongPassword makes tool send a wrong password
	wrongPassword bool
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	out := filepath.Join("pgtools", "testdata")
	if _, err := os.Stat(filepath.Join(out, "schema.sql")); err != nil {
		return fmt.Errorf("run from the module root: %w", err)
	}
	client15 := "/usr/lib/postgresql/15/bin"
	client17 := os.Getenv("PPG_CLIENT_BIN")
	if client17 == "" {
		client17 = "/opt/ppg-toolchain/client17/bin"
	}
	for _, p := range []string{client15 + "/pg_dump", client17 + "/pg_dump", client17 + "/psql"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("missing client tool: %w", err)
		}
	}

	tmp, err := os.MkdirTemp("", "ppg-capture-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	c := &capturer{out: out, tmp: tmp}

	src, err := pgserver.Start(ctx, pgserver.Options{Version: 16})
	if err != nil {
		return fmt.Errorf("start source: %w", err)
	}
	defer src.Stop()
	// pg_dump 15 refuses to dump a newer server, so its fixtures come from
	// a PostgreSQL 15 server (Debian's) with the same schema.
	src15, err := pgserver.Start(ctx, pgserver.Options{Version: 15, BinDir: client15})
	if err != nil {
		return fmt.Errorf("start source 15: %w", err)
	}
	defer src15.Stop()
	dst, err := pgserver.Start(ctx, pgserver.Options{Version: 17})
	if err != nil {
		return fmt.Errorf("start target: %w", err)
	}
	defer dst.Stop()

	c.ports = []int{src.Port, src15.Port, dst.Port}
	psql := client17 + "/psql"
	for _, s := range []*pgserver.Server{src, src15} {
		if _, err := c.tool(ctx, "", psql, s, "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", filepath.Join(out, "schema.sql")); err != nil {
			return fmt.Errorf("load schema: %w", err)
		}
	}
	if err := c.capture(ctx, "pg_dump-15-server16.txt", client15+"/pg_dump", src, "postgres", "-Fc", "-v", "-f", filepath.Join(tmp, "never.dump")); err != nil {
		return err
	}

	for _, v := range []struct {
		name string
		bin  string
		src  *pgserver.Server
	}{{"15", client15, src15}, {"17", client17, src}} {
		dump := filepath.Join(tmp, "ea-"+v.name+".dump")
		if err := c.capture(ctx, "pg_dump-"+v.name+".txt", v.bin+"/pg_dump", v.src, "postgres", "-Fc", "-v", "-f", dump); err != nil {
			return err
		}
		if err := c.captureStdout(ctx, "list-"+v.name+".txt", v.bin+"/pg_restore", "--list", dump); err != nil {
			return err
		}
		for _, sec := range []string{"pre-data", "data", "post-data"} {
			if err := c.captureStdout(ctx, "list-"+v.name+"-"+sec+".txt", v.bin+"/pg_restore", "--list", "--section", sec, dump); err != nil {
				return err
			}
		}
		restore := func(fixture, db string, args ...string) error {
			return c.capture(ctx, fixture, v.bin+"/pg_restore", dst, db, append(append([]string{"-v"}, args...), dump)...)
		}
		if err := c.createDB(ctx, psql, dst, "r"+v.name); err != nil {
			return err
		}
		if err := restore("pg_restore-"+v.name+".txt", "r"+v.name); err != nil {
			return err
		}
		if err := restore("pg_restore-"+v.name+"-errors.txt", "r"+v.name); err != nil {
			return err
		}
		if err := c.createDB(ctx, psql, dst, "s"+v.name); err != nil {
			return err
		}
		for _, sec := range []string{"pre-data", "data", "post-data"} {
			if err := restore("pg_restore-"+v.name+"-"+sec+".txt", "s"+v.name, "--section", sec); err != nil {
				return err
			}
		}
		if err := c.createDB(ctx, psql, dst, "j"+v.name); err != nil {
			return err
		}
		if err := restore("pg_restore-"+v.name+"-j2.txt", "j"+v.name, "-j", "2"); err != nil {
			return err
		}
	}

	// A tar-format archive, for its header.
	if _, err := c.tool(ctx, "", client17+"/pg_dump", src, "postgres", "-Ft", "-f", filepath.Join(tmp, "ea-17.tar")); err != nil {
		return err
	}
	dir := filepath.Join(tmp, "ea-17.dir")
	if err := c.capture(ctx, "pg_dump-17-dir-j2.txt", client17+"/pg_dump", src, "postgres", "-Fd", "-j", "2", "-v", "-f", dir); err != nil {
		return err
	}
	if err := c.createDB(ctx, psql, dst, "jd17"); err != nil {
		return err
	}
	if err := c.capture(ctx, "pg_restore-17-dir-j2.txt", client17+"/pg_restore", dst, "jd17", "-v", "-j", "2", dir); err != nil {
		return err
	}
	if err := c.createDB(ctx, psql, src, "into16"); err != nil {
		return err
	}
	if err := c.capture(ctx, "pg_restore-17-into16.txt", client17+"/pg_restore", src, "into16", "-v", filepath.Join(tmp, "ea-17.dump")); err != nil {
		return err
	}
	if err := c.createDB(ctx, psql, src, "into16j"); err != nil {
		return err
	}
	if err := c.capture(ctx, "pg_restore-17-into16-j2.txt", client17+"/pg_restore", src, "into16j", "-v", "-j", "2", filepath.Join(tmp, "ea-17.dump")); err != nil {
		return err
	}
	c.wrongPassword = true
	if err := c.capture(ctx, "pg_dump-17-badpassword.txt", client17+"/pg_dump", src, "postgres", "-Fc", "-v", "-f", filepath.Join(tmp, "never.dump")); err != nil {
		return err
	}
	c.wrongPassword = false
	if err := c.createDB(ctx, psql, dst, "old15"); err != nil {
		return err
	}
	if err := c.capture(ctx, "pg_restore-15-too-old.txt", client15+"/pg_restore", dst, "old15", "-v", filepath.Join(tmp, "ea-17.dump")); err != nil {
		return err
	}
	// Interrupted runs: blocked on a lock, then SIGINT.
	if err := c.interrupted(ctx, "pg_dump-17-interrupted.txt", psql, src, "postgres", "reading user-defined tables",
		client17+"/pg_dump", src, "postgres", "-Fc", "-v", "-f", filepath.Join(tmp, "never.dump")); err != nil {
		return err
	}
	if err := c.createDB(ctx, psql, dst, "int17"); err != nil {
		return err
	}
	if _, err := c.tool(ctx, "", client17+"/pg_restore", dst, "int17", "--section", "pre-data", "--no-owner", "--no-acl", filepath.Join(tmp, "ea-17.dump")); err != nil {
		return err
	}
	if err := c.interrupted(ctx, "pg_restore-17-interrupted.txt", psql, dst, "int17", `processing data for table "app.orders"`,
		client17+"/pg_restore", dst, "int17", "-v", "--section", "data", filepath.Join(tmp, "ea-17.dump")); err != nil {
		return err
	}

	// The archives themselves, for reading headers without pg_restore.
	for from, to := range map[string]string{
		filepath.Join(tmp, "ea-15.dump"):           "ea-15.dump",
		filepath.Join(tmp, "ea-17.dump"):           "ea-17.dump",
		filepath.Join(tmp, "ea-17.dir", "toc.dat"): filepath.Join("ea-17.dir", "toc.dat"),
		filepath.Join(tmp, "ea-17.tar"):            "ea-17.tar",
	} {
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(out, to)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, to), b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "fixtures.txt"), c.manifest.Bytes(), 0o644)
}

// createDB creates an empty database.
func (c *capturer) createDB(ctx context.Context, psql string, s *pgserver.Server, name string) error {
	_, err := c.tool(ctx, "", psql, s, "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE "+name)
	return err
}

// capture runs a tool against a server and saves its stderr as fixture.
func (c *capturer) capture(ctx context.Context, fixture, bin string, s *pgserver.Server, db string, args ...string) error {
	res, err := c.tool(ctx, fixture, bin, s, db, args...)
	if err != nil && res == nil {
		return err
	}
	return c.save(fixture, res.stderr)
}

// captureStdout runs a tool without a server and saves its stdout.
func (c *capturer) captureStdout(ctx context.Context, fixture, bin string, args ...string) error {
	res, err := c.tool(ctx, fixture, bin, nil, "", args...)
	if err != nil {
		return err
	}
	return c.save(fixture, res.stdout)
}

func (c *capturer) save(fixture string, b []byte) error {
	b = bytes.ReplaceAll(b, []byte(c.tmp), []byte("$TMP"))
	for _, p := range c.ports {
		b = bytes.ReplaceAll(b, []byte(`port `+strconv.Itoa(p)), []byte("port PORT"))
	}
	return os.WriteFile(filepath.Join(c.out, fixture), b, 0o644)
}

type result struct {
	stdout, stderr []byte
	code           int
}

// command builds the command for bin with connection arguments for s (if
// not nil) and args, and how to show it in the manifest.
func (c *capturer) command(ctx context.Context, bin string, s *pgserver.Server, db string, args ...string) (*exec.Cmd, string) {
	var conn []string
	env := []string{"LC_ALL=C", "PGSSLMODE=disable"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	if s != nil {
		conn = []string{"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", db}
		pw := s.Password
		if c.wrongPassword {
			pw = "wrong"
		}
		env = append(env, "PGPASSWORD="+pw)
	}
	cmd := exec.CommandContext(ctx, bin, append(conn, args...)...)
	cmd.Env = env
	shown := []string{filepath.Base(filepath.Dir(filepath.Dir(bin))) + "/" + filepath.Base(bin)}
	if s != nil {
		shown = append(shown, "-h", "HOST", "-p", "PORT", "-U", s.User, "-d", db)
		shown = append(shown, "(PostgreSQL "+strconv.Itoa(s.Version)+")")
	}
	for _, a := range args {
		shown = append(shown, strings.ReplaceAll(a, c.tmp, "$TMP"))
	}
	return cmd, strings.Join(shown, " ")
}

// tool runs bin with connection arguments for s (if not nil) and args. A
// non-zero exit is an error only for runs that are not fixtures; fixtures
// record it in the manifest.
func (c *capturer) tool(ctx context.Context, fixture, bin string, s *pgserver.Server, db string, args ...string) (*result, error) {
	cmd, shown := c.command(ctx, bin, s, db, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := &result{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	if fixture == "" {
		if res.code != 0 {
			return res, fmt.Errorf("%s exited %d: %s", shown, res.code, stderr.Bytes())
		}
		return res, nil
	}
	c.record(fixture, res.code, shown)
	return res, nil
}

func (c *capturer) record(fixture string, code int, shown string) {
	fmt.Fprintf(&c.manifest, "%s\texit %d\t%s\n", fixture, code, shown)
	fmt.Fprintf(os.Stderr, "%s: exit %d\n", fixture, code)
}

// interrupted runs bin while a psql session on lockServer holds an ACCESS
// EXCLUSIVE lock on app.orders in lockDB, so that bin blocks; once bin has
// printed a line containing waitFor it gets SIGINT, as Ctrl-C would send.
// Its stderr is the fixture.
func (c *capturer) interrupted(ctx context.Context, fixture, psql string, lockServer *pgserver.Server, lockDB, waitFor, bin string, s *pgserver.Server, db string, args ...string) error {
	lockCtx, unlock := context.WithCancel(ctx)
	defer unlock()
	locker, _ := c.command(lockCtx, psql, lockServer, lockDB, "-X", "-q", "-c",
		"BEGIN; LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);")
	if err := locker.Start(); err != nil {
		return err
	}
	defer locker.Wait()
	for {
		res, err := c.tool(ctx, "", psql, lockServer, lockDB, "-X", "-A", "-t", "-c",
			"SELECT count(*) FROM pg_locks WHERE relation = 'app.orders'::regclass AND mode = 'AccessExclusiveLock' AND granted")
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(res.stdout)) == "1" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	cmd, shown := c.command(ctx, bin, s, db, args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), waitFor) {
			time.Sleep(time.Second) // blocked on the lock by now
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				return err
			}
		}
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return err
	}
	c.record(fixture, code, shown+" (SIGINT while blocked)")
	return c.save(fixture, out.Bytes())
}
