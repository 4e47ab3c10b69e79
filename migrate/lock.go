package migrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// lockFileName sits beside the state file while a migration runs. The
// operating system releases the lock when the process ends, however it ends
// (SIGKILL included), so a stale lock never blocks a resume; a run that
// ends in order removes the file.
const lockFileName = "ppg-migration.lock"

// ErrLocked means another ppg is working on a migration in the same folder.
var ErrLocked = errors.New("another ppg migration is running in this folder")

// LockedError is a folder whose lock another process holds; errors.Is(err,
// ErrLocked) matches it.
type LockedError struct{ Dir string }

func (e *LockedError) Error() string { return fmt.Sprintf("%v (%s)", ErrLocked, e.Dir) }

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock holds the folder's migration lock until Unlock.
type Lock struct{ fl *flock.Flock }

// AcquireLock takes the migration lock of dir without waiting. It returns
// ErrLocked if another process holds it.
func AcquireLock(dir string) (*Lock, error) {
	path := filepath.Join(dir, lockFileName)
	for try := 0; ; try++ {
		fl := flock.New(path)
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
		}
		if !ok {
			if abs, err := filepath.Abs(dir); err == nil {
				dir = abs
			}
			return nil, &LockedError{Dir: dir}
		}
		// The holder before us removes the file as it ends: if we locked
		// a file that is no longer at path, lock the one that is.
		held, herr := fl.Stat()
		now, nerr := os.Stat(path)
		if herr == nil && nerr == nil && os.SameFile(held, now) || try >= 3 {
			return &Lock{fl: fl}, nil
		}
		_ = fl.Unlock()
	}
}

// Unlock removes the lock file and releases the lock. A process waiting on
// the removed file sees it is gone and locks the new one (AcquireLock).
func (l *Lock) Unlock() error {
	_ = os.Remove(l.fl.Path()) // Windows cannot remove an open file: it then stays
	return l.fl.Unlock()
}
