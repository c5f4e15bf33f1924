package guestfs

import (
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// quotaOf returns the quota of an FS made by New.
func quotaOf(t *testing.T, fsys experimentalsys.FS) *quota {
	t.Helper()
	q := fsys.(*guestFS).quota
	if q == nil {
		t.Fatal("FS has no quota")
	}
	return q
}

func wantUsed(t *testing.T, fsys experimentalsys.FS, want int64) {
	t.Helper()
	if got := quotaOf(t, fsys).usedBytes(); got != want {
		t.Errorf("quota used = %d, want %d", got, want)
	}
}

func write(t *testing.T, f experimentalsys.File, data string) (int, experimentalsys.Errno) {
	t.Helper()
	return f.Write([]byte(data))
}

func TestQuotaCountsExistingFiles(t *testing.T) {
	s := newSandbox(t, Options{})
	s.writeHost(t, "a", strings.Repeat("a", 100))
	s.writeHost(t, "sub/deeper/b", strings.Repeat("b", 50))
	s.writeHost(t, "empty", "")
	if err := os.Link(s.host("a"), s.host("sub/a-again")); err != nil {
		t.Skipf("cannot create hard links: %v", err)
	}
	s.symlinkHost(t, s.secret, "outside-link") // its target is not in the tree
	root, err := os.OpenRoot(s.root)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fsys := New(root, Options{QuotaBytes: 1000})
	wantUsed(t, fsys, 150)

	// Removing one of two names of a file frees nothing; the last frees it.
	errnoIs(t, "Unlink first name", fsys.Unlink("a"), 0)
	wantUsed(t, fsys, 150)
	errnoIs(t, "Unlink last name", fsys.Unlink("sub/a-again"), 0)
	wantUsed(t, fsys, 50)
	errnoIs(t, "Unlink symlink", fsys.Unlink("outside-link"), 0)
	wantUsed(t, fsys, 50)
	s.checkSecretIntact(t)
}

func TestQuotaWrite(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 10})
	f := open(t, s.fs, "f", wronly|creat)
	if n, errno := write(t, f, "12345678"); n != 8 || errno != 0 {
		t.Fatalf("write within quota = %d, %v", n, errno)
	}
	// A write crossing the quota is cut short at it, the next one fails.
	if n, errno := write(t, f, "abcd"); n != 2 || errno != 0 {
		t.Errorf("write crossing quota = %d, %v; want 2, 0", n, errno)
	}
	n, errno := write(t, f, "x")
	if n != 0 {
		t.Errorf("write past quota wrote %d bytes", n)
	}
	errnoIs(t, "write past quota", errno, errNoSpace)
	wantUsed(t, s.fs, 10)

	// Overwriting inside the file needs no room.
	if _, errno := f.Seek(0, io.SeekStart); errno != 0 {
		t.Fatal(errno)
	}
	if n, errno := write(t, f, "ZZ"); n != 2 || errno != 0 {
		t.Errorf("overwrite at full quota = %d, %v", n, errno)
	}
	if n, errno := f.Pwrite([]byte("YY"), 8); n != 2 || errno != 0 {
		t.Errorf("pwrite overwriting the end at full quota = %d, %v", n, errno)
	}
	// An overwrite running past the end keeps the part inside the file.
	if n, errno := f.Pwrite([]byte("WWW"), 8); n != 2 || errno != 0 {
		t.Errorf("pwrite across the end at full quota = %d, %v; want 2, 0", n, errno)
	}
	if got := s.readHost(t, "f"); got != "ZZ345678WW" {
		t.Errorf("file is %q", got)
	}
	wantUsed(t, s.fs, 10)
	// Another file finds no room either.
	g := open(t, s.fs, "g", wronly|creat)
	_, errno = write(t, g, "x")
	errnoIs(t, "write to second file at full quota", errno, errNoSpace)
	_, errno = g.Pwrite([]byte("x"), 0)
	errnoIs(t, "pwrite to second file at full quota", errno, errNoSpace)
}

