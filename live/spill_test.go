package live

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

func TestSpill(t *testing.T) {
	dir := t.TempDir()
	s, err := newSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i := range 20000 {
		m := bytes.Repeat([]byte(fmt.Sprint(i)), i%50)
		want = append(want, m)
		if err := s.add(m); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	err = s.replay(func(b []byte) error {
		if !bytes.Equal(b, want[i]) {
			t.Fatalf("message %d: %q, want %q", i, b, want[i])
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("replayed %d of %d: %v", i, len(want), err)
	}
	s.close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("spill files left: %v", entries)
	}
}
