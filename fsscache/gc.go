package fsscache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// blobFile is a blob found in the directory.
type blobFile struct {
	digest, path string
	size         int64
	mtime        time.Time
}

// listBlobs lists blobs/ab/abcdef..., ignoring anything else.
func (c *Cache) listBlobs() ([]blobFile, error) {
	root := filepath.Join(c.dir, "blobs")
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []blobFile
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, f := range files {
			name := f.Name()
			if !isHexDigest(name) || name[:2] != d.Name() || !f.Type().IsRegular() {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			out = append(out, blobFile{digest: name, path: filepath.Join(root, d.Name(), name), size: fi.Size(), mtime: fi.ModTime()})
		}
	}
	return out, nil
}

// GCResult summarizes a GC or Clear.
type GCResult struct {
	Evicted   int   // blobs removed
	Freed     int64 // their bytes
	Pinned    int   // blobs that would have been removed but are in use
	Remaining int64 // bytes of blobs left
}

// GC evicts least recently used blobs, and their entries, until the blobs
// take at most LowWater bytes, if they take more than MaxBytes; pinned blobs
// are skipped. It also removes partial downloads abandoned for a day. One
// process collects at a time.
func (c *Cache) GC(ctx context.Context) (GCResult, error) {
	if c.maxBytes == 0 {
		return c.evict(ctx, -1, -1, "", false)
	}
	return c.evict(ctx, c.maxBytes, c.lowWater, "", false)
}

// Clear removes every entry and blob that is not pinned, and every partial
// download that no process is running.
func (c *Cache) Clear(ctx context.Context) (GCResult, error) {
	return c.evict(ctx, 0, 0, "", true)
}

// evict removes unpinned blobs, oldest last access first, down to low bytes
// if there are more than max (max < 0: none), sparing the blob named
// protect (just published, about to be opened by its waiters). With all it
// removes everything it can.
func (c *Cache) evict(ctx context.Context, max, low int64, protect string, all bool) (GCResult, error) {
	var res GCResult
	op := "gc"
	if all {
		op = "clear"
	}
	gcLock, err := lockFile(ctx, c.lockPath("gc"))
	if err != nil {
		return res, fmt.Errorf("fsscache: %s: %w", op, err)
	}
	defer gcLock.Unlock()

	if err := c.removePartials(all); err != nil {
		return res, fmt.Errorf("fsscache: %s: %w", op, err)
	}
	blobs, err := c.listBlobs()
	if err != nil {
		return res, fmt.Errorf("fsscache: %s: list blobs: %w", op, err)
	}
	var total int64
	for _, b := range blobs {
		total += b.size
	}
	res.Remaining = total
	if !all && (max < 0 || total <= max) {
		return res, nil
	}
	good, bad, err := c.allEntries()
	if err != nil {
		return res, fmt.Errorf("fsscache: %s: list entries: %w", op, err)
	}
	byBlob := map[string][]entryFile{}
	for _, ef := range good {
		byBlob[ef.entry.SHA256] = append(byBlob[ef.entry.SHA256], ef)
	}
	type candidate struct {
		blobFile
		lastUse time.Time
	}
	var cands []candidate
	for _, b := range blobs {
		efs := byBlob[b.digest]
		if len(efs) == 0 && !all && time.Since(b.mtime) < orphanGrace {
			continue // its entry is probably being written
		}
		last := b.mtime
		for i, ef := range efs {
			if i == 0 || ef.entry.LastAccess.After(last) {
				last = ef.entry.LastAccess
			}
		}
		cands = append(cands, candidate{b, last})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(a.lastUse.Compare(b.lastUse), strings.Compare(a.digest, b.digest))
	})
	for _, cand := range cands {
		if !all && total <= low {
			break
		}
		if cand.digest == protect {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("fsscache: %s: %w", op, err)
		}
		removed, pinned, err := c.evictBlob(cand.blobFile, byBlob[cand.digest])
		if err != nil {
			return res, fmt.Errorf("fsscache: %s: %w", op, err)
		}
		if pinned {
			res.Pinned++
			continue
		}
		total -= cand.size
		if removed {
			res.Evicted++
			res.Freed += cand.size
			c.stats.evictions.Add(1)
			c.log.Info("evicted", "sha256", cand.digest, "size", cand.size, "last_use", cand.lastUse)
		}
	}
	res.Remaining = total
	if all {
		// Entries that cannot be read, or whose blob is gone.
		for _, path := range bad {
			os.Remove(path)
		}
		for digest, efs := range byBlob {
			if _, err := os.Stat(c.blobPath(digest)); errors.Is(err, fs.ErrNotExist) {
				for _, ef := range efs {
					os.Remove(ef.path)
				}
			}
		}
	}
	return res, nil
}

