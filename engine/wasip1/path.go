package wasip1

import (
	"io/fs"
	"path"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"

	"github.com/xfhost/xfhost/engine"
)

// maxPathLen bounds the paths a guest passes, as PATH_MAX does on Linux;
// beyond it a call fails with ENAMETOOLONG without copying the path.
const maxPathLen = 4096

// lookupflags, oflags.
const (
	lookupSymlinkFollow = 1 << 0

	oflagCreat     = 1 << 0
	oflagDirectory = 1 << 1
	oflagExcl      = 1 << 2
	oflagTrunc     = 1 << 3
)

// resolve reads the guest path at ptr and turns it into a path within the
// file system of directory descriptor fd.
//
// The path is joined to the directory's path and cleaned lexically; what
// is left must be a valid fs.FS path, so absolute paths and paths climbing
// above the mount's root fail with EPERM, as in wazero. This only keeps
// obviously wrong paths from the file system: the jail itself is the file
// system's (guestfs resolves every path, links included, inside its
// os.Root; fs.FS trees cannot name anything outside themselves). A
// trailing slash is kept, so that the file system still sees that the
// guest meant a directory.
func (in *Instance) resolve(mem engine.Memory, fd, ptr, length uint32) (experimentalsys.FS, string, errno) {
	b, ok := mem.Read(ptr, length)
	if !ok {
		return nil, "", errnoFault
	}
	if length > maxPathLen {
		return nil, "", errnoNametoolong
	}
	if len(b) > 0 && b[0] == '/' {
		return nil, "", errnoPerm
	}
	dir, e := in.directory(fd)
	if e != 0 {
		return nil, "", e
	}
	p := string(b)
	name := path.Join(dir.path, p) // Join cleans
	if !fs.ValidPath(name) {
		return nil, "", errnoPerm
	}
	if strings.HasSuffix(p, "/") && name != "." {
		name += "/"
	}
	return dir.fsys, name, 0
}

// directory returns the open directory with descriptor fd.
func (in *Instance) directory(fd uint32) (*openFile, errno) {
	f, ok := in.lookup(fd)
	if !ok {
		return nil, errnoBadf
	}
	if f.fsys == nil {
		return nil, errnoNotdir // a standard stream
	}
	isDir, e := f.file.IsDir()
	if e != 0 {
		return nil, toErrno(e)
	}
	if !isDir {
		return nil, errnoNotdir
	}
	return f, 0
}

// openFlags converts path_open's flags to the file system's, as wazero
// does: without read or write rights the access mode follows from the
// other flags (creating, truncating or appending implies writing).
func openFlags(dirflags, oflags, fdflags uint16, rights uint64) experimentalsys.Oflag {
	var flag experimentalsys.Oflag
	if dirflags&lookupSymlinkFollow == 0 {
		flag |= experimentalsys.O_NOFOLLOW
	}
	if oflags&oflagDirectory != 0 {
		flag |= experimentalsys.O_DIRECTORY
	} else if oflags&oflagExcl != 0 {
		flag |= experimentalsys.O_EXCL
	}
	access := experimentalsys.O_RDONLY
	if oflags&oflagTrunc != 0 {
		flag |= experimentalsys.O_TRUNC
		access = experimentalsys.O_RDWR
	}
	if oflags&oflagCreat != 0 {
		flag |= experimentalsys.O_CREAT
		access = experimentalsys.O_RDWR
	}
	if fdflags&fdflagNonblock != 0 {
		flag |= experimentalsys.O_NONBLOCK
	}
	if fdflags&fdflagAppend != 0 {
		flag |= experimentalsys.O_APPEND
		access = experimentalsys.O_RDWR
	}
	if fdflags&fdflagDsync != 0 {
		flag |= experimentalsys.O_DSYNC
	}
	if fdflags&fdflagRsync != 0 {
		flag |= experimentalsys.O_RSYNC
	}
	if fdflags&fdflagSync != 0 {
		flag |= experimentalsys.O_SYNC
	}
	switch rights & (rightFdRead | rightFdWrite) {
	case rightFdRead | rightFdWrite:
		access = experimentalsys.O_RDWR
	case rightFdWrite:
		access = experimentalsys.O_WRONLY
	case rightFdRead:
		access = experimentalsys.O_RDONLY
	}
	return flag | access
}

// pathOpen opens a file relative to a directory descriptor. Files are
// created with mode 0600, as in wazero (WASI has no permissions).
func pathOpen(in *Instance, mem engine.Memory, p []uint64) errno {
	dirflags, pathPtr, pathLen := uint16(p[1]), uint32(p[2]), uint32(p[3])
	oflags, rights, fdflags, resultPtr := uint16(p[4]), p[5], uint16(p[7]), uint32(p[8])
	fsys, name, e := in.resolve(mem, uint32(p[0]), pathPtr, pathLen)
	if e != 0 {
		return e
	}
	if pathLen == 0 {
		return errnoInval
	}
	flag := openFlags(dirflags, oflags, fdflags, rights)
	wantDir := flag&experimentalsys.O_DIRECTORY != 0
	if wantDir && oflags&oflagCreat != 0 {
		return errnoInval // directories are made by path_create_directory
	}
	result, ok := mem.Read(resultPtr, 4)
	if !ok {
		return errnoFault // before opening, so that nothing is created
	}
	if in.open >= MaxOpenFiles {
		return errnoMfile
	}
	f, se := fsys.OpenFile(name, flag, 0o600)
	if se != 0 {
		return toErrno(se)
	}
	if wantDir {
		if isDir, se := f.IsDir(); se != 0 || !isDir {
			f.Close()
			if se != 0 {
				return toErrno(se)
			}
			return errnoNotdir
		}
	}
	fd, _ := in.insert(&openFile{file: f, fsys: fsys, path: path.Clean(name)})
	le.PutUint32(result, uint32(fd))
	return errnoSuccess
}

