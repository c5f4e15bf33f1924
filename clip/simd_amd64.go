//go:build goexperiment.simd && amd64

package clip

import (
	"encoding/binary"
	"math"
	"simd/archsimd"
	"unsafe"
)

// The vector kernels use 256-bit vectors. Most need AVX2; the ones that
// narrow 16- or 32-bit lanes (thresholds of 16-bit voxels, some
// conversions) need AVX-512's VPMOV instructions, which archsimd offers
// only with the AVX-512 F+CD+BW+DQ+VL bundle. Each vec* entry point checks
// what it needs and otherwise reports that it covered no voxel, leaving
// the work to the scalar loops. A kernel covers a prefix of its input, a
// whole number of vectors; the caller finishes the tail.
var (
	haveAVX2   = archsimd.X86.AVX2()
	haveAVX512 = archsimd.X86.AVX512()
)

// vecMinMax returns the extremes of a prefix of v as float64 and its
// length, n == 0 if there is no vector kernel. NaN is ignored: an all-NaN
// prefix gives +Inf, -Inf.
func vecMinMax(v any) (lo, hi float64, n int) {
	if !haveAVX2 {
		return 0, 0, 0
	}
	switch v := v.(type) {
	case []uint8:
		l, h, n := minMaxU8x32(v)
		return float64(l), float64(h), n
	case []int8:
		l, h, n := minMaxI8x32(v)
		return float64(l), float64(h), n
	case []uint16:
		l, h, n := minMaxU16x16(v)
		return float64(l), float64(h), n
	case []int16:
		l, h, n := minMaxI16x16(v)
		return float64(l), float64(h), n
	case []uint32:
		l, h, n := minMaxU32x8(v)
		return float64(l), float64(h), n
	case []int32:
		l, h, n := minMaxI32x8(v)
		return float64(l), float64(h), n
	case []float32:
		l, h, n := minMaxF32x8(v)
		return float64(l), float64(h), n
	case []float64:
		return minMaxF64x4(v)
	}
	return 0, 0, 0
}

// The integer min/max kernels keep two pairs of accumulators so that
// consecutive vectors do not wait for each other.

func minMaxU8x32(v []uint8) (lo, hi uint8, n int) {
	const w = 32
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadUint8x32Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadUint8x32Slice(s), archsimd.LoadUint8x32Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadUint8x32Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]uint8
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxI8x32(v []int8) (lo, hi int8, n int) {
	const w = 32
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadInt8x32Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadInt8x32Slice(s), archsimd.LoadInt8x32Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadInt8x32Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]int8
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxU16x16(v []uint16) (lo, hi uint16, n int) {
	const w = 16
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadUint16x16Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadUint16x16Slice(s), archsimd.LoadUint16x16Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadUint16x16Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]uint16
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxI16x16(v []int16) (lo, hi int16, n int) {
	const w = 16
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadInt16x16Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadInt16x16Slice(s), archsimd.LoadInt16x16Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadInt16x16Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]int16
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxU32x8(v []uint32) (lo, hi uint32, n int) {
	const w = 8
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadUint32x8Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadUint32x8Slice(s), archsimd.LoadUint32x8Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadUint32x8Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]uint32
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxI32x8(v []int32) (lo, hi int32, n int) {
	const w = 8
	if len(v) < w {
		return 0, 0, 0
	}
	l0 := archsimd.LoadInt32x8Slice(v)
	h0, l1, h1 := l0, l0, l0
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadInt32x8Slice(s), archsimd.LoadInt32x8Slice(s[w:])
		l0, h0, l1, h1 = l0.Min(a), h0.Max(a), l1.Min(b), h1.Max(b)
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadInt32x8Slice(s)
		l0, h0 = l0.Min(a), h0.Max(a)
		s = s[w:]
	}
	var ls, hs [w]int32
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

// minMaxF32x8 swaps NaN lanes for +Inf (minimum) and -Inf (maximum)
// before comparing, so the result does not depend on how the min/max
// instructions order NaN operands.
func minMaxF32x8(v []float32) (lo, hi float32, n int) {
	const w = 8
	posInf, negInf := archsimd.BroadcastFloat32x8(float32(math.Inf(1))), archsimd.BroadcastFloat32x8(float32(math.Inf(-1)))
	l0, h0, l1, h1 := posInf, negInf, posInf, negInf
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadFloat32x8Slice(s), archsimd.LoadFloat32x8Slice(s[w:])
		oka, okb := a.Equal(a), b.Equal(b)
		l0, h0 = l0.Min(a.Merge(posInf, oka)), h0.Max(a.Merge(negInf, oka))
		l1, h1 = l1.Min(b.Merge(posInf, okb)), h1.Max(b.Merge(negInf, okb))
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadFloat32x8Slice(s)
		ok := a.Equal(a)
		l0, h0 = l0.Min(a.Merge(posInf, ok)), h0.Max(a.Merge(negInf, ok))
		s = s[w:]
	}
	var ls, hs [w]float32
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func minMaxF64x4(v []float64) (lo, hi float64, n int) {
	const w = 4
	posInf, negInf := archsimd.BroadcastFloat64x4(math.Inf(1)), archsimd.BroadcastFloat64x4(math.Inf(-1))
	l0, h0, l1, h1 := posInf, negInf, posInf, negInf
	s := v
	for len(s) >= 2*w {
		a, b := archsimd.LoadFloat64x4Slice(s), archsimd.LoadFloat64x4Slice(s[w:])
		oka, okb := a.Equal(a), b.Equal(b)
		l0, h0 = l0.Min(a.Merge(posInf, oka)), h0.Max(a.Merge(negInf, oka))
		l1, h1 = l1.Min(b.Merge(posInf, okb)), h1.Max(b.Merge(negInf, okb))
		s = s[2*w:]
	}
	if len(s) >= w {
		a := archsimd.LoadFloat64x4Slice(s)
		ok := a.Equal(a)
		l0, h0 = l0.Min(a.Merge(posInf, ok)), h0.Max(a.Merge(negInf, ok))
		s = s[w:]
	}
	var ls, hs [w]float64
	l0.Min(l1).Store(&ls)
	h0.Max(h1).Store(&hs)
	return reduceMin(ls[:]), reduceMax(hs[:]), len(v) - len(s)
}

