package fsscache_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fss/fsshttp"
	"github.com/xfhost/xfhost/fsscache"
)

// BenchmarkColdFetch downloads a file through a fresh cache from the real
// FSS server on loopback ("cache": HEAD, GET, hash, fsync, publish) and,
// for reference, the same file with a plain GET written to a file as curl
// -o would ("plain": no hash, no fsync). The file is uploaded with PUT so
// the server knows its digest and neither side pays for hashing there.
// (This file is in package fsscache_test because fsshttp imports fsscache.)
func BenchmarkColdFetch(b *testing.B) {
	const size = 128 << 20
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fss"), 0o755); err != nil {
		b.Fatal(err)
	}
	store, err := fss.OpenDir(filepath.Join(dir, "fss"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	srv := fsshttp.NewServer(store, fsshttp.ServerOptions{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client, err := fsshttp.NewClient(ts.URL, fsshttp.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var seed [32]byte
	if _, err := client.Put(ctx, "vol.raw", io.LimitReader(rand.NewChaCha8(seed), size)); err != nil {
		b.Fatal(err)
	}

	b.Run("cache", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			cdir := filepath.Join(dir, "cache")
			c, err := fsscache.Open(cdir, fsscache.Options{Origin: client, Name: ts.URL})
			if err != nil {
				b.Fatal(err)
			}
			h, err := c.Fetch(ctx, "vol.raw")
			if err != nil {
				b.Fatal(err)
			}
			h.Close()
			c.Close()
			b.StopTimer()
			os.RemoveAll(cdir)
			b.StartTimer()
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(size)
		out := filepath.Join(dir, "plain.raw")
		buf := make([]byte, 1<<20)
		for b.Loop() {
			body, _, _, err := client.Get(ctx, "vol.raw", 0, "")
			if err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(f, body, buf); err != nil {
				b.Fatal(err)
			}
			body.Close()
			f.Close()
			b.StopTimer()
			os.Remove(out)
			b.StartTimer()
		}
	})
	if st := srv.Stats(); st.Hashes != 0 {
		b.Errorf("the server hashed the file %d times; the comparison should not include that", st.Hashes)
	}
}
