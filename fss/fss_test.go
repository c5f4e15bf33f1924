package fss

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newDir opens a store on a fresh directory named "root" inside a temp dir,
// next to a directory "outside" holding a file "secret" that no operation
// on the store may reach.
func newDir(t *testing.T) (d *Dir, rootPath, outside string) {
	t.Helper()
	base := t.TempDir()
	rootPath = filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, p := range []string{rootPath, outside} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, rootPath, outside
}

func TestPutFetchStatRoundTrip(t *testing.T) {
	d, rootPath, _ := newDir(t)
	ctx := context.Background()

	// Larger than one copy chunk so the hash covers several writes.
	data := bytes.Repeat([]byte("0123456789abcdef"), copyChunk/16*2+7)
	sum := sha256.Sum256(data)
	wantSum := hex.EncodeToString(sum[:])

	const ref = "runs/17/scan.omni"
	before := time.Now().Add(-time.Second)
	info, err := d.Put(ctx, ref, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info.Ref != ref || info.Size != int64(len(data)) || info.SHA256 != wantSum {
		t.Errorf("Put info = %+v, want ref %q size %d sha256 %s", info, ref, len(data), wantSum)
	}
	if info.ModTime.Before(before) {
		t.Errorf("Put ModTime %v is before the Put started (%v)", info.ModTime, before)
	}

	onDisk, err := os.ReadFile(filepath.Join(rootPath, "runs", "17", "scan.omni"))
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("file on disk: err %v, %d bytes, want %d bytes", err, len(onDisk), len(data))
	}

	f, err := d.Fetch(ctx, ref)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Fetch content: err %v, %d bytes, want %d", err, len(got), len(data))
	}

	st, err := d.Stat(ctx, ref)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.Ref != ref || st.Size != info.Size || !st.ModTime.Equal(info.ModTime) {
		t.Errorf("Stat = %+v, want ref, size and mtime of %+v", st, info)
	}

	// A second Put replaces the content.
	info2, err := d.Put(ctx, ref, strings.NewReader("short"))
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	sum2 := sha256.Sum256([]byte("short"))
	if info2.Size != 5 || info2.SHA256 != hex.EncodeToString(sum2[:]) {
		t.Errorf("second Put info = %+v", info2)
	}
	if got, _ := os.ReadFile(filepath.Join(rootPath, "runs", "17", "scan.omni")); string(got) != "short" {
		t.Errorf("after second Put file holds %q", got)
	}
	assertNoTempFiles(t, rootPath)
}

func TestPutEmptyAtTopLevel(t *testing.T) {
	d, rootPath, _ := newDir(t)
	info, err := d.Put(context.Background(), "empty.csv", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 0 || info.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("info = %+v", info)
	}
	if fi, err := os.Stat(filepath.Join(rootPath, "empty.csv")); err != nil || fi.Size() != 0 {
		t.Errorf("stat empty.csv: %v %v", fi, err)
	}
}

func TestValidRef(t *testing.T) {
	tests := []struct {
		ref  string
		rule string // substring of the error; "" means valid
	}{
		{"a", ""},
		{"runs/17/scan.omni", ""},
		{".hidden/x..y/...", ""},
		{strings.Repeat("a", MaxRefLen), ""},
		{"", "empty"},
		{strings.Repeat("a", MaxRefLen+1), "longer than 1024 bytes"},
		{"a/b\x00c", "NUL"},
		{`a\b`, "backslash"},
		{`..\etc`, "backslash"},
		{"/etc/passwd", "absolute"},
		{"/", "absolute"},
		{"a//b", "empty element"},
		{"a/b/", "empty element"},
		{"./a", `"." element`},
		{"a/./b", `"." element`},
		{".", `"." element`},
		{"..", `".." element`},
		{"a/../b", `".." element`},
		{"a/..", `".." element`},
	}
	for _, tt := range tests {
		err := ValidRef(tt.ref)
		if tt.rule == "" {
			if err != nil {
				t.Errorf("ValidRef(%q) = %v, want nil", tt.ref, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.rule) || !errors.Is(err, ErrInvalidRef) {
			t.Errorf("ValidRef(%q) = %v, want ErrInvalidRef mentioning %q", tt.ref, err, tt.rule)
		}
	}
}

func TestOperationsRejectInvalidRefs(t *testing.T) {
	d, rootPath, _ := newDir(t)
	ctx := context.Background()
	for _, ref := range []string{"../outside/secret", "/etc/passwd", "a//b", `a\b`} {
		if _, err := d.Fetch(ctx, ref); !errors.Is(err, ErrInvalidRef) || !strings.Contains(err.Error(), `fss: fetch "`) {
			t.Errorf("Fetch(%q) = %v, want fetch error wrapping ErrInvalidRef", ref, err)
		}
		if _, err := d.Stat(ctx, ref); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidRef", ref, err)
		}
		if _, err := d.Put(ctx, ref, strings.NewReader("x")); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("Put(%q) = %v, want ErrInvalidRef", ref, err)
		}
	}
	assertEmptyDir(t, rootPath)
}

