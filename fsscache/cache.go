// Package fsscache keeps a local, content-addressed cache of files fetched
// from FSS, so that the many jobs on one worker that read the same
// multi-gigabyte volume download it once, and so that a download killed half
// way is resumed rather than restarted.
//
// # Layout
//
// A cache directory holds
//
//	blobs/ab/abcdef...            file contents, named by their SHA-256, read-only
//	entries/<refhash>/<key>.json  one metadata Entry per (FSS, ref, ETag)
//	partial/<key>.part, .json     a download in progress and its resume sidecar
//	locks/<key>.lock, gc.lock     flock(2) files that serialize processes
//
// where key = sha256(Name + "\x00" + ref + "\x00" + ETag) and refhash =
// sha256(Name + "\x00" + ref). Grouping entries by refhash lets offline mode
// find the versions of a ref without knowing its current ETag.
//
// # Correctness does not depend on the locks
//
// A blob is published by renaming a fully written, fsynced and verified file
// into place; an entry is written after its blob, also by atomic rename. So
// every process, whatever the others do, sees either no entry, an entry whose
// blob is missing (treated as a miss) or an entry with its complete blob.
// The per-key locks only make sure a file is downloaded once, and that two
// processes do not append to the same partial file.
//
// # Detecting corruption without re-hashing on every Fetch
//
// Every Fetch checks the blob's size against the entry. In addition each
// Cache keeps the set of blobs it has fully re-hashed, keyed by path, device,
// inode, size, mtime and ctime: the first Fetch of a blob by a Cache (so at
// least once per process) re-hashes it, and any later write to the file,
// even one that restores its mtime, changes the ctime and triggers another
// re-hash. A bit that rots on disk while a process keeps using the blob is
// caught by the next process, or by Verify. A corrupt blob is removed and
// downloaded again.
//
// # Pinning
//
// Every file a Fetch returns holds a shared flock(2) on its own descriptor.
// Eviction removes a blob only after taking an exclusive, non-blocking flock
// on it, so a blob open in any process is never evicted, and closing the
// file (Handle.Close or closing Handle.File) is all it takes to unpin.
package fsscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/xfhost/xfhost/fss"
)

// RemoteInfo is what the origin says about a file.
type RemoteInfo struct {
	Size int64
	// ETag is the strong ETag as sent by the server, with quotes, e.g.
	// "\"sha256:ab12...\"".
	ETag string
	// SHA256 is the hex digest of the content, or empty if the server did not
	// say.
	SHA256 string
}

// Origin is the network side of the cache; fsshttp.Client implements it.
type Origin interface {
	// Head returns the current metadata of ref. Errors wrap fss.ErrNotFound
	// for 404.
	Head(ctx context.Context, ref string) (RemoteInfo, error)
	// Get streams ref's bytes from offset. If ifRange is non-empty and
	// offset > 0, the request carries Range: bytes=offset- and If-Range:
	// ifRange; partial is true when the server answered 206 (the body starts
	// at offset), false when it sent the whole representation (200, e.g.
	// because the ETag changed) — then info describes the new full object.
	// Errors wrap fss.ErrNotFound on 404.
	Get(ctx context.Context, ref string, offset int64, ifRange string) (body io.ReadCloser, info RemoteInfo, partial bool, err error)
}

// Options configure a Cache.
type Options struct {
	// Origin is where misses are downloaded from. It may be nil only when
	// Offline is set.
	Origin Origin
	// Name identifies the FSS instance, e.g. its base URL. It is part of
	// every key, so one directory can cache several stores.
	Name string
	// MaxBytes bounds the total size of the blobs; 0 means unbounded. When a
	// publish or GC finds more, the least recently used unpinned blobs are
	// removed until at most LowWater bytes remain.
	MaxBytes int64
	// LowWater is where eviction stops. Zero, or anything outside
	// (0, MaxBytes], means 90% of MaxBytes.
	LowWater int64
	// Offline forbids network access: Fetch serves the newest verified
	// cached version of a ref and fails fast on a miss.
	Offline bool
	// Logger receives warnings (corrupt blobs, resumes, evictions). Nil
	// discards them.
	Logger *slog.Logger
	// OnProgress, if set, is called as a download proceeds (about every
	// copy buffer) with the bytes present so far and the total size.
	OnProgress func(ref string, done, total int64)
}

