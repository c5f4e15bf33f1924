//go:build unix

package omni

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first n bytes of f read-only. The mapping stays valid
// after f is closed.
func mapFile(f *os.File, n int) ([]byte, func() error, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	var mapErr error
	// SyscallConn avoids f.Fd(), which would switch the file to blocking mode.
	err = rc.Control(func(fd uintptr) {
		data, mapErr = unix.Mmap(int(fd), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	})
	if err == nil {
		err = mapErr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("mmap pixel file: %w", err)
	}
	return data, func() error { return unix.Munmap(data) }, nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
