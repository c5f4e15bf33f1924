package fsscache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/fss"
)

func TestFetchMissThenHit(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(3<<20+17, 1)
	digest := srv.put("runs/1/scan.raw", data)
	c := openCache(t, t.TempDir(), srv, Options{})
	ctx := t.Context()

	h, err := c.Fetch(ctx, "runs/1/scan.raw")
	if err != nil {
		t.Fatal(err)
	}
	e := h.Entry()
	if e.Ref != "runs/1/scan.raw" || e.SHA256 != digest || e.Size != int64(len(data)) || e.ETag != `"sha256:`+digest+`"` {
		t.Errorf("entry = %+v", e)
	}
	if got := hashHandle(t, h); got != digest {
		t.Fatalf("content sha256 %s, want %s", got, digest)
	}
	blob := c.blobPath(digest)
	if fi, err := os.Stat(blob); err != nil || fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("blob %s: %v, mode %v; want a read-only file", blob, err, fi.Mode())
	}
	for range 3 {
		h, err := c.Fetch(ctx, "runs/1/scan.raw")
		if err != nil {
			t.Fatal(err)
		}
		if got := hashHandle(t, h); got != digest {
			t.Fatalf("hit: content sha256 %s, want %s", got, digest)
		}
	}
	st := c.Stats()
	want := Stats{Hits: 3, Misses: 1, Downloads: 1, BytesDownloaded: int64(len(data)), BytesServed: 4 * int64(len(data))}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	if n := srv.fullGets.Load(); n != 1 {
		t.Errorf("server answered %d GETs, want 1", n)
	}
	// Nothing of the download is left behind.
	if left, _ := os.ReadDir(filepath.Join(c.Dir(), "partial")); len(left) != 0 {
		t.Errorf("partial/ holds %d files after the download", len(left))
	}
}

func TestFetchErrors(t *testing.T) {
	srv := newTestServer(t)
	c := openCache(t, t.TempDir(), srv, Options{})
	tests := []struct {
		ref  string
		want error
	}{
		{"missing/file", fss.ErrNotFound},
		{"../escape", fss.ErrInvalidRef},
		{"", fss.ErrInvalidRef},
		{"a//b", fss.ErrInvalidRef},
	}
	for _, tt := range tests {
		_, err := c.Fetch(t.Context(), tt.ref)
		if !errors.Is(err, tt.want) {
			t.Errorf("Fetch(%q) = %v, want an error wrapping %v", tt.ref, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fsscache: fetch") {
			t.Errorf("Fetch(%q) error %q does not name the operation", tt.ref, err)
		}
	}
	if _, err := Open(t.TempDir(), Options{}); err == nil {
		t.Error("Open without Origin and not Offline succeeded")
	}
	if _, err := Open(t.TempDir(), Options{Offline: true, MaxBytes: -1}); err == nil {
		t.Error("Open with negative MaxBytes succeeded")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, layoutFile), []byte(`{"layout": 99}`), 0o644)
	if _, err := Open(dir, Options{Offline: true}); err == nil || !strings.Contains(err.Error(), "layout version 99") {
		t.Errorf("Open of a future layout: %v", err)
	}
}

func TestDigestMismatchIsNotCached(t *testing.T) {
	srv := newTestServer(t)
	srv.put("a/b", randomBytes(1<<20, 2))
	srv.lie("a/b", sha([]byte("something else")))
	c := openCache(t, t.TempDir(), srv, Options{})
	_, err := c.Fetch(t.Context(), "a/b")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Fetch of a file whose digest is wrong: %v, want ErrCorrupt", err)
	}
	entries, err := c.List(t.Context())
	if err != nil || len(entries) != 0 {
		t.Errorf("List = %v, %v; want no entries", entries, err)
	}
	if left, _ := os.ReadDir(filepath.Join(c.Dir(), "partial")); len(left) != 0 {
		t.Errorf("partial/ holds %d files after a failed download", len(left))
	}
}

