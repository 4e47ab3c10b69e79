package relay

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// runsJSON pins pg_dump's runs of bulk catalog queries per pg_dump and
// server major version: see "Runs of catalog queries" in the package
// documentation.
//
//go:embed runs.json
var runsJSON []byte

// pinnedRuns is runs.json: by "dump/server" major versions, the runs.
var pinnedRuns = sync.OnceValue(func() map[string][][]string {
	var m map[string][][]string
	if err := json.Unmarshal(runsJSON, &m); err != nil {
		panic("relay: runs.json: " + err.Error())
	}
	return m
})

// Runs returns the pinned runs of catalog queries of pg_dump dumpMajor
// against a server of major version serverMajor: each a sequence of
// exact query texts, every one Prefetchable; none for a pair nobody
// captured.
func Runs(dumpMajor, serverMajor int) [][]string {
	var runs [][]string
	for _, run := range pinnedRuns()[keyOf(dumpMajor, serverMajor)] {
		var keep []string
		for _, q := range run {
			if Prefetchable(q) {
				keep = append(keep, q)
			}
		}
		if len(keep) > 1 {
			runs = append(runs, keep)
		}
	}
	return runs
}

// keyOf is runs.json's key for a pg_dump and server pair.
func keyOf(dumpMajor, serverMajor int) string {
	return strconv.Itoa(dumpMajor) + "/" + strconv.Itoa(serverMajor)
}

// runPos is where a statement stands: its run, and its index in it.
type runPos struct{ run, idx int }

// runIndex maps each statement of runs to its place.
func runIndex(runs [][]string) map[string]runPos {
	at := make(map[string]runPos)
	for r, run := range runs {
		for i, q := range run {
			if _, dup := at[q]; !dup {
				at[q] = runPos{run: r, idx: i}
			}
		}
	}
	return at
}

// unsafeWords are words of SQL that change something or wait for
// something, and unsafePrefixes the functions that do: the relay never
// sends a SELECT holding one ahead of pg_dump.
var (
	unsafeWords = map[string]bool{"insert": true, "update": true, "delete": true, "merge": true,
		"into": true, "lock": true, "copy": true, "call": true, "do": true, "notify": true, "share": true}
	unsafePrefixes = []string{"set_config", "nextval", "setval", "lo_", "pg_advisory", "pg_sleep", "txid_",
		"pg_current_xact", "pg_export", "pg_terminate", "pg_cancel", "pg_notify", "pg_reload", "pg_rotate",
		"pg_switch", "pg_create", "pg_drop", "pg_replication", "pg_log", "pg_stat_reset", "pg_promote", "dblink"}
)

// Prefetchable reports whether the relay may send q ahead of pg_dump: one
// plain SELECT (or WITH ... SELECT), no statement separator but a final
// one, and no word of SQL or function that changes or waits for
// something.
func Prefetchable(q string) bool {
	lower := strings.ToLower(q)
	words := strings.FieldsFunc(lower, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '$'
	})
	if len(words) == 0 || (words[0] != "select" && words[0] != "with") || !strings.HasPrefix(strings.TrimLeft(lower, " \t\r\n"), words[0]) {
		return false
	}
	if i := strings.IndexByte(lower, ';'); i >= 0 && i != len(strings.TrimRight(lower, " \t\r\n"))-1 {
		return false
	}
	if strings.ContainsRune(lower, 0) {
		return false
	}
	for _, w := range words {
		if unsafeWords[w] {
			return false
		}
		for _, p := range unsafePrefixes {
			if strings.HasPrefix(w, p) {
				return false
			}
		}
	}
	return true
}

// serverMajor reads the major version from the server_version parameter
// ("17.2", "16.6 (Debian 16.6-1)", "18beta1"); 0 if it cannot.
func serverMajor(version string) int {
	end := 0
	for end < len(version) && version[end] >= '0' && version[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(version[:end])
	if err != nil {
		return 0
	}
	return n
}
