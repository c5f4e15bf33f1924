package wasip1

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xfhost/xfhost/engine"
)

// TestFaults passes pointers that leave guest memory to every kind of
// function that takes one: each must fail with EFAULT, never panic or
// touch memory elsewhere.
func TestFaults(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"f": "data"})
	file, en := e.open(t, "f", 0, rightFdRead|rightFdWrite)
	if en != 0 {
		t.Fatal(en)
	}
	f := uint64(file)
	end := uint64(len(e.mem))
	path, pathLen := e.mem.putString(100, "f")
	// An iovec at 200 pointing past the end of memory.
	le.PutUint32(e.mem[200:], uint32(end-2))
	le.PutUint32(e.mem[204:], 10)
	// One clock subscription at 300.
	clear(e.mem[300:348])
	for _, c := range []struct {
		name   string
		params []uint64
	}{
		{"args_get", []uint64{end - 4, 0}},
		{"args_get", []uint64{0, end - 5}},
		{"args_sizes_get", []uint64{end - 2, 0}},
		{"args_sizes_get", []uint64{0, 1 << 31}},
		{"environ_get", []uint64{end + 1, 0}},
		{"environ_sizes_get", []uint64{0, end - 3}},
		{"clock_res_get", []uint64{0, end - 7}},
		{"clock_time_get", []uint64{1, 0, end}},
		{"fd_fdstat_get", []uint64{1, end - 23}},
		{"fd_filestat_get", []uint64{f, end - 63}},
		{"fd_prestat_get", []uint64{fdScratch, end - 7}},
		{"fd_prestat_dir_name", []uint64{fdScratch, end - 7, 8}},
		{"fd_read", []uint64{f, end - 7, 1, 0}},
		{"fd_read", []uint64{f, 200, 1, 0}},
		{"fd_read", []uint64{f, 0, 0, end - 3}},
		{"fd_pread", []uint64{f, 200, 1, 0, 0}},
		{"fd_write", []uint64{1, 200, 1, 0}},
		{"fd_write", []uint64{1, 0, 1 << 29, 0}}, // 2^29 iovecs: 2^32 bytes
		{"fd_write", []uint64{1, 0, 0, end}},
		{"fd_pwrite", []uint64{f, 200, 1, 0, 0}},
		{"fd_seek", []uint64{f, 0, 0, end - 4}},
		{"fd_tell", []uint64{f, 1 << 32 / 2}},
		{"path_open", []uint64{fdScratch, 0, end - 1, 5, 0, 0, 0, 0, 0}},
		{"path_open", []uint64{fdScratch, 0, path, pathLen, 0, 0, 0, 0, end - 1}},
		{"path_filestat_get", []uint64{fdScratch, 0, path, pathLen, end - 8}},
		{"path_create_directory", []uint64{fdScratch, end, 1}},
		{"path_unlink_file", []uint64{fdScratch, 1 << 31, 1 << 31}},
		{"path_rename", []uint64{fdScratch, path, pathLen, fdScratch, end - 1, 2}},
		{"path_readlink", []uint64{fdScratch, end - 1, 4, 0, 10, 0}},
		{"path_symlink", []uint64{end - 1, 4, fdScratch, path, pathLen}},
		{"poll_oneoff", []uint64{end - 40, 0, 1, 0}},
		{"poll_oneoff", []uint64{300, end - 16, 1, 0}},
		{"poll_oneoff", []uint64{300, 0, 1, end - 1}},
		{"poll_oneoff", []uint64{0, 0, 1 << 31, 0}},
		{"random_get", []uint64{end - 10, 11}},
	} {
		if got := e.call(t, c.name, c.params...); got != errnoFault {
			t.Errorf("%s%v: %v, want EFAULT", c.name, c.params, got)
		}
	}
	// A path_open that fails with EFAULT for its result must not have
	// created the file.
	p, n := e.mem.putString(100, "created")
	if got := e.call(t, "path_open", fdScratch, 0, p, n, oflagCreat, 0, 0, 0, end-2); got != errnoFault {
		t.Errorf("path_open with its result outside memory: %v, want EFAULT", got)
	}
	if _, err := os.Stat(filepath.Join(e.scratch, "created")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("path_open that failed with EFAULT created the file (stat: %v)", err)
	}
}

