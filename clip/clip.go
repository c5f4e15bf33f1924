// Package clip holds xfhost's native image kernels (named after XamFlow's
// CLIP library). They run on host-side images over all cores, so a guest
// can orchestrate volume processing without copying voxels into Wasm.
//
// The streaming kernels (MinMax, Threshold, Statistics, Mask, Convert,
// ArithScalar, Arith) are bound by memory bandwidth. Built with
// GOEXPERIMENT=simd on amd64 they use 256-bit vector code (the
// simd_*_amd64.go files) where the CPU has AVX2, or AVX-512 for the kernels
// that narrow lanes; otherwise, and for the tails, branch-free scalar
// loops give the same results to the bit.
package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// Errors the kernels return for bad arguments. They are wrapped with the
// kernel's name and the offending value; test with errors.Is.
var (
	ErrSizeMismatch = errors.New("clip: mask size differs from image size")
	ErrEmpty        = errors.New("clip: no voxel selected")
	ErrBadArgument  = errors.New("clip: bad argument")
)

type number interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32 | ~float32 | ~float64
}

// voxels views pixel bytes as a typed slice. omni keeps pixels in native
// byte order and mapped or allocated with at least 8-byte alignment.
func voxels[T number](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// newImageLike allocates a zeroed image with src's geometry (size,
// spacing, origin, axes) and the data type dt. Calibrations are not
// inherited: they describe src's values, not the result's.
func newImageLike(src *omni.Image, dt omni.DataType) (*omni.Image, error) {
	return newImageSized(src, src.Header().Size, dt)
}

// newImageSized is newImageLike with another size (crop, resample).
func newImageSized(src *omni.Image, size [3]int, dt omni.DataType) (*omni.Image, error) {
	return omni.New(headerLike(src, size, dt))
}

// newOutputLike is newImageLike for kernels that write every voxel of
// their result: the pixels are not zeroed (omni.NewUninitialized), which
// spares faulting in and clearing a fresh buffer per call. Everything a
// kernel does not write would show an earlier image's bytes, so only
// kernels that provably write all of it may use this.
func newOutputLike(src *omni.Image, dt omni.DataType) (*omni.Image, error) {
	return omni.NewUninitialized(headerLike(src, src.Header().Size, dt))
}

func headerLike(src *omni.Image, size [3]int, dt omni.DataType) *omni.Header {
	h := src.Header()
	h.Size = size
	h.DataType = dt
	h.ByteOrder = omni.NativeByteOrder()
	h.Calibrations = nil
	h.DefaultUnitType = ""
	h.PixelFiles = nil
	return h
}

// maxChunkWork bounds the work of one chunk of a parallel kernel, in the
// units its caller counts (voxels, or voxel operations for kernels with a
// weight per unit): a few milliseconds, so that a kernel whose job is
// cancelled or past its deadline stops promptly however long it would run.
const maxChunkWork = 1 << 22

// slabs splits [0, n) into contiguous ranges and runs fn on them in
// parallel, one worker per core. Ranges are large so each worker streams
// memory, and bounded (maxChunkWork) so ctx is checked often.
func slabs(ctx context.Context, n int, fn func(lo, hi int)) error {
	const minChunk = 1 << 16
	workers := runtime.GOMAXPROCS(0)
	if n < minChunk*workers {
		workers = max(1, n/minChunk)
	}
	// Several chunks per worker balance the load.
	chunks := max(workers*4, (n+maxChunkWork-1)/maxChunkWork)
	if n < chunks {
		chunks = 1
	}
	size := (n + chunks - 1) / chunks
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				lo := c * size
				hi := min(n, lo+size)
				if lo < hi {
					fn(lo, hi)
				}
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// nonZero turns a mask of any data type into a 0/1 byte selection. A uint8
// mask is used as it is.
func nonZero(ctx context.Context, mask *omni.Image) ([]uint8, error) {
	if mask.Header().DataType == omni.Uint8 {
		return mask.Pixels(), nil
	}
	n := int(mask.Header().VoxelCount())
	out := make([]uint8, n)
	var err error
	dispatch := func(f func(lo, hi int)) { err = slabs(ctx, n, f) }
	switch mask.Header().DataType {
	case omni.Int8:
		dispatch(selectNonZero(voxels[int8](mask.Pixels()), out))
	case omni.Uint16:
		dispatch(selectNonZero(voxels[uint16](mask.Pixels()), out))
	case omni.Int16:
		dispatch(selectNonZero(voxels[int16](mask.Pixels()), out))
	case omni.Uint32:
		dispatch(selectNonZero(voxels[uint32](mask.Pixels()), out))
	case omni.Int32:
		dispatch(selectNonZero(voxels[int32](mask.Pixels()), out))
	case omni.Float32:
		dispatch(selectNonZero(voxels[float32](mask.Pixels()), out))
	case omni.Float64:
		dispatch(selectNonZero(voxels[float64](mask.Pixels()), out))
	default:
		return nil, fmt.Errorf("unsupported mask data type %v", mask.Header().DataType)
	}
	return out, err
}

func selectNonZero[T number](v []T, out []uint8) func(lo, hi int) {
	return func(lo, hi int) {
		src, dst := v[lo:hi], out[lo:hi]
		dst = dst[:len(src)]
		for i, x := range src {
			dst[i] = b2u8(x != 0)
		}
	}
}

// selection checks that mask (if not nil) matches img's size and returns
// it as a 0/non-zero byte selection; nil selects every voxel.
func selection(ctx context.Context, op string, img, mask *omni.Image) ([]uint8, error) {
	if mask == nil {
		return nil, nil
	}
	h, mh := img.Header(), mask.Header()
	if mh.Size != h.Size {
		return nil, fmt.Errorf("clip: %s: %w: image %v, mask %v", op, ErrSizeMismatch, h.Size, mh.Size)
	}
	sel, err := nonZero(ctx, mask)
	if err != nil {
		return nil, fmt.Errorf("clip: %s: %w", op, err)
	}
	return sel, nil
}

// integer and float split number into the integer and float voxel types.
type integer interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32
}

type float interface {
	~float32 | ~float64
}

// isFloat reports whether T is a float type; the compiler folds it to a
// constant in each instantiation.
func isFloat[T number]() bool {
	var one T = 1
	return one/2 != 0
}

// b2u8 turns a comparison into 0 or 1; the compiler emits SETcc, so loops
// built on it have no data-dependent branches.
func b2u8(b bool) uint8 {
	var v uint8
	if b {
		v = 1
	}
	return v
}

// limits returns the range of T: the smallest and largest integer for
// integer types, -Inf and +Inf for float types.
func limits[T number]() (lo, hi float64) {
	var zero T
	switch any(zero).(type) {
	case uint8:
		return 0, math.MaxUint8
	case int8:
		return math.MinInt8, math.MaxInt8
	case uint16:
		return 0, math.MaxUint16
	case int16:
		return math.MinInt16, math.MaxInt16
	case uint32:
		return 0, math.MaxUint32
	case int32:
		return math.MinInt32, math.MaxInt32
	}
	return math.Inf(-1), math.Inf(1)
}

// path selects how a kernel runs. Public kernels take the vector path,
// which falls back to scalar code where the CPU, build or data type has no
// vector kernel; tests run both and demand identical results.
type path uint8

const (
	vectorPath path = iota
	scalarPath
)

// MinMax returns the smallest and largest voxel value of img, counting only
// voxels where mask (if not nil) is non-zero. NaN voxels are ignored.
func MinMax(ctx context.Context, img, mask *omni.Image) (lo, hi float64, err error) {
	return minMax(ctx, img, mask, vectorPath)
}

func minMax(ctx context.Context, img, mask *omni.Image, p path) (lo, hi float64, err error) {
	sel, err := selection(ctx, "minmax", img, mask)
	if err != nil {
		return 0, 0, err
	}
	lo, hi, err = minMaxPixels(ctx, img.Header().DataType, img.Pixels(), sel, p)
	if err != nil {
		return 0, 0, fmt.Errorf("clip: minmax: %w", err)
	}
	return lo, hi, nil
}

func minMaxPixels(ctx context.Context, dt omni.DataType, px []byte, sel []uint8, p path) (lo, hi float64, err error) {
	switch dt {
	case omni.Uint8:
		return minMaxOf[uint8](ctx, px, sel, p)
	case omni.Int8:
		return minMaxOf[int8](ctx, px, sel, p)
	case omni.Uint16:
		return minMaxOf[uint16](ctx, px, sel, p)
	case omni.Int16:
		return minMaxOf[int16](ctx, px, sel, p)
	case omni.Uint32:
		return minMaxOf[uint32](ctx, px, sel, p)
	case omni.Int32:
		return minMaxOf[int32](ctx, px, sel, p)
	case omni.Float32:
		return minMaxOf[float32](ctx, px, sel, p)
	case omni.Float64:
		return minMaxOf[float64](ctx, px, sel, p)
	default:
		return 0, 0, fmt.Errorf("unsupported data type %v", dt)
	}
}

func minMaxOf[T number](ctx context.Context, pixels []byte, sel []uint8, p path) (float64, float64, error) {
	v := voxels[T](pixels)
	var mu sync.Mutex
	lo, hi := math.Inf(1), math.Inf(-1)
	err := slabs(ctx, len(v), func(a, b int) {
		l, h := minMaxRange(v[a:b], sel, a, p)
		mu.Lock()
		lo, hi = min(lo, l), max(hi, h)
		mu.Unlock()
	})
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, ErrEmpty
	}
	return lo, hi, nil
}