func reduceMin[T number](v []T) T {
	m := v[0]
	for _, x := range v[1:] {
		m = min(m, x)
	}
	return m
}

func reduceMax[T number](v []T) T {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

// vecThreshold writes 1 for lo <= x <= hi and 0 otherwise over a prefix
// of v; lo and hi are values of v's type. Integer voxels are compared as
// x-lo <= hi-lo in unsigned arithmetic of their width, which needs one
// comparison and treats signed and unsigned types alike.
func vecThreshold(v any, dst []uint8, lo, hi float64) int {
	if !haveAVX2 {
		return 0
	}
	base, span := int64(lo), int64(hi)-int64(lo)
	switch v := v.(type) {
	case []uint8:
		return thresholdU8x32(v, dst, uint8(base), uint8(span))
	case []int8:
		return thresholdU8x32(reinterpret[uint8](v), dst, uint8(base), uint8(span))
	case []uint16:
		if haveAVX512 {
			return thresholdU16x16(v, dst, uint16(base), uint16(span))
		}
	case []int16:
		if haveAVX512 {
			return thresholdU16x16(reinterpret[uint16](v), dst, uint16(base), uint16(span))
		}
	case []uint32:
		return thresholdU32x8(v, dst, uint32(base), uint32(span))
	case []int32:
		return thresholdU32x8(reinterpret[uint32](v), dst, uint32(base), uint32(span))
	case []float32:
		return thresholdF32x8(v, dst, float32(lo), float32(hi))
	case []float64:
		return thresholdF64x4(v, dst, lo, hi)
	}
	return 0
}

// reinterpret views a slice of one integer type as another of the same
// size (int16 voxels as uint16 lanes, say).
func reinterpret[U, T number](v []T) []U {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*U)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
}

func thresholdU8x32(v []uint8, dst []uint8, lo, span uint8) int {
	const w = 32
	base, limit, one := archsimd.BroadcastUint8x32(lo), archsimd.BroadcastUint8x32(span), archsimd.BroadcastUint8x32(1)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		in := archsimd.LoadUint8x32Slice(s).Sub(base).LessEqual(limit)
		in.ToInt8x32().AsUint8x32().And(one).StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// thresholdU16x16 narrows the 16-bit comparison results to bytes with
// AVX-512's VPMOVWB.
func thresholdU16x16(v []uint16, dst []uint8, lo, span uint16) int {
	const w = 16
	base, limit := archsimd.BroadcastUint16x16(lo), archsimd.BroadcastUint16x16(span)
	one := archsimd.BroadcastUint8x16(1)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		in := archsimd.LoadUint16x16Slice(s).Sub(base).LessEqual(limit)
		in.ToInt16x16().AsUint16x16().TruncateToUint8().And(one).StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// spread8 maps 8 comparison bits (VMOVMSKPS) to 8 bytes of 0 or 1.
var spread8 = func() (t [256]uint64) {
	for b := range t {
		for i := range 8 {
			t[b] |= uint64(b>>i&1) << (8 * i)
		}
	}
	return t
}()

func thresholdU32x8(v []uint32, dst []uint8, lo, span uint32) int {
	const w = 8
	base, limit := archsimd.BroadcastUint32x8(lo), archsimd.BroadcastUint32x8(span)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		bits := archsimd.LoadUint32x8Slice(s).Sub(base).LessEqual(limit).ToBits()
		binary.LittleEndian.PutUint64(d, spread8[bits])
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func thresholdF32x8(v []float32, dst []uint8, lo, hi float32) int {
	const w = 8
	l, h := archsimd.BroadcastFloat32x8(lo), archsimd.BroadcastFloat32x8(hi)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		x := archsimd.LoadFloat32x8Slice(s)
		bits := x.GreaterEqual(l).And(x.LessEqual(h)).ToBits()
		binary.LittleEndian.PutUint64(d, spread8[bits])
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func thresholdF64x4(v []float64, dst []uint8, lo, hi float64) int {
	const w = 4
	l, h := archsimd.BroadcastFloat64x4(lo), archsimd.BroadcastFloat64x4(hi)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		x := archsimd.LoadFloat64x4Slice(s)
		bits := x.GreaterEqual(l).And(x.LessEqual(h)).ToBits()
		binary.LittleEndian.PutUint32(d, uint32(spread8[bits&15]))
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}
