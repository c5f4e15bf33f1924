package guestfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// quota bounds the bytes of regular files in the tree. It counts apparent
// sizes (st_size), not allocated blocks: a sparse file counts in full, so a
// guest cannot park terabytes behind a hole, and the count does not depend
// on the host file system's block size or compression.
//
// Every operation that can change a file's size runs under mu, so handles of
// one guest (and wazero may use them from several goroutines) see one
// counter, and the size a write is checked against cannot change between the
// check and the write. Files unlinked while still open keep their bytes on
// disk, so they stay counted until their last handle closes.
type quota struct {
	limit int64

	mu   sync.Mutex
	used int64
	open map[fileKey]*openCount
}

// errNoSpace is what a write past the quota fails with. It should be
// ENOSPC, but wazero's errno set (experimental/sys, v1.12) has no ENOSPC
// and would turn any value outside it into EIO on the way to the guest, as
// it does with a host ENOSPC; EIO is therefore returned explicitly, so
// that what the guest sees is stated here rather than left to a fallback.
const errNoSpace = experimentalsys.EIO

// fileKey identifies a file on the host.
type fileKey struct {
	dev uint64
	ino sys.Inode
}

// openCount tracks the open handles of a regular file.
type openCount struct {
	refs int
	// orphaned: the file's last name was removed while it was open; its
	// bytes are released when the last handle closes.
	orphaned bool
}

// newQuota scans root for the bytes already there. When the scan fails the
// quota is treated as exhausted: failing closed is safe, and a scratch
// directory the host made is always readable.
func newQuota(root *os.Root, limit int64) *quota {
	q := &quota{limit: limit, open: map[fileKey]*openCount{}}
	if root == nil {
		return q
	}
	used, err := treeBytes(root)
	if err != nil {
		used = limit
	}
	q.used = used
	return q
}

// treeBytes sums the sizes of the regular files under root, counting hard
// links to one file once. Symbolic links are not followed.
func treeBytes(root *os.Root) (int64, error) {
	seen := map[fileKey]bool{}
	var total int64
	err := fs.WalkDir(root.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the directory was read
		} else if err != nil {
			return err
		}
		st := sys.NewStat_t(fi)
		key := fileKey{st.Dev, st.Ino}
		if !seen[key] {
			seen[key] = true
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// room returns how many more bytes the files may grow by.
func (q *quota) room() int64 { return max(0, q.limit-q.used) }

// opened registers a handle of the regular file key.
func (q *quota) opened(key fileKey) {
	c := q.open[key]
	if c == nil {
		c = &openCount{}
		q.open[key] = c
	}
	c.refs++
}

// removed accounts for a name of a regular file of size bytes and nlink
// links disappearing (unlink, or rename over it).
func (q *quota) removed(key fileKey, size int64, nlink uint64) {
	if nlink > 1 {
		return // another name keeps the data
	}
	if c := q.open[key]; c != nil {
		c.orphaned = true
		return
	}
	q.used -= size
}

// statKey returns the identity, size and link count of a stat result.
func statKey(fi fs.FileInfo) (fileKey, int64, uint64) {
	st := sys.NewStat_t(fi)
	return fileKey{st.Dev, st.Ino}, fi.Size(), st.Nlink
}

// openFile opens name with the quota's bookkeeping: a truncation releases
// the file's bytes, and a handle of a regular file is registered so that
// unlinking the file while it is open keeps its bytes counted.
func (q *quota) openFile(root *os.Root, name string, osFlag int, perm fs.FileMode) (*os.File, *fileKey, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var before fs.FileInfo
	if osFlag&os.O_TRUNC != 0 {
		// os.Root follows a final link when opening, so Stat does too.
		before, _ = root.Stat(name)
	}
	f, err := root.OpenFile(name, osFlag, perm)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return f, nil, nil
	}
	if before != nil && before.Mode().IsRegular() && os.SameFile(before, fi) {
		q.used -= before.Size() - fi.Size()
	}
	key, _, _ := statKey(fi)
	q.opened(key)
	return f, &key, nil
}

// closed unregisters a handle of the regular file key; f is still open.
func (q *quota) closed(key fileKey, f *os.File) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.open[key]
	if c == nil {
		return
	}
	if c.refs--; c.refs > 0 {
		return
	}
	delete(q.open, key)
	if c.orphaned {
		if fi, err := f.Stat(); err == nil {
			q.used -= fi.Size()
		}
	}
}

// unlink removes the non-directory name, releasing its bytes.
func (q *quota) unlink(root *os.Root, name string) experimentalsys.Errno {
	q.mu.Lock()
	defer q.mu.Unlock()
	fi, err := root.Lstat(name)
	if err != nil {
		return pathErrno(err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	if err := root.Remove(name); err != nil {
		return pathErrno(err)
	}
	if fi.Mode().IsRegular() {
		q.removed(statKey(fi))
	}
	return 0
}

// rename runs do, which renames from to to, releasing the bytes of a
// regular file that to named before.
func (q *quota) rename(root *os.Root, from, to string, do func() experimentalsys.Errno) experimentalsys.Errno {
	q.mu.Lock()
	defer q.mu.Unlock()
	target, err := root.Lstat(to)
	if err != nil || !target.Mode().IsRegular() {
		return do()
	}
	if source, err := root.Lstat(from); err == nil && os.SameFile(source, target) {
		return do() // a rename onto another name of the same file changes nothing
	}
	if errno := do(); errno != 0 {
		return errno
	}
	q.removed(statKey(target))
	return 0
}

// write writes buf at the file's offset (or its end in append mode), or
// at off when pwrite is set. A write that would take the files past the
// quota is cut short at it; one that cannot write a byte fails with
// errNoSpace.
// Writes that do not grow the file are never refused.
func (q *quota) write(f *os.File, buf []byte, off int64, pwrite, appendMode bool) (int, experimentalsys.Errno) {
	q.mu.Lock()
	defer q.mu.Unlock()
	fi, err := f.Stat()
	if err != nil {
		return 0, experimentalsys.UnwrapOSError(err)
	}
	size := fi.Size()
	pos := off
	switch {
	case pwrite:
	case appendMode:
		pos = size
	default:
		if pos, err = f.Seek(0, io.SeekCurrent); err != nil {
			return 0, experimentalsys.UnwrapOSError(err)
		}
	}
	if end := pos + int64(len(buf)); end > size {
		limitEnd := size + q.room()
		if pos >= limitEnd {
			return 0, errNoSpace
		}
		if end > limitEnd {
			buf = buf[:limitEnd-pos]
		}
	}
	var n int
	if pwrite {
		n, err = f.WriteAt(buf, off)
	} else {
		n, err = f.Write(buf)
	}
	if end := pos + int64(n); end > size {
		q.used += end - size
	}
	return n, experimentalsys.UnwrapOSError(err)
}

// truncate sets the file's size; growing it past the quota fails with
// errNoSpace and changes nothing.
func (q *quota) truncate(f *os.File, size int64) experimentalsys.Errno {
	q.mu.Lock()
	defer q.mu.Unlock()
	fi, err := f.Stat()
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	if growth := size - fi.Size(); growth > q.room() {
		return errNoSpace
	}
	if err := f.Truncate(size); err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	q.used += size - fi.Size()
	return 0
}

// usedBytes returns the bytes counted against the quota.
func (q *quota) usedBytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.used
}