func TestArgsAndEnviron(t *testing.T) {
	e := newEnv(t, 0)
	if en := e.call(t, "args_sizes_get", 0, 4); en != 0 {
		t.Fatal(en)
	}
	if argc, size := e.mem.u32(0), e.mem.u32(4); argc != 2 || size != uint32(len("guest\x00arg\x00")) {
		t.Fatalf("args_sizes_get: %d args, %d bytes", argc, size)
	}
	if en := e.call(t, "args_get", 100, 200); en != 0 {
		t.Fatal(en)
	}
	if p0, p1 := e.mem.u32(100), e.mem.u32(104); p0 != 200 || p1 != 206 {
		t.Errorf("argv = %d, %d; want 200, 206", p0, p1)
	}
	if got := string(e.mem[200:210]); got != "guest\x00arg\x00" {
		t.Errorf("argv_buf = %q", got)
	}
	e.mem[8], e.mem[12] = 0xff, 0xff
	if en := e.call(t, "environ_sizes_get", 8, 12); en != 0 || e.mem.u32(8) != 0 || e.mem.u32(12) != 0 {
		t.Errorf("environ_sizes_get: %v, %d variables, %d bytes", en, e.mem.u32(8), e.mem.u32(12))
	}
	if en := e.call(t, "environ_get", 300, 400); en != 0 {
		t.Errorf("environ_get: %v", en)
	}
}

func TestNewInstanceRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	mapFS := fstest.MapFS{}
	for _, c := range []struct {
		name string
		cfg  engine.RunConfig
		want string
	}{
		{"NUL in argument", engine.RunConfig{Args: []string{"a\x00b"}}, "argument 0"},
		{"FS and HostDir", engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/x", FS: mapFS, HostDir: dir}}}, "mount /x: both FS and HostDir"},
		{"no source", engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/x"}}}, "mount /x: neither FS nor HostDir"},
		{"twice", engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/x", FS: mapFS}, {GuestPath: "/x", HostDir: dir}}}, "mount /x: guest path mounted twice"},
		{"missing directory", engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/x", HostDir: filepath.Join(dir, "nope")}}}, "mount /x:"},
	} {
		in, err := NewInstance(c.cfg)
		if err == nil {
			in.Close()
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q lacks %q", c.name, err, c.want)
		}
	}
}

// TestDescriptorLimit opens files until the limit and checks that the
// descriptors are released by fd_close and by Close.
func TestDescriptorLimit(t *testing.T) {
	before := openHostFiles(t)
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"f": ""})
	var fds []uint32
	for {
		fd, en := e.open(t, "f", 0, rightFdRead)
		if en == errnoMfile {
			break
		} else if en != 0 {
			t.Fatal(en)
		}
		fds = append(fds, fd)
		if len(fds) > MaxOpenFiles {
			t.Fatal("no limit")
		}
	}
	if want := MaxOpenFiles - 5; len(fds) != want { // 3 streams, 2 mounts
		t.Errorf("opened %d files, want %d", len(fds), want)
	}
	if fds[0] != 5 || fds[len(fds)-1] != MaxOpenFiles-1 {
		t.Errorf("descriptors %d..%d, want 5..%d", fds[0], fds[len(fds)-1], MaxOpenFiles-1)
	}
	if en := e.call(t, "fd_close", 100); en != 0 {
		t.Fatal(en)
	}
	if fd, en := e.open(t, "f", 0, rightFdRead); en != 0 || fd != 100 {
		t.Errorf("after closing 100: fd %d, %v; want the lowest free descriptor, 100", fd, en)
	}
	if err := e.in.Close(); err != nil {
		t.Fatal(err)
	}
	if after := openHostFiles(t); after > before {
		t.Errorf("%d host descriptors open after Close, %d before", after, before)
	}
}

// openHostFiles counts this process's open descriptors (Linux only).
func openHostFiles(t *testing.T) int {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(entries)
}

func TestRenumber(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"a": "aaaa", "b": "bb"})
	a, _ := e.open(t, "a", 0, rightFdRead)
	b, _ := e.open(t, "b", 0, rightFdRead)
	for _, c := range []struct {
		from, to uint64
		want     errno
	}{
		{uint64(a), 1, errnoNotsup},
		{uint64(a), fdScratch, errnoNotsup},
		{fdInputs, uint64(b), errnoNotsup},
		{uint64(a), 99, errnoBadf},
		{99, uint64(b), errnoBadf},
		{uint64(a), uint64(a), errnoSuccess},
		{uint64(a), uint64(b), errnoSuccess},
	} {
		if got := e.call(t, "fd_renumber", c.from, c.to); got != c.want {
			t.Errorf("fd_renumber(%d, %d): %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if en := e.call(t, "fd_filestat_get", uint64(b), 0); en != 0 || e.mem.u64(32) != 4 {
		t.Errorf("after renumbering a onto b, b is %d bytes (%v), want a's 4", e.mem.u64(32), en)
	}
	if en := e.call(t, "fd_filestat_get", uint64(a), 0); en != errnoBadf {
		t.Errorf("a after renumbering: %v, want EBADF", en)
	}
}

func TestFdstatAndPrestat(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"f": ""})
	f, _ := e.open(t, "f", 0, rightFdRead|rightFdWrite)
	for _, c := range []struct {
		fd       uint64
		filetype uint8
		base     uint64
	}{
		{1, filetypeBlockDevice, fileRights},
		{fdScratch, filetypeDirectory, dirRights},
		{uint64(f), filetypeRegularFile, fileRights},
	} {
		if en := e.call(t, "fd_fdstat_get", c.fd, 0); en != 0 {
			t.Fatal(en)
		}
		if e.mem[0] != c.filetype || e.mem.u64(8) != c.base {
			t.Errorf("fd %d: type %d rights %#x, want %d %#x", c.fd, e.mem[0], e.mem.u64(8), c.filetype, c.base)
		}
	}
	if en := e.call(t, "fd_fdstat_set_flags", uint64(f), fdflagAppend); en != 0 {
		t.Fatal(en)
	}
	e.call(t, "fd_fdstat_get", uint64(f), 0)
	if flags := le.Uint16(e.mem[2:]); flags != fdflagAppend {
		t.Errorf("flags %#x after setting append", flags)
	}
	for _, c := range []struct {
		flags uint64
		fd    uint64
		want  errno
	}{
		{fdflagSync, uint64(f), errnoInval},
		{fdflagNonblock, 1, errnoNosys},
		{0, fdScratch, errnoIsdir},
		{0, 1, errnoSuccess},
	} {
		if got := e.call(t, "fd_fdstat_set_flags", c.fd, c.flags); got != c.want {
			t.Errorf("fd_fdstat_set_flags(%d, %#x): %v, want %v", c.fd, c.flags, got, c.want)
		}
	}

	if en := e.call(t, "fd_prestat_get", fdScratch, 0); en != 0 || e.mem[0] != 0 || e.mem.u32(4) != uint32(len("/scratch")) {
		t.Errorf("fd_prestat_get: %v, tag %d, length %d", en, e.mem[0], e.mem.u32(4))
	}
	if en := e.call(t, "fd_prestat_dir_name", fdScratch, 100, 7); en != errnoNametoolong {
		t.Errorf("fd_prestat_dir_name into 7 bytes: %v, want ENAMETOOLONG", en)
	}
	if en := e.call(t, "fd_prestat_dir_name", fdScratch, 100, 20); en != 0 || string(e.mem[100:108]) != "/scratch" {
		t.Errorf("fd_prestat_dir_name: %v, %q", en, e.mem[100:108])
	}
	for _, fd := range []uint64{0, 1, 2, uint64(f), 99} {
		if en := e.call(t, "fd_prestat_get", fd, 0); en != errnoBadf {
			t.Errorf("fd_prestat_get(%d): %v, want EBADF", fd, en)
		}
	}
}

