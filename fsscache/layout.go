package fsscache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/renameio/v2"

	"github.com/xfhost/xfhost/fss"
)

// Entry is the metadata of one cached version of a file.
type Entry struct {
	Name   string `json:"name"` // the FSS identity (Options.Name)
	Ref    string `json:"ref"`
	ETag   string `json:"etag"`   // identity tag: the strong ETag, or "digest:<hex>"
	SHA256 string `json:"sha256"` // names the blob
	Size   int64  `json:"size"`
	// Stored is when the blob was published.
	Stored time.Time `json:"stored"`
	// LastAccess drives LRU eviction; it is written at most once per minute.
	LastAccess time.Time `json:"last_access"`
}

// key names an entry: one version of one ref of one store.
func (c *Cache) key(ref, tag string) string {
	return hashHex(c.name + "\x00" + ref + "\x00" + tag)
}

// refHash names the directory holding every version of ref.
func (c *Cache) refHash(ref string) string {
	return hashHex(c.name + "\x00" + ref)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (c *Cache) blobPath(digest string) string {
	return filepath.Join(c.dir, "blobs", digest[:2], digest)
}

func (c *Cache) entryPath(ref, key string) string {
	return filepath.Join(c.dir, "entries", c.refHash(ref), key+".json")
}

func (c *Cache) partPath(key string) string {
	return filepath.Join(c.dir, "partial", key+".part")
}

func (c *Cache) sidecarPath(key string) string {
	return filepath.Join(c.dir, "partial", key+".json")
}

func (c *Cache) lockPath(name string) string {
	return filepath.Join(c.dir, "locks", name+".lock")
}

// decodeEntry parses and checks an entry file, so that a damaged or
// hand-edited entry can never point outside blobs/ or claim a negative size.
func decodeEntry(data []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	switch {
	case !isHexDigest(e.SHA256):
		return Entry{}, fmt.Errorf("decode entry: sha256 %q is not 64 lowercase hex digits", e.SHA256)
	case e.Size < 0:
		return Entry{}, fmt.Errorf("decode entry: negative size %d", e.Size)
	case e.ETag == "":
		return Entry{}, errors.New("decode entry: empty etag")
	}
	if err := fss.ValidRef(e.Ref); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	return e, nil
}

// readEntry reads the entry stored under key for ref.
func (c *Cache) readEntry(ref, key string) (Entry, error) {
	data, err := os.ReadFile(c.entryPath(ref, key))
	if err != nil {
		return Entry{}, err
	}
	e, err := decodeEntry(data)
	if err != nil {
		return Entry{}, err
	}
	if e.Ref != ref || e.Name != c.name || c.key(e.Ref, e.ETag) != key {
		return Entry{}, fmt.Errorf("entry %s describes %q of %q, not what its name says", key, e.Ref, e.Name)
	}
	return e, nil
}

// writeEntry stores e atomically.
func (c *Cache) writeEntry(e Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	path := c.entryPath(e.Ref, c.keyOf(e))
	for attempt := 0; ; attempt++ {
		err := mkdirSynced(filepath.Dir(path))
		if err == nil {
			err = writeFileAtomic(path, data)
		}
		// GC may remove the ref's directory the moment it looks empty.
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 2 {
			return err
		}
	}
}

// keyOf returns the key of an entry, which may belong to another store name
// when listed from the directory.
func (c *Cache) keyOf(e Entry) string {
	return hashHex(e.Name + "\x00" + e.Ref + "\x00" + e.ETag)
}

// entryFile is an entry together with the file it was read from.
type entryFile struct {
	path  string
	entry Entry
}

// refEntries returns the entries of ref, most recently used first.
func (c *Cache) refEntries(ref string) ([]Entry, error) {
	dir := filepath.Join(c.dir, "entries", c.refHash(ref))
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range names {
		key, ok := strings.CutSuffix(d.Name(), ".json")
		if !ok || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		if e, err := c.readEntry(ref, key); err == nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return b.LastAccess.Compare(a.LastAccess) })
	return out, nil
}

// allEntries lists every entry in the cache, whatever its store name. Files
// that do not decode are returned in bad, for Verify and Clear to remove.
func (c *Cache) allEntries() (good []entryFile, bad []string, err error) {
	root := filepath.Join(c.dir, "entries")
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		sub := filepath.Join(root, d.Name())
		files, err := os.ReadDir(sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		if len(files) == 0 {
			os.Remove(sub) // fails harmlessly if an entry appeared meanwhile
			continue
		}
		for _, f := range files {
			path := filepath.Join(sub, f.Name())
			if strings.HasPrefix(f.Name(), ".") {
				// The temporary file of an entry write cut short by a crash.
				if fi, err := f.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
					bad = append(bad, path)
				}
				continue
			}
			key, ok := strings.CutSuffix(f.Name(), ".json")
			if !ok {
				continue
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			e, err := decodeEntry(data)
			if err != nil || c.keyOf(e) != key || hashHex(e.Name+"\x00"+e.Ref) != d.Name() {
				bad = append(bad, path)
				continue
			}
			good = append(good, entryFile{path: path, entry: e})
		}
	}
	return good, bad, nil
}

// sidecar describes a partial download, so that another process can resume
// it. Offset counts the bytes known to be on disk (fsynced); the partial file
// may be longer after a crash, and is truncated to Offset on resume.
type sidecar struct {
	Ref    string `json:"ref"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Offset int64  `json:"offset"`
}

func decodeSidecar(data []byte) (sidecar, error) {
	var s sidecar
	if err := json.Unmarshal(data, &s); err != nil {
		return sidecar{}, fmt.Errorf("decode sidecar: %w", err)
	}
	switch {
	case s.Offset < 0:
		return sidecar{}, fmt.Errorf("decode sidecar: negative offset %d", s.Offset)
	case s.Size >= 0 && s.Offset > s.Size:
		return sidecar{}, fmt.Errorf("decode sidecar: offset %d beyond size %d", s.Offset, s.Size)
	case s.SHA256 != "" && !isHexDigest(s.SHA256):
		return sidecar{}, fmt.Errorf("decode sidecar: sha256 %q is not 64 lowercase hex digits", s.SHA256)
	}
	return s, nil
}

func readSidecar(path string) (sidecar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sidecar{}, err
	}
	return decodeSidecar(data)
}

func writeSidecar(path string, s sidecar) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsynced and renamed, then an fsync of the directory so that
// the rename survives a crash.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := renameio.WriteFile(path, data, 0o644, renameio.WithTempDir(dir)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the changes to dir's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// mkdirSynced creates dir (one level) if needed, and then syncs its parent
// so that files published into it cannot be lost with the directory.
func mkdirSynced(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}
