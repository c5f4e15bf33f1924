package fsscache

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkHitRead compares reading a cached file through Fetch (online:
// with the HEAD round trip; offline: without) with reading the same bytes
// directly from a file. All read the whole file through a 1 MiB buffer.
func BenchmarkHitRead(b *testing.B) {
	const size = 64 << 20
	tmp := b.TempDir()
	src := filepath.Join(tmp, "src.raw")
	digest := writeRandomFile(b, src, size, 7)
	srv := newTestServer(b)
	srv.putFile("bench/vol.raw", src, digest)
	dir := filepath.Join(tmp, "cache")
	online := openCache(b, dir, srv, Options{})
	h, err := online.Fetch(b.Context(), "bench/vol.raw") // download, then verified
	if err != nil {
		b.Fatal(err)
	}
	h.Close()
	offline := openCache(b, dir, nil, Options{Offline: true})
	if h, err := offline.Fetch(b.Context(), "bench/vol.raw"); err != nil { // first access: re-hash
		b.Fatal(err)
	} else {
		h.Close()
	}
	buf := make([]byte, 1<<20)
	readAll := func(r io.Reader) {
		var n int64
		for {
			m, err := r.Read(buf)
			n += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != size {
			b.Fatalf("read %d bytes", n)
		}
	}
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(online.blobPath(digest))
			if err != nil {
				b.Fatal(err)
			}
			readAll(f)
			f.Close()
		}
	})
	for _, bc := range []struct {
		name string
		c    *Cache
	}{{"cache-online", online}, {"cache-offline", offline}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				h, err := bc.c.Fetch(b.Context(), "bench/vol.raw")
				if err != nil {
					b.Fatal(err)
				}
				readAll(h)
				h.Close()
			}
		})
	}
}