// Errors that callers may test for with errors.Is.
var (
	// ErrNotCached is wrapped by offline Fetches of refs that are not in the
	// cache.
	ErrNotCached = errors.New("not in cache")
	// ErrCorrupt is wrapped when content does not match its digest or size:
	// a download that disagrees with what the server announced, or a stored
	// blob found damaged by Verify or VerifyEntry.
	ErrCorrupt = errors.New("content does not match its digest")
	// ErrClosed is returned by operations on a closed Cache.
	ErrClosed = errors.New("cache is closed")
)

// Layout version written to the cache directory, so that a future change of
// layout refuses an old directory instead of misreading it.
const (
	layoutFile    = "fsscache.json"
	layoutVersion = 1
)

// Tuning.
const (
	// touchEvery limits how often the last access of an entry is written:
	// LRU needs minutes of resolution, not a write per Fetch.
	touchEvery = time.Minute
	// A download checkpoints (fsyncs its partial file and records its
	// length in the sidecar; a resume continues from the last checkpoint)
	// every defaultCheckpoint bytes, and at least every checkpointEvery
	// while bytes arrive. Checkpoints run beside the download and coalesce
	// while one is in progress, so they cost little throughput however
	// small the interval; a small one keeps the disk writing back as the
	// file arrives and leaves little for the fsync before publishing. The
	// time interval bounds what a crash loses on a slow link.
	defaultCheckpoint = 16 << 20
	checkpointEvery   = 2 * time.Second
	// hashRing is how many copyBuf buffers a download may have received
	// and not yet hashed: enough for the receiving side to run on while
	// the hashing goroutine waits for a CPU.
	hashRing = 8
	// orphanGrace protects a blob without an entry from eviction for a while:
	// its publisher writes the entry just after the blob.
	orphanGrace = 5 * time.Minute
	// stalePartial is the age after which GC removes an unlocked partial
	// download that nobody resumed.
	stalePartial = 24 * time.Hour
	// lockPoll is how often a process waiting for another's lock retries.
	lockPoll = 10 * time.Millisecond
	// copyBuf is the read size of downloads and hashing.
	copyBuf = 1 << 20
	// maxAttempts bounds how often one Fetch starts over when a blob vanishes
	// between its download and its opening (evicted or found corrupt).
	maxAttempts = 3
)

// Cache is a download cache in a directory, shareable by goroutines and by
// processes.
type Cache struct {
	dir      string
	origin   Origin
	name     string
	maxBytes int64
	lowWater int64
	offline  bool
	log      *slog.Logger
	progress func(ref string, done, total int64)
	// checkpoint and checkpointEvery are the byte and time intervals of a
	// download's checkpoints: defaultCheckpoint and checkpointEvery, except
	// in tests.
	checkpoint      int64
	checkpointEvery time.Duration

	// base is cancelled by Close; detached work (downloads, verification)
	// stops with it.
	base     context.Context
	stopBase context.CancelFunc

	downloads singleflight.Group // by key
	verifies  singleflight.Group // by blob identity

	mu       sync.Mutex
	closed   bool
	flights  map[string]*flight // downloads in progress, by key
	running  sync.WaitGroup     // downloads in progress
	verified map[blobID]bool    // blobs this Cache has fully re-hashed

	stats counters
}

type counters struct {
	hits, misses, downloads, resumes, evictions, corrupt atomic.Int64
	bytesDownloaded, bytesServed                         atomic.Int64
}

// Stats are counters of one Cache since Open.
type Stats struct {
	Hits            int64 // Fetches served from an entry found on the first look
	Misses          int64 // Fetches that had to wait for a download (own or shared)
	Downloads       int64 // downloads this Cache ran to completion
	Resumes         int64 // downloads continued from an earlier partial file
	Evictions       int64 // blobs removed to respect MaxBytes (or by Clear)
	Corrupt         int64 // blobs found damaged and removed
	BytesDownloaded int64 // bytes received from the origin
	BytesServed     int64 // sizes of the files handed out by Fetch
}

