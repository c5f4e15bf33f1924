package fsscache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// flight is one download shared by the goroutines waiting for it. It runs
// under its own context, detached from the callers' so that one caller
// giving up does not fail the others; it is cancelled when the last waiter
// gives up, or by Close.
type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int
}

// join waits, under ctx, for the download of key, starting it if no
// goroutine of this Cache is running it.
func (c *Cache) join(ctx context.Context, key, ref string, head RemoteInfo, tag string) (Entry, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Entry{}, ErrClosed
	}
	fl := c.flights[key]
	if fl == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(c.base, cancel)
		fl = &flight{ctx: fctx, cancel: func() { stop(); cancel() }}
		c.flights[key] = fl
	}
	fl.waiters++
	c.mu.Unlock()

	ch := c.downloads.DoChan(key, func() (any, error) {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return Entry{}, ErrClosed
		}
		c.running.Add(1)
		c.mu.Unlock()
		defer c.running.Done()
		return c.download(fl.ctx, key, ref, head, tag)
	})
	select {
	case r := <-ch:
		c.leave(key, fl)
		if r.Err != nil {
			return Entry{}, r.Err
		}
		return r.Val.(Entry), nil
	case <-ctx.Done():
		c.leave(key, fl)
		return Entry{}, ctx.Err()
	}
}

// leave drops a waiter of fl, cancelling the download once nobody waits.
// Its partial file stays for the next Fetch to resume.
func (c *Cache) leave(key string, fl *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fl.waiters--
	if fl.waiters == 0 {
		fl.cancel()
		if c.flights[key] == fl {
			delete(c.flights, key)
		}
	}
}

