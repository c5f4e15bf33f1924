package fsscache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The helper process: a second program using the same cache directory.
// It is this test binary, re-executed with FSSCACHE_HELPER set.
const helperEnv = "FSSCACHE_HELPER"

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "fetch" {
		t.Skip("run as a helper process by other tests")
	}
	if err := helperFetch(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperFetch fetches FSSCACHE_REF into FSSCACHE_DIR from FSSCACHE_URL,
// compares the ends of the result with FSSCACHE_SRC and prints
// "ok <sha256> <size>".
func helperFetch() error {
	c, err := Open(os.Getenv("FSSCACHE_DIR"), Options{Origin: newOrigin(os.Getenv("FSSCACHE_URL")), Name: "test-fss"})
	if err != nil {
		return err
	}
	defer c.Close()
	if cp := os.Getenv("FSSCACHE_CHECKPOINT"); cp != "" {
		if c.checkpoint, err = strconv.ParseInt(cp, 10, 64); err != nil {
			return err
		}
	}
	h, err := c.Fetch(context.Background(), os.Getenv("FSSCACHE_REF"))
	if err != nil {
		return err
	}
	defer h.Close()
	src, err := os.Open(os.Getenv("FSSCACHE_SRC"))
	if err != nil {
		return err
	}
	defer src.Close()
	for _, off := range []int64{0, h.Size() - 1<<20} {
		a, b := make([]byte, 1<<20), make([]byte, 1<<20)
		if _, err := h.ReadAt(a, max(off, 0)); err != nil && err != io.EOF {
			return err
		}
		if _, err := src.ReadAt(b, max(off, 0)); err != nil && err != io.EOF {
			return err
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("content at %d differs from the source", off)
		}
	}
	fmt.Printf("ok %s %d\n", h.Entry().SHA256, h.Size())
	return nil
}

// helper starts the helper process.
func helper(t *testing.T, dir, url, ref, src string, extraEnv ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=fetch", "FSSCACHE_DIR="+dir, "FSSCACHE_URL="+url,
		"FSSCACHE_REF="+ref, "FSSCACHE_SRC="+src)
	cmd.Env = append(cmd.Env, extraEnv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func TestConcurrentFetchAcrossProcesses(t *testing.T) {
	size := int64(200 << 20)
	if testing.Short() {
		size = 16 << 20
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src.raw")
	digest := writeRandomFile(t, src, size, 42)
	srv := newTestServer(t)
	const ref, goroutines, children = "vol/big.raw", 32, 4
	srv.putFile(ref, src, digest)
	// Hold the body back until every process and goroutine has asked HEAD,
	// so that all of them really miss at the same time.
	srv.setGate(func(*http.Request) {
		deadline := time.Now().Add(30 * time.Second)
		for srv.heads.Load() < goroutines+children && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	})
	dir := filepath.Join(tmp, "cache")
	c := openCache(t, dir, srv, Options{})

	type child struct {
		cmd *exec.Cmd
		out *bytes.Buffer
	}
	var kids []child
	for range children {
		cmd, out := helper(t, dir, srv.URL, ref, src)
		kids = append(kids, child{cmd, out})
	}
	handles := make([]*Handle, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			h, err := c.Fetch(t.Context(), ref)
			if err != nil {
				t.Error(err)
				return
			}
			handles[i] = h
		})
	}
	wg.Wait()
	for i, k := range kids {
		err := k.cmd.Wait()
		want := fmt.Sprintf("ok %s %d\n", digest, size)
		if err != nil || !strings.HasSuffix(k.out.String(), want) {
			t.Errorf("child %d: %v\n%s", i, err, k.out)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if full, ranged := srv.fullGets.Load(), srv.rangeGets.Load(); full != 1 || ranged != 0 {
		t.Errorf("server answered %d full and %d range GETs, want exactly one full GET", full, ranged)
	}
	if n := srv.heads.Load(); n != goroutines+children {
		t.Errorf("server answered %d HEADs, want %d", n, goroutines+children)
	}
	first, _ := handles[0].File().Stat()
	for i, h := range handles[1:] {
		if fi, _ := h.File().Stat(); !os.SameFile(first, fi) {
			t.Errorf("handle %d is another file", i+1)
		}
	}
	if got := hashHandle(t, handles[0]); got != digest {
		t.Errorf("content sha256 %s, want %s", got, digest)
	}
	for _, h := range handles[1:] {
		h.Close()
	}
	if st := c.Stats(); st.Downloads+st.Hits > 1 || st.Misses+st.Hits != goroutines {
		t.Errorf("stats %+v", st)
	}
}

func TestKilledDownloadResumes(t *testing.T) {
	const size = 48 << 20
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src.raw")
	digest := writeRandomFile(t, src, size, 43)
	srv := newTestServer(t)
	const ref = "vol/killed.raw"
	srv.putFile(ref, src, digest)
	srv.throttle.Store(24 << 20) // two seconds for the whole file
	dir := filepath.Join(tmp, "cache")
	probe := openCache(t, dir, nil, Options{Offline: true})
	key := probe.key(ref, `"sha256:`+digest+`"`)

	cmd, out := helper(t, dir, srv.URL, ref, src, "FSSCACHE_CHECKPOINT="+strconv.Itoa(4<<20))
	waitFor(t, "the child to checkpoint 8 MiB", 30*time.Second, func() bool {
		sc, err := readSidecar(probe.sidecarPath(key))
		return err == nil && sc.Offset >= 8<<20
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the child finished before it was killed:\n%s", out)
	}
	sc, err := readSidecar(probe.sidecarPath(key))
	if err != nil || sc.Offset == 0 || sc.Offset >= size {
		t.Fatalf("sidecar after the kill: %+v, %v", sc, err)
	}
	if fi, err := os.Stat(probe.partPath(key)); err != nil || fi.Size() < sc.Offset {
		t.Fatalf("partial file after the kill: %v, %v", fi, err)
	}

	// Nothing half-written is visible.
	if _, err := probe.Fetch(t.Context(), ref); !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline Fetch after the kill: %v, want ErrNotCached", err)
	}
	if entries, _ := probe.List(t.Context()); len(entries) != 0 {
		t.Fatalf("entries after the kill: %+v", entries)
	}

	srv.throttle.Store(0)
	c := openCache(t, dir, srv, Options{})
	h, err := c.Fetch(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := hashHandle(t, h); got != digest {
		t.Fatalf("resumed content sha256 %s, want %s", got, digest)
	}
	st := c.Stats()
	if st.Resumes != 1 || st.BytesDownloaded != size-sc.Offset {
		t.Errorf("stats %+v: want one resume downloading %d bytes", st, size-sc.Offset)
	}
	if srv.ifRange.Load() != 1 || srv.rangeGets.Load() != 1 || srv.fullGets.Load() != 1 {
		t.Errorf("server: %d If-Range requests, %d range and %d full answers; want 1, 1, 1 (the child's)",
			srv.ifRange.Load(), srv.rangeGets.Load(), srv.fullGets.Load())
	}
	if res, err := c.Verify(t.Context()); err != nil || res.Bad != 0 || res.Blobs != 1 {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}