// Open opens (creating if needed) the cache in dir.
func Open(dir string, opt Options) (*Cache, error) {
	if opt.Origin == nil && !opt.Offline {
		return nil, fmt.Errorf("fsscache: open %s: an Origin is required unless Offline is set", dir)
	}
	if opt.MaxBytes < 0 {
		return nil, fmt.Errorf("fsscache: open %s: negative MaxBytes %d", dir, opt.MaxBytes)
	}
	low := opt.LowWater
	if low <= 0 || low > opt.MaxBytes {
		low = opt.MaxBytes / 10 * 9
	}
	for _, sub := range []string{"blobs", "entries", "partial", "locks"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("fsscache: open %s: %w", dir, err)
		}
	}
	if err := checkLayout(dir); err != nil {
		return nil, fmt.Errorf("fsscache: open %s: %w", dir, err)
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancel(context.Background())
	return &Cache{
		dir:             dir,
		origin:          opt.Origin,
		name:            opt.Name,
		maxBytes:        opt.MaxBytes,
		lowWater:        low,
		offline:         opt.Offline,
		progress:        opt.OnProgress,
		log:             log.With("cache", dir),
		checkpoint:      defaultCheckpoint,
		checkpointEvery: checkpointEvery,
		base:            base,
		stopBase:        stop,
		flights:         map[string]*flight{},
		verified:        map[blobID]bool{},
	}, nil
}

