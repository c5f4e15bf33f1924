package clip

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"

	"github.com/xfhost/xfhost/omni"
)

// Bin is one histogram bin: the columns x0, pdf, distr and count of
// XamFlow's histogram plot.
type Bin struct {
	Centre float64 // middle of the bin (the integer for integer bins)
	PDF    float64 // Count / total / bin width, as numpy's density=True
	CDF    float64 // fraction of the counted voxels in this and earlier bins
	Count  int64
}

// HistogramOptions choose a histogram's bins.
type HistogramOptions struct {
	// Bins is the number of equal-width bins over [Min, Max], or over the
	// selected voxels' minimum and maximum when HasRange is false.
	Bins     int
	Min, Max float64
	HasRange bool
	// IntegerBins asks for one bin per integer from floor(Min) to
	// ceil(Max) instead, for integer images only; Bins is ignored.
	IntegerBins bool
}

// maxBins bounds the bins (and the memory) a histogram may ask for.
const maxBins = 1 << 24

// Histogram counts img's voxels (those where mask, if not nil, is
// non-zero) into bins with numpy.histogram's rules, evaluated in float64:
// equal-width bins whose edges are numpy.linspace(Min, Max, Bins+1), each
// closed on the left and the last also on the right; voxels outside the
// range and NaN voxels are not counted; a range of zero width is widened
// by 0.5 on each side. ErrEmpty if no voxel is counted.
func Histogram(ctx context.Context, img, mask *omni.Image, opt HistogramOptions) ([]Bin, error) {
	bins, err := histogram(ctx, img, mask, opt, vectorPath)
	if err != nil {
		return nil, fmt.Errorf("clip: histogram: %w", err)
	}
	return bins, nil
}

func histogram(ctx context.Context, img, mask *omni.Image, opt HistogramOptions, p path) ([]Bin, error) {
	dt := img.Header().DataType
	if opt.IntegerBins && dt.IsFloat() {
		return nil, fmt.Errorf("%w: integer bins for a %v image", ErrBadArgument, dt)
	}
	if !opt.IntegerBins && (opt.Bins < 1 || opt.Bins > maxBins) {
		return nil, fmt.Errorf("%w: %d bins, want 1 to %d", ErrBadArgument, opt.Bins, maxBins)
	}
	if opt.HasRange {
		if math.IsNaN(opt.Min) || math.IsInf(opt.Min, 0) || math.IsNaN(opt.Max) || math.IsInf(opt.Max, 0) {
			return nil, fmt.Errorf("%w: range [%v, %v] is not finite", ErrBadArgument, opt.Min, opt.Max)
		}
		if opt.Min > opt.Max {
			return nil, fmt.Errorf("%w: range minimum %v above maximum %v", ErrBadArgument, opt.Min, opt.Max)
		}
	}
	sel, err := selection(ctx, "histogram", img, mask)
	if err != nil {
		return nil, err
	}
	px := img.Pixels()
	// 8- and 16-bit voxels are counted by value on the vector path; the
	// scalar path keeps the per-voxel bin table as the tests' reference.
	if p == vectorPath && dt.Size() <= 2 {
		return histogramSmallInt(ctx, dt, px, sel, opt)
	}
	lo, hi := opt.Min, opt.Max
	if !opt.HasRange {
		if lo, hi, err = minMaxPixels(ctx, dt, px, sel, p); err != nil {
			return nil, err
		}
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return nil, fmt.Errorf("%w: data range [%v, %v] is not finite", ErrBadArgument, lo, hi)
		}
	}
	b, err := newBinning(lo, hi, opt)
	if err != nil {
		return nil, err
	}
	var counts []int64
	switch dt {
	case omni.Uint8:
		counts, err = countTable[uint8](ctx, px, sel, &b)
	case omni.Int8:
		counts, err = countTable[int8](ctx, px, sel, &b)
	case omni.Uint16:
		counts, err = countTable[uint16](ctx, px, sel, &b)
	case omni.Int16:
		counts, err = countTable[int16](ctx, px, sel, &b)
	case omni.Uint32:
		counts, err = countDirect[uint32](ctx, px, sel, &b)
	case omni.Int32:
		counts, err = countDirect[int32](ctx, px, sel, &b)
	case omni.Float32:
		counts, err = countDirect[float32](ctx, px, sel, &b)
	case omni.Float64:
		counts, err = countDirect[float64](ctx, px, sel, &b)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		return nil, err
	}
	return b.bins(counts)
}

