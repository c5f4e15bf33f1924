//go:build goexperiment.simd && amd64

package clip

import "simd/archsimd"

// The Gaussian's line kernels take one fused multiply-add per voxel and
// kernel offset pair, so they need FMA next to AVX2. With AVX-512 the
// float32 kernel uses 512-bit vectors: the loop overhead per offset, not
// the arithmetic, bounds the 256-bit one.
var haveFMA = haveAVX2 && archsimd.X86.FMA()

// vecSmoothLine32 is smoothLine for float32 lines: it sets o[j] =
// w[0]*c[j] + sum over k of w[k]*(lo[k-1][j] + hi[k-1][j]) for all of o,
// or reports false, leaving o alone, when the CPU lacks the instructions.
// Every voxel's sum runs in the same order, offset by offset with one
// rounding per multiply-add, wherever the voxel falls in a vector, so the
// result does not depend on how a line is cut into pieces.
func vecSmoothLine32(o, c []float32, lo, hi [][]float32, w []float32) bool {
	switch {
	case haveAVX512:
		smoothF32x16(o, c, lo, hi, w)
	case haveFMA:
		smoothF32x8(o, c, lo, hi, w)
	default:
		return false
	}
	return true
}

// vecSmoothLine64 is vecSmoothLine32 for float64 lines.
func vecSmoothLine64(o, c []float64, lo, hi [][]float64, w []float64) bool {
	if !haveFMA {
		return false
	}
	smoothF64x4(o, c, lo, hi, w)
	return true
}

// The kernels below share one shape. Four vectors per sweep over the
// offsets keep four independent chains of multiply-adds in flight and
// load each line's slice header once per four vectors; the rest of the
// line goes one vector at a time, the last one partial.

func smoothF32x16(o, c []float32, lo, hi [][]float32, w []float32) {
	const v = 16
	n := len(o)
	c = c[:n]
	w = w[:len(lo)+1]
	hi = hi[:len(lo)]
	w0 := archsimd.BroadcastFloat32x16(w[0])
	j := 0
	for ; j+4*v <= n; j += 4 * v {
		cj := c[j : j+4*v]
		a0 := archsimd.LoadFloat32x16Slice(cj).Mul(w0)
		a1 := archsimd.LoadFloat32x16Slice(cj[v:]).Mul(w0)
		a2 := archsimd.LoadFloat32x16Slice(cj[2*v:]).Mul(w0)
		a3 := archsimd.LoadFloat32x16Slice(cj[3*v:]).Mul(w0)
		for k, l := range lo {
			l, h := l[j:j+4*v], hi[k][j:j+4*v]
			wk := archsimd.BroadcastFloat32x16(w[k+1])
			a0 = archsimd.LoadFloat32x16Slice(l).Add(archsimd.LoadFloat32x16Slice(h)).MulAdd(wk, a0)
			a1 = archsimd.LoadFloat32x16Slice(l[v:]).Add(archsimd.LoadFloat32x16Slice(h[v:])).MulAdd(wk, a1)
			a2 = archsimd.LoadFloat32x16Slice(l[2*v:]).Add(archsimd.LoadFloat32x16Slice(h[2*v:])).MulAdd(wk, a2)
			a3 = archsimd.LoadFloat32x16Slice(l[3*v:]).Add(archsimd.LoadFloat32x16Slice(h[3*v:])).MulAdd(wk, a3)
		}
		oj := o[j : j+4*v]
		a0.StoreSlice(oj)
		a1.StoreSlice(oj[v:])
		a2.StoreSlice(oj[2*v:])
		a3.StoreSlice(oj[3*v:])
	}
	for ; j < n; j += v {
		e := min(j+v, n)
		a := archsimd.LoadFloat32x16SlicePart(c[j:e]).Mul(w0)
		for k, l := range lo {
			wk := archsimd.BroadcastFloat32x16(w[k+1])
			a = archsimd.LoadFloat32x16SlicePart(l[j:e]).Add(archsimd.LoadFloat32x16SlicePart(hi[k][j:e])).MulAdd(wk, a)
		}
		a.StoreSlicePart(o[j:e])
	}
}

