package fsshttp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// racyWindow is how close to the start of hashing a file's mtime or ctime
// may lie before its digest is not remembered. File timestamps are coarse
// (a clock tick on Linux, up to two seconds elsewhere), so a write that
// lands during or just after hashing can leave them unchanged; such a file
// is hashed again on the next request instead of being served with a stale
// ETag forever.
const racyWindow = 2 * time.Second

// maxIndexEntries bounds the index; past it an arbitrary entry is dropped,
// which costs one extra hash the next time that file is requested.
const maxIndexEntries = 1 << 16

// hashChunk is how much hashing reads between context checks.
const hashChunk = 1 << 20

// fileState is what decides whether a remembered digest still describes a
// file: if any of it changed, the content may have.
type fileState struct {
	size     int64
	mtimeNs  int64
	dev, ino uint64
	ctimeNs  int64
}

func stateOf(fi fs.FileInfo) fileState {
	dev, ino, ctime := fileID(fi)
	return fileState{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano(), dev: dev, ino: ino, ctimeNs: ctime}
}

// settledBefore reports whether the file's timestamps are more than window
// before t, so that a later write would have to change them.
func (s fileState) settledBefore(t time.Time, window time.Duration) bool {
	limit := t.Add(-window).UnixNano()
	return s.mtimeNs < limit && s.ctimeNs < limit
}

// digestIndex remembers the SHA-256 of served files by ref so that a
// request does not read the whole file, and makes concurrent requests for a
// file nobody has hashed yet share one pass over it.
type digestIndex struct {
	hashes atomic.Int64 // full passes over a file, for tests and stats
	// racyWindow is the constant of the same name, except in tests, which
	// cannot give a file an old ctime.
	racyWindow atomic.Int64

	mu       sync.Mutex
	entries  map[string]indexEntry
	inflight map[inflightKey]*hashCall
}

type indexEntry struct {
	state fileState
	sum   [sha256.Size]byte
}

type inflightKey struct {
	ref   string
	state fileState
}

type hashCall struct {
	done chan struct{}
	sum  [sha256.Size]byte
	err  error
}

func newDigestIndex() *digestIndex {
	x := &digestIndex{entries: map[string]indexEntry{}, inflight: map[inflightKey]*hashCall{}}
	x.racyWindow.Store(int64(racyWindow))
	return x
}

// digest returns the SHA-256 of f, which is ref opened by the caller with
// Stat result fi. The file is read only when the index has nothing for
// this exact state of ref.
func (x *digestIndex) digest(ctx context.Context, ref string, f *os.File, fi fs.FileInfo) ([sha256.Size]byte, error) {
	st := stateOf(fi)
	key := inflightKey{ref, st}
	for {
		x.mu.Lock()
		if e, ok := x.entries[ref]; ok && e.state == st {
			x.mu.Unlock()
			return e.sum, nil
		}
		if c, ok := x.inflight[key]; ok {
			x.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return [sha256.Size]byte{}, ctx.Err()
			}
			if c.err != nil && isContextError(c.err) && ctx.Err() == nil {
				// The request that was hashing went away; take over.
				continue
			}
			return c.sum, c.err
		}
		c := &hashCall{done: make(chan struct{})}
		x.inflight[key] = c
		x.mu.Unlock()

		start := time.Now()
		c.sum, c.err = x.hashFile(ctx, f, st.size)
		// Remember the digest only if the file did not change while it was
		// read and cannot change unnoticed later.
		remember := false
		if c.err == nil {
			if fi2, err := f.Stat(); err == nil && stateOf(fi2) == st && st.settledBefore(start, time.Duration(x.racyWindow.Load())) {
				remember = true
			}
		}
		x.mu.Lock()
		delete(x.inflight, key)
		if remember {
			x.storeLocked(ref, indexEntry{state: st, sum: c.sum})
		}
		x.mu.Unlock()
		close(c.done)
		return c.sum, c.err
	}
}

// record remembers the digest of a file the server has just written itself.
func (x *digestIndex) record(ref string, fi fs.FileInfo, sum [sha256.Size]byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.storeLocked(ref, indexEntry{state: stateOf(fi), sum: sum})
}

// forget drops what the index knows about ref, e.g. once it is gone.
func (x *digestIndex) forget(ref string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.entries, ref)
}

func (x *digestIndex) storeLocked(ref string, e indexEntry) {
	if _, ok := x.entries[ref]; !ok && len(x.entries) >= maxIndexEntries {
		for k := range x.entries {
			delete(x.entries, k)
			break
		}
	}
	x.entries[ref] = e
}

// hashFile reads size bytes of f with ReadAt, leaving its offset alone for
// http.ServeContent, and fails if the file got shorter meanwhile.
func (x *digestIndex) hashFile(ctx context.Context, f *os.File, size int64) ([sha256.Size]byte, error) {
	x.hashes.Add(1)
	var sum [sha256.Size]byte
	h := sha256.New()
	buf := make([]byte, hashChunk)
	r := io.NewSectionReader(f, 0, size)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		m, err := r.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("hash: %w", err)
		}
	}
	if n != size {
		return sum, fmt.Errorf("hash: file shrank from %d to %d bytes while being read", size, n)
	}
	h.Sum(sum[:0])
	return sum, nil
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