// evictBlob removes b and the entries that point at it, unless a process
// has it open through Fetch. removed is false if it was already gone.
func (c *Cache) evictBlob(b blobFile, efs []entryFile) (removed, pinned bool, err error) {
	f, err := os.Open(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	defer f.Close() // releases the exclusive lock
	ok, err := tryExclusive(f)
	if err != nil || !ok {
		return false, !ok, err
	}
	fi, err := f.Stat()
	if err != nil {
		return false, false, err
	}
	if cur, err := os.Stat(b.path); err != nil || !os.SameFile(fi, cur) {
		return false, false, nil // replaced or removed meanwhile
	}
	// Entries first: an entry without its blob is a miss, a blob without an
	// entry merely wastes space until the next collection.
	for _, ef := range efs {
		if err := os.Remove(ef.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, false, err
		}
		c.removeLockFile(c.keyOf(ef.entry))
	}
	if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, false, err
	}
	c.forget(b.path)
	return true, false, nil
}

// forget drops the verified marks of the blob at path.
func (c *Cache) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.verified {
		if id.path == path {
			delete(c.verified, id)
		}
	}
}

// removeLockFile removes the lock file of key if nobody holds it, so that
// locks/ does not grow with every file ever cached. lockFile notices when a
// lock it got was on a removed file.
func (c *Cache) removeLockFile(key string) {
	path := c.lockPath(key)
	if _, err := os.Stat(path); err != nil {
		return
	}
	fl := flock.New(path)
	if ok, err := fl.TryLock(); err != nil || !ok {
		return
	}
	defer fl.Unlock()
	if held, err := fl.Stat(); err == nil {
		if cur, err := os.Stat(path); err == nil && os.SameFile(held, cur) {
			os.Remove(path)
		}
	}
}

// removePartials removes partial downloads that nobody is running and that
// were abandoned for stalePartial (all: any age), with their sidecars.
func (c *Cache) removePartials(all bool) error {
	dir := filepath.Join(c.dir, "partial")
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := f.Name()
		if strings.HasPrefix(name, ".") {
			// A sidecar write cut short by a crash.
			if fi, err := f.Info(); err == nil && (all || time.Since(fi.ModTime()) > stalePartial) {
				os.Remove(filepath.Join(dir, name))
			}
			continue
		}
		key := strings.TrimSuffix(strings.TrimSuffix(name, ".part"), ".json")
		if seen[key] || !isHexDigest(key) {
			continue
		}
		seen[key] = true
		if !all {
			fi, err := f.Info()
			if err != nil || time.Since(fi.ModTime()) < stalePartial {
				continue
			}
		}
		fl := flock.New(c.lockPath(key))
		if ok, err := fl.TryLock(); err != nil || !ok {
			continue // a download is running
		}
		os.Remove(c.sidecarPath(key))
		os.Remove(c.partPath(key))
		fl.Unlock()
		c.removeLockFile(key)
	}
	return nil
}

// Usage describes what the cache directory holds.
type Usage struct {
	Entries      int
	Blobs        int
	Bytes        int64 // total size of the blobs
	Pinned       int   // blobs open through Fetch in some process
	PinnedBytes  int64
	Partials     int // downloads in progress or abandoned
	PartialBytes int64
}

// Usage counts entries, blobs, pins and partial downloads.
func (c *Cache) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	good, bad, err := c.allEntries()
	if err != nil {
		return u, fmt.Errorf("fsscache: usage: %w", err)
	}
	u.Entries = len(good) + len(bad)
	blobs, err := c.listBlobs()
	if err != nil {
		return u, fmt.Errorf("fsscache: usage: %w", err)
	}
	for _, b := range blobs {
		if err := ctx.Err(); err != nil {
			return u, fmt.Errorf("fsscache: usage: %w", err)
		}
		u.Blobs++
		u.Bytes += b.size
		if c.pinned(b.path) {
			u.Pinned++
			u.PinnedBytes += b.size
		}
	}
	files, err := os.ReadDir(filepath.Join(c.dir, "partial"))
	if err != nil {
		return u, fmt.Errorf("fsscache: usage: %w", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".part") {
			if fi, err := f.Info(); err == nil {
				u.Partials++
				u.PartialBytes += fi.Size()
			}
		}
	}
	return u, nil
}

// pinned probes whether any process holds the blob at path open through
// Fetch.
func (c *Cache) pinned(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := tryExclusive(f)
	return err == nil && !ok
}

// List returns every entry in the cache directory, whatever store it came
// from, sorted by ref and then most recently used first.
func (c *Cache) List(ctx context.Context) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fsscache: list: %w", err)
	}
	good, _, err := c.allEntries()
	if err != nil {
		return nil, fmt.Errorf("fsscache: list: %w", err)
	}
	out := make([]Entry, len(good))
	for i, ef := range good {
		out[i] = ef.entry
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Ref, b.Ref), b.LastAccess.Compare(a.LastAccess))
	})
	return out, nil
}
