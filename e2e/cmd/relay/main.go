// Command relay runs a relay.Relay in a process of its own, so that the
// e2e benchmarks measure its memory apart from the test's: it prints
// "listening on HOST:PORT", serves until its standard input closes, then
// prints its counters as JSON.
//
//	go run ./e2e/cmd/relay -upstream 'postgres://HOST:PORT/postgres?sslmode=require' [-dump-major 17] [-cache-bytes N]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ppg-cli/ppg/relay"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "relay: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	upstream := flag.String("upstream", "", "the server's URL (user and password unused)")
	major := flag.Int("dump-major", 17, "pg_dump's major version")
	cacheBytes := flag.Int64("cache-bytes", 0, "the cache's budget (0: the default)")
	flag.Parse()
	dial, err := relay.DialURL(*upstream)
	if err != nil {
		return err
	}
	r, err := relay.Listen("tcp", "127.0.0.1:0", relay.Config{Dial: dial, DumpMajor: *major, CacheBytes: *cacheBytes})
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", r.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := r.Close(); err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "relay: a session failed: %v\n", err)
	}
	return json.NewEncoder(os.Stdout).Encode(r.Stats())
}
