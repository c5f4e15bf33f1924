//go:build goexperiment.simd && amd64

package clip

import (
	"math"
	"simd/archsimd"
)

// vecIntSums sums a prefix of v (8- or 16-bit voxels) like intSumsNarrow:
// exactly, over voxels shifted by shift. Shifting an unsigned voxel by its
// type's midpoint is flipping its top bit, which turns it into a signed
// lane, so VPMADDWD (signed 16-bit multiply and add of pairs) sums values
// and squares for both kinds.
//
// With a selection (sel not nil, as long as v) unselected voxels are
// zeroed after the shift, so they add nothing, and replaced by the extremes
// of the lane type for the minimum and maximum.
func vecIntSums(v any, sel []uint8, shift int64) (intSums, int) {
	if !haveAVX2 {
		return intSums{}, 0
	}
	switch v := v.(type) {
	case []uint8:
		if sel != nil {
			return sumsI8x32Masked(reinterpret[int8](v), sel, -128, shift)
		}
		return sumsI8x32(reinterpret[int8](v), -128, shift)
	case []int8:
		if sel != nil {
			return sumsI8x32Masked(v, sel, 0, shift)
		}
		return sumsI8x32(v, 0, shift)
	case []uint16:
		if sel != nil {
			return sumsI16x16Masked(reinterpret[int16](v), sel, math.MinInt16, shift)
		}
		return sumsI16x16(reinterpret[int16](v), math.MinInt16, shift)
	case []int16:
		if sel != nil {
			return sumsI16x16Masked(v, sel, 0, shift)
		}
		return sumsI16x16(v, 0, shift)
	}
	return intSums{}, 0
}

// sumsRound bounds the vectors summed in 32-bit lanes before they are
// widened to 64 bits: per lane and vector at most 2^16 for 8-bit squares
// and 2^17 for 16-bit sums, so 2^14 vectors stay below 2^31.
const sumsRound = 1 << 14

func sumsI8x32(v []int8, flip int8, shift int64) (intSums, int) {
	const w = 32
	if len(v) < w {
		return intSums{}, 0
	}
	fl, ones := archsimd.BroadcastInt8x32(flip), archsimd.BroadcastInt16x16(1)
	lo := archsimd.LoadInt8x32Slice(v).Xor(fl)
	hi := lo
	var sum, sq archsimd.Int64x4
	s := v
	for len(s) >= w {
		var sum32, sq32 archsimd.Int32x8
		for k := 0; k < sumsRound && len(s) >= w; k++ {
			x := archsimd.LoadInt8x32Slice(s).Xor(fl)
			lo, hi = lo.Min(x), hi.Max(x)
			a, b := x.GetLo().ExtendToInt16(), x.GetHi().ExtendToInt16()
			sum32 = sum32.Add(a.Add(b).DotProductPairs(ones))
			sq32 = sq32.Add(a.DotProductPairs(a)).Add(b.DotProductPairs(b))
			s = s[w:]
		}
		sum = sum.Add(sum32.GetLo().ExtendToInt64()).Add(sum32.GetHi().ExtendToInt64())
		sq = sq.Add(sq32.GetLo().ExtendToInt64()).Add(sq32.GetHi().ExtendToInt64())
	}
	var ls, hs [w]int8
	lo.Store(&ls)
	hi.Store(&hs)
	var sums, squares [4]int64
	sum.Store(&sums)
	sq.Store(&squares)
	n := len(v) - len(s)
	r := intSums{count: int64(n), lo: int64(reduceMin(ls[:])) + shift, hi: int64(reduceMax(hs[:])) + shift}
	r.sum.addInt64(sums[0] + sums[1] + sums[2] + sums[3])
	r.sq.addUint64(uint64(squares[0] + squares[1] + squares[2] + squares[3]))
	return r, n
}

