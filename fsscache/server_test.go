package fsscache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xfhost/xfhost/fss"
)

// testServer speaks the FSS protocol of notes/fss.md over httptest, serving
// files from memory or from disk, and counts what it is asked.
type testServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]testFile

	requests  atomic.Int64 // all requests
	heads     atomic.Int64
	fullGets  atomic.Int64 // GETs answered 200
	rangeGets atomic.Int64 // GETs answered 206
	ifRange   atomic.Int64 // GETs that carried Range and If-Range
	puts      atomic.Int64

	// throttle limits GET bodies to this many bytes per second (0: no
	// limit); it is read on every chunk, so a test can lift it mid-download.
	throttle atomic.Int64
	// ignoreRange makes GETs answer the whole file, as a server does when
	// the If-Range validator no longer matches.
	ignoreRange atomic.Bool
	// cut, if positive, makes the next GET break its connection after
	// sending that many bytes of the body.
	cut atomic.Int64
	// getGate, if set, is called before a GET's body is sent.
	getGate func(*http.Request)
}

func (s *testServer) setGate(fn func(*http.Request)) {
	s.mu.Lock()
	s.getGate = fn
	s.mu.Unlock()
}

type testFile struct {
	data   []byte // content, or
	path   string // a file holding it
	sha256 string // what the headers announce
}

func (f testFile) etag() string { return `"sha256:` + f.sha256 + `"` }

