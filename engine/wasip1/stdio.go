package wasip1

import (
	"io"
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// The standard streams are files like any other, so the generic fd_*
// code serves them and whatever they do not implement fails with
// experimentalsys.UnimplementedFile's ENOSYS (EBADF for reads and writes),
// as wazero's streams for an io.Reader or io.Writer do.

// stdioMode is the type the streams report: a device that is not a
// character device, which WASI calls a block device. It is what wazero
// reports for streams backed by an io.Writer, and a character device would
// make wasi-libc's isatty say yes and switch stdout to line buffering,
// changing how stdout and stderr interleave in the job log.
const stdioMode = fs.ModeDevice | 0o640

type stdioFile struct {
	experimentalsys.UnimplementedFile
}

func (stdioFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	return sys.Stat_t{Mode: stdioMode, Nlink: 1}, 0
}

func (stdioFile) IsDir() (bool, experimentalsys.Errno) { return false, 0 }

// Close does nothing: the streams belong to the host.
func (stdioFile) Close() experimentalsys.Errno { return 0 }

// emptyStdin is a stream at its end.
type emptyStdin struct{ stdioFile }

func (emptyStdin) Read([]byte) (int, experimentalsys.Errno) { return 0, 0 }

// writerStream sends writes to the host's writer.
type writerStream struct {
	stdioFile
	w io.Writer
}

func (s writerStream) Write(b []byte) (int, experimentalsys.Errno) {
	n, err := s.w.Write(b)
	return n, experimentalsys.UnwrapOSError(err)
}
