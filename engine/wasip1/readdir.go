package wasip1

import (
	"io"
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/xfhost/xfhost/engine"
)

// fd_readdir hands out directory entries in a byte stream of records, each
// a 24-byte header (d_next, d_ino, d_namlen, d_type) followed by the name.
// The guest asks for the stream from a cookie: 0 for the start, else the
// d_next of the last entry it consumed. Entry k of the stream has
// d_next k+1, "." and ".." being entries 0 and 1 as in wazero and
// wasmtime. A guest that finds the last record in its buffer cut short (the
// buffer is then full) asks again from that record's cookie, with a larger
// buffer if a single record did not fit.
//
// The underlying sys.File can only read forward or rewind, so a dirStream
// keeps a window of recently read entries: a cookie inside it costs
// nothing, one beyond it reads forward, and one before it (say, a
// seekdir back to an early telldir) rewinds and reads forward again.
// Memory stays bounded by the window, whatever the directory's size or
// the guest's buffer.

const (
	direntSize = 24
	// readdirChunk is how many entries one Readdir call fetches, and so
	// the size of the window.
	readdirChunk = 128
)

type dirStream struct {
	// window holds the entries with cookies start, start+1, ...; the
	// file's position is just past them.
	window  []experimentalsys.Dirent
	start   uint64
	eof     bool // the file has no entries past the window
	started bool
}

// rewind restarts the stream at the directory's first entry, so that it
// sees entries made since the last pass.
func (d *dirStream) rewind(f experimentalsys.File) experimentalsys.Errno {
	ino, e := f.Ino()
	if e != 0 {
		return e
	}
	if _, e := f.Seek(0, io.SeekStart); e != 0 {
		return e
	}
	// ".." gets inode 0: finding the parent's would mean looking outside
	// the directory, and above a mount's root there is nothing to show.
	d.window = append(d.window[:0],
		experimentalsys.Dirent{Name: ".", Ino: ino, Type: fs.ModeDir},
		experimentalsys.Dirent{Name: "..", Ino: 0, Type: fs.ModeDir})
	d.start, d.eof, d.started = 0, false, true
	return 0
}

// entry returns the entry with the given cookie, or false past the end.
func (d *dirStream) entry(f experimentalsys.File, cookie uint64) (*experimentalsys.Dirent, bool, experimentalsys.Errno) {
	for cookie >= d.start+uint64(len(d.window)) {
		if d.eof {
			return nil, false, 0
		}
		next, e := f.Readdir(readdirChunk)
		if e != 0 {
			return nil, false, e
		}
		if len(next) == 0 {
			d.eof = true
			continue
		}
		d.start += uint64(len(d.window))
		d.window = next
	}
	return &d.window[cookie-d.start], true, 0
}

func fdReaddir(in *Instance, mem engine.Memory, p []uint64) errno {
	fd, bufPtr, bufLen, cookie, resultPtr := uint32(p[0]), uint32(p[1]), uint32(p[2]), p[3], uint32(p[4])
	if bufLen < direntSize {
		return errnoInval // as in wazero: not even one header fits
	}
	f, ok := in.lookup(fd)
	if !ok {
		return errnoBadf
	}
	isDir, e := f.file.IsDir()
	if e != 0 {
		return toErrno(e)
	}
	if !isDir {
		return errnoBadf
	}
	buf, ok := mem.Read(bufPtr, bufLen)
	if !ok {
		return errnoFault
	}
	result, ok := mem.Read(resultPtr, 4)
	if !ok {
		return errnoFault
	}
	if f.dir == nil {
		f.dir = &dirStream{}
	}
	d := f.dir
	if cookie == 0 || cookie < d.start || !d.started {
		if e := d.rewind(f.file); e != 0 {
			return toErrno(e)
		}
	}
	used := 0
	var header [direntSize]byte
	for c := cookie; used < len(buf); c++ {
		ent, ok, e := d.entry(f.file, c)
		if e != 0 {
			return toErrno(e)
		}
		if !ok {
			break
		}
		le.PutUint64(header[0:], c+1)
		le.PutUint64(header[8:], ent.Ino)
		le.PutUint32(header[16:], uint32(len(ent.Name)))
		le.PutUint32(header[20:], uint32(filetype(ent.Type)))
		used += copy(buf[used:], header[:])
		used += copy(buf[used:], ent.Name)
	}
	le.PutUint32(result, uint32(used))
	return errnoSuccess
}
