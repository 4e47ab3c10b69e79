//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ppg-cli/ppg/relay"
)

// relayProc is the relay running in a process of its own (e2e/cmd/relay),
// so that its peak memory is its own.
type relayProc struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.WriteCloser
	out   *bufio.Reader
}

var relayListening = regexp.MustCompile(`^listening on (\S+)`)

// buildRelayCmd builds e2e/cmd/relay once per benchmark.
func buildRelayCmd(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "relay")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ppg-cli/ppg/e2e/cmd/relay").CombinedOutput()
	if err != nil {
		tb.Fatalf("build the relay command: %v\n%s", err, out)
	}
	return bin
}

func startRelayProc(tb testing.TB, bin, upstream string) *relayProc {
	tb.Helper()
	cmd := exec.Command(bin, "-upstream", upstream)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &relayProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := p.out.ReadString('\n')
	m := relayListening.FindStringSubmatch(line)
	if err != nil || m == nil {
		tb.Fatalf("relay command said %q: %v", line, err)
	}
	p.addr = m[1]
	return p
}

// stop ends the relay and returns its peak RSS and counters.
func (p *relayProc) stop(tb testing.TB) (int64, relay.Stats) {
	tb.Helper()
	peak := peakRSS(p.cmd.Process.Pid)
	_ = p.stdin.Close()
	var st relay.Stats
	if err := json.NewDecoder(p.out).Decode(&st); err != nil {
		tb.Fatalf("relay stats: %v", err)
	}
	if err := p.cmd.Wait(); err != nil {
		tb.Fatalf("relay command: %v", err)
	}
	return peak, st
}

// BenchmarkRelayDump times pg_dump 17 -Fc of the many-objects database
// (600 tables, 600 views, 600 identity sequences, and relayExtraSQL's
// objects) at 0 and 25 ms each way, plainly and through the relay (in its
// own process, between pg_dump and the delaying proxy), checks that both
// write the same archive of one snapshot, and prints a table with the
// relay's peak RSS.
//
//	go test -tags e2e -run '^$' -bench RelayDump -benchtime 1x -timeout 30m -v ./e2e/
func BenchmarkRelayDump(b *testing.B) {
	bed := newRelayBed(b, 600)
	bin := buildRelayCmd(b)
	var rows []string
	for _, delay := range []time.Duration{0, 25 * time.Millisecond} {
		addr := bed.direct()
		if delay > 0 {
			p, _ := delayed(b, bed.server, delay)
			addr = p.Addr()
		}
		plain, plainTook := mustDump(b, bed, addr)
		rp := startRelayProc(b, bin, "postgres://"+addr+"/postgres?sslmode=disable")
		through, relayTook := mustDump(b, bed, rp.addr)
		peak, st := rp.stop(b)
		sameArchive(b, plain, through)
		rows = append(rows, fmt.Sprintf("| %d ms | %.1f s | %.1f s | %.1fx | %d of %d | %.1f MB |", delay.Milliseconds(),
			plainTook.Seconds(), relayTook.Seconds(), plainTook.Seconds()/relayTook.Seconds(), st.Hits, st.Queries, float64(peak)/mb))
	}
	b.Logf("\n| added delay each way | plain pg_dump | through the relay | speed-up | queries answered from the cache | relay peak RSS |\n|---|---|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}

// BenchmarkRelayManyViews dumps a database of 20,000 views through the
// relay and reports its peak RSS; the archive is plain pg_dump's.
//
//	go test -tags e2e -run '^$' -bench RelayManyViews -benchtime 1x -timeout 30m -v ./e2e/
func BenchmarkRelayManyViews(b *testing.B) {
	need(b, "PPG_CLIENT_BIN")
	s := startServer(b, 17)
	bed := &relayBed{server: s, db: &database{t: b, server: s, name: "postgres", url: s.URL("postgres")}}
	bed.db.exec(`CREATE SCHEMA many; CREATE TABLE many.base (id int PRIMARY KEY, label text, qty int);
		DO $$ BEGIN FOR i IN 1..20000 LOOP
			EXECUTE format('CREATE VIEW many.v%s AS SELECT id, label, qty + %s AS qty FROM many.base WHERE id %% 100 = %s', i, i, i % 100);
		END LOOP; END $$;`)
	bed.snapshot = holdSnapshot(b, bed.db)
	bin := buildRelayCmd(b)
	plain, plainTook := mustDump(b, bed, bed.direct())
	rp := startRelayProc(b, bin, "postgres://"+bed.direct()+"/postgres?sslmode=disable")
	through, relayTook := mustDump(b, bed, rp.addr)
	peak, st := rp.stop(b)
	sameArchive(b, plain, through)
	b.Logf("20,000 views at 0 ms: plain %.1f s, through the relay %.1f s; relay peak RSS %.1f MB, cache peak %.1f MB; %+v",
		plainTook.Seconds(), relayTook.Seconds(), float64(peak)/mb, float64(st.CachePeak)/mb, st)
	if st.Hits < 19000 {
		b.Errorf("only %d of 20,000 view definitions came from the cache", st.Hits)
	}
}
