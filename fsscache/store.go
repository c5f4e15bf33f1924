package fsscache

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/xfhost/xfhost/fss"
)

// Uploader stores files on the origin; fsshttp.Client implements it.
type Uploader interface {
	Put(ctx context.Context, ref string, r io.Reader) (RemoteInfo, error)
}

// Store is an fss.Store that reads through a Cache and writes through an
// Uploader.
type Store struct {
	cache *Cache
	up    Uploader
}

var _ fss.Store = (*Store)(nil)

// NewStore returns a Store that fetches through c and puts with up. up may
// be nil for a read-only store.
func NewStore(c *Cache, up Uploader) *Store { return &Store{cache: c, up: up} }

// Fetch returns the cached file. It stays pinned (safe from eviction by any
// process) until the caller closes it.
func (s *Store) Fetch(ctx context.Context, ref string) (*os.File, error) {
	h, err := s.cache.Fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	return h.File(), nil
}

// Stat asks the origin about ref; offline, it describes the version Fetch
// would serve. ModTime is zero: the origin protocol does not carry it.
func (s *Store) Stat(ctx context.Context, ref string) (fss.Info, error) {
	c := s.cache
	if err := c.check(ctx, "stat", ref); err != nil {
		return fss.Info{}, err
	}
	if c.offline {
		entries, err := c.refEntries(ref)
		if err != nil {
			return fss.Info{}, fmt.Errorf("fsscache: stat %q offline: %w", ref, err)
		}
		if len(entries) == 0 {
			return fss.Info{}, fmt.Errorf("fsscache: stat %q offline: %w", ref, ErrNotCached)
		}
		return fss.Info{Ref: ref, Size: entries[0].Size, SHA256: entries[0].SHA256}, nil
	}
	info, err := c.origin.Head(ctx, ref)
	if err != nil {
		return fss.Info{}, fmt.Errorf("fsscache: stat %q: %w", ref, err)
	}
	info = normalize(info)
	return fss.Info{Ref: ref, Size: info.Size, SHA256: expectedDigest(info)}, nil
}

// Put uploads r as ref. Nothing is added to the cache: a later Fetch
// downloads the file once, like any other.
func (s *Store) Put(ctx context.Context, ref string, r io.Reader) (fss.Info, error) {
	c := s.cache
	if err := c.check(ctx, "put", ref); err != nil {
		return fss.Info{}, err
	}
	if c.offline {
		return fss.Info{}, fmt.Errorf("fsscache: put %q: cache is offline", ref)
	}
	if s.up == nil {
		return fss.Info{}, fmt.Errorf("fsscache: put %q: store has no uploader", ref)
	}
	info, err := s.up.Put(ctx, ref, r)
	if err != nil {
		return fss.Info{}, fmt.Errorf("fsscache: put %q: %w", ref, err)
	}
	info = normalize(info)
	return fss.Info{Ref: ref, Size: info.Size, SHA256: expectedDigest(info)}, nil
}
