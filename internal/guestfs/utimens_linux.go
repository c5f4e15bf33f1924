package guestfs

import (
	"os"
	"syscall"
	"unsafe"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// utimeOmit is UTIME_OMIT from <linux/stat.h>; package syscall lacks it.
const utimeOmit = (1 << 30) - 2

// futimens sets the times of an open file. Linux's utimensat with a NULL
// path acts on the descriptor itself, which is how the C library implements
// futimens; unlike a path-based call it cannot be redirected by a rename or a
// planted link.
func futimens(f *os.File, atim, mtim int64) experimentalsys.Errno {
	ts := [2]syscall.Timespec{toTimespec(atim), toTimespec(mtim)}
	rc, err := f.SyscallConn()
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	})
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	if errno != 0 {
		return experimentalsys.UnwrapOSError(errno)
	}
	return 0
}

func toTimespec(epochNanos int64) syscall.Timespec {
	if epochNanos == experimentalsys.UTIME_OMIT {
		return syscall.Timespec{Nsec: utimeOmit}
	}
	return syscall.NsecToTimespec(epochNanos)
}