func TestPaths(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"top.txt": "top", "d/e/f.txt": "f"})
	sub, en := e.open(t, "d/e", oflagDirectory, 0)
	if en != 0 {
		t.Fatal(en)
	}
	file, _ := e.open(t, "top.txt", 0, rightFdRead)
	stat := func(dirfd uint64, path string) errno {
		p, n := e.mem.putString(100, path)
		return e.call(t, "path_filestat_get", dirfd, lookupSymlinkFollow, p, n, 1000)
	}
	for _, c := range []struct {
		dirfd uint64
		path  string
		want  errno
	}{
		{fdScratch, "top.txt", errnoSuccess},
		{fdScratch, "", errnoSuccess}, // the directory itself, as in wazero
		{fdScratch, "d/./e/../e/f.txt", errnoSuccess},
		{fdScratch, "/top.txt", errnoPerm},
		{fdScratch, "..", errnoPerm},
		{fdScratch, "d/../../x", errnoPerm},
		{uint64(sub), "f.txt", errnoSuccess},
		{uint64(sub), "../../top.txt", errnoSuccess}, // still inside the mount
		{uint64(sub), "../../../x", errnoPerm},
		{fdScratch, "top.txt/", errnoNotdir},
		{fdScratch, strings.Repeat("a", maxPathLen+1), errnoNametoolong},
		{fdInputs, "data.txt", errnoSuccess},
		{1, "x", errnoNotdir},
		{uint64(file), "x", errnoNotdir},
		{99, "x", errnoBadf},
	} {
		if got := stat(c.dirfd, c.path); got != c.want {
			t.Errorf("path_filestat_get(%d, %.20q): %v, want %v", c.dirfd, c.path, got, c.want)
		}
	}
	if stat(fdScratch, "top.txt") == 0 && (e.mem[1016] != filetypeRegularFile || e.mem.u64(1032) != 3) {
		t.Errorf("filestat of top.txt: type %d size %d", e.mem[1016], e.mem.u64(1032))
	}

	open := func(path string, oflags uint16) errno {
		p, n := e.mem.putString(100, path)
		return e.call(t, "path_open", fdScratch, lookupSymlinkFollow, p, n, uint64(oflags), 0, 0, 0, 1000)
	}
	for _, c := range []struct {
		path   string
		oflags uint16
		want   errno
	}{
		{"", 0, errnoInval},
		{"new", oflagCreat | oflagDirectory, errnoInval},
		{"top.txt", oflagDirectory, errnoNotdir},
		{"top.txt", oflagCreat | oflagExcl, errnoExist},
		{"missing", 0, errnoNoent},
		{"new", oflagCreat | oflagExcl, errnoSuccess},
	} {
		if got := open(c.path, c.oflags); got != c.want {
			t.Errorf("path_open(%q, %#x): %v, want %v", c.path, c.oflags, got, c.want)
		}
	}

	from, fromLen := e.mem.putString(100, "top.txt")
	to, toLen := e.mem.putString(200, "moved.txt")
	if en := e.call(t, "path_rename", fdScratch, from, fromLen, fdInputs, to, toLen); en != errnoNosys {
		t.Errorf("rename across mounts: %v, want ENOSYS", en)
	}
	if en := e.call(t, "path_rename", fdScratch, from, fromLen, uint64(sub), to, toLen); en != 0 {
		t.Errorf("rename into a subdirectory descriptor: %v", en)
	}
	if _, err := os.Stat(filepath.Join(e.scratch, "d", "e", "moved.txt")); err != nil {
		t.Errorf("rename did not move the file: %v", err)
	}
	link, linkLen := e.mem.putString(300, "link")
	if en := e.call(t, "path_symlink", from, fromLen, fdScratch, link, linkLen); en != errnoPerm {
		t.Errorf("path_symlink: %v, want EPERM", en)
	}
	if en := e.call(t, "path_symlink", from, fromLen, fdInputs, link, linkLen); en != errnoNosys {
		t.Errorf("path_symlink on a read-only mount: %v, want ENOSYS", en)
	}
	if err := os.Symlink("moved.txt", filepath.Join(e.scratch, "d", "e", "ln")); err != nil {
		t.Fatal(err)
	}
	ln, lnLen := e.mem.putString(300, "d/e/ln")
	if en := e.call(t, "path_readlink", fdScratch, ln, lnLen, 400, 8, 500); en != errnoRange {
		t.Errorf("path_readlink into 8 bytes: %v, want ERANGE", en)
	}
	if en := e.call(t, "path_readlink", fdScratch, ln, lnLen, 400, 9, 500); en != 0 || string(e.mem[400:409]) != "moved.txt" || e.mem.u32(500) != 9 {
		t.Errorf("path_readlink: %v %q %d", en, e.mem[400:409], e.mem.u32(500))
	}
}