func TestNotFound(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if _, err := d.Put(ctx, "runs/1/present", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"missing", "runs/1/x.omni", "runs/2/x.omni"} {
		_, err := d.Fetch(ctx, ref)
		checkNotFound(t, "Fetch", ref, err)
		_, err = d.Stat(ctx, ref)
		checkNotFound(t, "Stat", ref, err)
	}
	_, err := d.Fetch(ctx, "runs/1/x.omni")
	if want := `fss: fetch "runs/1/x.omni": not found`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Fetch error = %v, want prefix %q", err, want)
	}
}

func checkNotFound(t *testing.T, op, ref string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s(%q) = %v, want an error wrapping ErrNotFound and fs.ErrNotExist", op, ref, err)
	}
}

func TestDirectoriesAreNotFiles(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if _, err := d.Put(ctx, "runs/1/x", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if f, err := d.Fetch(ctx, "runs/1"); err == nil {
		f.Close()
		t.Error("Fetch of a directory succeeded")
	}
	if _, err := d.Stat(ctx, "runs"); err == nil {
		t.Error("Stat of a directory succeeded")
	}
	if _, err := d.Put(ctx, "runs/1", strings.NewReader("x")); err == nil {
		t.Error("Put over a directory succeeded")
	}
	// A file standing where Put needs a directory.
	if _, err := d.Put(ctx, "runs/1/x/y", strings.NewReader("x")); err == nil {
		t.Error("Put below a file succeeded")
	}
}

func TestSymlinkEscapesRefused(t *testing.T) {
	d, rootPath, outside := newDir(t)
	ctx := context.Background()
	secret := filepath.Join(outside, "secret")
	mustSymlink(t, secret, filepath.Join(rootPath, "abs"))
	mustSymlink(t, filepath.Join("..", "outside", "secret"), filepath.Join(rootPath, "rel"))
	mustSymlink(t, outside, filepath.Join(rootPath, "absdir"))
	mustSymlink(t, filepath.Join("..", "outside"), filepath.Join(rootPath, "reldir"))
	// A dangling link whose target would be created outside the root.
	mustSymlink(t, filepath.Join(outside, "new"), filepath.Join(rootPath, "dangling"))

	for _, ref := range []string{"abs", "rel", "absdir/secret", "reldir/secret", "dangling"} {
		if f, err := d.Fetch(ctx, ref); err == nil {
			f.Close()
			t.Errorf("Fetch(%q) succeeded through a link leaving the root", ref)
		} else if errors.Is(err, ErrNotFound) && ref != "dangling" {
			t.Errorf("Fetch(%q) = %v; an escape must not look like a missing file", ref, err)
		}
		if _, err := d.Stat(ctx, ref); err == nil {
			t.Errorf("Stat(%q) succeeded through a link leaving the root", ref)
		}
	}
	for _, ref := range []string{"abs", "rel", "absdir/secret", "reldir/secret", "absdir/new", "reldir/sub/new", "dangling"} {
		if _, err := d.Put(ctx, ref, strings.NewReader("overwritten")); err == nil {
			t.Errorf("Put(%q) succeeded through a link leaving the root", ref)
		}
	}
	if got, err := os.ReadFile(secret); err != nil || string(got) != "secret" {
		t.Errorf("outside file now holds %q (err %v)", got, err)
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 1 {
		t.Errorf("outside dir has %d entries (err %v), want only secret", len(entries), err)
	}
	// The links themselves must still be links (not replaced by Put).
	for _, name := range []string{"abs", "rel", "dangling"} {
		if fi, err := os.Lstat(filepath.Join(rootPath, name)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v %v", name, fi, err)
		}
	}
	assertNoTempFiles(t, rootPath)
}

func TestSymlinksInsideRootWork(t *testing.T) {
	d, rootPath, _ := newDir(t)
	ctx := context.Background()
	if _, err := d.Put(ctx, "runs/1/data.csv", strings.NewReader("a,b\n")); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, filepath.Join("runs", "1", "data.csv"), filepath.Join(rootPath, "latest.csv"))
	mustSymlink(t, filepath.Join("..", "runs", "1"), filepath.Join(rootPath, "runs", "current"))

	for _, ref := range []string{"latest.csv", "runs/current/data.csv"} {
		f, err := d.Fetch(ctx, ref)
		if err != nil {
			t.Errorf("Fetch(%q): %v", ref, err)
			continue
		}
		got, _ := io.ReadAll(f)
		f.Close()
		if string(got) != "a,b\n" {
			t.Errorf("Fetch(%q) = %q", ref, got)
		}
	}
	if _, err := d.Put(ctx, "runs/current/more.csv", strings.NewReader("c")); err != nil {
		t.Errorf("Put through an inside directory link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rootPath, "runs", "1", "more.csv")); err != nil {
		t.Errorf("Put through runs/current did not land in runs/1: %v", err)
	}
}

// failingReader yields n bytes and then fails.
type failingReader struct{ n int }

var errBrokenPipe = errors.New("upstream broke")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errBrokenPipe
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestPutFailingReaderLeavesNothing(t *testing.T) {
	d, rootPath, _ := newDir(t)
	ctx := context.Background()

	_, err := d.Put(ctx, "runs/9/out.csv", &failingReader{n: 3*copyChunk + 5})
	if !errors.Is(err, errBrokenPipe) || !strings.HasPrefix(err.Error(), `fss: put "runs/9/out.csv": `) {
		t.Fatalf("Put = %v, want wrapped reader error", err)
	}
	assertEmptyDir(t, filepath.Join(rootPath, "runs", "9"))

	// A failed replacement keeps the old content.
	if _, err := d.Put(ctx, "keep", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(ctx, "keep", &failingReader{n: 10}); err == nil {
		t.Fatal("Put from failing reader succeeded")
	}
	if got, _ := os.ReadFile(filepath.Join(rootPath, "keep")); string(got) != "old" {
		t.Errorf("keep = %q after failed Put, want old", got)
	}
	assertNoTempFiles(t, rootPath)
}

func TestContextCancelled(t *testing.T) {
	d, rootPath, _ := newDir(t)
	if _, err := d.Put(context.Background(), "present", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Fetch(ctx, "present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch = %v, want context.Canceled", err)
	}
	if _, err := d.Stat(ctx, "present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat = %v, want context.Canceled", err)
	}
	if _, err := d.Put(ctx, "new", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(filepath.Join(rootPath, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cancelled Put created the file: %v", err)
	}
}

// cancellingReader cancels its context after the first chunk it returns.
type cancellingReader struct {
	cancel context.CancelFunc
	reads  int
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	r.reads++
	if r.reads > 1 {
		r.cancel()
	}
	return len(p), nil // an endless stream
}

func TestContextCancelledMidCopy(t *testing.T) {
	d, rootPath, _ := newDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancellingReader{cancel: cancel}
	_, err := d.Put(ctx, "runs/1/big", r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	if r.reads > 3 {
		t.Errorf("reader was read %d times after cancellation", r.reads)
	}
	assertEmptyDir(t, filepath.Join(rootPath, "runs", "1"))
}

func TestClosedAndZeroDir(t *testing.T) {
	ctx := context.Background()
	var zero Dir
	if _, err := zero.Fetch(ctx, "a"); err == nil {
		t.Error("Fetch on zero Dir succeeded")
	}
	if _, err := zero.Put(ctx, "a", strings.NewReader("")); err == nil {
		t.Error("Put on zero Dir succeeded")
	}
	if err := zero.Close(); err != nil {
		t.Errorf("Close on zero Dir: %v", err)
	}

	d, _, _ := newDir(t)
	d.Close()
	if _, err := d.Stat(ctx, "a"); err == nil {
		t.Error("Stat on closed Dir succeeded")
	}

	if _, err := OpenDir(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "fss: open dir") {
		t.Errorf("OpenDir(missing) = %v", err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s: unexpected entry %q", dir, e.Name())
	}
}

func assertNoTempFiles(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".fss-put-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// FuzzValidRef checks that every accepted ref is a clean, local,
// slash-separated path, which is what lets all stores agree on it.
func FuzzValidRef(f *testing.F) {
	for _, seed := range []string{"runs/17/scan.omni", "a", "", "/", "..", "a/../b", "a//b", `a\b`, "a/./b", "a\x00", ".x/..y"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if ValidRef(ref) != nil {
			return
		}
		if len(ref) > MaxRefLen || strings.ContainsAny(ref, "\\\x00") {
			t.Errorf("accepted %q with a forbidden byte or length", ref)
		}
		if path.Clean(ref) != ref || path.IsAbs(ref) || ref == "." || ref == ".." || strings.HasPrefix(ref, "../") {
			t.Errorf("accepted %q, which is not a clean local path", ref)
		}
	})
}