// sumsI16x16 widens the pair sums of squares (up to 2^31, so unsigned) to
// 64 bits at every vector.
func sumsI16x16(v []int16, flip int16, shift int64) (intSums, int) {
	const w = 16
	if len(v) < w {
		return intSums{}, 0
	}
	fl, ones := archsimd.BroadcastInt16x16(flip), archsimd.BroadcastInt16x16(1)
	lo := archsimd.LoadInt16x16Slice(v).Xor(fl)
	hi := lo
	var sum archsimd.Int64x4
	var sq0, sq1 archsimd.Uint64x4
	s := v
	for len(s) >= w {
		var sum32 archsimd.Int32x8
		for k := 0; k < sumsRound && len(s) >= w; k++ {
			x := archsimd.LoadInt16x16Slice(s).Xor(fl)
			lo, hi = lo.Min(x), hi.Max(x)
			sum32 = sum32.Add(x.DotProductPairs(ones))
			sq := x.DotProductPairs(x).AsUint32x8()
			sq0 = sq0.Add(sq.GetLo().ExtendToUint64())
			sq1 = sq1.Add(sq.GetHi().ExtendToUint64())
			s = s[w:]
		}
		sum = sum.Add(sum32.GetLo().ExtendToInt64()).Add(sum32.GetHi().ExtendToInt64())
	}
	var ls, hs [w]int16
	lo.Store(&ls)
	hi.Store(&hs)
	var sums [4]int64
	var squares [4]uint64
	sum.Store(&sums)
	sq0.Add(sq1).Store(&squares)
	n := len(v) - len(s)
	r := intSums{count: int64(n), lo: int64(reduceMin(ls[:])) + shift, hi: int64(reduceMax(hs[:])) + shift}
	r.sum.addInt64(sums[0] + sums[1] + sums[2] + sums[3])
	r.sq.addUint64(squares[0] + squares[1] + squares[2] + squares[3])
	return r, n
}

func sumsI8x32Masked(v []int8, sel []uint8, flip int8, shift int64) (intSums, int) {
	const w = 32
	fl, ones := archsimd.BroadcastInt8x32(flip), archsimd.BroadcastInt16x16(1)
	top, bottom := archsimd.BroadcastInt8x32(math.MaxInt8), archsimd.BroadcastInt8x32(math.MinInt8)
	var zero archsimd.Uint8x32
	lo, hi := top, bottom
	var sum, sq, cnt archsimd.Int64x4
	s, m := v, sel[:len(v)]
	for len(s) >= w && len(m) >= w {
		var sum32, sq32, cnt32 archsimd.Int32x8
		for k := 0; k < sumsRound && len(s) >= w && len(m) >= w; k++ {
			keep := archsimd.LoadUint8x32Slice(m).NotEqual(zero)
			x := archsimd.LoadInt8x32Slice(s).Xor(fl)
			lo, hi = lo.Min(x.Merge(top, keep)), hi.Max(x.Merge(bottom, keep))
			z, c := x.Masked(keep), keep.ToInt8x32()
			a, b := z.GetLo().ExtendToInt16(), z.GetHi().ExtendToInt16()
			sum32 = sum32.Add(a.Add(b).DotProductPairs(ones))
			sq32 = sq32.Add(a.DotProductPairs(a)).Add(b.DotProductPairs(b))
			cnt32 = cnt32.Sub(c.GetLo().ExtendToInt16().Add(c.GetHi().ExtendToInt16()).DotProductPairs(ones))
			s, m = s[w:], m[w:]
		}
		sum = sum.Add(sum32.GetLo().ExtendToInt64()).Add(sum32.GetHi().ExtendToInt64())
		sq = sq.Add(sq32.GetLo().ExtendToInt64()).Add(sq32.GetHi().ExtendToInt64())
		cnt = cnt.Add(cnt32.GetLo().ExtendToInt64()).Add(cnt32.GetHi().ExtendToInt64())
	}
	var ls, hs [w]int8
	lo.Store(&ls)
	hi.Store(&hs)
	var sums, squares, counts [4]int64
	sum.Store(&sums)
	sq.Store(&squares)
	cnt.Store(&counts)
	r := intSums{count: counts[0] + counts[1] + counts[2] + counts[3],
		lo: int64(reduceMin(ls[:])) + shift, hi: int64(reduceMax(hs[:])) + shift}
	r.sum.addInt64(sums[0] + sums[1] + sums[2] + sums[3])
	r.sq.addUint64(uint64(squares[0] + squares[1] + squares[2] + squares[3]))
	return r, len(v) - len(s)
}