// TestWriteStopsAtQuota checks a gathered write that reaches the quota
// part way: the bytes that fit are written and reported, and the next
// write fails with EIO.
func TestWriteStopsAtQuota(t *testing.T) {
	e := newEnv(t, 10)
	fd, en := e.open(t, "f", oflagCreat, rightFdWrite)
	if en != 0 {
		t.Fatal(en)
	}
	copy(e.mem[1000:], "0123456789abcdef")
	for i, v := range []iovec{{1000, 6}, {1006, 6}, {1012, 4}} {
		le.PutUint32(e.mem[100+8*i:], v.buf)
		le.PutUint32(e.mem[104+8*i:], v.len)
	}
	if en := e.call(t, "fd_write", uint64(fd), 100, 3, 200); en != 0 || e.mem.u32(200) != 10 {
		t.Errorf("fd_write past the quota: %v, %d bytes; want success with 10", en, e.mem.u32(200))
	}
	if en := e.call(t, "fd_write", uint64(fd), 100, 3, 200); en != errnoIo {
		t.Errorf("fd_write at the quota: %v, want EIO", en)
	}
	if data, _ := os.ReadFile(filepath.Join(e.scratch, "f")); string(data) != "0123456789" {
		t.Errorf("file holds %q", data)
	}
}

func TestReadvStopsAtShortRead(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"f": "abcde"})
	fd, _ := e.open(t, "f", 0, rightFdRead)
	for i, v := range []iovec{{1000, 3}, {1010, 0}, {1020, 4}, {1030, 4}} {
		le.PutUint32(e.mem[100+8*i:], v.buf)
		le.PutUint32(e.mem[104+8*i:], v.len)
	}
	e.mem[1030] = '-'
	if en := e.call(t, "fd_read", uint64(fd), 100, 4, 200); en != 0 || e.mem.u32(200) != 5 {
		t.Fatalf("fd_read: %v, %d bytes", en, e.mem.u32(200))
	}
	if got := string(e.mem[1000:1003]) + string(e.mem[1020:1022]); got != "abcde" || e.mem[1030] != '-' {
		t.Errorf("buffers hold %q and %q", got, e.mem[1030])
	}
	if en := e.call(t, "fd_pread", uint64(fd), 100, 1, 3, 200); en != 0 || e.mem.u32(200) != 2 || string(e.mem[1000:1002]) != "de" {
		t.Errorf("fd_pread at 3: %v, %d bytes %q", en, e.mem.u32(200), e.mem[1000:1002])
	}
	if en := e.call(t, "fd_read", 1, 100, 1, 200); en != errnoBadf {
		t.Errorf("fd_read from stdout: %v, want EBADF", en)
	}
	if en := e.call(t, "fd_read", 0, 100, 1, 200); en != 0 || e.mem.u32(200) != 0 {
		t.Errorf("fd_read from stdin: %v, %d bytes; want an empty stream", en, e.mem.u32(200))
	}
}

