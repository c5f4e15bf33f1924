// Package guestfs gives WebAssembly guests a host directory they cannot
// escape.
//
// wazero's WithDirMount and WithReadOnlyDirMount join guest paths onto a
// host path and let the host kernel resolve it, so a symbolic link in the
// directory (planted, or made by the guest) or a ".." that slips past
// wazero's own path cleaning leads anywhere on the host. New instead
// implements wazero's experimental sys.FS on an *os.Root: every path is
// resolved by os.Root, which refuses ".." beyond the root, absolute symbolic
// links and relative links that lead outside, at every step of the
// resolution. Mount the result with
//
//	wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(guestfs.New(root, opt), "/scratch")
//
// # Errors seen by the guest
//
//   - A path that would leave the root, directly or through a link: EPERM,
//     the errno WASI runtimes (wazero included) use for such paths.
//   - Symlink and Link: EPERM. Guests have no need to create links and a
//     guest-made link is an escape attempt waiting for a resolution bug.
//   - Any mutation on a read-only FS, including OpenFile with O_WRONLY,
//     O_RDWR, O_CREAT or O_TRUNC: EROFS.
//   - Readlink of a link whose target is absolute or climbs above the root:
//     EPERM, so the guest never learns host paths.
//   - Chmod: ENOSYS (WASI preview 1 has no chmod).
//   - A write or truncation that would take the files past Options.QuotaBytes:
//     EIO, after a short write up to the quota (wazero cannot pass ENOSPC).
//
// # Deviations from POSIX
//
// os.Root has no unlink-only or rmdir-only call, so Unlink and Rmdir check
// the entry type first and then remove it; a host process swapping entries in
// between could make Unlink remove an empty directory (never anything
// outside the root). Renaming a directory over an empty directory is
// emulated by removing the target first, so it is not atomic.
package guestfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// Options configures New.
type Options struct {
	// ReadOnly refuses every change to the tree with EROFS.
	ReadOnly bool
	// QuotaBytes bounds the total size of the regular files in the tree
	// (0: no bound). New counts what is already there; a write that would
	// pass the bound is cut short at it, and one that cannot write a byte,
	// or a truncation growing a file past it, fails with EIO (wazero has
	// no ENOSPC to give the guest; see errNoSpace). Sizes are
	// apparent sizes, so sparse files count in full; a file removed while
	// open counts until it is closed. Only changes made through this FS are
	// seen: the host must not write into the tree while guests use it.
	// Ignored when ReadOnly.
	QuotaBytes int64
}

// New returns a file system for guests rooted at root. The caller keeps
// ownership of root and must keep it open while guests use the FS; after it
// is closed every operation fails with EBADF. A nil root behaves the same.
//
// The FS is as safe for concurrent use as os.Root; its only other state,
// the quota, is shared by all files it opens under a mutex. Files it opens
// are not safe for concurrent use, matching how wazero uses them.
//
// With a quota New walks the tree to count the bytes already there; if that
// fails the quota counts as used up, so writes that grow files fail.
func New(root *os.Root, opt Options) experimentalsys.FS {
	g := &guestFS{root: root, readOnly: opt.ReadOnly}
	if opt.QuotaBytes > 0 && !opt.ReadOnly {
		g.quota = newQuota(root, opt.QuotaBytes)
	}
	return g
}

type guestFS struct {
	experimentalsys.UnimplementedFS
	root     *os.Root
	readOnly bool
	quota    *quota // nil: no quota
}

// String names the mounted directory, for wazero's diagnostics.
func (g *guestFS) String() string {
	if g.root == nil {
		return "guestfs(<nil>)"
	}
	return "guestfs(" + g.root.Name() + ")"
}

// rel turns a guest path into a name for os.Root. wazero hands over paths
// relative to the mount, using "." (and some callers "" or "/") for the
// mount itself. Anything else goes to os.Root unchanged: it is os.Root, not
// this function, that decides what stays inside the root.
func (g *guestFS) rel(p string) (string, experimentalsys.Errno) {
	if g.root == nil {
		return "", experimentalsys.EBADF
	}
	switch p {
	case "", "/":
		return ".", 0
	}
	return p, 0
}

// pathErrno converts an error from an os.Root method to an Errno.
//
// os.Root reports a path leaving the root with an unexported error value
// that is not a syscall.Errno, which UnwrapOSError would turn into EIO. Any
// failure that carries no errno is therefore treated as a refusal (EPERM):
// the only other such failures os.Root has are for inputs this package never
// passes (an empty name, mode bits beyond 0o777), so the mapping fails
// closed without hiding real I/O errors.
func pathErrno(err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	errno := experimentalsys.UnwrapOSError(err)
	if errno == experimentalsys.EIO {
		var se syscall.Errno
		if !errors.As(err, &se) {
			return experimentalsys.EPERM
		}
	}
	return errno
}

