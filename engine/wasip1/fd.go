package wasip1

import (
	"io"
	"io/fs"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"

	"github.com/xfhost/xfhost/engine"
)

// WASI file types.
const (
	filetypeUnknown         = 0
	filetypeBlockDevice     = 1
	filetypeCharacterDevice = 2
	filetypeDirectory       = 3
	filetypeRegularFile     = 4
	filetypeSymbolicLink    = 7
)

func filetype(m fs.FileMode) uint8 {
	switch {
	case m.IsRegular():
		return filetypeRegularFile
	case m.IsDir():
		return filetypeDirectory
	case m&fs.ModeSymlink != 0:
		return filetypeSymbolicLink
	case m&fs.ModeCharDevice != 0:
		return filetypeCharacterDevice
	case m&fs.ModeDevice != 0:
		return filetypeBlockDevice
	}
	return filetypeUnknown
}

// fdflags bits.
const (
	fdflagAppend   = 1 << 0
	fdflagDsync    = 1 << 1
	fdflagNonblock = 1 << 2
	fdflagRsync    = 1 << 3
	fdflagSync     = 1 << 4
)

// Rights. They are reported by fd_fdstat_get but, as in wazero, not
// enforced: what a descriptor may do is decided by how the file system
// opened it (a read-only descriptor refuses writes with EBADF, a read-only
// mount everything that changes it).
const (
	rightFdDatasync           = 1 << 0
	rightFdRead               = 1 << 1
	rightFdSeek               = 1 << 2
	rightFdFdstatSetFlags     = 1 << 3
	rightFdSync               = 1 << 4
	rightFdTell               = 1 << 5
	rightFdWrite              = 1 << 6
	rightFdAdvise             = 1 << 7
	rightFdAllocate           = 1 << 8
	rightPathCreateDirectory  = 1 << 9
	rightPathCreateFile       = 1 << 10
	rightPathLinkSource       = 1 << 11
	rightPathLinkTarget       = 1 << 12
	rightPathOpen             = 1 << 13
	rightFdReaddir            = 1 << 14
	rightPathReadlink         = 1 << 15
	rightPathRenameSource     = 1 << 16
	rightPathRenameTarget     = 1 << 17
	rightPathFilestatGet      = 1 << 18
	rightPathFilestatSetSize  = 1 << 19
	rightPathFilestatSetTimes = 1 << 20
	rightFdFilestatGet        = 1 << 21
	rightFdFilestatSetSize    = 1 << 22
	rightFdFilestatSetTimes   = 1 << 23
	rightPathSymlink          = 1 << 24
	rightPathRemoveDirectory  = 1 << 25
	rightPathUnlinkFile       = 1 << 26
	rightPollFdReadwrite      = 1 << 27

	// The rights wazero reports for files and directories.
	fileRights = rightFdDatasync | rightFdRead | rightFdSeek | rightFdFdstatSetFlags |
		rightFdSync | rightFdTell | rightFdWrite | rightFdAdvise | rightFdAllocate |
		rightFdFilestatGet | rightFdFilestatSetSize | rightFdFilestatSetTimes |
		rightPollFdReadwrite
	dirRights = rightFdDatasync | rightFdFdstatSetFlags | rightFdSync |
		rightPathCreateDirectory | rightPathCreateFile | rightPathLinkSource |
		rightPathLinkTarget | rightPathOpen | rightFdReaddir | rightPathReadlink |
		rightPathRenameSource | rightPathRenameTarget | rightPathFilestatGet |
		rightPathFilestatSetSize | rightPathFilestatSetTimes | rightFdFilestatGet |
		rightFdFilestatSetTimes | rightPathSymlink | rightPathRemoveDirectory |
		rightPathUnlinkFile
)

const (
	fdstatSize   = 24
	filestatSize = 64
)

