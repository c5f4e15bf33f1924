package fsscache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// errGone is what open returns when the blob of an entry cannot be served:
// it is missing, was evicted while being opened, or was found corrupt and
// removed. Fetch then downloads the file again.
var errGone = errors.New("cached blob is gone")

// errChanged reports that a blob file changed while it was being hashed.
var errChanged = errors.New("blob changed while it was hashed")

// open opens, pins and checks the blob of e. The size is checked on every
// call; the content is re-hashed unless this Cache already hashed the file
// in its current state (see the package documentation).
func (c *Cache) open(ctx context.Context, e Entry) (*Handle, error) {
	path := c.blobPath(e.SHA256)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errGone
	}
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	if err := pinShared(ctx, f); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Eviction may have unlinked the file between the open and the pin.
	if cur, err := os.Stat(path); err != nil || !os.SameFile(fi, cur) {
		return nil, errGone
	}
	if fi.Size() != e.Size {
		c.removeCorrupt(e, path, fi, fmt.Sprintf("size %d, entry says %d", fi.Size(), e.Size))
		return nil, errGone
	}
	id := idOf(path, fi)
	if !c.isVerified(id) {
		good, err := c.verifyShared(ctx, id, e.SHA256)
		if errors.Is(err, errChanged) {
			return nil, errGone
		}
		if err != nil {
			return nil, err
		}
		if !good {
			c.removeCorrupt(e, path, fi, "content does not match its sha256")
			return nil, errGone
		}
	}
	c.touch(e)
	c.stats.bytesServed.Add(e.Size)
	keep = true
	return &Handle{f: f, entry: e}, nil
}

func (c *Cache) isVerified(id blobID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.verified[id]
}

func (c *Cache) markVerified(id blobID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.verified[id] = true
}