func pathCreateDirectory(in *Instance, mem engine.Memory, p []uint64) errno {
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	return toErrno(fsys.Mkdir(name, 0o700))
}

func pathFilestatGet(in *Instance, mem engine.Memory, p []uint64) errno {
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[2]), uint32(p[3]))
	if e != 0 {
		return e
	}
	var st sys.Stat_t
	var se experimentalsys.Errno
	if uint16(p[1])&lookupSymlinkFollow != 0 {
		st, se = fsys.Stat(name)
	} else {
		st, se = fsys.Lstat(name)
	}
	if se != 0 {
		return toErrno(se)
	}
	buf, ok := mem.Read(uint32(p[4]), filestatSize)
	if !ok {
		return errnoFault
	}
	putFilestat(buf, &st)
	return errnoSuccess
}

// pathFilestatSetTimes sets times through the path when following links,
// and otherwise through a descriptor opened for writing, as wazero does
// (the file systems have no call that leaves a final link unfollowed).
func pathFilestatSetTimes(in *Instance, mem engine.Memory, p []uint64) errno {
	atim, mtim, e := times(int64(p[4]), int64(p[5]), uint16(p[6]))
	if e != 0 {
		return e
	}
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[2]), uint32(p[3]))
	if e != 0 {
		return e
	}
	if uint16(p[1])&lookupSymlinkFollow != 0 {
		return toErrno(fsys.Utimens(name, atim, mtim))
	}
	f, se := fsys.OpenFile(name, experimentalsys.O_WRONLY, 0)
	if se != 0 {
		return toErrno(se)
	}
	defer f.Close()
	return toErrno(f.Utimens(atim, mtim))
}

// pathLink links within one mount; across mounts it fails with ENOSYS,
// wazero's answer (its errno set has no EXDEV). guestfs refuses links
// anyway (EPERM) and fs.FS mounts cannot make them (ENOSYS).
func pathLink(in *Instance, mem engine.Memory, p []uint64) errno {
	oldFS, oldName, e := in.resolve(mem, uint32(p[0]), uint32(p[2]), uint32(p[3]))
	if e != 0 {
		return e
	}
	newFS, newName, e := in.resolve(mem, uint32(p[4]), uint32(p[5]), uint32(p[6]))
	if e != 0 {
		return e
	}
	if oldFS != newFS {
		return errnoNosys
	}
	return toErrno(oldFS.Link(oldName, newName))
}

// pathReadlink fails with ERANGE when the target does not fit the buffer,
// as in wazero, rather than truncating it.
func pathReadlink(in *Instance, mem engine.Memory, p []uint64) errno {
	pathLen, bufPtr, bufLen, resultPtr := uint32(p[2]), uint32(p[3]), uint32(p[4]), uint32(p[5])
	if pathLen == 0 || bufLen == 0 {
		return errnoInval
	}
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[1]), pathLen)
	if e != 0 {
		return e
	}
	target, se := fsys.Readlink(name)
	if se != 0 {
		return toErrno(se)
	}
	if uint64(len(target)) > uint64(bufLen) {
		return errnoRange
	}
	buf, ok := mem.Read(bufPtr, uint32(len(target)))
	if !ok {
		return errnoFault
	}
	copy(buf, target)
	if !writeU32(mem, resultPtr, uint32(len(target))) {
		return errnoFault
	}
	return errnoSuccess
}

func pathRemoveDirectory(in *Instance, mem engine.Memory, p []uint64) errno {
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	return toErrno(fsys.Rmdir(name))
}

// pathRename renames within one mount; across mounts it fails with ENOSYS
// as in wazero.
func pathRename(in *Instance, mem engine.Memory, p []uint64) errno {
	oldFS, oldName, e := in.resolve(mem, uint32(p[0]), uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	newFS, newName, e := in.resolve(mem, uint32(p[3]), uint32(p[4]), uint32(p[5]))
	if e != 0 {
		return e
	}
	if oldFS != newFS {
		return errnoNosys
	}
	return toErrno(oldFS.Rename(oldName, newName))
}

// pathSymlink passes the link's target to the file system as written;
// guestfs refuses every symbolic link (EPERM) and fs.FS mounts cannot make
// them (ENOSYS).
func pathSymlink(in *Instance, mem engine.Memory, p []uint64) errno {
	targetPtr, targetLen, fd := uint32(p[0]), uint32(p[1]), uint32(p[2])
	newPtr, newLen := uint32(p[3]), uint32(p[4])
	dir, e := in.directory(fd)
	if e != 0 {
		return e
	}
	if targetLen == 0 || newLen == 0 {
		return errnoInval
	}
	target, ok := mem.Read(targetPtr, targetLen)
	if !ok {
		return errnoFault
	}
	if targetLen > maxPathLen {
		return errnoNametoolong
	}
	_, name, e := in.resolve(mem, fd, newPtr, newLen)
	if e != 0 {
		return e
	}
	return toErrno(dir.fsys.Symlink(string(target), name))
}

func pathUnlinkFile(in *Instance, mem engine.Memory, p []uint64) errno {
	fsys, name, e := in.resolve(mem, uint32(p[0]), uint32(p[1]), uint32(p[2]))
	if e != 0 {
		return e
	}
	return toErrno(fsys.Unlink(name))
}
