package clip

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// The vector kernels must give the scalar loops' results to the bit. These
// tests run every streaming kernel both ways on data with odd lengths,
// extremes, NaN, ±Inf and -0 and compare. Without GOEXPERIMENT=simd (or on
// a CPU without AVX2) both runs take the scalar path and trivially agree.

// vectorSize has an odd voxel count, so the slabs and the vector loops
// all leave tails.
var vectorSize = [3]int{67, 61, 53}

// awkwardImage is sample() data salted with the values kernels get wrong:
// type extremes, zero, and for floats NaN, ±Inf, -0 and exact halves.
func awkwardImage(t *testing.T, dt omni.DataType, r *rand.Rand) (*omni.Image, []float64) {
	t.Helper()
	n := vectorSize[0] * vectorSize[1] * vectorSize[2]
	vals := sample(dt, n, r)
	if dt.IsFloat() {
		special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 2.5, -3.5, 65535.5, -32768.5, 1e10}
		for i := range vals {
			switch r.IntN(8) {
			case 0:
				vals[i] = special[r.IntN(len(special))]
			case 1, 2:
				vals[i] = math.Round(vals[i]/1e25) + 0.5 // small values with halves
			}
		}
	} else {
		lo, hi := ranges[dt][0], ranges[dt][1]
		for i := range vals {
			switch r.IntN(16) {
			case 0:
				vals[i] = lo
			case 1:
				vals[i] = hi
			case 2:
				vals[i] = 0
			}
		}
	}
	return newImage(t, dt, vectorSize, vals), vals
}

func TestVectorMatchesScalar(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	maskImg, _ := awkwardImage(t, omni.Uint8, r)
	for _, dt := range omni.DataTypes() {
		img, vals := awkwardImage(t, dt, r)
		t.Run(dt.String(), func(t *testing.T) {
			// MinMax and Statistics, unmasked and masked.
			for _, mask := range []*omni.Image{nil, maskImg} {
				vl, vh, verr := minMax(ctx, img, mask, vectorPath)
				sl, sh, serr := minMax(ctx, img, mask, scalarPath)
				if vl != sl || vh != sh || (verr == nil) != (serr == nil) {
					t.Errorf("minmax (mask %v): vector %v %v %v, scalar %v %v %v", mask != nil, vl, vh, verr, sl, sh, serr)
				}
				vs, verr := statistics(ctx, img, mask, vectorPath)
				ss, serr := statistics(ctx, img, mask, scalarPath)
				if !sameStats(vs, ss) || (verr == nil) != (serr == nil) {
					t.Errorf("statistics (mask %v): vector %+v %v, scalar %+v %v", mask != nil, vs, verr, ss, serr)
				}
			}
			// The statistics of data holding ±Inf are NaN; compare the
			// sums of finite data too.
			finite := make([]float64, len(vals))
			for i, v := range vals {
				finite[i] = v
				if math.IsInf(v, 0) {
					finite[i] = math.Copysign(1e20, v)
				}
			}
			vs, verr := statistics(ctx, newImage(t, dt, vectorSize, finite), maskImg, vectorPath)
			ss, serr := statistics(ctx, newImage(t, dt, vectorSize, finite), maskImg, scalarPath)
			if !sameStats(vs, ss) || verr != nil || serr != nil || math.IsNaN(vs.Std) {
				t.Errorf("statistics of finite data: vector %+v %v, scalar %+v %v", vs, verr, ss, serr)
			}
			vs, _ = statistics(ctx, newImage(t, dt, vectorSize, finite), nil, vectorPath)
			ss, _ = statistics(ctx, newImage(t, dt, vectorSize, finite), nil, scalarPath)
			if !sameStats(vs, ss) || math.IsNaN(vs.Std) {
				t.Errorf("statistics of finite data: vector %+v, scalar %+v", vs, ss)
			}
			// Histogram of a finite range (the data holds ±Inf).
			opt := HistogramOptions{Bins: 37, Min: -1000, Max: 1e4, HasRange: true}
			vb, verr := histogram(ctx, img, maskImg, opt, vectorPath)
			sb, serr := histogram(ctx, img, maskImg, opt, scalarPath)
			if (verr == nil) != (serr == nil) || len(vb) != len(sb) {
				t.Errorf("histogram: %v, %v", verr, serr)
			}
			for i := range min(len(vb), len(sb)) {
				if vb[i] != sb[i] {
					t.Errorf("histogram bin %d: vector %+v, scalar %+v", i, vb[i], sb[i])
				}
			}
			// Threshold with bounds between, on and beyond the values.
			for _, b := range []Bounds{
				{Lower: vals[3], Upper: vals[7], HasLower: true, HasUpper: true},
				{Lower: -100.5, Upper: 1e9, HasLower: true, HasUpper: true},
				{Lower: 0, HasLower: true},
				{Upper: 0, HasUpper: true},
				{Lower: -1e300, Upper: 1e300, HasLower: true, HasUpper: true},
			} {
				sameImages(t, "threshold", func(p path) (*omni.Image, error) { return threshold(ctx, img, b, p) })
			}
			sameImages(t, "mask", func(p path) (*omni.Image, error) { return maskImage(ctx, img, maskImg, p) })
			for _, to := range omni.DataTypes() {
				sameImages(t, "convert to "+to.String(), func(p path) (*omni.Image, error) { return convert(ctx, img, to, p) })
			}
			for _, op := range []ArithOp{Add, Subtract, Multiply, Minimum, Maximum} {
				for _, v := range []float64{0, 3, -7, 100, -30000, 2.5, -0.5, 1e6, -1e12, 70000, math.Inf(1)} {
					sameImages(t, op.String(), func(p path) (*omni.Image, error) { return arithScalar(ctx, img, op, v, p) })
				}
				other, _ := awkwardImage(t, dt, r)
				sameImages(t, op.String()+" images", func(p path) (*omni.Image, error) { return arith(ctx, img, other, op, p) })
			}
		})
	}
}

func sameStats(a, b Stats) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return eq(a.Min, b.Min) && eq(a.Max, b.Max) && eq(a.Sum, b.Sum) && eq(a.Mean, b.Mean) && eq(a.Std, b.Std) && a.Count == b.Count
}

// sameImages runs a kernel on both paths and compares the results' bytes.
// Float voxels may differ only in the sign of a zero (min and max of +0 and
// -0 may return either).
func sameImages(t *testing.T, what string, run func(p path) (*omni.Image, error)) {
	t.Helper()
	v, verr := run(vectorPath)
	s, serr := run(scalarPath)
	if verr != nil || serr != nil {
		t.Fatalf("%s: %v, %v", what, verr, serr)
	}
	defer v.Close()
	defer s.Close()
	if bytes.Equal(v.Pixels(), s.Pixels()) {
		return
	}
	vv, sv := imageValues(t, v), imageValues(t, s)
	for i := range vv {
		if vv[i] != sv[i] && !(math.IsNaN(vv[i]) && math.IsNaN(sv[i])) {
			t.Fatalf("%s: voxel %d: vector %v, scalar %v", what, i, vv[i], sv[i])
		}
	}
}
