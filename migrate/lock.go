package migrate

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gofrs/flock"
)

// lockFileName sits beside the state file. The operating system releases
// the lock when the process ends, however it ends (SIGKILL included), so a
// stale lock never blocks a resume.
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
	fl := flock.New(filepath.Join(dir, lockFileName))
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
	return &Lock{fl: fl}, nil
}

// Unlock releases the lock. The lock file stays: removing it would race
// with a process that opened it meanwhile.
func (l *Lock) Unlock() error { return l.fl.Unlock() }