// minMaxRange returns the extremes of v (which starts at voxel off) as
// float64, or +Inf, -Inf if no voxel counts.
func minMaxRange[T number](v []T, sel []uint8, off int, p path) (lo, hi float64) {
	if sel != nil {
		return minMaxMasked(v, sel[off:off+len(v)])
	}
	if p == vectorPath {
		if l, h, n := vecMinMax(v); n > 0 {
			sl, sh := minMaxScalar(v[n:])
			return min(l, sl), max(h, sh)
		}
	}
	return minMaxScalar(v)
}

func minMaxScalar[T number](v []T) (lo, hi float64) {
	switch v := any(v).(type) {
	case []float32:
		return minMaxF32(v, nil)
	case []float64:
		return minMaxF64(v, nil)
	}
	return minMaxInt(v)
}

func minMaxMasked[T number](v []T, sel []uint8) (lo, hi float64) {
	switch v := any(v).(type) {
	case []float32:
		return minMaxF32(v, sel)
	case []float64:
		return minMaxF64(v, sel)
	}
	return minMaxIntMasked(v, sel)
}

// minMaxInt is the integer loop: builtin min and max compile to CMOV.
func minMaxInt[T number](v []T) (lo, hi float64) {
	if len(v) == 0 {
		return math.Inf(1), math.Inf(-1)
	}
	l, h := v[0], v[0]
	for _, x := range v {
		l, h = min(l, x), max(h, x)
	}
	return float64(l), float64(h)
}

