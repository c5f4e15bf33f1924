package fss

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// Dir is a Store kept in a local directory. Every ref is resolved through an
// os.Root, so no ref, and no symbolic link planted in the directory, can
// reach a file outside it; links that stay inside the directory work.
//
// A Dir is safe for concurrent use. Concurrent Puts of one ref do not mix
// content: the last one to finish wins.
type Dir struct {
	root *os.Root
}

var _ Store = (*Dir)(nil)

// Put copies in chunks of this size, checking the context between chunks.
const copyChunk = 1 << 20

// OpenDir opens the directory at path as a store. The directory must exist.
func OpenDir(path string) (*Dir, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("fss: open dir %q: %w", path, err)
	}
	return &Dir{root: root}, nil
}

// Close releases the directory. Files returned by Fetch stay usable.
func (d *Dir) Close() error {
	if d == nil || d.root == nil {
		return nil
	}
	if err := d.root.Close(); err != nil {
		return fmt.Errorf("fss: close dir %q: %w", d.root.Name(), err)
	}
	return nil
}

// check performs the checks shared by every operation: the Dir was opened,
// the context is live and the ref is valid.
func (d *Dir) check(ctx context.Context, op, ref string) error {
	if d == nil || d.root == nil {
		return fmt.Errorf("fss: %s %q: Dir was not opened with OpenDir", op, ref)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fss: %s %q: %w", op, ref, err)
	}
	if reason := refProblem(ref); reason != "" {
		return invalidRefError(op, ref, reason)
	}
	return nil
}

// Fetch opens ref for reading. Directories are refused: a ref names a file.
func (d *Dir) Fetch(ctx context.Context, ref string) (*os.File, error) {
	const op = "fetch"
	if err := d.check(ctx, op, ref); err != nil {
		return nil, err
	}
	f, err := d.root.Open(ref)
	if err != nil {
		return nil, opError(op, ref, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, opError(op, ref, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, opError(op, ref, fmt.Errorf("%w (mode %v)", ErrNotRegular, fi.Mode().Type()))
	}
	return f, nil
}

// Stat describes ref. Info.SHA256 is empty: hashing a multi-gigabyte volume
// on every Stat would be too slow to be what a caller expects.
func (d *Dir) Stat(ctx context.Context, ref string) (Info, error) {
	const op = "stat"
	if err := d.check(ctx, op, ref); err != nil {
		return Info{}, err
	}
	fi, err := d.root.Stat(ref)
	if err != nil {
		return Info{}, opError(op, ref, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, opError(op, ref, fmt.Errorf("%w (mode %v)", ErrNotRegular, fi.Mode().Type()))
	}
	return Info{Ref: ref, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Put writes r to a temporary file next to ref, syncs it and renames it over
// ref, then syncs the directory so the rename survives a crash. On an error
// before the rename the temporary file is removed and ref is left as it was;
// if only the final directory sync fails, the new content is in place but
// might not survive a crash.
//
// If ref currently exists it must resolve, inside the directory, to a
// regular file: Put refuses to replace a directory or a link that points
// outside the directory, even though the rename itself would only replace
// the link.
func (d *Dir) Put(ctx context.Context, ref string, r io.Reader) (Info, error) {
	const op = "put"
	if err := d.check(ctx, op, ref); err != nil {
		return Info{}, err
	}
	switch fi, err := d.root.Stat(ref); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return Info{}, opError(op, ref, err)
	case !fi.Mode().IsRegular():
		return Info{}, opError(op, ref, fmt.Errorf("existing entry: %w (mode %v)", ErrNotRegular, fi.Mode().Type()))
	}

	dir := path.Dir(ref)
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return Info{}, opError(op, ref, err)
		}
	}
	tmp, f, err := d.createTemp(dir)
	if err != nil {
		return Info{}, opError(op, ref, err)
	}
	info, err := d.writeAndRename(ctx, r, f, tmp, ref)
	if err != nil {
		// Remove fails harmlessly once the rename has happened.
		d.root.Remove(tmp)
		return Info{}, opError(op, ref, err)
	}
	return info, nil
}

// createTemp creates an empty file with a random name in dir. The name has a
// fixed length, unrelated to the ref, so it fits wherever the ref's own last
// element fits, and starts with a dot so that listings skip it.
func (d *Dir) createTemp(dir string) (string, *os.File, error) {
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		name := path.Join(dir, ".fss-put-"+hex.EncodeToString(b[:])+".tmp")
		f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("create temporary file: %w", err)
		}
		return name, f, nil
	}
	return "", nil, errors.New("create temporary file: too many name collisions")
}

// writeAndRename fills f (named tmp) from r, makes it durable and renames it
// to ref. It always closes f.
func (d *Dir) writeAndRename(ctx context.Context, r io.Reader, f *os.File, tmp, ref string) (Info, error) {
	h := sha256.New()
	size, err := io.CopyBuffer(io.MultiWriter(f, h), ctxReader{ctx: ctx, r: r}, make([]byte, copyChunk))
	if err != nil {
		f.Close()
		return Info{}, err
	}
	// Without the sync a crash shortly after the rename could leave ref
	// naming an empty or partial file.
	if err := f.Sync(); err != nil {
		f.Close()
		return Info{}, fmt.Errorf("sync: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return Info{}, err
	}
	if err := f.Close(); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := d.root.Rename(tmp, ref); err != nil {
		return Info{}, err
	}
	if err := d.syncDir(path.Dir(ref)); err != nil {
		return Info{}, err
	}
	return Info{Ref: ref, Size: size, ModTime: fi.ModTime(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// syncDir flushes the directory entry changes in dir to disk.
func (d *Dir) syncDir(dir string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// ctxReader stops a copy once its context is done. The check sits before
// each Read, so a cancelled Put stops within one chunk.
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