func sumsI16x16Masked(v []int16, sel []uint8, flip int16, shift int64) (intSums, int) {
	const w = 16
	fl, ones := archsimd.BroadcastInt16x16(flip), archsimd.BroadcastInt16x16(1)
	top, bottom := archsimd.BroadcastInt16x16(math.MaxInt16), archsimd.BroadcastInt16x16(math.MinInt16)
	var zero archsimd.Uint16x16
	lo, hi := top, bottom
	var sum, cnt archsimd.Int64x4
	var sq0, sq1 archsimd.Uint64x4
	s, m := v, sel[:len(v)]
	for len(s) >= w && len(m) >= w {
		var sum32, cnt32 archsimd.Int32x8
		for k := 0; k < sumsRound && len(s) >= w && len(m) >= w; k++ {
			keep := archsimd.LoadUint8x16Slice(m).ExtendToUint16().NotEqual(zero)
			x := archsimd.LoadInt16x16Slice(s).Xor(fl)
			lo, hi = lo.Min(x.Merge(top, keep)), hi.Max(x.Merge(bottom, keep))
			z := x.Masked(keep)
			sum32 = sum32.Add(z.DotProductPairs(ones))
			cnt32 = cnt32.Sub(keep.ToInt16x16().DotProductPairs(ones))
			sq := z.DotProductPairs(z).AsUint32x8()
			sq0 = sq0.Add(sq.GetLo().ExtendToUint64())
			sq1 = sq1.Add(sq.GetHi().ExtendToUint64())
			s, m = s[w:], m[w:]
		}
		sum = sum.Add(sum32.GetLo().ExtendToInt64()).Add(sum32.GetHi().ExtendToInt64())
		cnt = cnt.Add(cnt32.GetLo().ExtendToInt64()).Add(cnt32.GetHi().ExtendToInt64())
	}
	var ls, hs [w]int16
	lo.Store(&ls)
	hi.Store(&hs)
	var sums, counts [4]int64
	var squares [4]uint64
	sum.Store(&sums)
	cnt.Store(&counts)
	sq0.Add(sq1).Store(&squares)
	r := intSums{count: counts[0] + counts[1] + counts[2] + counts[3],
		lo: int64(reduceMin(ls[:])) + shift, hi: int64(reduceMax(hs[:])) + shift}
	r.sum.addInt64(sums[0] + sums[1] + sums[2] + sums[3])
	r.sq.addUint64(squares[0] + squares[1] + squares[2] + squares[3])
	return r, len(v) - len(s)
}

// vecFloatSums is floatSums over a prefix of a block: lane i of the
// accumulators gets voxels i, i+8, ... in order, as in the scalar loop.
func vecFloatSums(v any, acc *[lanes]float64) (n, count int, lo, hi float64) {
	if !haveAVX2 {
		return 0, 0, 0, 0
	}
	switch v := v.(type) {
	case []float32:
		return floatSumsF32x8(v, acc)
	case []float64:
		return floatSumsF64x4(v, acc)
	}
	return 0, 0, 0, 0
}

func floatSumsF32x8(v []float32, acc *[lanes]float64) (n, count int, lo, hi float64) {
	const w = 8
	a0, a1 := archsimd.LoadFloat64x4((*[4]float64)(acc[:4])), archsimd.LoadFloat64x4((*[4]float64)(acc[4:]))
	posInf, negInf := archsimd.BroadcastFloat32x8(float32(math.Inf(1))), archsimd.BroadcastFloat32x8(float32(math.Inf(-1)))
	l, h := posInf, negInf
	var cnt archsimd.Int32x8
	s := v
	for len(s) >= w {
		x := archsimd.LoadFloat32x8Slice(s)
		ok := x.Equal(x)
		z := x.Masked(ok) // NaN becomes +0, as in floatSums
		a0 = a0.Add(z.GetLo().ConvertToFloat64())
		a1 = a1.Add(z.GetHi().ConvertToFloat64())
		l, h = l.Min(x.Merge(posInf, ok)), h.Max(x.Merge(negInf, ok))
		cnt = cnt.Sub(ok.ToInt32x8())
		s = s[w:]
	}
	a0.Store((*[4]float64)(acc[:4]))
	a1.Store((*[4]float64)(acc[4:]))
	var ls, hs [w]float32
	var cs [w]int32
	l.Store(&ls)
	h.Store(&hs)
	cnt.Store(&cs)
	for _, c := range cs {
		count += int(c)
	}
	return len(v) - len(s), count, float64(reduceMin(ls[:])), float64(reduceMax(hs[:]))
}

