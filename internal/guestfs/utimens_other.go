//go:build !linux

package guestfs

import (
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// futimens is only implemented on Linux; path-based FS.Utimens works
// everywhere and is what Go and most libc guests use.
func futimens(*os.File, int64, int64) experimentalsys.Errno {
	return experimentalsys.ENOSYS
}