func TestNewVersionIsDownloaded(t *testing.T) {
	srv := newTestServer(t)
	dir := t.TempDir()
	c := openCache(t, dir, srv, Options{})
	v1 := srv.put("f", []byte("version one"))
	if got := hashHandle(t, must(c.Fetch(t.Context(), "f"))); got != v1 {
		t.Fatalf("v1: got %s", got)
	}
	v2 := srv.put("f", []byte("version two, longer"))
	if got := hashHandle(t, must(c.Fetch(t.Context(), "f"))); got != v2 {
		t.Fatalf("v2: got %s", got)
	}
	entries, _ := c.List(t.Context())
	if len(entries) != 2 || entries[0].SHA256 != v2 {
		t.Errorf("entries = %+v, want v2 then v1", entries)
	}
	// Offline serves the most recently used version.
	off := openCache(t, dir, nil, Options{Offline: true})
	if got := hashHandle(t, must(off.Fetch(t.Context(), "f"))); got != v2 {
		t.Errorf("offline: got %s, want v2 %s", got, v2)
	}
}

func must(h *Handle, err error) *Handle {
	if err != nil {
		panic(err)
	}
	return h
}

func TestBitFlipIsCaughtAndRedownloaded(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(1<<20, 3)
	digest := srv.put("vol/x", data)
	dir := t.TempDir()
	ctx := t.Context()
	a := openCache(t, dir, srv, Options{})
	hashHandle(t, must(a.Fetch(ctx, "vol/x")))
	blob := a.blobPath(digest)

	// The same Cache notices: the write changed the ctime.
	flipBit(t, blob, 12345)
	if got := hashHandle(t, must(a.Fetch(ctx, "vol/x"))); got != digest {
		t.Fatalf("same cache served %s after a bit flip, want %s", got, digest)
	}
	if n := srv.fullGets.Load(); n != 2 {
		t.Errorf("GETs = %d, want 2 (one re-download)", n)
	}

	// Verify in another Cache finds and removes it.
	flipBit(t, blob, 99)
	b := openCache(t, dir, srv, Options{})
	res, err := b.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bad != 1 || res.Removed != 1 || res.Blobs != 1 {
		t.Errorf("Verify = %+v, want one bad blob and one removed entry", res)
	}
	if _, err := os.Stat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("corrupt blob still present: %v", err)
	}
	if got := hashHandle(t, must(b.Fetch(ctx, "vol/x"))); got != digest {
		t.Fatalf("after Verify: got %s", got)
	}
	if n := srv.fullGets.Load(); n != 3 {
		t.Errorf("GETs = %d, want 3", n)
	}

	// A fresh Cache (as a new process) re-hashes on first access.
	flipBit(t, blob, 1<<20-1)
	fresh := openCache(t, dir, srv, Options{})
	if got := hashHandle(t, must(fresh.Fetch(ctx, "vol/x"))); got != digest {
		t.Fatalf("fresh cache served %s, want %s", got, digest)
	}
	if n, st := srv.fullGets.Load(), fresh.Stats(); n != 4 || st.Corrupt != 1 || st.Downloads != 1 {
		t.Errorf("GETs = %d, stats %+v; want a fourth GET, one corrupt blob, one download", n, st)
	}

	// VerifyEntry reports and removes, then finds nothing.
	flipBit(t, blob, 0)
	if err := fresh.VerifyEntry(ctx, "vol/x"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("VerifyEntry of a flipped blob: %v, want ErrCorrupt", err)
	}
	if err := fresh.VerifyEntry(ctx, "vol/x"); !errors.Is(err, ErrNotCached) {
		t.Errorf("VerifyEntry after removal: %v, want ErrNotCached", err)
	}
	if got := hashHandle(t, must(fresh.Fetch(ctx, "vol/x"))); got != digest {
		t.Fatal("fetch after VerifyEntry")
	}
	if err := fresh.VerifyEntry(ctx, "vol/x"); err != nil {
		t.Errorf("VerifyEntry of a good entry: %v", err)
	}
}