// minMaxIntMasked replaces unselected voxels by the type's extremes with
// bit masks instead of branching on the selection.
func minMaxIntMasked[T number](v []T, sel []uint8) (lo, hi float64) {
	tlo, thi := limits[T]()
	ilo, ihi := int64(thi), int64(tlo)
	sel = sel[:len(v)]
	seen := uint8(0)
	for i, x := range v {
		s := b2u8(sel[i] != 0)
		seen |= s
		m := -int64(s)
		xi := int64(x)
		ilo = min(ilo, xi&m|int64(thi)&^m)
		ihi = max(ihi, xi&m|int64(tlo)&^m)
	}
	if seen == 0 {
		return math.Inf(1), math.Inf(-1)
	}
	return float64(ilo), float64(ihi)
}

// minMaxF32 ignores NaN (and unselected voxels when sel is not nil) by
// swapping such values for an infinity through their bits, which keeps the
// loop free of branches.
func minMaxF32(v []float32, sel []uint8) (lo, hi float64) {
	const posInf, negInf = 0x7f800000, 0xff800000
	l, h := float32(math.Inf(1)), float32(math.Inf(-1))
	if sel == nil {
		for _, x := range v {
			keep := -uint32(b2u8(x == x))
			b := math.Float32bits(x) & keep
			l = min(l, math.Float32frombits(b|posInf&^keep))
			h = max(h, math.Float32frombits(b|negInf&^keep))
		}
	} else {
		sel = sel[:len(v)]
		for i, x := range v {
			keep := -uint32(b2u8(x == x) & b2u8(sel[i] != 0))
			b := math.Float32bits(x) & keep
			l = min(l, math.Float32frombits(b|posInf&^keep))
			h = max(h, math.Float32frombits(b|negInf&^keep))
		}
	}
	return float64(l), float64(h)
}

func minMaxF64(v []float64, sel []uint8) (lo, hi float64) {
	const posInf, negInf = 0x7ff0000000000000, 0xfff0000000000000
	lo, hi = math.Inf(1), math.Inf(-1)
	if sel == nil {
		for _, x := range v {
			keep := -uint64(b2u8(x == x))
			b := math.Float64bits(x) & keep
			lo = min(lo, math.Float64frombits(b|posInf&^keep))
			hi = max(hi, math.Float64frombits(b|negInf&^keep))
		}
	} else {
		sel = sel[:len(v)]
		for i, x := range v {
			keep := -uint64(b2u8(x == x) & b2u8(sel[i] != 0))
			b := math.Float64bits(x) & keep
			lo = min(lo, math.Float64frombits(b|posInf&^keep))
			hi = max(hi, math.Float64frombits(b|negInf&^keep))
		}
	}
	return lo, hi
}

