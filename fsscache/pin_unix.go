//go:build unix

package fsscache

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pinShared takes a shared flock on f's own descriptor; it lasts until f is
// closed. GC holds an exclusive lock only for the moment it takes to unlink
// a blob, so waiting is short; ctx bounds it anyway.
func pinShared(ctx context.Context, f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// tryExclusive takes an exclusive flock on f without waiting, and reports
// false if any process holds a pin on the file.
func tryExclusive(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
}

// blobID identifies one state of one blob file: any write to it changes the
// ctime (which, unlike the mtime, cannot be set back), and a replaced file
// has another inode.
type blobID struct {
	path             string
	dev, ino         uint64
	size             int64
	mtimeNs, ctimeNs int64
}

func idOf(path string, fi os.FileInfo) blobID {
	id := blobID{path: path, size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
		id.ctimeNs = ctimeNs(st)
	}
	return id
}