// checkLayout records the layout version in a new directory and refuses a
// directory written with another one.
func checkLayout(dir string) error {
	path := filepath.Join(dir, layoutFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, _ = json.Marshal(map[string]int{"layout": layoutVersion})
		return writeFileAtomic(path, data)
	}
	if err != nil {
		return err
	}
	var l struct {
		Layout int `json:"layout"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return fmt.Errorf("%s: %w", layoutFile, err)
	}
	if l.Layout != layoutVersion {
		return fmt.Errorf("%s: layout version %d, this program understands %d", layoutFile, l.Layout, layoutVersion)
	}
	return nil
}

// Close stops downloads in progress (their partial files stay, to be
// resumed) and waits for them. Handles returned by Fetch stay valid.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.stopBase()
	c.running.Wait()
	return nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Stats returns the counters of this Cache.
func (c *Cache) Stats() Stats {
	s := &c.stats
	return Stats{
		Hits:            s.hits.Load(),
		Misses:          s.misses.Load(),
		Downloads:       s.downloads.Load(),
		Resumes:         s.resumes.Load(),
		Evictions:       s.evictions.Load(),
		Corrupt:         s.corrupt.Load(),
		BytesDownloaded: s.bytesDownloaded.Load(),
		BytesServed:     s.bytesServed.Load(),
	}
}

// Handle is a cached file opened by Fetch. It pins the blob: no process
// evicts it until the handle is closed. Closing the *os.File returned by
// File has the same effect as Close.
type Handle struct {
	f     *os.File
	entry Entry
}

// File returns the open file, e.g. to mmap it. It stays owned by the
// Handle: close one or the other, not both.
func (h *Handle) File() *os.File { return h.f }

// Entry describes the cached file.
func (h *Handle) Entry() Entry { return h.entry }

// Size is the file's size in bytes.
func (h *Handle) Size() int64 { return h.entry.Size }

// Read reads from the file's current offset.
func (h *Handle) Read(p []byte) (int, error) { return h.f.Read(p) }

// ReadAt reads at off without moving the offset.
func (h *Handle) ReadAt(p []byte, off int64) (int, error) { return h.f.ReadAt(p, off) }

// Seek sets the offset for the next Read.
func (h *Handle) Seek(offset int64, whence int) (int64, error) { return h.f.Seek(offset, whence) }

// Close closes the file and with it unpins the blob.
func (h *Handle) Close() error { return h.f.Close() }

// Fetch returns a pinned, verified local copy of ref. Online, it asks the
// origin for ref's current ETag and serves the matching entry or downloads
// it; concurrent Fetches of one file, in this and other processes, share one
// download. Cancelling ctx abandons the wait, not a download that other
// callers still wait for.
func (c *Cache) Fetch(ctx context.Context, ref string) (*Handle, error) {
	if err := c.check(ctx, "fetch", ref); err != nil {
		return nil, err
	}
	if c.offline {
		return c.fetchOffline(ctx, ref)
	}
	for attempt := 1; ; attempt++ {
		head, err := c.origin.Head(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("fsscache: fetch %q: head: %w", ref, err)
		}
		head = normalize(head)
		tag, err := identity(head)
		if err != nil {
			return nil, fmt.Errorf("fsscache: fetch %q: %w", ref, err)
		}
		key := c.key(ref, tag)
		if e, err := c.readEntry(ref, key); err == nil {
			h, err := c.open(ctx, e)
			if err == nil {
				if attempt == 1 {
					c.stats.hits.Add(1)
				}
				return h, nil
			}
			if !errors.Is(err, errGone) {
				return nil, fmt.Errorf("fsscache: fetch %q: %w", ref, err)
			}
		}
		if attempt == 1 {
			c.stats.misses.Add(1)
		}
		e, err := c.join(ctx, key, ref, head, tag)
		if err == nil {
			var h *Handle
			if h, err = c.open(ctx, e); err == nil {
				return h, nil
			}
		}
		retry := errors.Is(err, errGone) ||
			// Another caller's cancellation stopped the download we joined.
			(errors.Is(err, context.Canceled) && ctx.Err() == nil && c.base.Err() == nil)
		if !retry || attempt == maxAttempts {
			return nil, fmt.Errorf("fsscache: fetch %q: %w", ref, err)
		}
		c.log.Warn("fetch: starting over", "ref", ref, "attempt", attempt, "err", err)
	}
}

// fetchOffline serves the most recently used intact version of ref.
func (c *Cache) fetchOffline(ctx context.Context, ref string) (*Handle, error) {
	entries, err := c.refEntries(ref)
	if err != nil {
		return nil, fmt.Errorf("fsscache: fetch %q offline: %w", ref, err)
	}
	for _, e := range entries {
		h, err := c.open(ctx, e)
		if err == nil {
			c.stats.hits.Add(1)
			return h, nil
		}
		if !errors.Is(err, errGone) {
			return nil, fmt.Errorf("fsscache: fetch %q offline: %w", ref, err)
		}
	}
	c.stats.misses.Add(1)
	return nil, fmt.Errorf("fsscache: fetch %q offline: %w", ref, ErrNotCached)
}

// check performs the checks shared by operations on a ref.
func (c *Cache) check(ctx context.Context, op, ref string) error {
	if err := fss.ValidRef(ref); err != nil {
		return fmt.Errorf("fsscache: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsscache: %s %q: %w", op, ref, err)
	}
	if c.base.Err() != nil {
		return fmt.Errorf("fsscache: %s %q: %w", op, ref, ErrClosed)
	}
	return nil
}

// normalize lowercases the digest, which servers may send in either case.
func normalize(info RemoteInfo) RemoteInfo {
	info.SHA256 = strings.ToLower(info.SHA256)
	return info
}

// identity returns the string that, with the ref, names a version of a file:
// the strong ETag, or a digest-derived tag when the server sent none.
// Without either, versions cannot be told apart and nothing may be cached.
func identity(info RemoteInfo) (string, error) {
	if info.SHA256 != "" && !isHexDigest(info.SHA256) {
		return "", fmt.Errorf("origin sent a malformed SHA-256 %q", info.SHA256)
	}
	if strongETag(info.ETag) {
		return info.ETag, nil
	}
	if info.SHA256 != "" {
		return "digest:" + info.SHA256, nil
	}
	return "", fmt.Errorf("origin sent neither a strong ETag (got %q) nor a digest, so versions cannot be told apart", info.ETag)
}

// strongETag reports whether tag is a quoted, strong entity tag.
func strongETag(tag string) bool {
	return len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"'
}

// expectedDigest returns the SHA-256 that content described by info must
// have: the one the server sent, or the one its protocol puts in the ETag
// ("sha256:<hex>"), or "" if unknown.
func expectedDigest(info RemoteInfo) string {
	if info.SHA256 != "" {
		return info.SHA256
	}
	const prefix = `"sha256:`
	if len(info.ETag) == len(prefix)+64+1 && info.ETag[:len(prefix)] == prefix && strongETag(info.ETag) {
		if d := info.ETag[len(prefix) : len(info.ETag)-1]; isHexDigest(d) {
			return d
		}
	}
	return ""
}

func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, ch := range []byte(s) {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
			return false
		}
	}
	return true
}