// lockFile takes the exclusive flock at path, waiting while another process
// (or another descriptor in this one) holds it. Lock files may be removed by
// their holder (GC does); a lock taken on a file that has meanwhile been
// unlinked protects nothing, so it is dropped and taken again.
func lockFile(ctx context.Context, path string) (*flock.Flock, error) {
	for {
		fl := flock.New(path)
		if _, err := fl.TryLockContext(ctx, lockPoll); err != nil {
			return nil, fmt.Errorf("lock %s: %w", filepath.Base(path), err)
		}
		held, err1 := fl.Stat()
		cur, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, cur) {
			return fl, nil
		}
		fl.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// download fetches ref into the cache under the key's lock, unless another
// process published it while this one waited for the lock.
func (c *Cache) download(ctx context.Context, key, ref string, head RemoteInfo, tag string) (Entry, error) {
	lock, err := lockFile(ctx, c.lockPath(key))
	if err != nil {
		return Entry{}, err
	}
	defer lock.Unlock()
	if e, err := c.readEntry(ref, key); err == nil {
		if fi, err := os.Stat(c.blobPath(e.SHA256)); err == nil && fi.Size() == e.Size {
			return e, nil
		}
	}
	d := &downloader{c: c, ref: ref, part: c.partPath(key), side: c.sidecarPath(key), hash: sha256.New()}
	e, err := d.run(ctx, head, tag)
	if err != nil {
		return Entry{}, err
	}
	c.stats.downloads.Add(1)
	if c.maxBytes > 0 {
		if _, err := c.evict(ctx, c.maxBytes, c.lowWater, e.SHA256, false); err != nil {
			c.log.Warn("evict after download", "err", err)
		}
	}
	return e, nil
}

// downloader streams one file into a partial file, hashing as it goes.
type downloader struct {
	c          *Cache
	ref        string
	part, side string
	f          *os.File
	hash       hash.Hash
	want       RemoteInfo // what the content must be
	// written counts the bytes in the partial file; once stream returns,
	// the hash has seen exactly these.
	written int64
}

func (d *downloader) run(ctx context.Context, head RemoteInfo, tag string) (Entry, error) {
	f, err := os.OpenFile(d.part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return Entry{}, err
	}
	d.f = f
	published := false
	defer func() {
		if !published {
			f.Close()
		}
	}()

	offset, err := d.resumable(ctx, head)
	if err != nil {
		return Entry{}, err
	}
	ifRange := ""
	if offset > 0 {
		ifRange = head.ETag
	}
	body, info, partial, err := d.c.origin.Get(ctx, d.ref, offset, ifRange)
	if err != nil {
		return Entry{}, fmt.Errorf("get: %w", err)
	}
	defer body.Close()
	info = normalize(info)
	d.want = head
	if offset > 0 && partial {
		d.c.stats.resumes.Add(1)
		d.c.log.Info("resuming download", "ref", d.ref, "offset", offset)
	} else {
		if offset > 0 {
			d.c.log.Info("server sent the whole file instead of the rest; starting over", "ref", d.ref, "offset", offset)
			if err := d.restart(); err != nil {
				return Entry{}, err
			}
		}
		// A full answer describes what it carries, which may be a newer
		// version than HEAD announced; the entry is keyed by what arrived.
		if info.ETag != "" || info.SHA256 != "" {
			d.want = info
			if tag, err = identity(info); err != nil {
				return Entry{}, err
			}
		}
	}
	if err := d.checkpoint(); err != nil {
		return Entry{}, err
	}
	if err := d.stream(ctx, body); err != nil {
		if errors.Is(err, ErrCorrupt) {
			d.discard()
			return Entry{}, err
		}
		// Keep what arrived for a resume.
		if cpErr := d.checkpoint(); cpErr != nil {
			d.c.log.Warn("checkpoint after failed download", "ref", d.ref, "err", cpErr)
		}
		return Entry{}, err
	}
	sum := hex.EncodeToString(d.hash.Sum(nil))
	if err := d.checkContent(sum); err != nil {
		d.discard()
		return Entry{}, err
	}
	published = true
	return d.publish(sum, tag)
}

// resumable prepares the partial file: it keeps the prefix recorded by a
// sidecar for the same version and feeds it to the hash (whose state is not
// persisted), or empties the file. It returns the offset to continue from.
func (d *downloader) resumable(ctx context.Context, head RemoteInfo) (int64, error) {
	s, err := readSidecar(d.side)
	if err != nil || s.Ref != d.ref || s.ETag != head.ETag || !strongETag(head.ETag) ||
		s.Offset == 0 || (head.Size >= 0 && s.Offset > head.Size) {
		return 0, d.restart()
	}
	fi, err := d.f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() < s.Offset {
		return 0, d.restart()
	}
	if err := d.f.Truncate(s.Offset); err != nil {
		return 0, err
	}
	if _, err := io.CopyBuffer(d.hash, ctxReader{ctx, io.NewSectionReader(d.f, 0, s.Offset)}, make([]byte, copyBuf)); err != nil {
		return 0, fmt.Errorf("re-hash partial file: %w", err)
	}
	if _, err := d.f.Seek(s.Offset, io.SeekStart); err != nil {
		return 0, err
	}
	d.written = s.Offset
	return s.Offset, nil
}

// restart empties the partial file and the hash.
func (d *downloader) restart() error {
	if err := d.f.Truncate(0); err != nil {
		return err
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	d.hash.Reset()
	d.written = 0
	return nil
}

// checkpoint makes the bytes written so far durable and records them in the
// sidecar, so a later process can resume from here.
func (d *downloader) checkpoint() error {
	return d.checkpointAt(d.written)
}

// checkpointAt records that the first offset bytes of the partial file are
// durable. Every one of them must have been written before it is called:
// the fsync covers what was written before it started, so a checkpoint may
// run while later bytes are still being appended.
func (d *downloader) checkpointAt(offset int64) error {
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("checkpoint: sync partial file: %w", err)
	}
	err := writeSidecar(d.side, sidecar{Ref: d.ref, ETag: d.want.ETag, Size: d.want.Size, SHA256: d.want.SHA256, Offset: offset})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// checkContent compares what arrived with what the server announced.
func (d *downloader) checkContent(sum string) error {
	if d.want.Size >= 0 && d.written != d.want.Size {
		return fmt.Errorf("%w: got %d bytes, server announced %d", ErrCorrupt, d.written, d.want.Size)
	}
	if want := expectedDigest(d.want); want != "" && want != sum {
		return fmt.Errorf("%w: got sha256 %s, server announced %s", ErrCorrupt, sum, want)
	}
	return nil
}

// discard removes the partial file and its sidecar.
func (d *downloader) discard() {
	d.f.Close()
	os.Remove(d.side)
	os.Remove(d.part)
}

// publish moves the complete partial file to its blob path and writes the
// entry; after a crash at any point the cache holds either no entry, or an
// entry whose complete blob is in place.
func (d *downloader) publish(sum, tag string) (Entry, error) {
	c := d.c
	defer d.f.Close()
	if err := d.f.Chmod(0o444); err != nil {
		return Entry{}, err
	}
	if err := d.f.Sync(); err != nil {
		return Entry{}, err
	}
	if err := d.f.Close(); err != nil {
		return Entry{}, err
	}
	blob := c.blobPath(sum)
	if err := mkdirSynced(filepath.Dir(blob)); err != nil {
		return Entry{}, err
	}
	if err := os.Rename(d.part, blob); err != nil {
		return Entry{}, err
	}
	if err := syncDir(filepath.Dir(blob)); err != nil {
		return Entry{}, err
	}
	if err := os.Remove(d.side); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("remove sidecar", "path", d.side, "err", err)
	}
	// The rename changed the ctime; identify the blob as it is now.
	fi, err := os.Stat(blob)
	if err != nil {
		return Entry{}, err
	}
	now := time.Now().UTC()
	e := Entry{Name: c.name, Ref: d.ref, ETag: tag, SHA256: sum, Size: d.written, Stored: now, LastAccess: now}
	if err := c.writeEntry(e); err != nil {
		return Entry{}, err
	}
	// It was hashed while it streamed in.
	c.markVerified(idOf(blob, fi))
	return e, nil
}

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