func fdAdvise(in *Instance, _ engine.Memory, p []uint64) errno {
	if _, ok := in.lookup(uint32(p[0])); !ok {
		return errnoBadf
	}
	if uint32(p[3]) > 5 { // normal, sequential, random, willneed, dontneed, noreuse
		return errnoInval
	}
	return errnoSuccess // advice is only advice
}

// fdAllocate grows the file to offset+len if it is shorter, through the
// file system, so the quota applies.
func fdAllocate(in *Instance, _ engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	end := int64(p[1] + p[2])
	if end < 0 {
		return errnoInval
	}
	st, e := f.file.Stat()
	if e != 0 {
		return toErrno(e)
	}
	if st.Size >= end {
		return errnoSuccess
	}
	return toErrno(f.file.Truncate(end))
}

// fdClose frees the descriptor even when closing the file fails, as Linux
// does.
func fdClose(in *Instance, _ engine.Memory, p []uint64) errno {
	fd := uint32(p[0])
	f, ok := in.lookup(fd)
	if !ok {
		return errnoBadf
	}
	in.remove(fd)
	return toErrno(f.file.Close())
}

func fdDatasync(in *Instance, _ engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	return toErrno(f.file.Datasync())
}

func fdSync(in *Instance, _ engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	return toErrno(f.file.Sync())
}

func fdFdstatGet(in *Instance, mem engine.Memory, p []uint64) errno {
	buf, ok := mem.Read(uint32(p[1]), fdstatSize)
	if !ok {
		return errnoFault
	}
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	st, e := f.file.Stat()
	if e != 0 {
		return toErrno(e)
	}
	var flags uint16
	if f.file.IsAppend() {
		flags |= fdflagAppend
	}
	if pf, ok := f.file.(experimentalsys.PollableFile); ok && pf.IsNonblock() {
		flags |= fdflagNonblock
	}
	ft := filetype(st.Mode)
	var base, inheriting uint64
	switch ft {
	case filetypeDirectory:
		base, inheriting = dirRights, fileRights|dirRights
	case filetypeCharacterDevice:
		base = fileRights &^ (rightFdSeek | rightFdTell)
	default:
		base = fileRights
	}
	le.PutUint16(buf[0:], uint16(ft))
	le.PutUint16(buf[2:], flags)
	le.PutUint32(buf[4:], 0)
	le.PutUint64(buf[8:], base)
	le.PutUint64(buf[16:], inheriting)
	return errnoSuccess
}

// fdFdstatSetFlags changes the append mode of regular files, and nothing
// else: the sync flags are refused with EINVAL and non-blocking mode with
// ENOSYS (no file here is pollable), as in wazero.
func fdFdstatSetFlags(in *Instance, _ engine.Memory, p []uint64) errno {
	flags := uint16(p[1])
	if flags&(fdflagDsync|fdflagRsync|fdflagSync) != 0 {
		return errnoInval
	}
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	nonblock := flags&fdflagNonblock != 0
	if pf, ok := f.file.(experimentalsys.PollableFile); ok {
		if e := pf.SetNonblock(nonblock); e != 0 {
			return toErrno(e)
		}
	} else if isDir, e := f.file.IsDir(); e == 0 && isDir {
		return errnoIsdir
	} else if nonblock {
		return errnoNosys
	}
	if st, e := f.file.Stat(); e == 0 && st.Mode.IsRegular() {
		return toErrno(f.file.SetAppend(flags&fdflagAppend != 0))
	}
	return errnoSuccess
}

func fdFilestatGet(in *Instance, mem engine.Memory, p []uint64) errno {
	buf, ok := mem.Read(uint32(p[1]), filestatSize)
	if !ok {
		return errnoFault
	}
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	st, e := f.file.Stat()
	if e != 0 {
		return toErrno(e)
	}
	putFilestat(buf, &st)
	return errnoSuccess
}