// subscribeClock writes a clock subscription at off.
func (e *testEnv) subscribeClock(off uint32, userdata uint64, id uint32, timeout uint64, flags uint16) {
	s := e.mem[off : off+subscriptionSize]
	clear(s)
	le.PutUint64(s[0:], userdata)
	s[8] = eventtypeClock
	le.PutUint32(s[16:], id)
	le.PutUint64(s[24:], timeout)
	le.PutUint16(s[40:], flags)
}

func (e *testEnv) subscribeFd(off uint32, userdata uint64, typ uint8, fd uint32) {
	s := e.mem[off : off+subscriptionSize]
	clear(s)
	le.PutUint64(s[0:], userdata)
	s[8] = typ
	le.PutUint32(s[16:], fd)
}

type event struct {
	userdata uint64
	errno    errno
	typ      uint8
}

func (e *testEnv) poll(t *testing.T, n uint64) ([]event, errno, time.Duration) {
	t.Helper()
	f := functions["poll_oneoff"]
	stack := []uint64{0, 4096, n, 8000}
	start := time.Now()
	if exit, code := f.Func(e.ctx, e.mem, stack); exit {
		t.Fatalf("poll_oneoff ended the guest with code %#x", code)
	}
	elapsed := time.Since(start)
	if errno(stack[0]) != 0 {
		return nil, errno(stack[0]), elapsed
	}
	var out []event
	for i := range e.mem.u32(8000) {
		ev := e.mem[4096+32*i:]
		out = append(out, event{le.Uint64(ev), errno(le.Uint16(ev[8:])), ev[10]})
	}
	return out, 0, elapsed
}

func TestPollOneoff(t *testing.T) {
	e := newEnv(t, 0)
	now := func(id uint32) uint64 { v, _ := e.in.now(id); return uint64(v) }

	// A due clock and a distant one: only the due one, at once.
	e.subscribeClock(0, 1, clockMonotonic, 0, 0)
	e.subscribeClock(48, 2, clockRealtime, uint64(time.Hour), 0)
	evs, en, took := e.poll(t, 2)
	if en != 0 || len(evs) != 1 || evs[0] != (event{1, 0, eventtypeClock}) || took > time.Second {
		t.Errorf("due and distant clocks: %v %+v after %v", en, evs, took)
	}

	// Relative and absolute sleeps.
	const d = uint64(30 * time.Millisecond)
	for _, c := range []struct {
		name    string
		id      uint32
		timeout func() uint64
		flags   uint16
	}{
		{"relative monotonic", clockMonotonic, func() uint64 { return d }, 0},
		{"relative realtime", clockRealtime, func() uint64 { return d }, 0},
		{"absolute monotonic", clockMonotonic, func() uint64 { return now(clockMonotonic) + d }, subclockflagAbstime},
		{"absolute realtime", clockRealtime, func() uint64 { return now(clockRealtime) + d }, subclockflagAbstime},
	} {
		e.subscribeClock(0, 7, c.id, c.timeout(), c.flags)
		e.subscribeClock(48, 8, clockMonotonic, uint64(time.Hour), 0)
		evs, en, took := e.poll(t, 2)
		if en != 0 || len(evs) != 1 || evs[0].userdata != 7 || took < 25*time.Millisecond || took > 5*time.Second {
			t.Errorf("%s: %v %+v after %v", c.name, en, evs, took)
		}
	}

	// Descriptors are ready at once, and a closed one reports EBADF.
	e.subscribeFd(0, 1, eventtypeFdRead, 0)
	e.subscribeFd(48, 2, eventtypeFdWrite, 1)
	e.subscribeFd(96, 3, eventtypeFdRead, 99)
	e.subscribeClock(144, 4, clockMonotonic, uint64(time.Hour), 0)
	evs, en, took = e.poll(t, 4)
	want := []event{{1, 0, eventtypeFdRead}, {2, 0, eventtypeFdWrite}, {3, errnoBadf, eventtypeFdRead}}
	if en != 0 || len(evs) != 3 || evs[0] != want[0] || evs[1] != want[1] || evs[2] != want[2] || took > time.Second {
		t.Errorf("descriptor subscriptions: %v %+v after %v", en, evs, took)
	}

	// Errors of the call and of one subscription.
	e.subscribeClock(0, 1, 2, 0, 0) // CPU-time clock
	if evs, en, _ := e.poll(t, 1); en != 0 || len(evs) != 1 || evs[0].errno != errnoInval {
		t.Errorf("unknown clock: %v %+v", en, evs)
	}
	e.subscribeClock(0, 1, clockMonotonic, 0, 2)
	if _, en, _ := e.poll(t, 1); en != errnoInval {
		t.Errorf("unknown clock flags: %v", en)
	}
	e.subscribeFd(0, 1, 3, 0)
	if _, en, _ := e.poll(t, 1); en != errnoInval {
		t.Errorf("unknown event type: %v", en)
	}
	if _, en, _ := e.poll(t, 0); en != errnoInval {
		t.Errorf("no subscriptions: %v", en)
	}

	// A sleep ends with the context, ending the guest.
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		code uint32
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(e.ctx, 20*time.Millisecond)
		}, ExitCodeDeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(e.ctx)
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, ExitCodeCanceled},
	} {
		ctx, cancel := c.ctx()
		e.subscribeClock(0, 1, clockMonotonic, uint64(20*time.Second), 0)
		start := time.Now()
		exit, code := functions["poll_oneoff"].Func(ctx, e.mem, []uint64{0, 4096, 1, 8000})
		took := time.Since(start)
		cancel()
		if !exit || code != c.code || took > 5*time.Second {
			t.Errorf("%s during a 20s sleep: exit %v code %#x after %v; want code %#x at once", c.name, exit, code, took, c.code)
		}
	}
}