func TestQuotaSparseWrites(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 100})
	f := open(t, s.fs, "sparse", rdwr|creat)
	// A hole counts: the apparent size is what is charged.
	if n, errno := f.Pwrite([]byte("x"), 49); n != 1 || errno != 0 {
		t.Fatalf("pwrite at 49 = %d, %v", n, errno)
	}
	wantUsed(t, s.fs, 50)
	_, errno := f.Pwrite([]byte("x"), 100)
	errnoIs(t, "pwrite starting at the quota", errno, errNoSpace)
	if _, errno := f.Seek(1<<40, io.SeekStart); errno != 0 {
		t.Fatal(errno)
	}
	_, errno = write(t, f, "x")
	errnoIs(t, "write after seeking a terabyte", errno, errNoSpace)
	wantUsed(t, s.fs, 50)
	if fi, err := os.Stat(s.host("sparse")); err != nil || fi.Size() != 50 {
		t.Errorf("host file: %v, %v", fi, err)
	}
}

func TestQuotaAppendHandlesShareCounter(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 25})
	a := open(t, s.fs, "log", wronly|creat|appnd)
	b := open(t, s.fs, "log", wronly|appnd)
	c := open(t, s.fs, "other", wronly|creat)
	written := 0
	for i := 0; i < 20; i++ {
		f := []experimentalsys.File{a, b, c}[i%3]
		n, errno := write(t, f, "abc")
		written += n
		if errno != 0 {
			errnoIs(t, "write at the quota", errno, errNoSpace)
		}
	}
	if written != 25 {
		t.Errorf("handles wrote %d bytes together, want 25", written)
	}
	log, other := s.readHost(t, "log"), s.readHost(t, "other")
	if len(log)+len(other) != 25 {
		t.Errorf("files hold %d + %d bytes, want 25", len(log), len(other))
	}
	wantUsed(t, s.fs, 25)
}

func TestQuotaTruncate(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 100})
	f := open(t, s.fs, "f", rdwr|creat)
	errnoIs(t, "grow within quota", f.Truncate(60), 0)
	wantUsed(t, s.fs, 60)
	errnoIs(t, "grow past quota", f.Truncate(101), errNoSpace)
	if fi, err := os.Stat(s.host("f")); err != nil || fi.Size() != 60 {
		t.Errorf("refused truncate changed the file: %v, %v", fi, err)
	}
	errnoIs(t, "shrink", f.Truncate(10), 0)
	wantUsed(t, s.fs, 10)
	errnoIs(t, "grow to exactly the quota", f.Truncate(100), 0)
	wantUsed(t, s.fs, 100)
}

func TestQuotaReleases(t *testing.T) {
	for _, tt := range []struct {
		name    string
		release func(t *testing.T, s *sandbox)
	}{
		{"O_TRUNC", func(t *testing.T, s *sandbox) {
			f := open(t, s.fs, "big", wronly|trunc)
			f.Close()
		}},
		{"unlink", func(t *testing.T, s *sandbox) {
			errnoIs(t, "Unlink", s.fs.Unlink("big"), 0)
		}},
		{"rename over it", func(t *testing.T, s *sandbox) {
			s.writeHost(t, "small", "")
			errnoIs(t, "Rename", s.fs.Rename("small", "big"), 0)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, Options{})
			s.writeHost(t, "big", strings.Repeat("x", 90))
			root, err := os.OpenRoot(s.root)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			s.fs = New(root, Options{QuotaBytes: 100})
			wantUsed(t, s.fs, 90)
			tt.release(t, s)
			wantUsed(t, s.fs, 0)
			f := open(t, s.fs, "new", wronly|creat)
			if n, errno := write(t, f, strings.Repeat("y", 100)); n != 100 || errno != 0 {
				t.Errorf("write after release = %d, %v", n, errno)
			}
		})
	}
}

