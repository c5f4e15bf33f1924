package omni

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"
)

const mib = 1 << 20

func fixedLimit(n int64) func() int64 { return func() int64 { return n } }

func TestBufferPoolReusesExactLengths(t *testing.T) {
	p := &bufferPool{limit: fixedLimit(64 * mib)}
	small, reused := p.get(mib - 1)
	if reused || len(small) != mib-1 {
		t.Fatalf("get(small) = %d bytes, reused %v", len(small), reused)
	}
	p.put(small)
	if got := p.idleBytes(); got != 0 {
		t.Fatalf("a buffer below %d bytes was pooled (%d idle)", minPooledBytes, got)
	}

	a, _ := p.get(2 * mib)
	a[0] = 7
	p.put(a)
	if got := p.idleBytes(); got != 2*mib {
		t.Fatalf("idle bytes %d after put, want %d", got, 2*mib)
	}
	if b, reused := p.get(3 * mib); reused || len(b) != 3*mib || b[0] != 0 {
		t.Fatalf("get of another length reused a buffer (reused %v, len %d)", reused, len(b))
	}
	b, reused := p.get(2 * mib)
	if !reused || unsafe.SliceData(b) != unsafe.SliceData(a) || b[0] != 7 {
		t.Fatalf("get(2 MiB) did not return the idle buffer (reused %v)", reused)
	}
	if got := p.idleBytes(); got != 0 {
		t.Fatalf("idle bytes %d after get, want 0", got)
	}
	if _, reused := p.get(2 * mib); reused {
		t.Fatal("one idle buffer was handed out twice")
	}
}

func TestBufferPoolBoundsIdleBytes(t *testing.T) {
	p := &bufferPool{limit: fixedLimit(5 * mib)}
	for i := range 3 {
		b := make([]byte, 2*mib)
		b[0] = byte(i + 1)
		p.put(b)
	}
	// The third put must drop the oldest buffer to stay within 5 MiB.
	if got := p.idleBytes(); got != 4*mib {
		t.Fatalf("idle bytes %d, want %d", got, 4*mib)
	}
	for _, want := range []byte{3, 2} {
		b, reused := p.get(2 * mib)
		if !reused || b[0] != want {
			t.Fatalf("got buffer %d (reused %v), want the newest idle one, %d", b[0], reused, want)
		}
	}
	if _, reused := p.get(2 * mib); reused {
		t.Fatal("the dropped oldest buffer was handed out")
	}
	p.put(make([]byte, 6*mib))
	if got := p.idleBytes(); got != 0 {
		t.Fatalf("a buffer above the limit was pooled (%d idle)", got)
	}
	p.put(make([]byte, 2*mib, 3*mib))
	if got := p.idleBytes(); got != 0 {
		t.Fatal("a buffer with spare capacity was pooled")
	}
}

func TestBufferPoolEmptiesAfterCollections(t *testing.T) {
	p := &bufferPool{limit: fixedLimit(64 * mib)}
	p.put(make([]byte, 2*mib))
	// Cleanups run asynchronously after a collection, so poll.
	deadline := time.Now().Add(5 * time.Second)
	for p.idleBytes() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle buffer still pooled after repeated garbage collections")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	p.mu.Lock()
	armed := p.armed
	p.mu.Unlock()
	// The last trim may still be finishing; it disarms once it finds the
	// pool empty.
	for armed && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
		p.mu.Lock()
		armed = p.armed
		p.mu.Unlock()
	}
	if armed {
		t.Fatal("empty pool still trims after every collection")
	}
}

// bigHeader describes an image large enough to be pooled.
func bigHeader(dt DataType) *Header {
	h := validHeader()
	h.Size = [3]int{256, 256, 8}
	h.DataType = dt
	return h
}

func TestNewZeroesReusedPixels(t *testing.T) {
	img, err := NewUninitialized(bigHeader(Uint16))
	if err != nil {
		t.Fatal(err)
	}
	px := img.Pixels()
	for i := range px {
		px[i] = 0xa5
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if img.Pixels() != nil {
		t.Fatal("Pixels after Close is not nil")
	}
	if _, err := img.WritePixels(&bytes.Buffer{}); err == nil {
		t.Fatal("WritePixels after Close succeeded")
	}
	img2, err := New(bigHeader(Uint16))
	if err != nil {
		t.Fatal(err)
	}
	defer img2.Close()
	if !img2.Writable() {
		t.Fatal("New image is not writable")
	}
	for i, b := range img2.Pixels() {
		if b != 0 {
			t.Fatalf("New image byte %d is %#x, want 0", i, b)
		}
	}
	if img.Close() != nil || img.Pixels() != nil {
		t.Fatal("closing twice changed the closed image")
	}
}

func TestNewUninitializedReusesClosedPixels(t *testing.T) {
	a, err := NewUninitialized(bigHeader(Float32))
	if err != nil {
		t.Fatal(err)
	}
	data := unsafe.SliceData(a.Pixels())
	a.Close()
	// Same byte length, other data type: the buffer fits.
	b, err := NewUninitialized(bigHeader(Int32))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if unsafe.SliceData(b.Pixels()) != data {
		t.Error("NewUninitialized did not reuse the closed image's buffer")
	}
	if h := b.Header(); h.DataType != Int32 || h.ByteOrder != NativeByteOrder() || len(b.Pixels()) != int(h.PixelBytes()) {
		t.Errorf("NewUninitialized header %+v with %d pixel bytes", h, len(b.Pixels()))
	}
	if _, err := NewUninitialized(&Header{}); err == nil {
		t.Error("NewUninitialized accepted an invalid header")
	}
}

// TestImagesNeverShareReusedPixels creates and closes images from many
// goroutines; each fills its pixels with its own byte and checks that
// nobody else wrote to them while it held them.
func TestImagesNeverShareReusedPixels(t *testing.T) {
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mark := byte(w + 1)
			for r := range rounds {
				newFn := NewUninitialized
				if r%2 == 0 {
					newFn = New
				}
				img, err := newFn(bigHeader(Uint8))
				if err != nil {
					errs <- err
					return
				}
				px := img.Pixels()
				for i := 0; i < len(px); i += 4096 {
					px[i] = mark
				}
				runtime.Gosched()
				for i := 0; i < len(px); i += 4096 {
					if px[i] != mark {
						errs <- fmt.Errorf("worker %d: byte %d is %d, another image holds the buffer", w, i, px[i])
						img.Close()
						return
					}
				}
				img.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