// OpenFile implements experimentalsys.FS.
func (g *guestFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	name, errno := g.rel(p)
	if errno != 0 {
		return nil, errno
	}
	osFlag, errno := toOSFlag(flag)
	if errno != 0 {
		return nil, errno
	}
	writable := flag&accessMask != experimentalsys.O_RDONLY
	if g.readOnly && (writable || flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC) != 0) {
		return nil, experimentalsys.EROFS
	}
	if flag&experimentalsys.O_DIRECTORY != 0 {
		if writable {
			return nil, experimentalsys.EISDIR
		}
		if flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC) != 0 {
			return nil, experimentalsys.EINVAL
		}
	}

	// os.Root follows a final symbolic link even when asked not to, so
	// O_NOFOLLOW is checked here. With O_CREAT|O_EXCL os.Root never follows
	// and reports EEXIST for a link, as POSIX requires.
	exclusive := flag&(experimentalsys.O_CREAT|experimentalsys.O_EXCL) == experimentalsys.O_CREAT|experimentalsys.O_EXCL
	if flag&experimentalsys.O_NOFOLLOW != 0 && !exclusive {
		if fi, err := g.root.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, experimentalsys.ELOOP
		}
	}
	// O_DIRECTORY is checked before opening too, so that opening a FIFO or
	// device with O_DIRECTORY cannot block or have side effects.
	if flag&experimentalsys.O_DIRECTORY != 0 {
		fi, err := g.stat(name, flag&experimentalsys.O_NOFOLLOW == 0)
		if err != nil {
			return nil, pathErrno(err)
		}
		if !fi.IsDir() {
			return nil, experimentalsys.ENOTDIR
		}
	}

	var f *os.File
	var key *fileKey
	var err error
	if g.quota != nil {
		f, key, err = g.quota.openFile(g.root, name, osFlag, perm&fs.ModePerm)
	} else {
		f, err = g.root.OpenFile(name, osFlag, perm&fs.ModePerm)
	}
	if err != nil {
		return nil, pathErrno(err)
	}
	gf := &file{root: g.root, readOnly: g.readOnly, name: name, flag: flag, f: f, quota: g.quota, key: key}
	if flag&experimentalsys.O_DIRECTORY != 0 {
		// The entry may have been replaced since the check above.
		if isDir, errno := gf.IsDir(); errno != 0 || !isDir {
			gf.Close()
			if errno == 0 {
				errno = experimentalsys.ENOTDIR
			}
			return nil, errno
		}
	}
	return gf, 0
}

func (g *guestFS) stat(name string, follow bool) (fs.FileInfo, error) {
	if follow {
		return g.root.Stat(name)
	}
	return g.root.Lstat(name)
}

const accessMask = experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY

// toOSFlag converts flag to os.OpenFile flags. O_DSYNC and O_RSYNC become
// O_SYNC, which gives at least their guarantees and exists on every
// platform. O_NONBLOCK is dropped: regular files and directories never
// block, and the guest gets no way to create anything else. O_DIRECTORY and
// O_NOFOLLOW are enforced by OpenFile itself.
func toOSFlag(flag experimentalsys.Oflag) (int, experimentalsys.Errno) {
	var osFlag int
	switch flag & accessMask {
	case experimentalsys.O_RDONLY:
		osFlag = os.O_RDONLY
	case experimentalsys.O_WRONLY:
		osFlag = os.O_WRONLY
	case experimentalsys.O_RDWR:
		osFlag = os.O_RDWR
	default:
		return 0, experimentalsys.EINVAL
	}
	if flag&experimentalsys.O_APPEND != 0 {
		osFlag |= os.O_APPEND
	}
	if flag&experimentalsys.O_CREAT != 0 {
		osFlag |= os.O_CREATE
	}
	if flag&experimentalsys.O_EXCL != 0 {
		osFlag |= os.O_EXCL
	}
	if flag&experimentalsys.O_TRUNC != 0 {
		osFlag |= os.O_TRUNC
	}
	if flag&(experimentalsys.O_SYNC|experimentalsys.O_DSYNC|experimentalsys.O_RSYNC) != 0 {
		osFlag |= os.O_SYNC
	}
	return osFlag, 0
}

// Lstat implements experimentalsys.FS.
func (g *guestFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	return g.statT(p, false)
}

// Stat implements experimentalsys.FS.
func (g *guestFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	return g.statT(p, true)
}

