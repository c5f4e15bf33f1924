package host

import (
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// inputView is the guest's read-only /inputs tree. It serves the files the
// host fetched from the store straight from their open descriptors, so
// inputs are neither copied nor exposed as a host directory the guest could
// escape from. Files are added while the guest runs.
type inputView struct {
	mu    sync.Mutex
	files map[string]*os.File // "key/name" -> file
}

func newInputView() *inputView { return &inputView{files: map[string]*os.File{}} }

func (v *inputView) add(name string, f *os.File) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.files[name]; ok {
		old.Close()
	}
	v.files[name] = f
}

func (v *inputView) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, f := range v.files {
		f.Close()
	}
	v.files = map[string]*os.File{}
}

// Open implements fs.FS.
func (v *inputView) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if f, ok := v.files[name]; ok {
		st, err := f.Stat()
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &viewFile{SectionReader: io.NewSectionReader(f, 0, st.Size()), info: fileInfo{name: path.Base(name), size: st.Size(), mod: st.ModTime()}}, nil
	}
	// A directory is any prefix of a file name.
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	seen := map[string]fs.DirEntry{}
	for n, f := range v.files {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		child, sub, isDir := strings.Cut(rest, "/")
		_ = sub
		if isDir {
			seen[child] = fs.FileInfoToDirEntry(fileInfo{name: child, dir: true})
		} else if st, err := f.Stat(); err == nil {
			seen[child] = fs.FileInfoToDirEntry(fileInfo{name: child, size: st.Size(), mod: st.ModTime()})
		}
	}
	if len(seen) == 0 && name != "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	entries := make([]fs.DirEntry, 0, len(seen))
	for _, e := range seen {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].Name() < entries[b].Name() })
	return &viewDir{info: fileInfo{name: path.Base(name), dir: true}, entries: entries}, nil
}

type fileInfo struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time { return i.mod }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

type viewFile struct {
	*io.SectionReader
	info fileInfo
}

func (f *viewFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *viewFile) Close() error               { return nil }

type viewDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *viewDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *viewDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *viewDir) Close() error { return nil }

func (d *viewDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
