package omni

import (
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
)

// Kernels produce a new image per call, often of the same size as the one
// before. A fresh pixel buffer of tens of megabytes costs more than the
// kernel that fills it: the pages are faulted in and zeroed one by one. So
// Close hands heap buffers to a process-wide pool, and New and
// NewUninitialized take buffers of the exact length they need from it.
//
// The pool is package-level mutable state, which this project otherwise
// avoids. It is acceptable here for the reasons sync.Pool is: it is a cache
// with no behaviour visible except speed (New still returns zeroed pixels,
// NewUninitialized never promised any), it is safe for concurrent use, and
// it is bounded and emptied when idle, so it cannot grow with the work done.
// A buffer is in the pool only after its image was closed, and a closed
// image no longer reaches its buffer (Pixels returns nil). sync.Pool itself
// does not fit: it cannot be bounded, and buffers are wanted by exact size.
//
// Bounds: only buffers of at least minPooledBytes are kept (smaller ones
// are cheap to allocate); the idle buffers total at most idleLimit bytes,
// the oldest dropped first; and a buffer left idle through two garbage
// collections is dropped, as sync.Pool does.
const (
	minPooledBytes = 1 << 20
	maxIdleBytes   = 1 << 30
)

// idleLimit is maxIdleBytes, or a quarter of the Go memory limit
// (GOMEMLIMIT, debug.SetMemoryLimit) if that is less, so a host that caps
// its memory does not spend the cap on idle buffers.
func idleLimit() int64 {
	return min(maxIdleBytes, debug.SetMemoryLimit(-1)/4)
}

// pixelBuffers is the pool of every image of the process.
var pixelBuffers bufferPool

// bufferPool holds idle pixel buffers; the zero value is ready to use.
type bufferPool struct {
	limit func() int64 // nil: idleLimit; tests set their own

	mu    sync.Mutex
	idle  []idleBuffer // oldest first
	bytes int64        // total length of idle
	armed bool         // a collection will trim the pool
}

type idleBuffer struct {
	buf []byte
	old bool // idle since before the last collection
}

// get returns a buffer of length n, from the pool if it holds one of that
// length (reused is then true and the contents are a closed image's), else
// newly allocated and zeroed.
func (p *bufferPool) get(n int) (buf []byte, reused bool) {
	if n >= minPooledBytes {
		p.mu.Lock()
		// The most recently closed buffer is the likeliest to still be
		// in caches and TLBs.
		for i := len(p.idle) - 1; i >= 0; i-- {
			if b := p.idle[i].buf; len(b) == n {
				p.idle = slices.Delete(p.idle, i, i+1)
				p.bytes -= int64(n)
				p.mu.Unlock()
				return b, true
			}
		}
		p.mu.Unlock()
	}
	return make([]byte, n), false
}

// put makes buf, which nothing else references any more, available to get.
func (p *bufferPool) put(buf []byte) {
	n := int64(len(buf))
	if n < minPooledBytes || cap(buf) != len(buf) {
		return
	}
	limit := idleLimit()
	if p.limit != nil {
		limit = p.limit()
	}
	if n > limit {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	drop := 0
	for p.bytes+n > limit {
		p.bytes -= int64(len(p.idle[drop].buf))
		drop++
	}
	p.idle = slices.Delete(p.idle, 0, drop)
	p.idle = append(p.idle, idleBuffer{buf: buf})
	p.bytes += n
	if !p.armed {
		p.armed = true
		p.armTrim()
	}
}

// gcSentinel is an object whose only job is to become garbage. It is big
// enough to be allocated on its own, since the runtime may delay cleanups
// of tiny objects batched with live ones indefinitely.
type gcSentinel struct{ _ [64]byte }

// armTrim makes the next garbage collection call trim.
func (p *bufferPool) armTrim() {
	runtime.AddCleanup(new(gcSentinel), (*bufferPool).trim, p)
}

// trim runs after each collection while buffers are idle: it drops those
// that were idle already at the previous one and marks the rest.
func (p *bufferPool) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = slices.DeleteFunc(p.idle, func(b idleBuffer) bool {
		if b.old {
			p.bytes -= int64(len(b.buf))
		}
		return b.old
	})
	for i := range p.idle {
		p.idle[i].old = true
	}
	p.armed = len(p.idle) > 0
	if p.armed {
		p.armTrim()
	}
}

// idleBytes reports the total length of the idle buffers.
func (p *bufferPool) idleBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}
