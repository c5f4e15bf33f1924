package fsscache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

func TestHashPipe(t *testing.T) {
	data := randomBytes(5<<20+123, 3)
	want := sha(data)
	for _, tc := range []struct {
		name    string
		buffers int
		size    int
		chunk   func(i int) int // bytes to put in the i-th buffer
	}{
		{"one buffer, full", 1, 64 << 10, func(int) int { return 64 << 10 }},
		{"two buffers, varying fill", 2, 64 << 10, func(i int) int { return 1 + i*7919%(64<<10) }},
		{"ring, full", hashRing, copyBuf, func(int) int { return copyBuf }},
		{"ring, single bytes then full", hashRing, 4096, func(i int) int { return 1 + (i%2)*4095 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sha256.New()
			p := newHashPipe(h, tc.buffers, tc.size)
			rest := data
			for i := 0; len(rest) > 0; i++ {
				buf := p.buffer()
				if len(buf) != tc.size {
					t.Fatalf("buffer %d has %d bytes, want %d", i, len(buf), tc.size)
				}
				n := copy(buf[:min(tc.chunk(i), len(buf))], rest)
				rest = rest[n:]
				p.hash(buf[:n])
			}
			p.close()
			if got := hex.EncodeToString(h.Sum(nil)); got != want {
				t.Errorf("sha256 through the pipe %s, want %s", got, want)
			}
		})
	}
}

// stallingOrigin serves data, but its bodies stop after the first stallAt
// bytes until release is closed (or the request is cancelled).
type stallingOrigin struct {
	data    []byte
	stallAt int
	release chan struct{}
}

func (o *stallingOrigin) info() RemoteInfo {
	sum := sha(o.data)
	return RemoteInfo{Size: int64(len(o.data)), ETag: `"sha256:` + sum + `"`, SHA256: sum}
}

func (o *stallingOrigin) Head(context.Context, string) (RemoteInfo, error) { return o.info(), nil }

func (o *stallingOrigin) Get(ctx context.Context, _ string, offset int64, _ string) (io.ReadCloser, RemoteInfo, bool, error) {
	if offset != 0 {
		return nil, RemoteInfo{}, false, errors.New("stallingOrigin does not resume")
	}
	return io.NopCloser(&stallingReader{ctx: ctx, o: o}), o.info(), false, nil
}

type stallingReader struct {
	ctx  context.Context
	o    *stallingOrigin
	sent int
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.sent == r.o.stallAt {
		select {
		case <-r.o.release:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	end := len(r.o.data)
	if r.sent < r.o.stallAt {
		end = r.o.stallAt
	}
	if r.sent == len(r.o.data) {
		return 0, io.EOF
	}
	n := copy(p, r.o.data[r.sent:end])
	r.sent += n
	return n, nil
}

// A download whose bytes stop coming checkpoints what it has written after
// checkpointEvery, long before the byte interval is reached, so that a
// crash during the stall loses at most the buffer being filled.
func TestStalledDownloadCheckpoints(t *testing.T) {
	data := randomBytes(4<<20, 5)
	const stallAt = 3<<20 + 5
	// Bytes are written a full buffer at a time; the 5 after the last full
	// one wait in the buffer for the rest.
	const written = stallAt / copyBuf * copyBuf
	o := &stallingOrigin{data: data, stallAt: stallAt, release: make(chan struct{})}
	c := openCache(t, t.TempDir(), nil, Options{Origin: o})
	c.checkpoint = 1 << 40
	c.checkpointEvery = 20 * time.Millisecond
	key := c.key("stall", o.info().ETag)

	type result struct {
		h   *Handle
		err error
	}
	res := make(chan result, 1)
	go func() {
		h, err := c.Fetch(t.Context(), "stall")
		res <- result{h, err}
	}()
	waitFor(t, "a checkpoint of the bytes before the stall", 5*time.Second, func() bool {
		sc, err := readSidecar(c.sidecarPath(key))
		return err == nil && sc.Offset == written
	})
	if fi, err := os.Stat(c.partPath(key)); err != nil || fi.Size() != written {
		t.Fatalf("partial file during the stall: %v, %v; want %d bytes", fi, err, written)
	}
	close(o.release)
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := hashHandle(t, r.h); got != sha(data) {
		t.Errorf("content sha256 %s, want %s", got, sha(data))
	}
	if _, err := os.Stat(c.sidecarPath(key)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sidecar after publishing: %v, want it removed", err)
	}
}