// verifyShared re-hashes the blob identified by id once for all goroutines
// that need it. The hashing is detached from ctx (a caller giving up must
// not fail the others), and bounded by the size of one file and by Close.
func (c *Cache) verifyShared(ctx context.Context, id blobID, digest string) (bool, error) {
	ch := c.verifies.DoChan(fmt.Sprint(id), func() (any, error) {
		sum, got, err := hashFile(c.base, id.path)
		if err != nil {
			return false, err
		}
		if got != id {
			return false, errChanged
		}
		if sum != digest {
			return false, nil
		}
		c.markVerified(id)
		return true, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return false, fmt.Errorf("verify %s: %w", filepath.Base(id.path), r.Err)
		}
		return r.Val.(bool), nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// hashFile returns the SHA-256 of the file at path and the identity it had
// while being read; errChanged if it changed meanwhile.
func hashFile(ctx context.Context, path string) (string, blobID, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", blobID{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", blobID{}, err
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, ctxReader{ctx, f}, make([]byte, copyBuf)); err != nil {
		return "", blobID{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return "", blobID{}, err
	}
	id := idOf(path, before)
	if idOf(path, after) != id {
		return "", blobID{}, errChanged
	}
	return hex.EncodeToString(h.Sum(nil)), id, nil
}

// removeCorrupt removes e and its damaged blob, if the blob at path is still
// the file described by fi. Processes that have the blob open keep their
// (damaged) copy; nobody gets it from the cache again.
func (c *Cache) removeCorrupt(e Entry, path string, fi os.FileInfo, reason string) {
	c.stats.corrupt.Add(1)
	c.log.Warn("removing corrupt cache entry", "ref", e.Ref, "sha256", e.SHA256, "reason", reason)
	if err := os.Remove(c.entryPath(e.Ref, c.keyOf(e))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("remove corrupt entry", "ref", e.Ref, "err", err)
	}
	if cur, err := os.Stat(path); err == nil && os.SameFile(fi, cur) {
		if err := os.Remove(path); err != nil {
			c.log.Warn("remove corrupt blob", "path", path, "err", err)
		}
	}
}

// touch records an access to e, at most once per touchEvery.
func (c *Cache) touch(e Entry) {
	now := time.Now().UTC()
	if now.Sub(e.LastAccess) < touchEvery {
		return
	}
	// Do not resurrect an entry that was removed meanwhile.
	if _, err := os.Stat(c.entryPath(e.Ref, c.keyOf(e))); err != nil {
		return
	}
	e.LastAccess = now
	if err := c.writeEntry(e); err != nil {
		c.log.Warn("record last access", "ref", e.Ref, "err", err)
	}
}

// VerifyResult summarizes a Verify.
type VerifyResult struct {
	Blobs   int   // blobs re-hashed
	Bytes   int64 // bytes re-hashed
	Entries int   // entries checked
	Bad     int   // blobs whose content did not match their name or entries; removed
	Removed int   // entries removed: of bad or missing blobs, or unreadable
}

// Verify re-hashes every blob and removes those whose content does not
// match, with their entries, as well as entries whose blob is missing and
// entry files that cannot be read. A damaged blob is removed even if
// pinned: the processes using it keep their copy, and the next Fetch
// downloads the file again.
func (c *Cache) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	good, bad, err := c.allEntries()
	if err != nil {
		return res, fmt.Errorf("fsscache: verify: list entries: %w", err)
	}
	for _, path := range bad {
		if os.Remove(path) == nil {
			res.Removed++
		}
	}
	res.Entries = len(good) + len(bad)
	byBlob := map[string][]entryFile{}
	for _, ef := range good {
		byBlob[ef.entry.SHA256] = append(byBlob[ef.entry.SHA256], ef)
	}
	blobs, err := c.listBlobs()
	if err != nil {
		return res, fmt.Errorf("fsscache: verify: list blobs: %w", err)
	}
	present := map[string]bool{}
	for _, b := range blobs {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("fsscache: verify: %w", err)
		}
		present[b.digest] = true
		sum, id, err := hashFile(ctx, b.path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errChanged) {
			continue // evicted or replaced meanwhile
		}
		if err != nil {
			return res, fmt.Errorf("fsscache: verify %s: %w", b.path, err)
		}
		res.Blobs++
		res.Bytes += id.size
		sizeOK := true
		for _, ef := range byBlob[b.digest] {
			sizeOK = sizeOK && ef.entry.Size == id.size
		}
		if sum == b.digest && sizeOK {
			c.markVerified(id)
			continue
		}
		res.Bad++
		c.stats.corrupt.Add(1)
		c.log.Warn("verify: removing corrupt blob", "path", b.path, "sha256", sum)
		for _, ef := range byBlob[b.digest] {
			if os.Remove(ef.path) == nil {
				res.Removed++
			}
		}
		if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("fsscache: verify: remove corrupt blob: %w", err)
		}
	}
	for digest, efs := range byBlob {
		if present[digest] {
			continue
		}
		// Blobs are published before their entries, so this entry lost its
		// blob (to eviction in another process, say).
		if _, err := os.Stat(c.blobPath(digest)); errors.Is(err, fs.ErrNotExist) {
			for _, ef := range efs {
				if os.Remove(ef.path) == nil {
					res.Removed++
				}
			}
		}
	}
	return res, nil
}

// VerifyEntry re-hashes the cached versions of ref and removes those that
// are damaged. It reports an error wrapping ErrCorrupt if any was, and one
// wrapping ErrNotCached if the cache holds no version of ref.
func (c *Cache) VerifyEntry(ctx context.Context, ref string) error {
	if err := c.check(ctx, "verify", ref); err != nil {
		return err
	}
	entries, err := c.refEntries(ref)
	if err != nil {
		return fmt.Errorf("fsscache: verify %q: %w", ref, err)
	}
	checked, bad := 0, 0
	for _, e := range entries {
		path := c.blobPath(e.SHA256)
		sum, id, err := hashFile(ctx, path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errChanged) {
			continue
		}
		if err != nil {
			return fmt.Errorf("fsscache: verify %q: %w", ref, err)
		}
		checked++
		if sum == e.SHA256 && id.size == e.Size {
			c.markVerified(id)
			continue
		}
		bad++
		if fi, err := os.Stat(path); err == nil && idOf(path, fi) == id {
			c.removeCorrupt(e, path, fi, "content does not match its sha256")
		}
	}
	switch {
	case bad > 0:
		return fmt.Errorf("fsscache: verify %q: %d of %d cached versions: %w; removed", ref, bad, checked, ErrCorrupt)
	case checked == 0:
		return fmt.Errorf("fsscache: verify %q: %w", ref, ErrNotCached)
	}
	return nil
}
