//go:build !linux

package fsshttp

import "io/fs"

// fileID is only implemented on Linux; elsewhere the index relies on size
// and mtime alone.
func fileID(fs.FileInfo) (dev, ino uint64, ctimeNs int64) { return 0, 0, 0 }
