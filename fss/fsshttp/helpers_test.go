package fsshttp

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xfhost/xfhost/fss"
)

// fixture is a Server over a fresh directory behind a loopback listener.
type fixture struct {
	dir      string // the store's directory
	outside  string // a directory next to it that no request may reach
	srv      *Server
	ts       *httptest.Server
	requests atomic.Int64 // requests that reached the listener
}

func newFixture(t testing.TB, token string) *fixture {
	return newFixtureWith(t, token, nil)
}

// newFixtureWith puts wrap (if not nil) in front of the Server, e.g. to
// inject failures.
func newFixtureWith(t testing.TB, token string, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{dir: filepath.Join(base, "root"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{f.dir, f.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(f.outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := fss.OpenDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = NewServer(store, ServerOptions{Token: token})
	var h http.Handler = f.srv
	if wrap != nil {
		h = wrap(h)
	}
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		f.ts.Close()
		store.Close()
	})
	return f
}

// client returns a client of f with a test-friendly backoff unless opt
// sets one.
func (f *fixture) client(t testing.TB, opt ClientOptions) *Client {
	t.Helper()
	if opt.Backoff == 0 {
		opt.Backoff = time.Millisecond
	}
	c, err := NewClient(f.ts.URL, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeFile puts data at ref in the store's directory behind the server's
// back and dates it mtime.
func (f *fixture) writeFile(t testing.TB, ref string, data []byte, mtime time.Time) {
	t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(ref))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func wantETag(b []byte) string { return `"sha256:` + sha256Hex(b) + `"` }
