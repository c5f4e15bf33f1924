package wasip1

import (
	"encoding/binary"
	"math"

	"github.com/xfhost/xfhost/engine"
)

// Guest memory is accessed through engine.Memory only. Fixed-size results
// are written into the slice Read returns, which aliases guest memory: that
// avoids a temporary buffer escaping to the heap through the interface call
// on every host call.

var le = binary.LittleEndian

// region returns count records of size bytes at ptr, or false if they do
// not all lie in memory. The size is computed in 64 bits, so a guest
// count cannot wrap it around into a small, valid-looking range.
func region(mem engine.Memory, ptr, count, size uint32) ([]byte, bool) {
	n := uint64(count) * uint64(size)
	if n > math.MaxUint32 {
		return nil, false
	}
	return mem.Read(ptr, uint32(n))
}

func writeU32(mem engine.Memory, ptr, v uint32) bool {
	b, ok := mem.Read(ptr, 4)
	if ok {
		le.PutUint32(b, v)
	}
	return ok
}

func writeU64(mem engine.Memory, ptr uint32, v uint64) bool {
	b, ok := mem.Read(ptr, 8)
	if ok {
		le.PutUint64(b, v)
	}
	return ok
}

// iovec is one element of a guest's scatter/gather list.
type iovec struct{ buf, len uint32 }

func readIovec(iovs []byte, i int) iovec {
	return iovec{buf: le.Uint32(iovs[8*i:]), len: le.Uint32(iovs[8*i+4:])}
}
