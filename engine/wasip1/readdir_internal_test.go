package wasip1

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type record struct {
	next uint64
	name string
	typ  uint8
}

// parseRecords decodes the complete records of an fd_readdir result.
func parseRecords(buf []byte) []record {
	var out []record
	for len(buf) >= direntSize {
		n := int(le.Uint32(buf[16:]))
		if direntSize+n > len(buf) {
			break
		}
		out = append(out, record{next: le.Uint64(buf), name: string(buf[direntSize : direntSize+n]), typ: buf[20]})
		buf = buf[direntSize+n:]
	}
	return out
}

// bigDir fills scratch/big with n empty files of varying name lengths
// and returns the expected names, "." and ".." included.
func bigDir(t *testing.T, scratch string, n int) map[string]uint8 {
	t.Helper()
	want := map[string]uint8{".": filetypeDirectory, "..": filetypeDirectory, "sub": filetypeDirectory}
	if err := os.MkdirAll(filepath.Join(scratch, "big", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("%04d%s", i, strings.Repeat("n", i%41))
		if err := os.WriteFile(filepath.Join(scratch, "big", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = filetypeRegularFile
	}
	return want
}

// readAll lists a directory the way wasi-libc does: follow the d_next of
// the last complete record, and grow the buffer when not even one record
// fits.
func readAll(t *testing.T, e *testEnv, fd uint32, bufLen uint32) []record {
	t.Helper()
	const bufPtr, resultPtr = 8192, 4096
	var out []record
	cookie := uint64(0)
	for range 100000 {
		en := e.call(t, "fd_readdir", uint64(fd), bufPtr, uint64(bufLen), cookie, resultPtr)
		if en != errnoSuccess {
			t.Fatalf("fd_readdir(cookie %d, buffer %d): %v", cookie, bufLen, en)
		}
		used := e.mem.u32(resultPtr)
		if used > bufLen {
			t.Fatalf("bufused %d > buffer %d", used, bufLen)
		}
		recs := parseRecords(e.mem[bufPtr : bufPtr+used])
		out = append(out, recs...)
		if used < bufLen {
			return out // the end: a full buffer would mean more may follow
		}
		if len(recs) == 0 {
			bufLen *= 2 // a record larger than the buffer
			continue
		}
		cookie = recs[len(recs)-1].next
	}
	t.Fatal("fd_readdir never reached the end")
	return nil
}

func TestReaddirBufferSizes(t *testing.T) {
	e := newEnv(t, 0)
	want := bigDir(t, e.scratch, 300)
	for _, size := range []uint32{24, 25, 47, 64, 100, 333, 1000, 4096, 40000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			fd, en := e.open(t, "big", oflagDirectory, rightFdReaddir)
			if en != 0 {
				t.Fatal(en)
			}
			defer e.call(t, "fd_close", uint64(fd))
			recs := readAll(t, e, fd, size)
			got := map[string]uint8{}
			for i, r := range recs {
				if _, dup := got[r.name]; dup {
					t.Errorf("%q listed twice", r.name)
				}
				got[r.name] = r.typ
				if r.next != uint64(i+1) {
					t.Errorf("record %d (%q) has d_next %d, want %d", i, r.name, r.next, i+1)
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("listed %d entries, want %d; first names %v", len(got), len(want), slices.Sorted(maps.Keys(got))[:min(5, len(got))])
			}
			if recs[0].name != "." || recs[1].name != ".." {
				t.Errorf("first entries %q, %q; want . and ..", recs[0].name, recs[1].name)
			}
		})
	}
}

// TestReaddirCookies asks for entries from cookies in an arbitrary order,
// before and after the entries the stream keeps, as telldir/seekdir allow.
func TestReaddirCookies(t *testing.T) {
	e := newEnv(t, 0)
	bigDir(t, e.scratch, 400)
	fd, en := e.open(t, "big", oflagDirectory, 0)
	if en != 0 {
		t.Fatal(en)
	}
	all := readAll(t, e, fd, 4096)
	const bufPtr, resultPtr = 8192, 4096
	for _, cookie := range []uint64{350, 3, 0, 402, 1, 260, 259, 130, 127, 128, 401, 403, 1 << 40, 5, 2} {
		en := e.call(t, "fd_readdir", uint64(fd), bufPtr, 200, cookie, resultPtr)
		if en != errnoSuccess {
			t.Fatalf("cookie %d: %v", cookie, en)
		}
		used := e.mem.u32(resultPtr)
		recs := parseRecords(e.mem[bufPtr : bufPtr+used])
		if cookie >= uint64(len(all)) {
			if used != 0 {
				t.Errorf("cookie %d past the end: %d bytes", cookie, used)
			}
			continue
		}
		if len(recs) == 0 {
			t.Errorf("cookie %d: no complete record in %d bytes", cookie, used)
			continue
		}
		if recs[0] != all[cookie] {
			t.Errorf("cookie %d: got %+v, want %+v", cookie, recs[0], all[cookie])
		}
	}
}

// TestReaddirSeesNewEntries checks that cookie 0 rewinds the directory
// rather than replaying what was read before.
func TestReaddirSeesNewEntries(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"d/a": ""})
	fd, en := e.open(t, "d", oflagDirectory, 0)
	if en != 0 {
		t.Fatal(en)
	}
	if n := len(readAll(t, e, fd, 4096)); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	writeFiles(t, e.scratch, map[string]string{"d/b": ""})
	if n := len(readAll(t, e, fd, 4096)); n != 4 {
		t.Errorf("after adding an entry: %d entries, want 4", n)
	}
}

func TestReaddirErrors(t *testing.T) {
	e := newEnv(t, 0)
	writeFiles(t, e.scratch, map[string]string{"f": "x"})
	file, en := e.open(t, "f", 0, rightFdRead)
	if en != 0 {
		t.Fatal(en)
	}
	for _, c := range []struct {
		name   string
		params []uint64
		want   errno
	}{
		{"buffer below one header", []uint64{fdScratch, 0, 23, 0, 100}, errnoInval},
		{"regular file", []uint64{uint64(file), 0, 100, 0, 200}, errnoBadf},
		{"stdout", []uint64{1, 0, 100, 0, 200}, errnoBadf},
		{"closed descriptor", []uint64{77, 0, 100, 0, 200}, errnoBadf},
		{"buffer outside memory", []uint64{fdScratch, 65500, 100, 0, 0}, errnoFault},
		{"result outside memory", []uint64{fdScratch, 0, 100, 0, 65534}, errnoFault},
		{"read-only mount", []uint64{fdInputs, 0, 100, 0, 200}, errnoSuccess},
	} {
		if got := e.call(t, "fd_readdir", c.params...); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