func putFilestat(buf []byte, st *sys.Stat_t) {
	le.PutUint64(buf[0:], st.Dev)
	le.PutUint64(buf[8:], st.Ino)
	le.PutUint64(buf[16:], uint64(filetype(st.Mode)))
	le.PutUint64(buf[24:], st.Nlink)
	le.PutUint64(buf[32:], uint64(st.Size))
	le.PutUint64(buf[40:], uint64(st.Atim))
	le.PutUint64(buf[48:], uint64(st.Mtim))
	le.PutUint64(buf[56:], uint64(st.Ctim))
}

func fdFilestatSetSize(in *Instance, _ engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	return toErrno(f.file.Truncate(int64(p[1])))
}

// fstflags bits.
const (
	fstflagAtim    = 1 << 0
	fstflagAtimNow = 1 << 1
	fstflagMtim    = 1 << 2
	fstflagMtimNow = 1 << 3
)

// times turns WASI's timestamps and fstflags into what sys.File.Utimens
// takes: epoch nanoseconds, or UTIME_OMIT for a time to leave alone.
func times(atim, mtim int64, flags uint16) (int64, int64, errno) {
	if flags&(fstflagAtim|fstflagAtimNow) == fstflagAtim|fstflagAtimNow ||
		flags&(fstflagMtim|fstflagMtimNow) == fstflagMtim|fstflagMtimNow {
		return 0, 0, errnoInval
	}
	now := time.Now().UnixNano()
	pick := func(set, setNow uint16, t int64) int64 {
		switch {
		case flags&set != 0:
			return t
		case flags&setNow != 0:
			return now
		}
		return experimentalsys.UTIME_OMIT
	}
	return pick(fstflagAtim, fstflagAtimNow, atim), pick(fstflagMtim, fstflagMtimNow, mtim), errnoSuccess
}

func fdFilestatSetTimes(in *Instance, _ engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	atim, mtim, en := times(int64(p[1]), int64(p[2]), uint16(p[3]))
	if en != 0 {
		return en
	}
	e := f.file.Utimens(atim, mtim)
	if (e == experimentalsys.EPERM || e == experimentalsys.ENOSYS) && f.fsys != nil {
		// Some files cannot set their own times; their path may (wazero
		// does the same).
		e = f.fsys.Utimens(f.path, atim, mtim)
	}
	return toErrno(e)
}

func fdRead(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	return readv(mem, uint32(p[1]), uint32(p[2]), uint32(p[3]), f.file.Read)
}

func fdPread(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	off := int64(p[3])
	return readv(mem, uint32(p[1]), uint32(p[2]), uint32(p[4]), func(b []byte) (int, experimentalsys.Errno) {
		n, e := f.file.Pread(b, off)
		off += int64(n)
		return n, e
	})
}

// readv fills the guest's buffers in order, stopping at the first short
// read, and stores the byte count at resultPtr.
func readv(mem engine.Memory, iovsPtr, iovsLen, resultPtr uint32, read func([]byte) (int, experimentalsys.Errno)) errno {
	iovs, ok := region(mem, iovsPtr, iovsLen, 8)
	if !ok {
		return errnoFault
	}
	var total uint32
	for i := range int(iovsLen) {
		v := readIovec(iovs, i)
		if v.len == 0 {
			continue
		}
		b, ok := mem.Read(v.buf, v.len)
		if !ok {
			return errnoFault
		}
		n, e := read(b)
		total += uint32(n)
		if e == experimentalsys.ENOSYS {
			return errnoBadf // a file that cannot be read, e.g. stdout
		} else if e != 0 {
			return toErrno(e)
		}
		if n < len(b) {
			break
		}
	}
	if !writeU32(mem, resultPtr, total) {
		return errnoFault
	}
	return errnoSuccess
}

func fdWrite(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	return writev(mem, uint32(p[1]), uint32(p[2]), uint32(p[3]), f.file.Write)
}

func fdPwrite(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok {
		return errnoBadf
	}
	off := int64(p[3])
	return writev(mem, uint32(p[1]), uint32(p[2]), uint32(p[4]), func(b []byte) (int, experimentalsys.Errno) {
		if len(b) == 0 {
			return 0, 0
		}
		n, e := f.file.Pwrite(b, off)
		off += int64(n)
		return n, e
	})
}