func TestTruncatedBlobIsNotServed(t *testing.T) {
	srv := newTestServer(t)
	digest := srv.put("t", randomBytes(2<<20, 4))
	dir := t.TempDir()
	c := openCache(t, dir, srv, Options{})
	hashHandle(t, must(c.Fetch(t.Context(), "t")))
	blob := c.blobPath(digest)
	os.Chmod(blob, 0o644)
	if err := os.Truncate(blob, 1<<20); err != nil {
		t.Fatal(err)
	}
	// Offline, there is nothing intact to serve.
	off := openCache(t, dir, nil, Options{Offline: true})
	if _, err := off.Fetch(t.Context(), "t"); !errors.Is(err, ErrNotCached) {
		t.Errorf("offline Fetch of a truncated blob: %v, want ErrNotCached", err)
	}
	if got := hashHandle(t, must(c.Fetch(t.Context(), "t"))); got != digest {
		t.Fatalf("got %s after truncation", got)
	}
	if n := srv.fullGets.Load(); n != 2 {
		t.Errorf("GETs = %d, want 2", n)
	}
}

func TestOffline(t *testing.T) {
	srv := newTestServer(t)
	digest := srv.put("here", randomBytes(100_000, 5))
	srv.put("not/fetched", []byte("x"))
	dir := t.TempDir()
	online := openCache(t, dir, srv, Options{})
	hashHandle(t, must(online.Fetch(t.Context(), "here")))

	origin := &countingOrigin{Origin: newOrigin(srv.URL)}
	c := openCache(t, dir, srv, Options{Origin: origin, Offline: true})
	before := srv.requests.Load()
	if got := hashHandle(t, must(c.Fetch(t.Context(), "here"))); got != digest {
		t.Fatalf("offline hit: got %s", got)
	}
	start := time.Now()
	_, err := c.Fetch(t.Context(), "not/fetched")
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "offline") {
		t.Errorf("offline miss: %v, want ErrNotCached naming offline mode", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("offline miss took %v", d)
	}
	if n := srv.requests.Load() - before; n != 0 || origin.calls.Load() != 0 {
		t.Errorf("offline mode made %d requests, %d origin calls", n, origin.calls.Load())
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("stats %+v", st)
	}
	// Offline needs no origin.
	if _, err := Open(dir, Options{Offline: true, Name: "test-fss"}); err != nil {
		t.Error(err)
	}
}

func TestCancelledCallerDoesNotCancelOthers(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(4<<20, 6)
	digest := srv.put("slow", data)
	srv.throttle.Store(8 << 20) // half a second
	c := openCache(t, t.TempDir(), srv, Options{})

	ctxA, cancelA := context.WithCancel(t.Context())
	errA := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctxA, "slow")
		errA <- err
	}()
	type result struct {
		h   *Handle
		err error
	}
	resB := make(chan result, 1)
	go func() {
		h, err := c.Fetch(t.Context(), "slow")
		resB <- result{h, err}
	}()
	waitFor(t, "the download to start", 5*time.Second, func() bool { return c.Stats().BytesDownloaded > 0 })
	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
	case <-time.After(300 * time.Millisecond):
		t.Error("the cancelled caller still waits")
	}
	r := <-resB
	if r.err != nil {
		t.Fatalf("the other caller failed: %v", r.err)
	}
	if got := hashHandle(t, r.h); got != digest {
		t.Fatalf("got %s", got)
	}
	if n := srv.fullGets.Load() + srv.rangeGets.Load(); n != 1 {
		t.Errorf("server answered %d GETs, want 1", n)
	}
}

