package fsshttp

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawRequest sends exactly the given request line, so that the path reaches
// the server without any client-side cleaning or escaping.
func rawRequest(t *testing.T, addr, method, target, extraHeaders string, body string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: fss\r\nConnection: close\r\nContent-Length: %d\r\n%s\r\n%s",
		method, target, len(body), extraHeaders, body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestTraversalRefusedRaw(t *testing.T) {
	f := newFixture(t, "")
	f.writeFile(t, "a/inside", []byte("inside"), time.Now())
	addr := f.ts.Listener.Addr().String()
	for _, target := range []string{
		"/files/../outside/secret",
		"/files/%2e%2e/outside/secret",
		"/files/%2E%2E/outside/secret",
		"/files/a/../../outside/secret",
		"/files/a%2F..%2F..%2Foutside%2Fsecret",
		"/files//etc/passwd",
		"/files/%2Fetc/passwd",
		"/files/..%5Coutside%5Csecret",
		"/files/a/./inside",
		"/files/a//inside",
		"/files/a/",
		"/files/",
		"/files/a%00b",
	} {
		for _, method := range []string{"GET", "HEAD", "PUT"} {
			body := ""
			if method == "PUT" {
				body = "overwritten"
			}
			resp := rawRequest(t, addr, method, target, "", body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s: status %s, want 400", method, target, resp.Status)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(f.outside, "secret")); err != nil || string(b) != "secret" {
		t.Errorf("file outside the store: %q, %v", b, err)
	}
	if n := len(regularFiles(t, filepath.Dir(f.dir))); n != 2 {
		t.Errorf("%d regular files around the store, want the 2 written by the test", n)
	}
	// The same path without tricks works, so the 400s above are not a
	// broken setup.
	if resp := rawRequest(t, addr, "GET", "/files/a/inside", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /files/a/inside: %s", resp.Status)
	}
}

func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRoutingAndMethods(t *testing.T) {
	f := newFixture(t, "")
	f.writeFile(t, "x", []byte("x"), time.Now())
	f.writeFile(t, "file", []byte("x"), time.Now())
	if err := os.Mkdir(filepath.Join(f.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := f.ts.Listener.Addr().String()
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{"GET", "/files/x", 200},
		{"POST", "/files/x", 405},
		{"DELETE", "/files/x", 405},
		{"GET", "/other/x", 404},
		{"GET", "/", 404},
		{"GET", "/files/missing", 404},
		{"GET", "/files/file/below", 404}, // a path through a regular file
		{"GET", "/files/sub", 404},        // a directory is not a file
	} {
		resp := rawRequest(t, addr, tc.method, tc.target, "", "")
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.target, resp.Status, tc.want)
		}
		if tc.want == 405 && resp.Header.Get("Allow") != "GET, HEAD, PUT" {
			t.Errorf("%s %s: Allow %q", tc.method, tc.target, resp.Header.Get("Allow"))
		}
	}
}

func TestServerHeaders(t *testing.T) {
	f := newFixture(t, "")
	data := []byte("hello, volume")
	f.writeFile(t, "v/hello.raw", data, time.Now().Add(-time.Hour))
	resp := rawRequest(t, f.ts.Listener.Addr().String(), "HEAD", "/files/v/hello.raw", "", "")
	sum := sha256.Sum256(data)
	for k, want := range map[string]string{
		"ETag":           wantETag(data),
		"Repr-Digest":    formatReprDigest(sum[:]),
		"Accept-Ranges":  "bytes",
		"Content-Length": fmt.Sprint(len(data)),
		"Content-Type":   "application/octet-stream",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestPutDigestVerifiedByServer(t *testing.T) {
	f := newFixture(t, "")
	addr := f.ts.Listener.Addr().String()
	body := "the real content"
	right := sha256.Sum256([]byte(body))
	wrong := sha256.Sum256([]byte("something else"))
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"wrong digest", "Repr-Digest: " + formatReprDigest(wrong[:]) + "\r\n", 400},
		{"short digest", "Repr-Digest: sha-256=:AAAA:\r\n", 400},
		{"not a dictionary", "Repr-Digest: sha-256\r\n", 400},
		{"not base64", "Repr-Digest: sha-256=:***:\r\n", 400},
		{"wrong digest among others", "Repr-Digest: sha-512=:AAAA:, sha-256=" + ":" + b64(wrong[:]) + ":\r\n", 400},
	} {
		resp := rawRequest(t, addr, "PUT", "/files/d/out.bin", tc.header, body)
		if resp.StatusCode != tc.want {
			msg, _ := io.ReadAll(resp.Body)
			t.Errorf("%s: %s %s, want %d", tc.name, resp.Status, msg, tc.want)
		}
	}
	if files := regularFiles(t, f.dir); len(files) != 0 {
		t.Fatalf("refused PUTs left files: %v", files)
	}
	if st := f.srv.Stats(); st.Put != 0 || st.Errors != 5 {
		t.Errorf("stats after refused PUTs: %+v", st)
	}
	for _, tc := range []struct{ name, header string }{
		{"right digest", "Repr-Digest: " + formatReprDigest(right[:]) + "\r\n"},
		{"right digest with parameters and others", "Repr-Digest: unixsum=42, sha-256=:" + b64(right[:]) + ":;p=1\r\n"},
		{"no digest", ""},
		{"other algorithms only", "Repr-Digest: sha-512=:AAAA:\r\n"},
	} {
		resp := rawRequest(t, addr, "PUT", "/files/d/out.bin", tc.header, body)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: %s", tc.name, resp.Status)
			continue
		}
		if got := resp.Header.Get("Repr-Digest"); got != formatReprDigest(right[:]) {
			t.Errorf("%s: answer Repr-Digest %q", tc.name, got)
		}
		if got := resp.Header.Get("ETag"); got != wantETag([]byte(body)) {
			t.Errorf("%s: answer ETag %q", tc.name, got)
		}
	}
	if got, err := os.ReadFile(filepath.Join(f.dir, "d", "out.bin")); err != nil || string(got) != body {
		t.Errorf("stored %q, %v", got, err)
	}
	// The digests came from storing, so no GET needs to read the file.
	if st := f.srv.Stats(); st.Hashes != 0 {
		t.Errorf("%d hashes after PUTs, want 0", st.Hashes)
	}
}

func TestIndexFollowsChangesOnDisk(t *testing.T) {
	f := newFixture(t, "")
	c := f.client(t, ClientOptions{})
	ctx := t.Context()
	// The test cannot backdate ctimes, which writeFile sets to now.
	f.srv.index.racyWindow.Store(0)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	head := func(want []byte, wantHashes int64) {
		t.Helper()
		info, err := c.Head(ctx, "vol.raw")
		if err != nil {
			t.Fatal(err)
		}
		if info.ETag != wantETag(want) || info.SHA256 != sha256Hex(want) || info.Size != int64(len(want)) {
			t.Errorf("Head = %+v, want content %q", info, want)
		}
		if got := f.srv.Stats().Hashes; got != wantHashes {
			t.Errorf("%d hashes so far, want %d", got, wantHashes)
		}
	}
	f.writeFile(t, "vol.raw", []byte("version 1"), old)
	head([]byte("version 1"), 1)
	head([]byte("version 1"), 1) // remembered

	f.writeFile(t, "vol.raw", []byte("version 2"), old.Add(time.Minute)) // same size, new mtime
	head([]byte("version 2"), 2)

	f.writeFile(t, "vol.raw", []byte("version 3, longer"), old.Add(time.Minute)) // new size, same mtime
	head([]byte("version 3, longer"), 3)

	if runtime.GOOS == "linux" {
		// Same size and mtime: only the inode (atomic replace) or the ctime
		// (in-place write, mtime restored) tells.
		p := filepath.Join(f.dir, "vol.raw")
		tmp := filepath.Join(f.dir, "tmp")
		f.writeFile(t, "tmp", []byte("version 4, longer"), old.Add(time.Minute))
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
		head([]byte("version 4, longer"), 4)
		f.writeFile(t, "vol.raw", []byte("version 5, longer"), old.Add(time.Minute))
		head([]byte("version 5, longer"), 5)
	}

	// A file modified just now might change again within the same
	// timestamp tick, so its digest is not remembered yet.
	f.srv.index.racyWindow.Store(int64(racyWindow))
	f.writeFile(t, "fresh", []byte("fresh"), time.Now())
	for range 2 {
		if _, err := c.Head(ctx, "fresh"); err != nil {
			t.Fatal(err)
		}
	}
	before := f.srv.Stats().Hashes
	if _, err := c.Head(ctx, "fresh"); err != nil {
		t.Fatal(err)
	}
	if f.srv.Stats().Hashes != before+1 {
		t.Errorf("a just-written file's digest was remembered")
	}
}

func TestConcurrentRequestsShareOneHash(t *testing.T) {
	f := newFixture(t, "")
	data := randomBytes(4<<20, 7)
	f.writeFile(t, "big", data, time.Now().Add(-time.Hour))
	f.srv.index.racyWindow.Store(0)
	c := f.client(t, ClientOptions{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if info, err := c.Head(t.Context(), "big"); err != nil || info.SHA256 != sha256Hex(data) {
				t.Errorf("Head: %+v, %v", info, err)
			}
		})
	}
	wg.Wait()
	if n := f.srv.Stats().Hashes; n != 1 {
		t.Errorf("16 concurrent first requests hashed the file %d times, want 1", n)
	}
}

func TestConcurrentGets(t *testing.T) {
	f := newFixture(t, "")
	data := randomBytes(1<<20+123, 3)
	c := f.client(t, ClientOptions{})
	info, err := c.Put(t.Context(), "shared/vol.raw", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			offset := int64(i * 40000)
			body, got, partial, err := c.Get(t.Context(), "shared/vol.raw", offset, info.ETag)
			if err != nil {
				t.Error(err)
				return
			}
			defer body.Close()
			b, err := io.ReadAll(body)
			if err != nil {
				t.Error(err)
				return
			}
			if got != info || partial != (offset > 0) || !bytes.Equal(b, data[offset:]) {
				t.Errorf("Get at %d: info %+v partial %v, %d bytes (content equal: %v)", offset, got, partial, len(b), bytes.Equal(b, data[offset:]))
			}
		})
	}
	wg.Wait()
	st := f.srv.Stats()
	if st.GetFull != 1 || st.GetRange != 23 || st.Hashes != 0 {
		t.Errorf("stats %+v, want 1 full and 23 range GETs and no hashing", st)
	}
}

func b64(b []byte) string {
	return strings.TrimPrefix(strings.TrimSuffix(formatReprDigest(b), ":"), "sha-256=:")
}