func floatSumsF64x4(v []float64, acc *[lanes]float64) (n, count int, lo, hi float64) {
	const w = 8 // two vectors, one per half of the lanes
	a0, a1 := archsimd.LoadFloat64x4((*[4]float64)(acc[:4])), archsimd.LoadFloat64x4((*[4]float64)(acc[4:]))
	posInf, negInf := archsimd.BroadcastFloat64x4(math.Inf(1)), archsimd.BroadcastFloat64x4(math.Inf(-1))
	l, h := posInf, negInf
	var cnt archsimd.Int64x4
	s := v
	for len(s) >= w {
		x, y := archsimd.LoadFloat64x4Slice(s), archsimd.LoadFloat64x4Slice(s[4:])
		okx, oky := x.Equal(x), y.Equal(y)
		a0 = a0.Add(x.Masked(okx))
		a1 = a1.Add(y.Masked(oky))
		l, h = l.Min(x.Merge(posInf, okx)), h.Max(x.Merge(negInf, okx))
		l, h = l.Min(y.Merge(posInf, oky)), h.Max(y.Merge(negInf, oky))
		cnt = cnt.Sub(okx.ToInt64x4()).Sub(oky.ToInt64x4())
		s = s[w:]
	}
	a0.Store((*[4]float64)(acc[:4]))
	a1.Store((*[4]float64)(acc[4:]))
	var ls, hs [4]float64
	var cs [4]int64
	l.Store(&ls)
	h.Store(&hs)
	cnt.Store(&cs)
	return len(v) - len(s), int(cs[0] + cs[1] + cs[2] + cs[3]), reduceMin(ls[:]), reduceMax(hs[:])
}

// vecFloatSquares is floatSquares over a prefix of a block.
func vecFloatSquares(v any, mean float64, acc *[lanes]float64) int {
	if !haveAVX2 {
		return 0
	}
	switch v := v.(type) {
	case []float32:
		return floatSquaresF32x8(v, mean, acc)
	case []float64:
		return floatSquaresF64x4(v, mean, acc)
	}
	return 0
}

func floatSquaresF32x8(v []float32, mean float64, acc *[lanes]float64) int {
	const w = 8
	a0, a1 := archsimd.LoadFloat64x4((*[4]float64)(acc[:4])), archsimd.LoadFloat64x4((*[4]float64)(acc[4:]))
	m := archsimd.BroadcastFloat64x4(mean)
	s := v
	for len(s) >= w {
		x := archsimd.LoadFloat32x8Slice(s)
		d0, d1 := x.GetLo().ConvertToFloat64().Sub(m), x.GetHi().ConvertToFloat64().Sub(m)
		a0 = a0.Add(d0.Mul(d0).Masked(d0.Equal(d0)))
		a1 = a1.Add(d1.Mul(d1).Masked(d1.Equal(d1)))
		s = s[w:]
	}
	a0.Store((*[4]float64)(acc[:4]))
	a1.Store((*[4]float64)(acc[4:]))
	return len(v) - len(s)
}

func floatSquaresF64x4(v []float64, mean float64, acc *[lanes]float64) int {
	const w = 8
	a0, a1 := archsimd.LoadFloat64x4((*[4]float64)(acc[:4])), archsimd.LoadFloat64x4((*[4]float64)(acc[4:]))
	m := archsimd.BroadcastFloat64x4(mean)
	s := v
	for len(s) >= w {
		d0, d1 := archsimd.LoadFloat64x4Slice(s).Sub(m), archsimd.LoadFloat64x4Slice(s[4:]).Sub(m)
		a0 = a0.Add(d0.Mul(d0).Masked(d0.Equal(d0)))
		a1 = a1.Add(d1.Mul(d1).Masked(d1.Equal(d1)))
		s = s[w:]
	}
	a0.Store((*[4]float64)(acc[:4]))
	a1.Store((*[4]float64)(acc[4:]))
	return len(v) - len(s)
}