func TestAbandonedDownloadResumes(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(4<<20, 7)
	digest := srv.put("slow", data)
	srv.throttle.Store(4 << 20)
	c := openCache(t, t.TempDir(), srv, Options{})

	// The only caller gives up: the download stops and keeps its partial file.
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for c.Stats().BytesDownloaded <= 1<<20 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := c.Fetch(ctx, "slow"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
	key := c.key("slow", `"sha256:`+digest+`"`)
	var sc sidecar
	waitFor(t, "a checkpoint", 5*time.Second, func() bool {
		var err error
		sc, err = readSidecar(c.sidecarPath(key))
		return err == nil && sc.Offset > 0
	})

	srv.throttle.Store(0)
	fresh := openCache(t, c.Dir(), srv, Options{})
	if got := hashHandle(t, must(fresh.Fetch(t.Context(), "slow"))); got != digest {
		t.Fatalf("resumed download: got %s", got)
	}
	st := fresh.Stats()
	if st.Resumes != 1 || srv.ifRange.Load() != 1 || srv.rangeGets.Load() != 1 {
		t.Errorf("resumes %d, If-Range requests %d, 206 answers %d; want 1 each", st.Resumes, srv.ifRange.Load(), srv.rangeGets.Load())
	}
	if st.BytesDownloaded > int64(len(data))-sc.Offset {
		t.Errorf("downloaded %d bytes; the checkpoint had %d of %d", st.BytesDownloaded, sc.Offset, len(data))
	}
}

func TestCutConnectionResumes(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(3<<20, 12)
	digest := srv.put("cut", data)
	srv.cut.Store(1<<20 + 4096)
	c := openCache(t, t.TempDir(), srv, Options{})
	if _, err := c.Fetch(t.Context(), "cut"); err == nil {
		t.Fatal("Fetch over a cut connection succeeded")
	}
	sc, err := readSidecar(c.sidecarPath(c.key("cut", `"sha256:`+digest+`"`)))
	// The server may lose its last buffered bytes when the connection breaks;
	// whatever arrived must be kept.
	if err != nil || sc.Offset < 1<<20 || sc.Offset > 1<<20+4096 {
		t.Fatalf("sidecar after the cut: %+v, %v; want what was received kept", sc, err)
	}
	if got := hashHandle(t, must(c.Fetch(t.Context(), "cut"))); got != digest {
		t.Fatalf("got %s", got)
	}
	if st := c.Stats(); st.Resumes != 1 || st.BytesDownloaded != int64(len(data)) {
		t.Errorf("stats %+v: want one resume and every byte downloaded once", st)
	}
}

func TestResumeRefusedStartsOver(t *testing.T) {
	srv := newTestServer(t)
	data := randomBytes(2<<20, 8)
	digest := srv.put("r", data)
	c := openCache(t, t.TempDir(), srv, Options{})
	key := c.key("r", `"sha256:`+digest+`"`)
	// A partial file from an earlier process, of the right version, with
	// wrong bytes: a server that answers the resume with the whole file must
	// replace them.
	os.WriteFile(c.partPath(key), make([]byte, 1<<20), 0o644)
	writeSidecar(c.sidecarPath(key), sidecar{Ref: "r", ETag: `"sha256:` + digest + `"`, Size: int64(len(data)), Offset: 1 << 20})
	srv.ignoreRange.Store(true)
	if got := hashHandle(t, must(c.Fetch(t.Context(), "r"))); got != digest {
		t.Fatalf("got %s", got)
	}
	if st := c.Stats(); st.Resumes != 0 || srv.ifRange.Load() != 1 || srv.fullGets.Load() != 1 {
		t.Errorf("resumes %d, If-Range requests %d, full answers %d; want 0, 1, 1", st.Resumes, srv.ifRange.Load(), srv.fullGets.Load())
	}
}

func TestEvictionKeepsBoundAndPins(t *testing.T) {
	srv := newTestServer(t)
	const mib = 1 << 20
	pinnedDigest := srv.put("pinned", randomBytes(2*mib, 9))
	for i := range 24 {
		srv.put("stream/"+string(rune('a'+i)), randomBytes(mib, uint64(100+i)))
	}
	c := openCache(t, t.TempDir(), srv, Options{MaxBytes: 8 * mib, LowWater: 6 * mib})
	ctx := t.Context()
	pinned, err := c.Fetch(ctx, "pinned")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 24 {
		h, err := c.Fetch(ctx, "stream/"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
		u, err := c.Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u.Bytes > 8*mib {
			t.Fatalf("after file %d the blobs take %d bytes, more than MaxBytes", i, u.Bytes)
		}
		if u.Pinned != 1 || u.PinnedBytes != 2*mib {
			t.Fatalf("usage %+v, want the one pinned blob", u)
		}
	}
	if st := c.Stats(); st.Evictions < 10 {
		t.Errorf("evictions = %d", st.Evictions)
	}
	if _, err := os.Stat(c.blobPath(pinnedDigest)); err != nil {
		t.Fatalf("pinned blob was evicted: %v", err)
	}
	// It is the least recently used: unpinned, it goes first.
	if got := hashHandle(t, pinned); got != pinnedDigest {
		t.Fatalf("pinned content %s", got)
	}
	res, err := openCache(t, c.Dir(), srv, Options{MaxBytes: 4 * mib, LowWater: 3 * mib}).GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Remaining > 3*mib || res.Evicted == 0 {
		t.Errorf("GC = %+v", res)
	}
	if _, err := os.Stat(c.blobPath(pinnedDigest)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unpinned LRU blob survived GC: %v", err)
	}
}

func TestClearSparesPinsOfOtherCaches(t *testing.T) {
	srv := newTestServer(t)
	keep := srv.put("keep", randomBytes(300_000, 10))
	drop := srv.put("drop", randomBytes(300_000, 11))
	dir := t.TempDir()
	a := openCache(t, dir, srv, Options{})
	h := must(a.Fetch(t.Context(), "keep"))
	defer h.Close()
	hashHandle(t, must(a.Fetch(t.Context(), "drop")))

	// Another Cache on the same directory, as another process would have.
	b := openCache(t, dir, srv, Options{})
	res, err := b.Clear(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Evicted != 1 || res.Pinned != 1 {
		t.Errorf("Clear = %+v, want one evicted and one pinned", res)
	}
	if _, err := os.Stat(b.blobPath(keep)); err != nil {
		t.Errorf("pinned blob removed: %v", err)
	}
	if _, err := os.Stat(b.blobPath(drop)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unpinned blob kept: %v", err)
	}
	entries, _ := b.List(t.Context())
	if len(entries) != 1 || entries[0].Ref != "keep" {
		t.Errorf("entries after Clear = %+v", entries)
	}
}

func TestStore(t *testing.T) {
	srv := newTestServer(t)
	origin := newOrigin(srv.URL)
	c := openCache(t, t.TempDir(), srv, Options{Origin: origin})
	s := NewStore(c, origin)
	ctx := t.Context()
	data := []byte("a table,of,values\n")
	info, err := s.Put(ctx, "out/table.csv", strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != sha(data) || info.Ref != "out/table.csv" {
		t.Errorf("Put = %+v", info)
	}
	st, err := s.Stat(ctx, "out/table.csv")
	if err != nil || st.Size != int64(len(data)) || st.SHA256 != sha(data) {
		t.Errorf("Stat = %+v, %v", st, err)
	}
	f, err := s.Fetch(ctx, "out/table.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != string(data) {
		t.Errorf("Fetch = %q", got)
	}
	if _, err := s.Stat(ctx, "nope"); !errors.Is(err, fss.ErrNotFound) {
		t.Errorf("Stat of a missing ref: %v", err)
	}
	if _, err := s.Put(ctx, "../x", strings.NewReader("")); !errors.Is(err, fss.ErrInvalidRef) {
		t.Errorf("Put of a bad ref: %v", err)
	}
	off := NewStore(openCache(t, c.Dir(), nil, Options{Offline: true}), nil)
	if st, err := off.Stat(ctx, "out/table.csv"); err != nil || st.SHA256 != sha(data) {
		t.Errorf("offline Stat = %+v, %v", st, err)
	}
	if _, err := off.Put(ctx, "x", strings.NewReader("")); err == nil {
		t.Error("offline Put succeeded")
	}
}

func TestManyGoroutinesManyFiles(t *testing.T) {
	srv := newTestServer(t)
	digests := map[string]string{}
	for i := range 8 {
		ref := "f/" + string(rune('0'+i))
		digests[ref] = srv.put(ref, randomBytes(200_000+i, uint64(i)))
	}
	c := openCache(t, t.TempDir(), srv, Options{MaxBytes: 1 << 20, LowWater: 600_000})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				ref := "f/" + string(rune('0'+(g+i)%8))
				h, err := c.Fetch(t.Context(), ref)
				if err != nil {
					t.Error(err)
					return
				}
				if got := hashHandle(t, h); got != digests[ref] {
					t.Errorf("%s: got %s", ref, got)
				}
			}
		})
	}
	wg.Wait()
	if res, err := c.Verify(t.Context()); err != nil || res.Bad != 0 {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}

func TestClosedCache(t *testing.T) {
	srv := newTestServer(t)
	srv.put("x", []byte("x"))
	c := openCache(t, t.TempDir(), srv, Options{})
	c.Close()
	if _, err := c.Fetch(t.Context(), "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Fetch after Close: %v", err)
	}
}
