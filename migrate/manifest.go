package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Manifest is what the source held when it was dumped: exact row counts of
// every table (taken in pg_dump's own snapshot where the server allows),
// sequence values and object counts. The verify step compares the target
// against it, so verifying never needs the source again. It is written
// beside the dump, once, and its checksum is kept in the state file.
type Manifest struct {
	Version  int       `json:"version"`
	TakenAt  time.Time `json:"taken_at"`
	Snapshot bool      `json:"same_snapshot_as_dump"`
	// Tables lists the tables with data and their exact row counts.
	Tables    []TableCount     `json:"tables"`
	Sequences map[string]int64 `json:"sequences"`
	Objects   ObjectCounts     `json:"objects"`
	// LargeObjects are the OIDs of the large objects, as runs.
	LargeObjects []OIDRange `json:"large_objects,omitempty"`
	// Writes are each table's write counter (see pgdb.DB.TableWrites) when the
	// snapshot was taken, to tell later which tables changed since.
	Writes map[string]int64 `json:"table_writes,omitempty"`
	// Content holds each table's content hash (see pgdb.DB.ContentHashes), and
	// LargeObjectsContent the large objects', with --verify=content.
	Content             map[string]string `json:"content,omitempty"`
	LargeObjectsContent string            `json:"large_objects_content,omitempty"`
	// FromDump names the tables whose rows were counted in the dump file,
	// not in the snapshot (an application's TRUNCATE or ALTER TABLE waited
	// for pg_dump's lock on them before ppg could count them): they have
	// no content hash.
	FromDump []string `json:"counted_in_dump,omitempty"`
}

// TableCount is one table's exact row count.
type TableCount struct {
	Table
	Rows int64 `json:"rows"`
}

// Rows returns the expected row count of each table by qualified name.
func (m *Manifest) Rows() map[string]int64 {
	rows := make(map[string]int64, len(m.Tables))
	for _, t := range m.Tables {
		rows[t.QualifiedName()] = t.Rows
	}
	return rows
}

// TotalRows is the number of rows of all tables.
func (m *Manifest) TotalRows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

func writeManifest(path string, m *Manifest) (string, error) {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func readManifest(path, wantSHA string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != wantSHA {
		return nil, fmt.Errorf("the manifest %s was changed since the dump", path)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return &m, nil
}

// fileSHA256 returns the size and SHA-256 of a file.
func fileSHA256(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = f.Close() }() // read only
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// OIDRange is a run of consecutive OIDs, First to Last included.
type OIDRange struct {
	First uint32 `json:"first"`
	Last  uint32 `json:"last"`
}

// oidRanges compresses sorted OIDs into runs: large objects made by one
// program usually have consecutive OIDs, so a million of them take a few
// lines of the manifest.
func oidRanges(oids []uint32) []OIDRange {
	var out []OIDRange
	for _, o := range oids {
		if n := len(out); n > 0 && out[n-1].Last+1 == o {
			out[n-1].Last = o
			continue
		}
		out = append(out, OIDRange{First: o, Last: o})
	}
	return out
}

// oidsIn returns the OIDs of oids that lie in ranges.
func oidsIn(oids []uint32, ranges []OIDRange) []uint32 {
	var out []uint32
	for _, o := range oids {
		for _, r := range ranges {
			if o >= r.First && o <= r.Last {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// countOIDs is the number of OIDs ranges hold.
func countOIDs(ranges []OIDRange) int64 {
	var n int64
	for _, r := range ranges {
		n += int64(r.Last-r.First) + 1
	}
	return n
}
