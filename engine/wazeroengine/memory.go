package wazeroengine

import "github.com/tetratelabs/wazero/experimental"

// cappedAllocator backs linear memories that cannot grow past a limit, so
// each job can have its own memory cap although wazero's own limit is per
// runtime. A refused growth makes memory.grow return -1 in the guest, as at
// the Wasm maximum.
type cappedAllocator struct{ limit uint64 }

func (a cappedAllocator) Allocate(capacity, max uint64) experimental.LinearMemory {
	return &cappedMemory{limit: min(a.limit, max), reserve: min(capacity, a.limit)}
}

type cappedMemory struct {
	buf     []byte
	limit   uint64
	reserve uint64
}

// Reallocate grows the buffer to size bytes, or returns nil beyond the limit.
// The initial minimum of a module is always granted: the policy's shape check
// bounds it before the module is compiled.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	if m.buf != nil && size > m.limit {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically so a guest growing page by page does not copy
	// its memory on every step.
	newCap := max(size, min(m.limit, 2*uint64(cap(m.buf))), m.reserve)
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *cappedMemory) Free() { m.buf = nil }