// writev writes the guest's buffers in order and stores the byte count at
// resultPtr. It stops at a short write (a full quota cuts writes short) and
// then, as POSIX write does, reports what was written rather than the error
// of a following buffer.
func writev(mem engine.Memory, iovsPtr, iovsLen, resultPtr uint32, write func([]byte) (int, experimentalsys.Errno)) errno {
	iovs, ok := region(mem, iovsPtr, iovsLen, 8)
	if !ok {
		return errnoFault
	}
	var total uint32
	for i := range int(iovsLen) {
		v := readIovec(iovs, i)
		b, ok := mem.Read(v.buf, v.len)
		if !ok {
			return errnoFault
		}
		n, e := write(b)
		total += uint32(n)
		if e != 0 && total == 0 {
			if e == experimentalsys.ENOSYS {
				return errnoBadf // a file that cannot be written, e.g. stdin
			}
			return toErrno(e)
		}
		if e != 0 || n < len(b) {
			break
		}
	}
	if !writeU32(mem, resultPtr, total) {
		return errnoFault
	}
	return errnoSuccess
}

func fdPrestatGet(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok || f.preopen == "" {
		return errnoBadf
	}
	// A prestat is a tagged union: tag 0 (a directory) in the first byte,
	// the length of its name in the u32 at offset 4.
	if !writeU64(mem, uint32(p[1]), uint64(len(f.preopen))<<32) {
		return errnoFault
	}
	return errnoSuccess
}

func fdPrestatDirName(in *Instance, mem engine.Memory, p []uint64) errno {
	f, ok := in.lookup(uint32(p[0]))
	if !ok || f.preopen == "" {
		return errnoBadf
	}
	if uint32(p[2]) < uint32(len(f.preopen)) {
		return errnoNametoolong
	}
	buf, ok := mem.Read(uint32(p[1]), uint32(len(f.preopen)))
	if !ok {
		return errnoFault
	}
	copy(buf, f.preopen)
	return errnoSuccess
}

// fdRenumber moves descriptor from to to, closing what to had open. Both
// must be open, and neither a standard stream nor a mount: like wazero,
// guests may not replace those.
func fdRenumber(in *Instance, _ engine.Memory, p []uint64) errno {
	from, to := uint32(p[0]), uint32(p[1])
	f, ok := in.lookup(from)
	if !ok {
		return errnoBadf
	}
	t, ok := in.lookup(to)
	if !ok {
		return errnoBadf
	}
	if f.stream || f.preopen != "" || t.stream || t.preopen != "" {
		return errnoNotsup
	}
	if from == to {
		return errnoSuccess
	}
	in.files[to] = f
	in.remove(from)
	return toErrno(t.file.Close())
}

func fdSeek(in *Instance, mem engine.Memory, p []uint64) errno {
	return seek(in, mem, uint32(p[0]), int64(p[1]), uint32(p[2]), uint32(p[3]))
}

func fdTell(in *Instance, mem engine.Memory, p []uint64) errno {
	return seek(in, mem, uint32(p[0]), 0, io.SeekCurrent, uint32(p[1]))
}

// seek refuses directories with EISDIR, as wazero and the WASI test suite
// do; guests rewind directories through fd_readdir's cookie instead.
func seek(in *Instance, mem engine.Memory, fd uint32, off int64, whence, resultPtr uint32) errno {
	f, ok := in.lookup(fd)
	if !ok {
		return errnoBadf
	}
	if isDir, _ := f.file.IsDir(); isDir {
		return errnoIsdir
	}
	if whence > io.SeekEnd {
		return errnoInval
	}
	pos, e := f.file.Seek(off, int(whence))
	if e != 0 {
		return toErrno(e)
	}
	if !writeU64(mem, resultPtr, uint64(pos)) {
		return errnoFault
	}
	return errnoSuccess
}