func TestQuotaRenameKeepsBytes(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 100})
	f := open(t, s.fs, "a", wronly|creat)
	write(t, f, strings.Repeat("a", 40))
	errnoIs(t, "Mkdir", s.fs.Mkdir("d", 0o755), 0)
	errnoIs(t, "Rename into a directory", s.fs.Rename("a", "d/a"), 0)
	wantUsed(t, s.fs, 40)
	errnoIs(t, "Rename onto itself", s.fs.Rename("d/a", "d/a"), 0)
	wantUsed(t, s.fs, 40)
	errnoIs(t, "Rename onto a directory", s.fs.Rename("d/a", "."), experimentalsys.EISDIR)
	wantUsed(t, s.fs, 40)
	errnoIs(t, "Rename of a missing file over a file", s.fs.Rename("missing", "d/a"), experimentalsys.ENOENT)
	wantUsed(t, s.fs, 40)
}

func TestQuotaUnlinkedWhileOpen(t *testing.T) {
	s := newSandbox(t, Options{QuotaBytes: 100})
	f := open(t, s.fs, "tmp", rdwr|creat)
	reader := open(t, s.fs, "tmp", rdonly)
	write(t, f, strings.Repeat("x", 60))
	errnoIs(t, "Unlink", s.fs.Unlink("tmp"), 0)
	// The bytes stay on disk while a handle is open, so they still count,
	// and the orphan can still grow only within the quota.
	wantUsed(t, s.fs, 60)
	if n, errno := write(t, f, strings.Repeat("x", 50)); n != 40 || errno != 0 {
		t.Errorf("write to unlinked file = %d, %v; want 40, 0", n, errno)
	}
	g := open(t, s.fs, "other", wronly|creat)
	_, errno := write(t, g, "x")
	errnoIs(t, "write while the orphan fills the quota", errno, errNoSpace)
	errnoIs(t, "Close writer", f.Close(), 0)
	wantUsed(t, s.fs, 100)
	errnoIs(t, "Close last handle", reader.Close(), 0)
	wantUsed(t, s.fs, 0)
	if n, errno := write(t, g, strings.Repeat("y", 100)); n != 100 || errno != 0 {
		t.Errorf("write after the orphan closed = %d, %v", n, errno)
	}
}

func TestQuotaConcurrentHandles(t *testing.T) {
	const limit = 64 << 10
	s := newSandbox(t, Options{QuotaBytes: limit})
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 8 {
		f := open(t, s.fs, string(rune('a'+i)), wronly|creat)
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := []byte(strings.Repeat("z", 1000))
			for {
				n, errno := f.Write(chunk)
				mu.Lock()
				total += n
				mu.Unlock()
				if errno != 0 {
					if errno != errNoSpace {
						t.Errorf("write: %v", errno)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if total != limit {
		t.Errorf("goroutines wrote %d bytes, want %d", total, limit)
	}
	n, err := treeBytes(mustOpenRoot(t, s.root))
	if err != nil || n != limit {
		t.Errorf("tree holds %d bytes (%v), want %d", n, err, limit)
	}
	wantUsed(t, s.fs, limit)
}

func mustOpenRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func TestQuotaOffAndReadOnly(t *testing.T) {
	for _, opt := range []Options{{}, {ReadOnly: true, QuotaBytes: 1}} {
		s := newSandbox(t, opt)
		if q := s.fs.(*guestFS).quota; q != nil {
			t.Errorf("%+v: FS has a quota", opt)
		}
	}
	s := newSandbox(t, Options{})
	f := open(t, s.fs, "f", wronly|creat)
	if n, errno := write(t, f, strings.Repeat("x", 1<<20)); n != 1<<20 || errno != 0 {
		t.Errorf("write without quota = %d, %v", n, errno)
	}
}

func TestQuotaFailsClosedWhenTreeUnreadable(t *testing.T) {
	root := mustOpenRoot(t, t.TempDir())
	root.Close()
	fsys := New(root, Options{QuotaBytes: 100})
	wantUsed(t, fsys, 100)
}