// newBinning returns the bins of opt over the range [lo, hi], the given
// one or the data's.
func newBinning(lo, hi float64, opt HistogramOptions) (binning, error) {
	if opt.IntegerBins {
		first, last := math.Floor(lo), math.Ceil(hi)
		if last-first+1 > maxBins {
			return binning{}, fmt.Errorf("%w: integer bins from %v to %v are more than %d", ErrBadArgument, first, last, maxBins)
		}
		return binning{n: int(last-first) + 1, first: first, integer: true}, nil
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return uniformBinning(lo, hi, opt.Bins), nil
}

// binning maps values to bins; index n stands for "not counted".
type binning struct {
	n       int
	integer bool      // bin k holds the integer first+k
	first   float64   // integer bins: the first bin's integer
	edges   []float64 // uniform bins: n+1 edges
	padded  []float64 // edges padded to a power-of-two length
	norm    float64   // uniform bins: n / (last edge - first edge)
}

// uniformBinning reproduces numpy.linspace's edges and histogram's scale.
func uniformBinning(lo, hi float64, n int) binning {
	edges := make([]float64, n+1)
	delta := hi - lo
	step := delta / float64(n)
	for i := range edges {
		if step == 0 { // numpy's path for subnormal steps
			edges[i] = float64(float64(i)/float64(n))*delta + lo
		} else {
			edges[i] = float64(float64(i)*step) + lo
		}
	}
	edges[n] = hi
	padded := make([]float64, 1<<bits.Len(uint(n)))
	copy(padded, edges)
	return binning{n: n, edges: edges, padded: padded, norm: float64(n) / delta}
}

// index is numpy.histogram's bin search for one value: scale into a
// bin, then correct by one where rounding put the value across an edge.
func (b *binning) index(x float64) int {
	if b.integer {
		k := x - b.first
		if k >= 0 && k < float64(b.n) {
			return int(k)
		}
		return b.n
	}
	return uniformIndex(x, b.edges, b.norm, 1)
}

// bins turns counts (with the uncounted slot last) into the result.
func (b *binning) bins(counts []int64) ([]Bin, error) {
	var total int64
	for _, c := range counts[:b.n] {
		total += c
	}
	if total == 0 {
		return nil, ErrEmpty
	}
	out := make([]Bin, b.n)
	var cum int64
	for i := range out {
		c := counts[i]
		cum += c
		centre, width := b.first+float64(i), 1.0
		if !b.integer {
			centre = (b.edges[i] + b.edges[i+1]) / 2
			width = b.edges[i+1] - b.edges[i]
		}
		out[i] = Bin{Centre: centre, PDF: float64(c) / width / float64(total), CDF: float64(cum) / float64(total), Count: c}
	}
	return out, nil
}

// countTable counts 8- and 16-bit voxels through a table of every
// value's bin, so the loop is a load and an increment. It is the scalar
// path's reference for histogramSmallInt.
func countTable[T integer](ctx context.Context, pixels []byte, sel []uint8, b *binning) ([]int64, error) {
	table := new([1 << 16]int32)
	lo, hi := limits[T]()
	for x := lo; x <= hi; x++ {
		table[uint16(T(x))] = int32(b.index(x))
	}
	v := voxels[T](pixels)
	return countParts(ctx, len(v), b.n, func(a, z int, counts []int64) {
		if len(counts) == 0 {
			return
		}
		m := uint(len(counts) - 1)
		if sel == nil {
			for _, x := range v[a:z] {
				counts[uint(table[uint16(x)])&m]++
			}
			return
		}
		s := sel[a:z]
		x := v[a:z]
		s = s[:len(x)]
		discard := uint(b.n)
		for i, xi := range x {
			keep := -uint(b2u8(s[i] != 0))
			k := uint(table[uint16(xi)])&keep | discard&^keep
			counts[k&m]++
		}
	})
}

// countDirect computes each voxel's bin: 32-bit and float voxels have too
// many values for a table.
func countDirect[T number](ctx context.Context, pixels []byte, sel []uint8, b *binning) ([]int64, error) {
	v := voxels[T](pixels)
	return countParts(ctx, len(v), b.n, func(a, z int, counts []int64) {
		x := v[a:z]
		var s []uint8
		if sel != nil {
			s = sel[a:z]
			s = s[:len(x)]
		}
		if b.integer {
			countIntegerBins(x, s, int64(b.first), b.n, counts)
		} else {
			countUniform(x, s, b, counts)
		}
	})
}

// countIntegerBins and countUniform index counts (a power of two long)
// with a mask; their indexes are at most n < len(counts) already.
func countIntegerBins[T number](x []T, sel []uint8, first int64, n int, counts []int64) {
	if len(counts) == 0 {
		return
	}
	m := uint64(len(counts) - 1)
	if sel == nil {
		for _, xi := range x {
			k := uint64(int64(xi) - first)
			counts[min(k, uint64(n))&m]++
		}
		return
	}
	sel = sel[:len(x)]
	for i, xi := range x {
		keep := -uint64(b2u8(sel[i] != 0))
		k := min(uint64(int64(xi)-first), uint64(n))
		counts[(k&keep|uint64(n)&^keep)&m]++
	}
}

// countUniform is uniformIndex written out in both loops (it is too big
// for the compiler to inline).
func countUniform[T number](x []T, sel []uint8, b *binning, counts []int64) {
	if len(counts) == 0 || len(b.padded) == 0 {
		return
	}
	n, edges, norm := b.n, b.padded, b.norm
	m, em := uint(len(counts)-1), len(edges)-1
	first, last := edges[0], edges[n&em]
	if sel == nil {
		for _, xi := range x {
			x := float64(xi)
			keep := -int(b2u8(x >= first) & b2u8(x <= last))
			k := clampIndex(int((x-first)*norm), n-1)
			below, above := x < edges[k&em], x >= edges[(k+1)&em]
			k += int(b2u8(above)&b2u8(k != n-1)) - int(b2u8(below))
			counts[uint(k&keep|n&^keep)&m]++
		}
		return
	}
	sel = sel[:len(x)]
	for i, xi := range x {
		x := float64(xi)
		keep := -int(b2u8(x >= first) & b2u8(x <= last) & b2u8(sel[i] != 0))
		k := clampIndex(int((x-first)*norm), n-1)
		below, above := x < edges[k&em], x >= edges[(k+1)&em]
		k += int(b2u8(above)&b2u8(k != n-1)) - int(b2u8(below))
		counts[uint(k&keep|n&^keep)&m]++
	}
}

// clampIndex clamps k to [0, hi] with arithmetic on sign bits; builtin
// min and max compile to branches in these loops.
func clampIndex(k, hi int) int {
	k &^= k >> 63
	d := k - hi
	return hi + d&(d>>63)
}

// uniformIndex returns x's bin, or n if x is outside the edges, NaN or
// not selected (s == 0), like numpy.histogram: scale x into a bin, then
// correct by one where rounding put it across an edge. It reads the two
// edges around the scaled index first: x is below the lower (one bin
// down) or at or above the upper (one bin up, except in the last bin),
// never both. Clamping the integer keeps the index valid whatever int()
// makes of NaN or far values; counted values scale into [0, n] anyway.
func uniformIndex(x float64, edges []float64, norm float64, s uint8) int {
	n := len(edges) - 1
	if n < 1 {
		return 0 // not reached: binnings have at least one bin
	}
	keep := -int(b2u8(x >= edges[0]) & b2u8(x <= edges[n]) & b2u8(s != 0))
	k := min(max(int((x-edges[0])*norm), 0), n-1)
	below, above := x < edges[k], x >= edges[k+1]
	k += int(b2u8(above)&b2u8(k != n-1)) - int(b2u8(below))
	return k&keep | n&^keep
}

// histogramMemory bounds the memory of the private histograms.
const histogramMemory = 1 << 28

// countParts runs count over slabs and adds up the histograms. Each
// running count gets a private histogram of n bins and the uncounted slot,
// padded to a power of two so the loops can index it with a mask instead
// of a bounds check. Histograms are reused from a pool whose size also
// bounds their memory: huge bin counts run on fewer cores.
func countParts(ctx context.Context, size, n int, count func(a, z int, counts []int64)) ([]int64, error) {
	width := 1 << bits.Len(uint(n))
	parts := max(1, min(runtime.GOMAXPROCS(0), histogramMemory/(8*width)))
	pool := make(chan []int64, parts)
	for range parts {
		pool <- nil // allocated on first use
	}
	err := slabs(ctx, size, func(a, z int) {
		part := <-pool
		if part == nil {
			part = make([]int64, width)
		}
		count(a, z, part)
		pool <- part
	})
	total := make([]int64, n+1)
	for range parts {
		if part := <-pool; part != nil {
			part = part[:len(total)]
			for i, c := range part {
				total[i] += c
			}
		}
	}
	return total, err
}
