// Package clip holds xfhost's native image kernels (named after XamFlow's
// CLIP library). They run on host-side images over all cores, so a guest
// can orchestrate volume processing without copying voxels into Wasm.
package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// Errors the kernels return for bad arguments.
var (
	ErrSizeMismatch = errors.New("clip: mask size differs from image size")
	ErrEmpty        = errors.New("clip: no voxel selected")
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
	h := src.Header()
	h.Size = size
	h.DataType = dt
	h.ByteOrder = omni.NativeByteOrder()
	h.Calibrations = nil
	h.DefaultUnitType = ""
	h.PixelFiles = nil
	return omni.New(h)
}

// slabs splits [0, n) into contiguous ranges, one per worker, and runs fn
// on them in parallel. Ranges are large so each worker streams memory.
func slabs(ctx context.Context, n int, fn func(lo, hi int)) error {
	const minChunk = 1 << 16
	workers := runtime.GOMAXPROCS(0)
	if n < minChunk*workers {
		workers = max(1, n/minChunk)
	}
	// Several chunks per worker let a cancelled context stop work early.
	chunks := workers * 4
	if n < chunks {
		chunks = 1
	}
	size := (n + chunks - 1) / chunks
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := 0; c < chunks; c++ {
		next <- c
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if ctx.Err() != nil {
					return
				}
				lo := c * size
				hi := min(n, lo+size)
				if lo < hi {
					fn(lo, hi)
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// MinMax returns the smallest and largest voxel value of img, counting only
// voxels where mask (if not nil) is non-zero. NaN voxels are ignored.
func MinMax(ctx context.Context, img, mask *omni.Image) (lo, hi float64, err error) {
	h := img.Header()
	var sel []uint8
	if mask != nil {
		mh := mask.Header()
		if mh.Size != h.Size {
			return 0, 0, fmt.Errorf("%w: image %v, mask %v", ErrSizeMismatch, h.Size, mh.Size)
		}
		if sel, err = nonZero(ctx, mask); err != nil {
			return 0, 0, err
		}
	}
	switch h.DataType {
	case omni.Uint8:
		return minMax[uint8](ctx, img.Pixels(), sel)
	case omni.Int8:
		return minMax[int8](ctx, img.Pixels(), sel)
	case omni.Uint16:
		return minMax[uint16](ctx, img.Pixels(), sel)
	case omni.Int16:
		return minMax[int16](ctx, img.Pixels(), sel)
	case omni.Uint32:
		return minMax[uint32](ctx, img.Pixels(), sel)
	case omni.Int32:
		return minMax[int32](ctx, img.Pixels(), sel)
	case omni.Float32:
		return minMax[float32](ctx, img.Pixels(), sel)
	case omni.Float64:
		return minMax[float64](ctx, img.Pixels(), sel)
	}
	return 0, 0, fmt.Errorf("clip: minmax: unsupported data type %v", h.DataType)
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
		return nil, fmt.Errorf("clip: mask: unsupported data type %v", mask.Header().DataType)
	}
	return out, err
}

func selectNonZero[T number](v []T, out []uint8) func(lo, hi int) {
	return func(lo, hi int) {
		for i, x := range v[lo:hi] {
			if x != 0 {
				out[lo+i] = 1
			}
		}
	}
}

func minMax[T number](ctx context.Context, pixels []byte, sel []uint8) (float64, float64, error) {
	v := voxels[T](pixels)
	type part struct {
		lo, hi T
		ok     bool
	}
	var mu sync.Mutex
	var acc part
	err := slabs(ctx, len(v), func(a, b int) {
		var p part
		if sel == nil {
			p.lo, p.hi, p.ok = minMaxRange(v[a:b])
		} else {
			p.lo, p.hi, p.ok = minMaxMasked(v[a:b], sel[a:b])
		}
		if !p.ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !acc.ok {
			acc = p
			return
		}
		acc.lo, acc.hi = min(acc.lo, p.lo), max(acc.hi, p.hi)
	})
	if err != nil {
		return 0, 0, err
	}
	if !acc.ok {
		return 0, 0, ErrEmpty
	}
	return float64(acc.lo), float64(acc.hi), nil
}

// minMaxRange is the unmasked loop. For integer types the NaN test folds
// away, leaving a branch-free min/max the compiler keeps in registers.
func minMaxRange[T number](v []T) (lo, hi T, ok bool) {
	i := 0
	for i < len(v) && v[i] != v[i] { // skip leading NaNs
		i++
	}
	if i == len(v) {
		return lo, hi, false
	}
	lo, hi = v[i], v[i]
	if isFloat[T]() {
		for _, x := range v[i:] {
			if x == x {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		return lo, hi, true
	}
	for _, x := range v[i:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi, true
}

func minMaxMasked[T number](v []T, sel []uint8) (lo, hi T, ok bool) {
	sel = sel[:len(v)]
	for i, x := range v {
		if sel[i] == 0 || x != x {
			continue
		}
		if !ok {
			lo, hi, ok = x, x, true
			continue
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi, ok
}

func isFloat[T number]() bool {
	var one T = 1
	return one/2 != 0
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
	if (b.HasLower && math.IsNaN(b.Lower)) || (b.HasUpper && math.IsNaN(b.Upper)) {
		return nil, errors.New("clip: threshold: a bound is NaN")
	}
	out, err := newImageLike(img, omni.Uint8)
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if b.HasLower {
		lo = b.Lower
	}
	if b.HasUpper {
		hi = b.Upper
	}
	dst := out.Pixels()
	src := img.Pixels()
	switch img.Header().DataType {
	case omni.Uint8:
		err = threshold[uint8](ctx, src, dst, lo, hi)
	case omni.Int8:
		err = threshold[int8](ctx, src, dst, lo, hi)
	case omni.Uint16:
		err = threshold[uint16](ctx, src, dst, lo, hi)
	case omni.Int16:
		err = threshold[int16](ctx, src, dst, lo, hi)
	case omni.Uint32:
		err = threshold[uint32](ctx, src, dst, lo, hi)
	case omni.Int32:
		err = threshold[int32](ctx, src, dst, lo, hi)
	case omni.Float32:
		err = threshold[float32](ctx, src, dst, lo, hi)
	case omni.Float64:
		err = threshold[float64](ctx, src, dst, lo, hi)
	default:
		err = fmt.Errorf("clip: threshold: unsupported data type %v", img.Header().DataType)
	}
	if err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

func threshold[T number](ctx context.Context, src, dst []byte, lo, hi float64) error {
	v := voxels[T](src)
	return slabs(ctx, len(v), func(a, b int) {
		for i := a; i < b; i++ {
			x := float64(v[i])
			var in uint8
			if x >= lo && x <= hi {
				in = 1
			}
			dst[i] = in
		}
	})
}
