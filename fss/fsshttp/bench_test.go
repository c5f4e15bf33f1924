package fsshttp

import (
	"io"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkDownload64MiB compares Client.Get with curl against the same
// loopback server; both report MB/s.
func BenchmarkDownload64MiB(b *testing.B) {
	const size = 64 << 20
	const token = "bench-token"
	f := newFixture(b, token)
	f.writeFile(b, "vol.raw", randomBytes(size, 9), time.Now().Add(-time.Hour))
	f.srv.index.racyWindow.Store(0)
	c := f.client(b, ClientOptions{Token: token})
	// Hash once outside the timed loops.
	if _, err := c.Head(b.Context(), "vol.raw"); err != nil {
		b.Fatal(err)
	}

	b.Run("client", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, 1<<20)
		for b.Loop() {
			body, _, _, err := c.Get(b.Context(), "vol.raw", 0, "")
			if err != nil {
				b.Fatal(err)
			}
			// A buffer the size a cache would write with; io.Discard's own
			// ReadFrom would copy in 8 KiB steps.
			n, err := io.CopyBuffer(onlyWriter{io.Discard}, body, buf)
			body.Close()
			if err != nil || n != size {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
	b.Run("curl", func(b *testing.B) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			b.Skip("no curl on PATH")
		}
		b.SetBytes(size)
		for b.Loop() {
			out, err := exec.Command(curl, "-sSf", "-o", "/dev/null", "-H", "Authorization: Bearer "+token, c.URL("vol.raw")).CombinedOutput()
			if err != nil {
				b.Fatalf("curl: %v: %s", err, out)
			}
		}
	})
	if st := f.srv.Stats(); st.Hashes != 1 {
		b.Errorf("the file was hashed %d times, want once", st.Hashes)
	}
}
