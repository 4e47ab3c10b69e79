package live

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// spill holds the messages of one streamed transaction, in progress on
// the source, in a temporary file until it commits: memory stays bounded
// whatever the transaction's size. The file is unlinked as soon as it is
// created where the system allows it, so a killed process leaves nothing
// behind; the server sends the whole transaction again on the next start.
type spill struct {
	f       *os.File
	w       *bufio.Writer
	bytes   int64
	aborted map[uint32]bool // subtransactions rolled back
}

// newSpill creates a spill file in dir (the system's temporary folder if
// empty).
func newSpill(dir string) (*spill, error) {
	f, err := os.CreateTemp(dir, "ppg-live-*.spill")
	if err != nil {
		return nil, fmt.Errorf("create a spill file: %w", err)
	}
	// Unlinked now, the file lives as long as it is open (not on Windows,
	// where close removes it).
	_ = os.Remove(f.Name())
	return &spill{f: f, w: bufio.NewWriterSize(f, 64<<10), aborted: map[uint32]bool{}}, nil
}

// add appends one message.
func (s *spill) add(data []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	if _, err := s.w.Write(n[:]); err != nil {
		return fmt.Errorf("write the spill file: %w", err)
	}
	if _, err := s.w.Write(data); err != nil {
		return fmt.Errorf("write the spill file: %w", err)
	}
	s.bytes += int64(len(data)) + 4
	return nil
}

// replay calls fn with each message in order. The slice fn gets is reused
// for the next message.
func (s *spill) replay(fn func([]byte) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write the spill file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the spill file: %w", err)
	}
	r := bufio.NewReaderSize(s.f, 64<<10)
	var buf []byte
	var n [4]byte
	for {
		if _, err := io.ReadFull(r, n[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the spill file: %w", err)
		}
		size := int(binary.BigEndian.Uint32(n[:]))
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("read the spill file: %w", err)
		}
		if err := fn(buf); err != nil {
			return err
		}
	}
}

// close closes and removes the file.
func (s *spill) close() {
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
}
