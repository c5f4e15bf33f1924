package guestfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

const (
	rdonly = experimentalsys.O_RDONLY
	wronly = experimentalsys.O_WRONLY
	rdwr   = experimentalsys.O_RDWR
	creat  = experimentalsys.O_CREAT
	excl   = experimentalsys.O_EXCL
	trunc  = experimentalsys.O_TRUNC
	appnd  = experimentalsys.O_APPEND
	odir   = experimentalsys.O_DIRECTORY
	nofoll = experimentalsys.O_NOFOLLOW
)

// sandbox is a host directory "root" served to the guest, next to a
// directory "outside" whose file "secret" the guest must never reach.
type sandbox struct {
	fs      experimentalsys.FS
	root    string
	outside string
	secret  string
}

func newSandbox(t *testing.T, opt Options) *sandbox {
	t.Helper()
	base := t.TempDir()
	s := &sandbox{root: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	s.secret = filepath.Join(s.outside, "secret")
	for _, d := range []string{s.root, s.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.secret, []byte("top secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	s.fs = New(root, opt)
	return s
}

// host returns the host path of a guest path.
func (s *sandbox) host(p string) string { return filepath.Join(s.root, filepath.FromSlash(p)) }

func (s *sandbox) writeHost(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(s.host(p)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.host(p), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *sandbox) symlinkHost(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, s.host(p)); err != nil {
		t.Skipf("cannot create symlinks: %v", err)
	}
}

func (s *sandbox) readHost(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(s.host(p))
	if err != nil {
		t.Fatalf("host read %s: %v", p, err)
	}
	return string(b)
}

// checkSecretIntact fails the test if anything touched the outside dir.
func (s *sandbox) checkSecretIntact(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(s.secret)
	if err != nil || string(b) != "top secret" {
		t.Errorf("outside secret changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(s.outside)
	if len(entries) != 1 {
		t.Errorf("outside dir has %d entries, want 1", len(entries))
	}
}

func errnoIs(t *testing.T, what string, got, want experimentalsys.Errno) {
	t.Helper()
	if got != want {
		t.Errorf("%s: errno %v (%d), want %v (%d)", what, got, got, want, want)
	}
}

func open(t *testing.T, fsys experimentalsys.FS, p string, flag experimentalsys.Oflag) experimentalsys.File {
	t.Helper()
	f, errno := fsys.OpenFile(p, flag, 0o644)
	if errno != 0 {
		t.Fatalf("OpenFile(%q, %#x): %v", p, flag, errno)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, f experimentalsys.File) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 3) // small, to exercise repeated reads
	for {
		n, errno := f.Read(buf)
		if errno != 0 {
			t.Fatalf("Read: %v", errno)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestCreateWriteReadBack(t *testing.T) {
	s := newSandbox(t, Options{})
	f := open(t, s.fs, "a.txt", rdwr|creat|excl)

	if n, errno := f.Write([]byte("hello world")); n != 11 || errno != 0 {
		t.Fatalf("Write = %d, %v", n, errno)
	}
	if off, errno := f.Seek(0, io.SeekStart); off != 0 || errno != 0 {
		t.Fatalf("Seek = %d, %v", off, errno)
	}
	if got := readAll(t, f); got != "hello world" {
		t.Errorf("read back %q", got)
	}
	buf := make([]byte, 5)
	if n, errno := f.Pread(buf, 6); n != 5 || errno != 0 || string(buf) != "world" {
		t.Errorf("Pread = %d %v %q", n, errno, buf)
	}
	if n, errno := f.Pread(buf, 100); n != 0 || errno != 0 {
		t.Errorf("Pread past EOF = %d, %v; want 0, success", n, errno)
	}
	if n, errno := f.Pwrite([]byte("WORLD"), 6); n != 5 || errno != 0 {
		t.Errorf("Pwrite = %d, %v", n, errno)
	}
	_, errno := f.Pwrite([]byte("x"), -1)
	errnoIs(t, "Pwrite negative offset", errno, experimentalsys.EINVAL)
	_, errno = f.Pread(buf, -1)
	errnoIs(t, "Pread negative offset", errno, experimentalsys.EINVAL)
	_, errno = f.Seek(0, 7)
	errnoIs(t, "Seek bad whence", errno, experimentalsys.EINVAL)
	errnoIs(t, "Sync", f.Sync(), 0)
	errnoIs(t, "Datasync", f.Datasync(), 0)

	if got := s.readHost(t, "a.txt"); got != "hello WORLD" {
		t.Errorf("host sees %q", got)
	}
	st, errno := f.Stat()
	if errno != 0 || st.Size != 11 || st.Mode.Type() != 0 {
		t.Errorf("Stat = %+v, %v", st, errno)
	}
	errnoIs(t, "Truncate", f.Truncate(5), 0)
	errnoIs(t, "Truncate negative", f.Truncate(-1), experimentalsys.EINVAL)
	if got := s.readHost(t, "a.txt"); got != "hello" {
		t.Errorf("after Truncate host sees %q", got)
	}

	errnoIs(t, "Close", f.Close(), 0)
	errnoIs(t, "second Close", f.Close(), 0)
	_, errno = f.Read(buf)
	errnoIs(t, "Read after Close", errno, experimentalsys.EBADF)
	_, errno = f.Write(buf)
	errnoIs(t, "Write after Close", errno, experimentalsys.EBADF)
	_, errno = f.Stat()
	errnoIs(t, "Stat after Close", errno, experimentalsys.EBADF)
	errnoIs(t, "Sync after Close", f.Sync(), experimentalsys.EBADF)

	_, errno = s.fs.OpenFile("a.txt", wronly|creat|excl, 0o644)
	errnoIs(t, "O_EXCL on existing file", errno, experimentalsys.EEXIST)
	_, errno = s.fs.OpenFile("missing", rdonly, 0)
	errnoIs(t, "open missing", errno, experimentalsys.ENOENT)
	_, errno = s.fs.OpenFile("a.txt/x", rdonly, 0)
	errnoIs(t, "open below a file", errno, experimentalsys.ENOTDIR)

	g := open(t, s.fs, "a.txt", wronly|trunc)
	if st, _ := g.Stat(); st.Size != 0 {
		t.Errorf("O_TRUNC left size %d", st.Size)
	}
	_, errno = g.Read(buf)
	errnoIs(t, "Read on write-only file", errno, experimentalsys.EBADF)
	r := open(t, s.fs, "a.txt", rdonly)
	_, errno = r.Write([]byte("x"))
	errnoIs(t, "Write on read-only file", errno, experimentalsys.EBADF)
	errnoIs(t, "Truncate on read-only file", r.Truncate(0), experimentalsys.EBADF)
}

func TestAppend(t *testing.T) {
	s := newSandbox(t, Options{})
	f := open(t, s.fs, "log", wronly|creat|appnd)
	if !f.IsAppend() {
		t.Fatal("IsAppend false after O_APPEND")
	}
	f.Write([]byte("ab"))
	f.Seek(0, io.SeekStart)
	f.Write([]byte("cd"))
	if got := s.readHost(t, "log"); got != "abcd" {
		t.Errorf("append wrote %q", got)
	}
	_, errno := f.Pwrite([]byte("x"), 0)
	errnoIs(t, "Pwrite in append mode", errno, experimentalsys.EINVAL)

	errnoIs(t, "SetAppend(false)", f.SetAppend(false), 0)
	if f.IsAppend() {
		t.Error("IsAppend true after SetAppend(false)")
	}
	if n, errno := f.Pwrite([]byte("X"), 0); n != 1 || errno != 0 {
		t.Errorf("Pwrite after SetAppend(false) = %d, %v", n, errno)
	}
	// The offset survives the reopen: it was at the end (4).
	f.Write([]byte("e"))
	if got := s.readHost(t, "log"); got != "Xbcde" {
		t.Errorf("after SetAppend(false) file is %q, want Xbcde", got)
	}
	errnoIs(t, "SetAppend(true)", f.SetAppend(true), 0)
	f.Seek(0, io.SeekStart)
	f.Write([]byte("f"))
	if got := s.readHost(t, "log"); got != "Xbcdef" {
		t.Errorf("after SetAppend(true) file is %q, want Xbcdef", got)
	}

	// A file renamed away under an open handle cannot be reopened.
	if err := os.Rename(s.host("log"), s.host("log.1")); err != nil {
		t.Fatal(err)
	}
	s.writeHost(t, "log", "impostor")
	errnoIs(t, "SetAppend after replacement", f.SetAppend(false), experimentalsys.ENOENT)
	if !f.IsAppend() {
		t.Error("failed SetAppend changed the mode")
	}
}

func TestReaddir(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "a", "1")
	s.writeHost(t, "b", "22")
	s.writeHost(t, "c/inner", "")
	s.symlinkHost(t, "a", "d")

	d := open(t, s.fs, ".", rdonly|odir)
	if isDir, errno := d.IsDir(); !isDir || errno != 0 {
		t.Fatalf("IsDir = %v, %v", isDir, errno)
	}
	want := map[string]fs.FileMode{"a": 0, "b": 0, "c": fs.ModeDir, "d": fs.ModeSymlink}
	checkDirents := func(what string, dirents []experimentalsys.Dirent) {
		t.Helper()
		got := map[string]fs.FileMode{}
		for _, e := range dirents {
			got[e.Name] = e.Type
			if runtime.GOOS != "windows" && e.Ino == 0 {
				t.Errorf("%s: %s has no inode number", what, e.Name)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: got entries %v, want %v", what, got, want)
		}
		for name, typ := range want {
			if gt, ok := got[name]; !ok || gt != typ {
				t.Errorf("%s: entry %q type %v (present %v), want %v", what, name, gt, ok, typ)
			}
		}
	}
	all, errno := d.Readdir(-1)
	if errno != 0 {
		t.Fatal(errno)
	}
	checkDirents("Readdir(-1)", all)
	if more, errno := d.Readdir(-1); len(more) != 0 || errno != 0 {
		t.Errorf("Readdir at end = %v, %v", more, errno)
	}

	// Rewinding restarts the listing and shows entries created since.
	s.writeHost(t, "e", "")
	want["e"] = 0
	if _, errno := d.Seek(0, io.SeekStart); errno != 0 {
		t.Fatalf("rewind: %v", errno)
	}
	var paged []experimentalsys.Dirent
	for i := 0; i < 10; i++ {
		page, errno := d.Readdir(2)
		if errno != 0 {
			t.Fatal(errno)
		}
		if len(page) > 2 {
			t.Fatalf("Readdir(2) returned %d entries", len(page))
		}
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
	}
	checkDirents("Readdir(2) pages", paged)

	_, errno = d.Seek(1, io.SeekStart)
	errnoIs(t, "Seek non-zero on dir", errno, experimentalsys.EISDIR)
	_, errno = d.Read(make([]byte, 1))
	errnoIs(t, "Read on dir", errno, experimentalsys.EISDIR)
	_, errno = d.Write([]byte("x"))
	errnoIs(t, "Write on dir", errno, experimentalsys.EISDIR)

	f := open(t, s.fs, "a", rdonly)
	_, errno = f.Readdir(-1)
	errnoIs(t, "Readdir on file", errno, experimentalsys.EBADF)

	// A subdirectory opened without O_DIRECTORY lists too.
	sub := open(t, s.fs, "c", rdonly)
	if dirents, errno := sub.Readdir(-1); errno != 0 || len(dirents) != 1 || dirents[0].Name != "inner" {
		t.Errorf("Readdir of c = %v, %v", dirents, errno)
	}

	for _, tt := range []struct {
		path string
		flag experimentalsys.Oflag
		want experimentalsys.Errno
	}{
		{"a", rdonly | odir, experimentalsys.ENOTDIR},
		{"d", rdonly | odir, experimentalsys.ENOTDIR},
		{"c", rdwr, experimentalsys.EISDIR},
		{"c", wronly | odir, experimentalsys.EISDIR},
		{"new", rdonly | odir | creat, experimentalsys.EINVAL},
		{"missing", rdonly | odir, experimentalsys.ENOENT},
		{"c", rdwr | experimentalsys.O_WRONLY, experimentalsys.EINVAL}, // both access bits
	} {
		_, errno := s.fs.OpenFile(tt.path, tt.flag, 0o644)
		errnoIs(t, "OpenFile "+tt.path, errno, tt.want)
	}
}

func TestMkdirRmdirUnlink(t *testing.T) {
	s := newSandbox(t, Options{})
	errnoIs(t, "Mkdir d", s.fs.Mkdir("d", 0o755), 0)
	if fi, err := os.Stat(s.host("d")); err != nil || !fi.IsDir() {
		t.Fatalf("host does not see d: %v", err)
	}
	errnoIs(t, "Mkdir d again", s.fs.Mkdir("d", 0o755), experimentalsys.EEXIST)
	errnoIs(t, "Mkdir under missing", s.fs.Mkdir("missing/x", 0o755), experimentalsys.ENOENT)
	errnoIs(t, "Mkdir d/sub", s.fs.Mkdir("d/sub/", 0o755), 0)

	f := open(t, s.fs, "d/f", wronly|creat)
	f.Close()
	s.symlinkHost(t, "sub", "d/link")

	errnoIs(t, "Rmdir non-empty", s.fs.Rmdir("d"), experimentalsys.ENOTEMPTY)
	errnoIs(t, "Rmdir file", s.fs.Rmdir("d/f"), experimentalsys.ENOTDIR)
	errnoIs(t, "Rmdir link to dir", s.fs.Rmdir("d/link"), experimentalsys.ENOTDIR)
	errnoIs(t, "Unlink dir", s.fs.Unlink("d/sub"), experimentalsys.EISDIR)
	errnoIs(t, "Unlink file", s.fs.Unlink("d/f"), 0)
	errnoIs(t, "Unlink file again", s.fs.Unlink("d/f"), experimentalsys.ENOENT)
	errnoIs(t, "Unlink link to dir", s.fs.Unlink("d/link"), 0)
	if _, err := os.Stat(s.host("d/sub")); err != nil {
		t.Errorf("unlinking the link removed its target: %v", err)
	}
	errnoIs(t, "Rmdir d/sub", s.fs.Rmdir("d/sub"), 0)
	errnoIs(t, "Rmdir d", s.fs.Rmdir("d"), 0)
	errnoIs(t, "Rmdir missing", s.fs.Rmdir("d"), experimentalsys.ENOENT)
	if entries, _ := os.ReadDir(s.root); len(entries) != 0 {
		t.Errorf("root not empty: %v", entries)
	}
}

func TestRename(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "a", "A")
	s.writeHost(t, "x/f", "F")
	s.writeHost(t, "full/g", "G")
	if err := os.Mkdir(s.host("empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	errnoIs(t, "file to new name", s.fs.Rename("a", "b"), 0)
	if got := s.readHost(t, "b"); got != "A" {
		t.Errorf("b = %q", got)
	}
	errnoIs(t, "file onto itself", s.fs.Rename("b", "b"), 0)
	errnoIs(t, "dir to new name", s.fs.Rename("x", "y"), 0)
	errnoIs(t, "dir onto itself", s.fs.Rename("y", "y"), 0)
	errnoIs(t, "dir onto empty dir", s.fs.Rename("y", "empty"), 0)
	if got := s.readHost(t, "empty/f"); got != "F" {
		t.Errorf("empty/f = %q", got)
	}
	errnoIs(t, "file onto dir", s.fs.Rename("b", "empty"), experimentalsys.EISDIR)
	errnoIs(t, "dir onto non-empty dir", s.fs.Rename("empty", "full"), experimentalsys.ENOTEMPTY)
	errnoIs(t, "dir onto file", s.fs.Rename("empty", "b"), experimentalsys.ENOTDIR)
	errnoIs(t, "missing source", s.fs.Rename("nope", "c"), experimentalsys.ENOENT)
	errnoIs(t, "file replaces file", s.fs.Rename("full/g", "b"), 0)
	if got := s.readHost(t, "b"); got != "G" {
		t.Errorf("b = %q after replace", got)
	}
}

func TestStatAndIdentity(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "f", "12345")
	s.symlinkHost(t, "f", "l")

	st, errno := s.fs.Stat("l")
	if errno != 0 || st.Size != 5 || st.Mode.Type() != 0 {
		t.Errorf("Stat(l) = %+v, %v", st, errno)
	}
	lst, errno := s.fs.Lstat("l")
	if errno != 0 || lst.Mode.Type() != fs.ModeSymlink {
		t.Errorf("Lstat(l) = %+v, %v", lst, errno)
	}
	for _, p := range []string{".", "", "/"} {
		if st, errno := s.fs.Stat(p); errno != 0 || !st.Mode.IsDir() {
			t.Errorf("Stat(%q) = %+v, %v", p, st, errno)
		}
	}
	_, errno = s.fs.Stat("missing")
	errnoIs(t, "Stat missing", errno, experimentalsys.ENOENT)

	f := open(t, s.fs, "f", rdonly)
	fst, _ := f.Stat()
	dev, _ := f.Dev()
	ino, _ := f.Ino()
	if dev != fst.Dev || ino != fst.Ino || ino != st.Ino {
		t.Errorf("Dev/Ino = %d/%d, Stat says %d/%d, path Stat ino %d", dev, ino, fst.Dev, fst.Ino, st.Ino)
	}
	if isDir, _ := f.IsDir(); isDir {
		t.Error("file reports IsDir")
	}
}

func TestUtimens(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "f", "")
	const atim, mtim = int64(1_000_000_000_123_456_789), int64(1_100_000_000_987_654_321)
	errnoIs(t, "Utimens", s.fs.Utimens("f", atim, mtim), 0)
	st, _ := s.fs.Stat("f")
	if st.Atim != atim || st.Mtim != mtim {
		t.Errorf("times = %d/%d, want %d/%d", st.Atim, st.Mtim, atim, mtim)
	}
	errnoIs(t, "Utimens omit mtime", s.fs.Utimens("f", atim+1, experimentalsys.UTIME_OMIT), 0)
	st, _ = s.fs.Stat("f")
	if st.Atim != atim+1 || st.Mtim != mtim {
		t.Errorf("after omit times = %d/%d, want %d/%d", st.Atim, st.Mtim, atim+1, mtim)
	}
	errnoIs(t, "Utimens missing", s.fs.Utimens("missing", atim, mtim), experimentalsys.ENOENT)

	f := open(t, s.fs, "f", rdonly)
	switch errno := f.Utimens(experimentalsys.UTIME_OMIT, mtim+5); errno {
	case experimentalsys.ENOSYS:
		if runtime.GOOS == "linux" {
			t.Error("File.Utimens unimplemented on linux")
		}
	case 0:
		st, _ = f.Stat()
		if st.Atim != atim+1 || st.Mtim != mtim+5 {
			t.Errorf("after File.Utimens times = %d/%d, want %d/%d", st.Atim, st.Mtim, atim+1, mtim+5)
		}
	default:
		t.Errorf("File.Utimens: %v", errno)
	}
}

func TestReadOnly(t *testing.T) {
	s := newSandbox(t, Options{ReadOnly: true})
	s.writeHost(t, "f", "content")
	s.writeHost(t, "d/g", "")
	if err := os.Mkdir(s.host("empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		op   func() experimentalsys.Errno
	}{
		{"OpenFile O_WRONLY", func() experimentalsys.Errno { _, e := s.fs.OpenFile("f", wronly, 0); return e }},
		{"OpenFile O_RDWR", func() experimentalsys.Errno { _, e := s.fs.OpenFile("f", rdwr, 0); return e }},
		{"OpenFile O_CREAT", func() experimentalsys.Errno { _, e := s.fs.OpenFile("new", rdonly|creat, 0o644); return e }},
		{"OpenFile O_TRUNC", func() experimentalsys.Errno { _, e := s.fs.OpenFile("f", rdonly|trunc, 0); return e }},
		{"OpenFile dir for write", func() experimentalsys.Errno { _, e := s.fs.OpenFile("d", wronly|odir, 0); return e }},
		{"Mkdir", func() experimentalsys.Errno { return s.fs.Mkdir("new", 0o755) }},
		{"Rmdir", func() experimentalsys.Errno { return s.fs.Rmdir("empty") }},
		{"Unlink", func() experimentalsys.Errno { return s.fs.Unlink("f") }},
		{"Rename", func() experimentalsys.Errno { return s.fs.Rename("f", "g") }},
		{"Link", func() experimentalsys.Errno { return s.fs.Link("f", "g") }},
		{"Symlink", func() experimentalsys.Errno { return s.fs.Symlink("f", "g") }},
		{"Utimens", func() experimentalsys.Errno { return s.fs.Utimens("f", 0, 0) }},
		{"Chmod", func() experimentalsys.Errno { return s.fs.Chmod("f", 0o777) }},
	} {
		errnoIs(t, tt.name, tt.op(), experimentalsys.EROFS)
	}

	f := open(t, s.fs, "f", rdonly)
	if got := readAll(t, f); got != "content" {
		t.Errorf("read %q", got)
	}
	_, errno := f.Write([]byte("x"))
	errnoIs(t, "Write", errno, experimentalsys.EBADF)
	_, errno = f.Pwrite([]byte("x"), 0)
	errnoIs(t, "Pwrite", errno, experimentalsys.EBADF)
	errnoIs(t, "Truncate", f.Truncate(0), experimentalsys.EBADF)
	errnoIs(t, "File.Utimens", f.Utimens(0, 0), experimentalsys.EROFS)

	d := open(t, s.fs, ".", rdonly|odir)
	if dirents, errno := d.Readdir(-1); errno != 0 || len(dirents) != 3 {
		t.Errorf("Readdir = %v, %v", dirents, errno)
	}
	if _, errno := s.fs.Stat("d/g"); errno != 0 {
		t.Errorf("Stat: %v", errno)
	}

	if got := s.readHost(t, "f"); got != "content" {
		t.Errorf("host file changed to %q", got)
	}
	if entries, _ := os.ReadDir(s.root); len(entries) != 3 {
		t.Errorf("root has %d entries, want 3", len(entries))
	}
}

func TestEscapesRefused(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "sub/f", "inside")
	s.symlinkHost(t, s.secret, "abs")                                       // absolute link to a file
	s.symlinkHost(t, filepath.Join("..", "outside", "secret"), "rel")       // relative link out
	s.symlinkHost(t, s.outside, "absdir")                                   // absolute link to a dir
	s.symlinkHost(t, filepath.Join("..", "..", "outside"), "sub/reldir")    // relative dir link out
	s.symlinkHost(t, filepath.Join(s.outside, "created"), "dangling")       // dangling link out
	s.symlinkHost(t, filepath.Join("..", "rel"), "sub/chain")               // inside link to an escaping link
	s.symlinkHost(t, filepath.Join("..", "sub", "..", "..", "x"), "sub/up") // climbs out via a detour

	reads := []string{
		"..", "../outside/secret", "sub/../../outside/secret", "/etc/passwd", s.secret,
		"abs", "rel", "absdir/secret", "sub/reldir/secret", "sub/chain", "sub/up",
	}
	for _, p := range reads {
		_, errno := s.fs.OpenFile(p, rdonly, 0)
		errnoIs(t, "OpenFile "+p, errno, experimentalsys.EPERM)
		_, errno = s.fs.Stat(p)
		errnoIs(t, "Stat "+p, errno, experimentalsys.EPERM)
	}

	writes := []struct {
		name string
		op   func() experimentalsys.Errno
	}{
		{"create through abs dir link", func() experimentalsys.Errno {
			_, e := s.fs.OpenFile("absdir/new", wronly|creat, 0o644)
			return e
		}},
		{"create through rel dir link", func() experimentalsys.Errno {
			_, e := s.fs.OpenFile("sub/reldir/new", wronly|creat, 0o644)
			return e
		}},
		{"truncate through abs link", func() experimentalsys.Errno {
			_, e := s.fs.OpenFile("abs", wronly|trunc, 0)
			return e
		}},
		{"create through dangling link", func() experimentalsys.Errno {
			_, e := s.fs.OpenFile("dangling", wronly|creat, 0o644)
			return e
		}},
		{"create with ..", func() experimentalsys.Errno {
			_, e := s.fs.OpenFile("../outside/new", wronly|creat, 0o644)
			return e
		}},
		{"Mkdir through link", func() experimentalsys.Errno { return s.fs.Mkdir("absdir/new", 0o755) }},
		{"Mkdir with ..", func() experimentalsys.Errno { return s.fs.Mkdir("../new", 0o755) }},
		{"Rename into link", func() experimentalsys.Errno { return s.fs.Rename("sub/f", "absdir/f") }},
		{"Rename out of link", func() experimentalsys.Errno { return s.fs.Rename("absdir/secret", "stolen") }},
		{"Rename with ..", func() experimentalsys.Errno { return s.fs.Rename("sub/f", "../outside/f") }},
		{"Unlink through link", func() experimentalsys.Errno { return s.fs.Unlink("sub/reldir/secret") }},
		{"Rmdir with ..", func() experimentalsys.Errno { return s.fs.Rmdir("../outside") }},
		{"Utimens through link", func() experimentalsys.Errno { return s.fs.Utimens("abs", 0, 0) }},
	}
	for _, tt := range writes {
		errnoIs(t, tt.name, tt.op(), experimentalsys.EPERM)
	}

	for _, p := range []string{"abs", "rel", "absdir", "sub/reldir", "sub/up"} {
		_, errno := s.fs.Readlink(p)
		errnoIs(t, "Readlink "+p, errno, experimentalsys.EPERM)
	}
	// The escaping links themselves live inside the root: they can be seen
	// and removed, which reaches nothing outside.
	if st, errno := s.fs.Lstat("abs"); errno != 0 || st.Mode.Type() != fs.ModeSymlink {
		t.Errorf("Lstat(abs) = %+v, %v", st, errno)
	}
	errnoIs(t, "Unlink escaping link", s.fs.Unlink("absdir"), 0)
	s.checkSecretIntact(t)
	if _, err := os.Stat(s.host("stolen")); err == nil {
		t.Error("secret was renamed into the root")
	}
}

func TestLinksInsideRoot(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "file.txt", "hi")
	s.writeHost(t, "sub/other", "")
	s.symlinkHost(t, "file.txt", "in")
	s.symlinkHost(t, "sub", "indir")
	s.symlinkHost(t, filepath.Join("..", "file.txt"), "sub/up")

	for _, p := range []string{"in", "sub/up", "indir/../file.txt", "sub/../in"} {
		f, errno := s.fs.OpenFile(p, rdonly, 0)
		if errno != 0 {
			t.Errorf("OpenFile(%q): %v", p, errno)
			continue
		}
		if got := readAll(t, f); got != "hi" {
			t.Errorf("OpenFile(%q) read %q", p, got)
		}
		f.Close()
	}
	d := open(t, s.fs, "indir", rdonly|odir)
	if dirents, _ := d.Readdir(-1); len(dirents) != 2 {
		t.Errorf("Readdir through link = %v", dirents)
	}
	for p, want := range map[string]string{"in": "file.txt", "indir": "sub", "sub/up": "../file.txt"} {
		if got, errno := s.fs.Readlink(p); errno != 0 || got != want {
			t.Errorf("Readlink(%q) = %q, %v; want %q", p, got, errno, want)
		}
	}
	_, errno := s.fs.Readlink("file.txt")
	errnoIs(t, "Readlink of a file", errno, experimentalsys.EINVAL)

	_, errno = s.fs.OpenFile("in", rdonly|nofoll, 0)
	errnoIs(t, "O_NOFOLLOW on link", errno, experimentalsys.ELOOP)
	_, errno = s.fs.OpenFile("in", wronly|creat|excl|nofoll, 0o644)
	errnoIs(t, "O_CREAT|O_EXCL on link", errno, experimentalsys.EEXIST)
	_, errno = s.fs.OpenFile("indir", rdonly|odir|nofoll, 0)
	errnoIs(t, "O_DIRECTORY|O_NOFOLLOW on dir link", errno, experimentalsys.ELOOP)
	f := open(t, s.fs, "file.txt", rdonly|nofoll)
	f.Close()
}

func TestGuestCannotCreateLinks(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "f", "")
	errnoIs(t, "Symlink relative", s.fs.Symlink("f", "l1"), experimentalsys.EPERM)
	errnoIs(t, "Symlink absolute", s.fs.Symlink("/etc/passwd", "l2"), experimentalsys.EPERM)
	errnoIs(t, "Link", s.fs.Link("f", "l3"), experimentalsys.EPERM)
	errnoIs(t, "Chmod", s.fs.Chmod("f", 0o600), experimentalsys.ENOSYS)
	entries, _ := os.ReadDir(s.root)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"f"}) {
		t.Errorf("root holds %v, want only f", names)
	}
}

func TestUnusableRoot(t *testing.T) {
	fsys := New(nil, Options{})
	_, errno := fsys.OpenFile(".", rdonly, 0)
	errnoIs(t, "OpenFile with nil root", errno, experimentalsys.EBADF)
	errnoIs(t, "Mkdir with nil root", fsys.Mkdir("x", 0o755), experimentalsys.EBADF)

	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fsys = New(root, Options{})
	f := open(t, fsys, ".", rdonly)
	root.Close()
	_, errno = fsys.Stat(".")
	errnoIs(t, "Stat after root closed", errno, experimentalsys.EBADF)
	// Files opened before keep working.
	if _, errno := f.Readdir(-1); errno != 0 {
		t.Errorf("Readdir of file opened before root closed: %v", errno)
	}
}
