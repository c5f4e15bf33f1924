// Package fss defines how xfhost reaches FSS, the XamFlow file storage
// service that holds bulk job data (images, CSV tables, meshes, volumes), and
// provides Dir, a Store backed by a local directory.
//
// Files are named by refs: relative, slash-separated paths such as
// "runs/17/scan.omni". Every Store implementation (the local Dir today, an
// HTTP client and a download cache later) accepts exactly the refs that
// ValidRef accepts, so a ref that works against one store works against all.
package fss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Info describes a stored file.
type Info struct {
	Ref     string
	Size    int64
	ModTime time.Time
	// SHA256 is the lowercase hex digest of the content, or empty when the
	// store does not know it without reading the whole file.
	SHA256 string
}

// Store is a file store addressed by refs.
type Store interface {
	// Fetch returns a local, read-only file holding the content of ref.
	// For remote stores this is a cache file; callers may mmap it.
	// The caller closes the file.
	Fetch(ctx context.Context, ref string) (*os.File, error)

	// Stat describes ref without reading its content.
	Stat(ctx context.Context, ref string) (Info, error)

	// Put stores everything read from r under ref, replacing any previous
	// content. Readers of ref see either the old or the new content, never a
	// partial write. The returned Info carries the SHA-256 of what was stored.
	Put(ctx context.Context, ref string, r io.Reader) (Info, error)
}

// ErrNotFound is wrapped by errors for refs that do not exist.
// errors.Is(err, fs.ErrNotExist) also holds for such errors.
var ErrNotFound = fmt.Errorf("not found: %w", fs.ErrNotExist)

// ErrNotRegular is wrapped by errors for refs naming a directory or another
// entry that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrInvalidRef is wrapped by errors for refs that ValidRef rejects, so
// callers (an HTTP handler, say) can tell bad input from storage failures.
var ErrInvalidRef = errors.New("invalid ref")

// MaxRefLen is the longest ref, in bytes, that ValidRef accepts.
const MaxRefLen = 1024

// ValidRef reports whether ref is an acceptable file reference: non-empty,
// at most MaxRefLen bytes, relative, made of non-empty slash-separated
// elements none of which is "." or "..", and free of backslashes and NUL
// bytes. The error names the rule that ref breaks and wraps ErrInvalidRef.
func ValidRef(ref string) error {
	if reason := refProblem(ref); reason != "" {
		return fmt.Errorf("fss: %w %q: %s", ErrInvalidRef, ref, reason)
	}
	return nil
}

// refProblem returns which rule ref breaks, or "" if it is valid.
// Backslashes are refused rather than treated as separators so that a ref
// means the same file on every platform and in every URL.
func refProblem(ref string) string {
	switch {
	case ref == "":
		return "empty"
	case len(ref) > MaxRefLen:
		return fmt.Sprintf("longer than %d bytes", MaxRefLen)
	case strings.IndexByte(ref, 0) >= 0:
		return "contains a NUL byte"
	case strings.IndexByte(ref, '\\') >= 0:
		return "contains a backslash"
	case ref[0] == '/':
		return "absolute (starts with /)"
	}
	for elem := range strings.SplitSeq(ref, "/") {
		switch elem {
		case "":
			return "contains an empty element (// or trailing /)"
		case ".":
			return `contains a "." element`
		case "..":
			return `contains a ".." element`
		}
	}
	return ""
}

// opError wraps err with the operation and ref it concerns.
func opError(op, ref string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		// The os error repeats the path and names a syscall; the caller only
		// needs to know the ref is missing.
		err = ErrNotFound
	}
	return fmt.Errorf("fss: %s %q: %w", op, ref, err)
}

// invalidRefError is the error an operation returns for a ref that
// ValidRef rejects; it names the operation as well as the broken rule.
func invalidRefError(op, ref, reason string) error {
	return fmt.Errorf("fss: %s %q: %w: %s", op, ref, ErrInvalidRef, reason)
}