// TestPollExitCodes checks the exit code poll_oneoff ends the guest with
// when the context ends.
func TestPollExitCodes(t *testing.T) {
	e := newEnv(t, 0)
	e.subscribeClock(0, 1, clockMonotonic, uint64(time.Hour), 0)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if exit, code := functions["poll_oneoff"].Func(ctx, e.mem, []uint64{0, 4096, 1, 8000}); !exit || code != ExitCodeCanceled {
		t.Errorf("canceled: exit %v code %#x", exit, code)
	}
	ctx, cancel = context.WithDeadline(e.ctx, time.Now().Add(-time.Second))
	defer cancel()
	if exit, code := functions["poll_oneoff"].Func(ctx, e.mem, []uint64{0, 4096, 1, 8000}); !exit || code != ExitCodeDeadlineExceeded {
		t.Errorf("deadline: exit %v code %#x", exit, code)
	}
}

func TestClocksAndRandom(t *testing.T) {
	e := newEnv(t, 0)
	if en := e.call(t, "clock_time_get", clockRealtime, 0, 0); en != 0 || time.Since(time.Unix(0, int64(e.mem.u64(0)))).Abs() > time.Minute {
		t.Errorf("realtime: %v %d", en, e.mem.u64(0))
	}
	e.call(t, "clock_time_get", clockMonotonic, 0, 0)
	time.Sleep(time.Millisecond)
	e.call(t, "clock_time_get", clockMonotonic, 0, 8)
	if a, b := e.mem.u64(0), e.mem.u64(8); b < a+uint64(time.Millisecond) {
		t.Errorf("monotonic went from %d to %d over 1ms", a, b)
	}
	for id, want := range map[uint64]errno{2: errnoInval, 3: errnoInval, 1 << 31: errnoInval} {
		if en := e.call(t, "clock_time_get", id, 0, 0); en != want {
			t.Errorf("clock_time_get(%d): %v", id, en)
		}
		if en := e.call(t, "clock_res_get", id, 0); en != want {
			t.Errorf("clock_res_get(%d): %v", id, en)
		}
	}
	if en := e.call(t, "random_get", 100, 64); en != 0 || string(e.mem[100:164]) == string(make([]byte, 64)) {
		t.Errorf("random_get: %v %x", en, e.mem[100:164])
	}
	if en := e.call(t, "random_get", 0, 0); en != 0 {
		t.Errorf("random_get of nothing: %v", en)
	}
}

