package fsshttp

import (
	"io/fs"
	"syscall"
)

// fileID returns what identifies the file behind fi beyond its size and
// mtime: device, inode and change time. The ctime matters because it
// cannot be set from user space, so a writer that restores the old mtime
// after changing a file still shows up.
func fileID(fi fs.FileInfo) (dev, ino uint64, ctimeNs int64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0
	}
	return uint64(st.Dev), st.Ino, st.Ctim.Nano()
}
