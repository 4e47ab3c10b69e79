//go:build e2e

package e2e

// The relay wired into ppg: `ppg migrate` over direct URLs and `ppg
// backup` through the tunnel run pg_dump through it across a link of
// 25 ms each way; the dump takes less time than the round trips that plain
// pg_dump must wait one after another; the data arrive identical and the
// backup is the archive plain pg_dump writes; a link cut during the dump
// is retried and the migration ends identical.

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/e2e/gateway"
	"github.com/ppg-cli/ppg/e2e/pgserver"
	"github.com/ppg-cli/ppg/migrate"
)

// relayMigrateTables is the size of the many-objects database here: 300
// tables, 300 views and 300 sequences.
const relayMigrateTables = 300

// proxiedURL is d's URL through a new delaying TCP proxy, closed at the
// end of the test.
func proxiedURL(t testing.TB, d *database, delay time.Duration) string {
	t.Helper()
	u, err := url.Parse(d.url)
	if err != nil {
		t.Fatal(err)
	}
	p, err := gateway.StartDelayProxy(u.Host, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	u.Host = p.Addr()
	return u.String()
}

// serialFloor is the least time plain pg_dump 17 spends waiting across a
// round trip of rtt: it sends one statement at a time, and at least one
// per view or materialized view, two per sequence and a COPY per table.
// A dump faster than this had its per-object queries prefetched.
func serialFloor(d *database, rtt time.Duration) (time.Duration, int64) {
	n := d.number(`SELECT count(*) FILTER (WHERE c.relkind IN ('v', 'm')) + 2 * count(*) FILTER (WHERE c.relkind = 'S')
		+ count(*) FILTER (WHERE c.relkind = 'r')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userSchemasSQL)
	return time.Duration(n) * rtt, n
}

// runMigrate runs headless `ppg migrate` from src to dst (URLs) in dir
// with env added.
func runMigrate(m *migration, dir, src, dst string, env ...string) result {
	m.t.Helper()
	env = append(append(m.toolEnv(), "PPG_SOURCE_URL="+src, "PPG_TARGET_URL="+dst), env...)
	return startPPG(m.t, dir, env, nil, "migrate", "--non-interactive", "--json").wait()
}

// TestRelayMigrateDirectURLs: `ppg migrate` over direct URLs, both 25 ms
// away each way, on the many-objects database: pg_dump goes through the
// relay (its dump step takes less than the round trips plain pg_dump must
// wait in turn), and the migration ends verified with the data identical
// by md5.
func TestRelayMigrateDirectURLs(t *testing.T) {
	m := newMigration(t)
	m.source.exec(manyObjectsSQL(relayMigrateTables))
	const delay = 25 * time.Millisecond
	floor, statements := serialFloor(m.source, 2*delay)

	r := runMigrate(m, m.dir, proxiedURL(t, m.source, delay), proxiedURL(t, m.target, delay))
	r.wantExit(0)
	r.wantVerified()
	compareData(t, m.source, m.target)
	compareMaps(t, "large objects (md5, comment)", m.source.largeObjects(), m.target.largeObjects())
	dump := r.stepTime("dump")
	t.Logf("dump %.1f s through the relay; plain pg_dump waits at least %.1f s (%d statements in turn); whole migration %.1f s",
		dump.Seconds(), floor.Seconds(), statements, r.elapsed.Seconds())
	if dump <= 0 || dump >= floor {
		t.Errorf("the dump step took %s, not less than the %s plain pg_dump waits: pg_dump did not go through the relay", dump, floor)
	}
	if strings.Contains(r.stdout+r.stderr, m.source.server.Password) {
		t.Error("the output shows the source's password")
	}
}

// TestRelayBackupThroughTunnel: `ppg backup` with an API key, through the
// tunnel and a gateway 25 ms away each way, writes the archive a plain
// pg_dump of the same (still) database writes, in less time than plain
// pg_dump's round trips.
func TestRelayBackupThroughTunnel(t *testing.T) {
	const delay = 25 * time.Millisecond
	m := newMigration(t, func(o *gateway.Options) { o.Latency = delay })
	m.source.exec(manyObjectsSQL(relayMigrateTables))
	floor, statements := serialFloor(m.source, 2*delay)

	start := time.Now()
	r := runPPG(t, m.dir, append(m.toolEnv(), "PDP_API_KEY="+m.source.key), "backup", "-o", "through.dump")
	took := time.Since(start)
	r.wantExit(0)
	if strings.Contains(r.stdout+r.stderr, m.source.key) {
		t.Error("the output shows the key")
	}
	t.Logf("backup %.1f s through the tunnel and the relay; plain pg_dump waits at least %.1f s (%d statements in turn)",
		took.Seconds(), floor.Seconds(), statements)
	if took >= floor {
		t.Errorf("the backup took %s, not less than the %s plain pg_dump waits: pg_dump did not go through the relay", took, floor)
	}

	plain := filepath.Join(t.TempDir(), "plain.dump")
	cmd := exec.Command(clientTool(t, "pg_dump"), "-Fc", "--no-publications", "--no-subscriptions",
		"-h", m.source.server.Host, "-p", strconv.Itoa(m.source.server.Port), "-U", m.source.server.User, "-d", m.source.name, "-f", plain)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+m.source.server.Password, "PGSSLMODE=disable")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plain pg_dump: %v\n%s", err, lastLines(string(out), 10))
	}
	sameArchive(t, plain, filepath.Join(m.dir, "through.dump"))
}

// TestRelayMigrateLinkCut: the link to the source is cut while pg_dump
// runs through the relay; the dump step is retried, as after any lost
// connection, and the migration ends verified with the data identical.
func TestRelayMigrateLinkCut(t *testing.T) {
	m := newMigration(t)
	m.source.exec(manyObjectsSQL(relayMigrateTables))
	u, err := url.Parse(proxiedURL(t, m.source, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cut := startCutProxy(t, u.Host)
	u.Host = cut.ln.Addr().String()

	env := append(m.toolEnv(), "PPG_SOURCE_URL="+u.String(), "PPG_TARGET_URL="+m.target.url)
	p := startPPG(t, m.dir, env, nil, "migrate", "--non-interactive", "--json")
	p.waitFor(toolLineOf("dump"))
	cut.Cut()
	r := p.wait()
	r.wantExit(0)
	r.wantVerified()
	retried := r.all(eventWhere("the dump step retried", func(ev event) bool {
		return ev.Kind == kindWarning && ev.Step == "dump" && ev.Notice != nil && ev.Notice.Code == migrate.NoticeRetrying
	}))
	if len(retried) == 0 {
		t.Fatalf("no retry of the dump step after the cut:\n%s", r.show())
	}
	t.Logf("retried after: %s", retried[0].Text)
	compareData(t, m.source, m.target)
	compareMaps(t, "large objects (md5, comment)", m.source.largeObjects(), m.target.largeObjects())
	if n := len(r.all(stepFinished("dump"))); n != 1 {
		t.Errorf("the dump step finished %d times, want once", n)
	}
}

// TestRelayBackupVerifyFull: `ppg backup` of a direct URL with
// sslmode=verify-full and the server's CA: pg_dump reaches the server
// through the relay, which opens TLS itself, verifies the certificate
// against the URL's sslrootcert and sends SNI with the host name. (pg_dump
// alone could not: ppg hands it no root certificate.) The archive is plain
// pg_dump's.
func TestRelayBackupVerifyFull(t *testing.T) {
	pki := newTestPKI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := pgserver.Start(ctx, pgserver.Options{Version: 17, Settings: map[string]string{
		"ssl": "on", "ssl_cert_file": pki.certFile, "ssl_key_file": pki.keyFile}})
	if errors.Is(err, pgserver.ErrNotFound) {
		need(t, "PPG_PG17_BIN")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	db := &database{t: t, server: s, name: "postgres", url: s.URL("postgres")}
	db.exec(smallSchemaSQL)
	proxy := startSNIProxy(t, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	_, port, _ := net.SplitHostPort(proxy.ln.Addr().String())
	u := &url.URL{Scheme: "postgres", User: url.UserPassword(s.User, s.Password), Host: "localhost:" + port, Path: "/postgres",
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {pki.caFile}}.Encode()}

	dir := t.TempDir()
	r := runPPG(t, dir, []string{"PPG_PG_BIN=" + need(t, "PPG_CLIENT_BIN"), "DATABASE_URL=" + u.String()}, "backup", "-o", "tls.dump")
	r.wantExit(0)
	if strings.Contains(r.stdout+r.stderr, s.Password) {
		t.Error("the output shows the password")
	}
	// ppg's own connection and pg_dump's, through the relay: each sent
	// the host name.
	names := proxy.serverNames()
	if len(names) < 2 || slices.ContainsFunc(names, func(n string) bool { return n != "localhost" }) {
		t.Errorf("server names sent: %q, want localhost on every connection, at least two", names)
	}
	plain := filepath.Join(t.TempDir(), "plain.dump")
	cmd := exec.Command(clientTool(t, "pg_dump"), "-Fc", "--no-publications", "--no-subscriptions",
		"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", "postgres", "-f", plain)
	cmd.Env = append(baseEnv(), "PGPASSWORD="+s.Password, "PGSSLMODE=disable")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plain pg_dump: %v\n%s", err, lastLines(string(out), 10))
	}
	sameArchive(t, plain, filepath.Join(dir, "tls.dump"))
}