func TestUnsupported(t *testing.T) {
	e := newEnv(t, 0)
	for _, c := range []struct {
		name   string
		params []uint64
		want   errno
	}{
		{"sock_accept", []uint64{fdScratch, 0, 0}, errnoBadf},
		{"sock_recv", []uint64{1, 0, 0, 0, 0, 0}, errnoBadf},
		{"sock_send", []uint64{1, 0, 0, 0, 0}, errnoBadf},
		{"sock_shutdown", []uint64{0, 3}, errnoBadf},
		{"proc_raise", []uint64{9}, errnoNosys},
		{"fd_fdstat_set_rights", []uint64{1, 0, 0}, errnoNosys},
		{"sched_yield", nil, errnoSuccess},
		{"fd_advise", []uint64{fdScratch, 0, 0, 6}, errnoInval},
		{"fd_advise", []uint64{99, 0, 0, 0}, errnoBadf},
		{"fd_sync", []uint64{1}, errnoSuccess}, // nothing to flush, as in wazero
		{"fd_filestat_set_size", []uint64{1, 0}, errnoNosys},
		{"fd_seek", []uint64{fdScratch, 0, 0, 0}, errnoIsdir},
		{"fd_seek", []uint64{1, 0, 0, 0}, errnoNosys},
		{"fd_filestat_set_times", []uint64{fdScratch, 0, 0, fstflagAtim | fstflagAtimNow}, errnoInval},
		{"path_link", []uint64{fdScratch, 0, 0, 1, fdScratch, 10, 1}, errnoPerm},
	} {
		if got := e.call(t, c.name, c.params...); got != c.want {
			t.Errorf("%s%v: %v, want %v", c.name, c.params, got, c.want)
		}
	}
	exit, code := functions["proc_exit"].Func(e.ctx, e.mem, []uint64{42})
	if !exit || code != 42 {
		t.Errorf("proc_exit(42): exit %v code %d", exit, code)
	}
}

// TestWithoutInstance checks the functions called without WithInstance:
// an engine bug, reported to the guest as ENOSYS.
func TestWithoutInstance(t *testing.T) {
	mem := make(sliceMemory, 64)
	for _, f := range Module().Functions {
		stack := make([]uint64, max(len(f.Params), 1))
		exit, code := f.Func(context.Background(), mem, stack)
		if f.Name == "proc_exit" {
			if !exit {
				t.Errorf("proc_exit did not exit")
			}
			continue
		}
		if exit || errno(stack[0]) != errnoNosys {
			t.Errorf("%s: exit %v code %d errno %v, want ENOSYS", f.Name, exit, code, errno(stack[0]))
		}
	}
}

// panickyFS is a host file system with a bug.
type panickyFS struct{}

func (panickyFS) Open(name string) (fs.File, error) {
	if name == "." {
		return fstest.MapFS{"x": {}}.Open(".")
	}
	panic("host file system bug")
}

// TestHostPanic checks that a panic in host code below a function reaches
// neither the engine nor the guest as a panic: the guest sees EIO and
// Close reports the panic.
func TestHostPanic(t *testing.T) {
	in, err := NewInstance(engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/p", FS: panickyFS{}}}})
	if err != nil {
		t.Fatal(err)
	}
	mem := make(sliceMemory, 256)
	p, n := mem.putString(0, "x")
	if en := call(t, WithInstance(context.Background(), in), mem, "path_open", 3, 0, p, n, 0, 0, 0, 0, 100); en != errnoIo {
		t.Errorf("path_open on a panicking FS: %v, want EIO", en)
	}
	if err := in.Close(); err == nil || !strings.Contains(err.Error(), "path_open panicked: host file system bug") {
		t.Errorf("Close: %v, want the panic reported", err)
	}
}