func (g *guestFS) statT(p string, follow bool) (sys.Stat_t, experimentalsys.Errno) {
	name, errno := g.rel(p)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	fi, err := g.stat(name, follow)
	if err != nil {
		return sys.Stat_t{}, pathErrno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Mkdir implements experimentalsys.FS.
func (g *guestFS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	name, errno := g.mutable(p)
	if errno != 0 {
		return errno
	}
	return pathErrno(g.root.Mkdir(name, perm&fs.ModePerm))
}

// mutable is rel for operations that change the tree.
func (g *guestFS) mutable(p string) (string, experimentalsys.Errno) {
	if g.readOnly {
		return "", experimentalsys.EROFS
	}
	return g.rel(p)
}

// Chmod implements experimentalsys.FS. WASI preview 1 cannot express it, so
// nothing is lost by refusing it.
func (g *guestFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return experimentalsys.ENOSYS
}

// Rename implements experimentalsys.FS.
func (g *guestFS) Rename(from, to string) experimentalsys.Errno {
	fromName, errno := g.mutable(from)
	if errno != 0 {
		return errno
	}
	toName, errno := g.mutable(to)
	if errno != 0 {
		return errno
	}
	if g.quota != nil {
		return g.quota.rename(g.root, fromName, toName, func() experimentalsys.Errno { return g.rename(fromName, toName) })
	}
	return g.rename(fromName, toName)
}

func (g *guestFS) rename(fromName, toName string) experimentalsys.Errno {
	err := g.root.Rename(fromName, toName)
	if err == nil {
		return 0
	}
	errno := pathErrno(err)
	if errno != experimentalsys.EEXIST {
		return errno
	}
	// os.Root refuses every existing directory as the target, even the
	// source itself. POSIX wants EISDIR for a file source, a no-op for a
	// directory renamed onto itself, and allows replacing an empty directory.
	toInfo, err := g.root.Lstat(toName)
	if err != nil || !toInfo.IsDir() {
		return errno
	}
	fromInfo, err := g.root.Lstat(fromName)
	switch {
	case err != nil:
		return pathErrno(err)
	case !fromInfo.IsDir():
		return experimentalsys.EISDIR
	case os.SameFile(fromInfo, toInfo):
		return 0
	}
	if err := g.root.Remove(toName); err != nil {
		return pathErrno(err) // ENOTEMPTY for a non-empty target
	}
	return pathErrno(g.root.Rename(fromName, toName))
}

// Rmdir implements experimentalsys.FS.
func (g *guestFS) Rmdir(p string) experimentalsys.Errno {
	name, errno := g.mutable(p)
	if errno != 0 {
		return errno
	}
	fi, err := g.root.Lstat(name)
	if err != nil {
		return pathErrno(err)
	}
	if !fi.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return pathErrno(g.root.Remove(name))
}

// Unlink implements experimentalsys.FS.
func (g *guestFS) Unlink(p string) experimentalsys.Errno {
	name, errno := g.mutable(p)
	if errno != 0 {
		return errno
	}
	if g.quota != nil {
		return g.quota.unlink(g.root, name)
	}
	fi, err := g.root.Lstat(name)
	if err != nil {
		return pathErrno(err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	return pathErrno(g.root.Remove(name))
}

// Link implements experimentalsys.FS by refusing: see the package comment.
func (g *guestFS) Link(_, _ string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return experimentalsys.EPERM
}

// Symlink implements experimentalsys.FS by refusing: see the package comment.
func (g *guestFS) Symlink(_, _ string) experimentalsys.Errno {
	if g.readOnly {
		return experimentalsys.EROFS
	}
	return experimentalsys.EPERM
}

// Readlink implements experimentalsys.FS for links whose target stays inside
// the root as written. The check is lexical: it keeps host paths from the
// guest; what the link really resolves to is policed by os.Root whenever
// the link is followed.
func (g *guestFS) Readlink(p string) (string, experimentalsys.Errno) {
	name, errno := g.rel(p)
	if errno != 0 {
		return "", errno
	}
	target, err := g.root.Readlink(name)
	if err != nil {
		return "", pathErrno(err)
	}
	target = filepath.ToSlash(target)
	if path.IsAbs(target) || filepath.IsAbs(target) {
		return "", experimentalsys.EPERM
	}
	resolved := path.Join(path.Dir(filepath.ToSlash(name)), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return "", experimentalsys.EPERM
	}
	return target, 0
}

// Utimens implements experimentalsys.FS. It follows a final link, as the
// interface requires.
func (g *guestFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	name, errno := g.mutable(p)
	if errno != 0 {
		return errno
	}
	return pathErrno(g.root.Chtimes(name, toTime(atim), toTime(mtim)))
}

// toTime converts a WASI timestamp to the form os.Chtimes takes, where the
// zero time means "leave unchanged".
func toTime(epochNanos int64) time.Time {
	if epochNanos == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, epochNanos)
}
