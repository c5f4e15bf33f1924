//go:build !unix

package omni

import (
	"fmt"
	"os"
)

// mapFile reads the file into the heap: without a portable mmap the
// pixels cannot stay out of memory on these platforms.
func mapFile(f *os.File, n int) ([]byte, func() error, error) {
	data := make([]byte, n)
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, nil, fmt.Errorf("read pixels: %w", err)
	}
	return data, nil, nil
}

// syncDir is a no-op: directories cannot be synced portably here.
func syncDir(string) error { return nil }
