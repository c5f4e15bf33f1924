//go:build !unix

package fsscache

import (
	"context"
	"os"
)

// Without flock(2), pins are not enforced across processes; on Windows an
// open file cannot be deleted anyway, so eviction fails for it instead.
func pinShared(ctx context.Context, f *os.File) error { return ctx.Err() }

func tryExclusive(f *os.File) (bool, error) { return true, nil }

// blobID identifies one state of one blob file as well as the platform
// allows without inode numbers.
type blobID struct {
	path    string
	size    int64
	mtimeNs int64
}

func idOf(path string, fi os.FileInfo) blobID {
	return blobID{path: path, size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()}
}
