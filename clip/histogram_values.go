package clip

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// histogramSmallInt is the histogram of an 8- or 16-bit image by value:
// one pass counts how often each of the 256 or 65536 values occurs, then
// the value counts are added to their bins. The pass is a load and an
// increment per voxel, without the bin lookup, and the data range (when
// opt has none) comes from the value counts, which spares the min/max
// pass. The bins are those of countTable, value for value.
func histogramSmallInt(ctx context.Context, dt omni.DataType, px []byte, sel []uint8, opt HistogramOptions) ([]Bin, error) {
	var byValue []int64
	var first int64 // the value byValue[0] counts
	var err error
	switch dt {
	case omni.Uint8:
		byValue, first, err = valueCounts[uint8](ctx, px, sel)
	case omni.Int8:
		byValue, first, err = valueCounts[int8](ctx, px, sel)
	case omni.Uint16:
		byValue, first, err = valueCounts[uint16](ctx, px, sel)
	case omni.Int16:
		byValue, first, err = valueCounts[int16](ctx, px, sel)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		return nil, err
	}
	lo, hi := opt.Min, opt.Max
	if !opt.HasRange {
		i0, i1 := -1, -1
		for i, c := range byValue {
			if c != 0 {
				if i0 < 0 {
					i0 = i
				}
				i1 = i
			}
		}
		if i0 < 0 {
			return nil, ErrEmpty
		}
		lo, hi = float64(first+int64(i0)), float64(first+int64(i1))
	}
	b, err := newBinning(lo, hi, opt)
	if err != nil {
		return nil, err
	}
	counts := make([]int64, b.n+1)
	for i, c := range byValue {
		if c != 0 {
			counts[b.index(float64(first+int64(i)))] += c
		}
	}
	return b.bins(counts)
}

// valueCounts counts the voxels (those selected, if sel is not nil) of
// each value of the 8- or 16-bit type T, in ascending order of value from
// first, T's smallest.
func valueCounts[T integer](ctx context.Context, px []byte, sel []uint8) (byValue []int64, first int64, err error) {
	size := int(unsafe.Sizeof(T(0)))
	raw, err := countValueBits(ctx, px, sel, size)
	if err != nil {
		return nil, 0, err
	}
	// raw is indexed by the voxels' bits; signed types' negative values
	// come first in value order, so rotate by half.
	lo, _ := limits[T]()
	if lo == 0 {
		return raw, 0, nil
	}
	half := len(raw) / 2
	byValue = make([]int64, len(raw))
	copy(byValue, raw[half:])
	copy(byValue[half:], raw[:half])
	return byValue, int64(lo), nil
}

// valueParts holds the counts one worker has gathered. Neighbouring
// voxels are counted in different arrays (ways): a run of equal values
// would otherwise make each increment wait for the previous one's store.
// The uint32 counts are moved to total before they can overflow.
type valueParts struct {
	ways  [][]uint32
	total []int64 // nil until the first flush
	n     int64   // voxels counted in ways since the last flush
}

func (c *valueParts) flush() {
	if c.total == nil {
		c.total = make([]int64, len(c.ways[0]))
	}
	for _, w := range c.ways {
		w = w[:len(c.total)]
		for i, k := range w {
			c.total[i] += int64(k)
		}
		clear(w)
	}
	c.n = 0
}

// countValueBits returns how many voxels (of size 1 or 2 bytes) have each
// bit pattern, gathered in parallel into one set of counts per core.
func countValueBits(ctx context.Context, px []byte, sel []uint8, size int) ([]int64, error) {
	values, ways := 1<<16, 2
	if size == 1 {
		// 8-bit data repeats values far more often; its arrays are small.
		values, ways = 1<<8, 4
	}
	parts := runtime.GOMAXPROCS(0)
	pool := make(chan *valueParts, parts)
	for range parts {
		pool <- nil // allocated on first use
	}
	err := slabs(ctx, len(px)/size, func(a, z int) {
		c := <-pool
		if c == nil {
			c = &valueParts{ways: make([][]uint32, ways)}
			for i := range c.ways {
				c.ways[i] = make([]uint32, values)
			}
		}
		for a < z {
			m := min(z-a, 1<<31)
			if c.n+int64(m) > math.MaxUint32 {
				c.flush()
			}
			var s []uint8
			if sel != nil {
				s = sel[a : a+m]
			}
			if size == 1 {
				countBytes(c.ways, px[a:a+m], s)
			} else {
				countHalfwords(c.ways, px[2*a:2*(a+m)], s)
			}
			c.n += int64(m)
			a += m
		}
		pool <- c
	})
	total := make([]int64, values)
	for range parts {
		if c := <-pool; c != nil {
			c.flush()
			for i, k := range c.total[:len(total)] {
				total[i] += k
			}
		}
	}
	return total, err
}

// countHalfwords counts 16-bit voxels (the bytes b) into two arrays,
// reading four voxels per 8-byte load once b is aligned; sel, if not nil,
// adds 0 for unselected voxels instead of 1.
func countHalfwords(ways [][]uint32, b []byte, sel []uint8) {
	h0, h1 := (*[1 << 16]uint32)(ways[0]), (*[1 << 16]uint32)(ways[1])
	v := voxels[uint16](b)
	if sel != nil {
		sel = sel[:len(v)]
		i := 0
		for ; i+2 <= len(v); i += 2 {
			h0[v[i]] += uint32(b2u8(sel[i] != 0))
			h1[v[i+1]] += uint32(b2u8(sel[i+1] != 0))
		}
		if i < len(v) {
			h0[v[i]] += uint32(b2u8(sel[i] != 0))
		}
		return
	}
	head := min(len(v), misalignment(b)/2)
	for _, x := range v[:head] {
		h0[x]++
	}
	words := wordsOf[uint64](b[2*head:])
	for _, w := range words {
		// Native order: the four lanes in some order, each a voxel.
		h0[uint16(w)]++
		h1[uint16(w>>16)]++
		h0[uint16(w>>32)]++
		h1[uint16(w>>48)]++
	}
	for _, x := range v[head+4*len(words):] {
		h1[x]++
	}
}

// countBytes is countHalfwords for 8-bit voxels, with four arrays and
// eight voxels per load.
func countBytes(ways [][]uint32, b []byte, sel []uint8) {
	h0, h1 := (*[1 << 8]uint32)(ways[0]), (*[1 << 8]uint32)(ways[1])
	h2, h3 := (*[1 << 8]uint32)(ways[2]), (*[1 << 8]uint32)(ways[3])
	if sel != nil {
		sel = sel[:len(b)]
		i := 0
		for ; i+2 <= len(b); i += 2 {
			h0[b[i]] += uint32(b2u8(sel[i] != 0))
			h1[b[i+1]] += uint32(b2u8(sel[i+1] != 0))
		}
		if i < len(b) {
			h0[b[i]] += uint32(b2u8(sel[i] != 0))
		}
		return
	}
	head := min(len(b), misalignment(b))
	for _, x := range b[:head] {
		h0[x]++
	}
	words := wordsOf[uint64](b[head:])
	for _, w := range words {
		h0[uint8(w)]++
		h1[uint8(w>>8)]++
		h2[uint8(w>>16)]++
		h3[uint8(w>>24)]++
		h0[uint8(w>>32)]++
		h1[uint8(w>>40)]++
		h2[uint8(w>>48)]++
		h3[uint8(w>>56)]++
	}
	for _, x := range b[head+8*len(words):] {
		h1[x]++
	}
}

// misalignment is the number of bytes from the start of b to the next
// multiple of 8.
func misalignment(b []byte) int {
	return int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) % 8)
}