func smoothF32x8(o, c []float32, lo, hi [][]float32, w []float32) {
	const v = 8
	n := len(o)
	c = c[:n]
	w = w[:len(lo)+1]
	hi = hi[:len(lo)]
	w0 := archsimd.BroadcastFloat32x8(w[0])
	j := 0
	for ; j+4*v <= n; j += 4 * v {
		cj := c[j : j+4*v]
		a0 := archsimd.LoadFloat32x8Slice(cj).Mul(w0)
		a1 := archsimd.LoadFloat32x8Slice(cj[v:]).Mul(w0)
		a2 := archsimd.LoadFloat32x8Slice(cj[2*v:]).Mul(w0)
		a3 := archsimd.LoadFloat32x8Slice(cj[3*v:]).Mul(w0)
		for k, l := range lo {
			l, h := l[j:j+4*v], hi[k][j:j+4*v]
			wk := archsimd.BroadcastFloat32x8(w[k+1])
			a0 = archsimd.LoadFloat32x8Slice(l).Add(archsimd.LoadFloat32x8Slice(h)).MulAdd(wk, a0)
			a1 = archsimd.LoadFloat32x8Slice(l[v:]).Add(archsimd.LoadFloat32x8Slice(h[v:])).MulAdd(wk, a1)
			a2 = archsimd.LoadFloat32x8Slice(l[2*v:]).Add(archsimd.LoadFloat32x8Slice(h[2*v:])).MulAdd(wk, a2)
			a3 = archsimd.LoadFloat32x8Slice(l[3*v:]).Add(archsimd.LoadFloat32x8Slice(h[3*v:])).MulAdd(wk, a3)
		}
		oj := o[j : j+4*v]
		a0.StoreSlice(oj)
		a1.StoreSlice(oj[v:])
		a2.StoreSlice(oj[2*v:])
		a3.StoreSlice(oj[3*v:])
	}
	for ; j < n; j += v {
		e := min(j+v, n)
		a := archsimd.LoadFloat32x8SlicePart(c[j:e]).Mul(w0)
		for k, l := range lo {
			wk := archsimd.BroadcastFloat32x8(w[k+1])
			a = archsimd.LoadFloat32x8SlicePart(l[j:e]).Add(archsimd.LoadFloat32x8SlicePart(hi[k][j:e])).MulAdd(wk, a)
		}
		a.StoreSlicePart(o[j:e])
	}
}

func smoothF64x4(o, c []float64, lo, hi [][]float64, w []float64) {
	const v = 4
	n := len(o)
	c = c[:n]
	w = w[:len(lo)+1]
	hi = hi[:len(lo)]
	w0 := archsimd.BroadcastFloat64x4(w[0])
	j := 0
	for ; j+4*v <= n; j += 4 * v {
		cj := c[j : j+4*v]
		a0 := archsimd.LoadFloat64x4Slice(cj).Mul(w0)
		a1 := archsimd.LoadFloat64x4Slice(cj[v:]).Mul(w0)
		a2 := archsimd.LoadFloat64x4Slice(cj[2*v:]).Mul(w0)
		a3 := archsimd.LoadFloat64x4Slice(cj[3*v:]).Mul(w0)
		for k, l := range lo {
			l, h := l[j:j+4*v], hi[k][j:j+4*v]
			wk := archsimd.BroadcastFloat64x4(w[k+1])
			a0 = archsimd.LoadFloat64x4Slice(l).Add(archsimd.LoadFloat64x4Slice(h)).MulAdd(wk, a0)
			a1 = archsimd.LoadFloat64x4Slice(l[v:]).Add(archsimd.LoadFloat64x4Slice(h[v:])).MulAdd(wk, a1)
			a2 = archsimd.LoadFloat64x4Slice(l[2*v:]).Add(archsimd.LoadFloat64x4Slice(h[2*v:])).MulAdd(wk, a2)
			a3 = archsimd.LoadFloat64x4Slice(l[3*v:]).Add(archsimd.LoadFloat64x4Slice(h[3*v:])).MulAdd(wk, a3)
		}
		oj := o[j : j+4*v]
		a0.StoreSlice(oj)
		a1.StoreSlice(oj[v:])
		a2.StoreSlice(oj[2*v:])
		a3.StoreSlice(oj[3*v:])
	}
	for ; j < n; j += v {
		e := min(j+v, n)
		a := archsimd.LoadFloat64x4SlicePart(c[j:e]).Mul(w0)
		for k, l := range lo {
			wk := archsimd.BroadcastFloat64x4(w[k+1])
			a = archsimd.LoadFloat64x4SlicePart(l[j:e]).Add(archsimd.LoadFloat64x4SlicePart(hi[k][j:e])).MulAdd(wk, a)
		}
		a.StoreSlicePart(o[j:e])
	}
}
