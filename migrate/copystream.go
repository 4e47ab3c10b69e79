package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/ppg-cli/ppg/pgdb"
	"github.com/ppg-cli/ppg/pgtools"
)

// Large tables' data is streamed through ppg's own sessions too: a table
// a session at a time, pg_restore writing the table's rows as SQL and ppg
// handing them to a COPY as they come, so that memory holds a buffer, not
// the table. Through pg_restore's jobs each table would cost no more
// round trips, but pg_restore would open its own connections, each a
// dozen round trips across the link, and in parallel mode its leader's
// twice.

// streamTables loads the TABLE DATA entries of entries over the pipeline's
// sessions, and returns the entries left for pg_restore: those of another
// kind, and tables whose script is not in the form expected. A table the
// target refuses is recorded as a failure of the pipeline.
func (p *pipeline) streamTables(ctx context.Context, list string, entries []pgtools.Entry) ([]pgtools.Entry, error) {
	var tables, left []pgtools.Entry
	for _, en := range entries {
		if en.Desc == "TABLE DATA" {
			tables = append(tables, en)
		} else {
			left = append(left, en)
		}
	}
	if len(tables) == 0 {
		return left, nil
	}
	if err := p.ready(ctx, list); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	next := 0
	take := func() (pgtools.Entry, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(tables) {
			return pgtools.Entry{}, false
		}
		next++
		return tables[next-1], true
	}
	// The first failure stops the others; it is the one returned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var failed error
	var wg sync.WaitGroup
	for i := range min(len(p.sessions), len(tables)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := workerList(list, i)
			for en, ok := take(); ok; en, ok = take() {
				again, err := p.streamTable(ctx, i, own, en)
				mu.Lock()
				if again {
					left = append(left, en)
				}
				if err != nil && failed == nil {
					failed = err
					cancel()
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	slices.SortFunc(left, func(a, b pgtools.Entry) int { return a.ID - b.ID })
	return left, nil
}

// ready sets the sessions up for the data section, unless a batch did:
// the preamble is that of the section's script for no entries.
func (p *pipeline) ready(ctx context.Context, list string) error {
	if p.settings != nil {
		return nil
	}
	if err := writeList(list, nil); err != nil {
		return err
	}
	s, _, err := p.r.script(ctx, sectionData, list, 0)
	if err != nil {
		return err
	}
	p.preamble = s.Preamble
	if err := p.opened(); err != nil {
		return err
	}
	return p.start(ctx)
}

// streamTable loads one table on session i, through the list file list.
// again is set when the table is left for pg_restore: its script is not
// in the form expected, or not with the preamble the session has.
func (p *pipeline) streamTable(ctx context.Context, i int, list string, en pgtools.Entry) (again bool, err error) {
	r := p.r
	if err := writeList(list, []pgtools.Entry{en}); err != nil {
		return false, err
	}
	r.mu.Lock()
	r.current = en.QualifiedName()
	r.mu.Unlock()
	r.e.send(Event{Kind: Progress, Step: StepRestore, Progress: r.progress(sectionData)})
	pr, pw := io.Pipe()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var loaded, refused error
	var rowsErr error
	streamed := make(chan error, 1)
	go func() {
		err := pgtools.StreamCopy(pr, func(preamble []string, sql string, rows io.Reader) error {
			if !slices.Equal(preamble, p.preamble) || len(p.settings) > i && p.settings[i] != "" {
				return fmt.Errorf("%w: the table's settings differ from the section's", pgtools.ErrScript)
			}
			tr := &touchingReader{r: rows, touch: p.touch}
			loaded = p.sessions[i].CopyFrom(ctx, sql, tr)
			rowsErr = tr.err
			if _, _, ok := pgdb.ServerError(loaded); ok && rowsErr == nil {
				refused, loaded = loaded, nil
				_, _ = io.Copy(io.Discard, rows)
			}
			return loaded
		})
		if err != nil {
			stop() // pg_restore need not write the rest
		}
		_, _ = io.Copy(io.Discard, pr)
		streamed <- err
	}()
	args := append(restoreFlags[:], "--section="+sectionData, "--use-list="+list, "--file=-", r.archive)
	runErr := r.e.tools.Run(runCtx, pgtools.Cmd{Tool: r.tool, Args: args, Stdout: pw})
	_ = pw.CloseWithError(io.EOF)
	serr := <-streamed
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case loaded != nil && rowsErr == nil:
		return false, r.lost(loaded)
	case serr != nil && errors.Is(serr, pgtools.ErrScript) && loaded == nil && rowsErr == nil:
		return true, nil // nothing was sent: pg_restore loads it
	case runErr != nil:
		return false, fmt.Errorf("write the data of %s with pg_restore: %w", en.QualifiedName(), runErr)
	case serr != nil:
		return false, fmt.Errorf("stream the data of %s: %w", en.QualifiedName(), serr)
	}
	p.answered(scripted{entry: en}, refused)
	return false, nil
}

// touchingReader reads r, and calls touch at each read: rows that move
// are not a stall. err is the read's first error other than io.EOF.
type touchingReader struct {
	r     io.Reader
	touch func()
	err   error
}

func (t *touchingReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	t.touch()
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}