func newTestServer(t testing.TB) *testServer {
	s := &testServer{files: map[string]testFile{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// put stores data under ref and returns its sha256.
func (s *testServer) put(ref string, data []byte) string {
	sum := sha256.Sum256(data)
	d := hex.EncodeToString(sum[:])
	s.mu.Lock()
	s.files[ref] = testFile{data: data, sha256: d}
	s.mu.Unlock()
	return d
}

// putFile serves the file at path, whose sha256 is digest, as ref.
func (s *testServer) putFile(ref, path, digest string) {
	s.mu.Lock()
	s.files[ref] = testFile{path: path, sha256: digest}
	s.mu.Unlock()
}

// lie makes the server announce digest for ref's content.
func (s *testServer) lie(ref, digest string) {
	s.mu.Lock()
	f := s.files[ref]
	f.sha256 = digest
	s.files[ref] = f
	s.mu.Unlock()
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	ref, ok := strings.CutPrefix(r.URL.Path, "/files/")
	if !ok || fss.ValidRef(ref) != nil {
		http.Error(w, "bad ref", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPut {
		s.puts.Add(1)
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d := s.put(ref, data)
		w.Header().Set("ETag", `"sha256:`+d+`"`)
		w.Header().Set("Repr-Digest", reprDigest(d))
		w.WriteHeader(http.StatusCreated)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	f, ok := s.files[ref]
	gate := s.getGate
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var content io.ReadSeeker = bytes.NewReader(f.data)
	if f.path != "" {
		file, err := os.Open(f.path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer file.Close()
		content = file
	}
	w.Header().Set("ETag", f.etag())
	w.Header().Set("Repr-Digest", reprDigest(f.sha256))
	w.Header().Set("Accept-Ranges", "bytes")
	if r.Method == http.MethodHead {
		s.heads.Add(1)
	} else {
		if r.Header.Get("Range") != "" && r.Header.Get("If-Range") != "" {
			s.ifRange.Add(1)
		}
		if s.ignoreRange.Load() {
			r.Header.Del("Range")
		}
		if gate != nil {
			gate(r)
		}
		content = &throttled{r: content, rate: &s.throttle, cut: s.cut.Swap(0)}
	}
	sw := &statusWriter{ResponseWriter: w}
	http.ServeContent(sw, r, "", time.Time{}, content)
	if r.Method == http.MethodGet {
		switch sw.status {
		case http.StatusOK:
			s.fullGets.Add(1)
		case http.StatusPartialContent:
			s.rangeGets.Add(1)
		}
	}
}

func reprDigest(hexDigest string) string {
	raw, _ := hex.DecodeString(hexDigest)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(raw) + ":"
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// throttled slows reads down to *rate bytes per second. It sleeps after
// each chunk rather than towards a schedule, so a client that stalls does
// not get a burst afterwards. Hiding the *os.File also keeps the server
// from using sendfile.
type throttled struct {
	r    io.ReadSeeker
	rate *atomic.Int64
	cut  int64 // fail after this many bytes, if positive
	sent int64
}

func (t *throttled) Read(p []byte) (int, error) {
	if t.cut > 0 {
		if t.sent >= t.cut {
			return 0, errors.New("connection cut by the test")
		}
		p = p[:min(int64(len(p)), t.cut-t.sent)]
	}
	rate := t.rate.Load()
	if rate > 0 && len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := t.r.Read(p)
	t.sent += int64(n)
	if rate > 0 {
		time.Sleep(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
	}
	return n, err
}

func (t *throttled) Seek(off int64, whence int) (int64, error) { return t.r.Seek(off, whence) }

// httpOrigin is a minimal client of the protocol, standing in for
// fsshttp.Client (which lives in another package and must not be needed to
// test this one).
type httpOrigin struct {
	base   string
	client *http.Client
}

func newOrigin(base string) *httpOrigin { return &httpOrigin{base: base, client: &http.Client{}} }

func (o *httpOrigin) Head(ctx context.Context, ref string) (RemoteInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, o.base+"/files/"+ref, nil)
	if err != nil {
		return RemoteInfo{}, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return RemoteInfo{}, err
	}
	resp.Body.Close()
	if err := statusError(resp, http.StatusOK); err != nil {
		return RemoteInfo{}, err
	}
	return remoteInfo(resp, resp.ContentLength)
}

func (o *httpOrigin) Get(ctx context.Context, ref string, offset int64, ifRange string) (io.ReadCloser, RemoteInfo, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+"/files/"+ref, nil)
	if err != nil {
		return nil, RemoteInfo{}, false, err
	}
	if offset > 0 && ifRange != "" {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		req.Header.Set("If-Range", ifRange)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, RemoteInfo{}, false, err
	}
	if err := statusError(resp, http.StatusOK, http.StatusPartialContent); err != nil {
		resp.Body.Close()
		return nil, RemoteInfo{}, false, err
	}
	size := resp.ContentLength
	partial := resp.StatusCode == http.StatusPartialContent
	if partial {
		cr := resp.Header.Get("Content-Range") // bytes a-b/total
		total, err := strconv.ParseInt(cr[strings.LastIndexByte(cr, '/')+1:], 10, 64)
		if err != nil {
			resp.Body.Close()
			return nil, RemoteInfo{}, false, fmt.Errorf("bad Content-Range %q", cr)
		}
		size = total
	}
	info, err := remoteInfo(resp, size)
	if err != nil {
		resp.Body.Close()
		return nil, RemoteInfo{}, false, err
	}
	return resp.Body, info, partial, nil
}

func (o *httpOrigin) Put(ctx context.Context, ref string, r io.Reader) (RemoteInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, o.base+"/files/"+ref, r)
	if err != nil {
		return RemoteInfo{}, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return RemoteInfo{}, err
	}
	resp.Body.Close()
	if err := statusError(resp, http.StatusCreated); err != nil {
		return RemoteInfo{}, err
	}
	return remoteInfo(resp, req.ContentLength)
}

func statusError(resp *http.Response, ok ...int) error {
	for _, code := range ok {
		if resp.StatusCode == code {
			return nil
		}
	}
	if resp.StatusCode == http.StatusNotFound {
		return fss.ErrNotFound
	}
	return fmt.Errorf("%s", resp.Status)
}

func remoteInfo(resp *http.Response, size int64) (RemoteInfo, error) {
	info := RemoteInfo{Size: size, ETag: resp.Header.Get("ETag")}
	if d, ok := strings.CutPrefix(resp.Header.Get("Repr-Digest"), "sha-256=:"); ok {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(d, ":"))
		if err != nil {
			return RemoteInfo{}, fmt.Errorf("bad Repr-Digest: %w", err)
		}
		info.SHA256 = hex.EncodeToString(raw)
	}
	return info, nil
}

// countingOrigin counts calls, to show that offline mode makes none.
type countingOrigin struct {
	Origin
	calls atomic.Int64
}

func (o *countingOrigin) Head(ctx context.Context, ref string) (RemoteInfo, error) {
	o.calls.Add(1)
	return o.Origin.Head(ctx, ref)
}

func (o *countingOrigin) Get(ctx context.Context, ref string, off int64, ifRange string) (io.ReadCloser, RemoteInfo, bool, error) {
	o.calls.Add(1)
	return o.Origin.Get(ctx, ref, off, ifRange)
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	rand.NewChaCha8(s).Read(b)
	return b
}

// writeRandomFile writes size deterministic pseudo-random bytes to path and
// returns their sha256.
func writeRandomFile(t testing.TB, path string, size int64, seed uint64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var s [32]byte
	s[0] = byte(seed)
	gen := rand.NewChaCha8(s)
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), gen, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// openCache opens a cache in dir against srv with the test's defaults.
func openCache(t testing.TB, dir string, srv *testServer, opt Options) *Cache {
	t.Helper()
	if opt.Origin == nil && !opt.Offline {
		opt.Origin = newOrigin(srv.URL)
	}
	if opt.Name == "" {
		opt.Name = "test-fss"
	}
	c, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads a handle from the start and returns its sha256, closing it.
func hashHandle(t testing.TB, h *Handle) string {
	t.Helper()
	defer h.Close()
	hs := sha256.New()
	if _, err := io.Copy(hs, io.NewSectionReader(h, 0, h.Size())); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(hs.Sum(nil))
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// flipBit flips one bit of the file at path in place and puts its mtime
// back, as rot on the disk would leave it.
func flipBit(t testing.TB, path string, off int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chmod(path, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