// Bounds are optional inclusive threshold bounds.
type Bounds struct {
	Lower, Upper       float64
	HasLower, HasUpper bool
}

// Threshold returns a uint8 segmentation of img: 1 where the voxel lies
// within the bounds (inclusive), 0 elsewhere, NaN never inside. The result
// inherits size, spacing and origin but no calibrations.
func Threshold(ctx context.Context, img *omni.Image, b Bounds) (*omni.Image, error) {
	return threshold(ctx, img, b, vectorPath)
}

func threshold(ctx context.Context, img *omni.Image, b Bounds, p path) (*omni.Image, error) {
	if (b.HasLower && math.IsNaN(b.Lower)) || (b.HasUpper && math.IsNaN(b.Upper)) {
		return nil, fmt.Errorf("clip: threshold: %w: a bound is NaN", ErrBadArgument)
	}
	out, err := newOutputLike(img, omni.Uint8)
	if err != nil {
		return nil, fmt.Errorf("clip: threshold: %w", err)
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if b.HasLower {
		lo = b.Lower
	}
	if b.HasUpper {
		hi = b.Upper
	}
	dst, src := out.Pixels(), img.Pixels()
	switch dt := img.Header().DataType; dt {
	case omni.Uint8:
		err = thresholdInt[uint8](ctx, src, dst, lo, hi, p)
	case omni.Int8:
		err = thresholdInt[int8](ctx, src, dst, lo, hi, p)
	case omni.Uint16:
		err = thresholdInt[uint16](ctx, src, dst, lo, hi, p)
	case omni.Int16:
		err = thresholdInt[int16](ctx, src, dst, lo, hi, p)
	case omni.Uint32:
		err = thresholdInt[uint32](ctx, src, dst, lo, hi, p)
	case omni.Int32:
		err = thresholdInt[int32](ctx, src, dst, lo, hi, p)
	case omni.Float32:
		err = thresholdFloat[float32](ctx, src, dst, lo, hi, p)
	case omni.Float64:
		err = thresholdFloat[float64](ctx, src, dst, lo, hi, p)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: threshold: %w", err)
	}
	return out, nil
}

// intBounds narrows inclusive float bounds to the integers of T they
// contain; ok is false if there are none.
func intBounds[T integer](lo, hi float64) (ilo, ihi T, ok bool) {
	tlo, thi := limits[T]()
	lo, hi = max(math.Ceil(lo), tlo), min(math.Floor(hi), thi)
	if lo > hi {
		return 0, 0, false
	}
	return T(lo), T(hi), true
}

// thresholdInt tests lo <= x <= hi as the single unsigned comparison
// x-lo <= hi-lo.
func thresholdInt[T integer](ctx context.Context, src, dst []byte, lo, hi float64, p path) error {
	v := voxels[T](src)
	ilo, ihi, ok := intBounds[T](lo, hi)
	if !ok { // nothing inside
		return slabs(ctx, len(dst), func(a, b int) { clear(dst[a:b]) })
	}
	base, span := int64(ilo), uint64(int64(ihi)-int64(ilo))
	return slabs(ctx, len(v), func(a, b int) {
		x, out := v[a:b], dst[a:b]
		n := 0
		if p == vectorPath {
			n = vecThreshold(x, out, float64(ilo), float64(ihi))
		}
		x, out = x[n:], out[n:]
		out = out[:len(x)]
		for i, xi := range x {
			out[i] = b2u8(uint64(int64(xi)-base) <= span)
		}
	})
}

// floatBounds narrows float64 bounds to T: the smallest T >= lo and the
// largest T <= hi, so comparisons in T decide exactly as in float64.
func floatBounds[T float](lo, hi float64) (T, T) {
	l, h := T(lo), T(hi)
	if float64(l) < lo {
		l = T(math.Nextafter32(float32(l), float32(math.Inf(1))))
	}
	if float64(h) > hi {
		h = T(math.Nextafter32(float32(h), float32(math.Inf(-1))))
	}
	return l, h
}

func thresholdFloat[T float](ctx context.Context, src, dst []byte, lo, hi float64, p path) error {
	v := voxels[T](src)
	l, h := floatBounds[T](lo, hi)
	return slabs(ctx, len(v), func(a, b int) {
		x, out := v[a:b], dst[a:b]
		n := 0
		if p == vectorPath {
			n = vecThreshold(x, out, float64(l), float64(h))
		}
		x, out = x[n:], out[n:]
		out = out[:len(x)]
		for i, xi := range x {
			out[i] = b2u8(xi >= l) & b2u8(xi <= h)
		}
	})
}
