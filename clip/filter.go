package clip

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// MaxGaussianRadius caps the kernel radius in voxels (4 sigma) along any
// axis; beyond it the filter would cost more than any real volume warrants.
const MaxGaussianRadius = 2048

// Gaussian smooths img with a Gaussian of standard deviation sigmaMM mm,
// which is sigmaMM/spacing voxels along each axis. It matches
// scipy.ndimage.gaussian_filter(img.astype(float64), sigma=(sz, sy, sx),
// mode='reflect', truncate=4.0): the kernel reaches int(4*sigma+0.5) voxels
// either side and the image is mirrored about its edges (d c b a | a b c d).
// Axes of one voxel are left alone.
//
// The result is float64 for float64 images and float32 otherwise, computed
// in that precision: float32 results lie within a few float32 steps of the
// image's largest magnitude from scipy's float64 ones. NaN spreads to every
// voxel within the kernel's reach, and Inf meeting -Inf gives NaN, as in
// scipy. The result keeps img's geometry and calibrations: a weighted
// mean with weights summing to one stays in the same units.
func Gaussian(ctx context.Context, img *omni.Image, sigmaMM float64) (*omni.Image, error) {
	px, h, err := imagePixels("gaussian", img)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(sigmaMM) || math.IsInf(sigmaMM, 0) || sigmaMM <= 0 {
		return nil, fmt.Errorf("%w: gaussian: sigma %v mm, want a finite value > 0", ErrBadArgument, sigmaMM)
	}
	var kernels [3][]float64
	for a := range 3 {
		s := sigmaMM / h.Spacing[a]
		if h.Size[a] == 1 || s <= 1e-15 { // scipy skips sigma <= 1e-15
			continue
		}
		if math.Floor(4*s+0.5) > MaxGaussianRadius {
			return nil, fmt.Errorf("%w: gaussian: sigma %v mm is %.4g voxels along %c; the kernel radius exceeds %d voxels",
				ErrBadArgument, sigmaMM, s, "xyz"[a], MaxGaussianRadius)
		}
		kernels[a] = gaussianKernel(s)
	}
	dt := omni.Float32
	if h.DataType == omni.Float64 {
		dt = omni.Float64
	}
	out, err := omni.New(sameUnits(h, h.Size, dt))
	if err != nil {
		return nil, fmt.Errorf("clip: gaussian: %w", err)
	}
	if dt == omni.Float64 {
		err = gaussian(ctx, voxels[float64](px), voxels[float64](out.Pixels()), h.Size, kernels)
	} else {
		dst := voxels[float32](out.Pixels())
		switch h.DataType {
		case omni.Uint8:
			err = gaussian(ctx, voxels[uint8](px), dst, h.Size, kernels)
		case omni.Int8:
			err = gaussian(ctx, voxels[int8](px), dst, h.Size, kernels)
		case omni.Uint16:
			err = gaussian(ctx, voxels[uint16](px), dst, h.Size, kernels)
		case omni.Int16:
			err = gaussian(ctx, voxels[int16](px), dst, h.Size, kernels)
		case omni.Uint32:
			err = gaussian(ctx, voxels[uint32](px), dst, h.Size, kernels)
		case omni.Int32:
			err = gaussian(ctx, voxels[int32](px), dst, h.Size, kernels)
		case omni.Float32:
			err = gaussian(ctx, voxels[float32](px), dst, h.Size, kernels)
		default:
			err = fmt.Errorf("%w: unsupported data type %v", ErrBadArgument, h.DataType)
		}
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: gaussian: %w", err)
	}
	return out, nil
}

// gaussianKernel returns the weights for offsets 0..radius of scipy's
// normalised, truncated Gaussian.
func gaussianKernel(sigma float64) []float64 {
	r := int(4*sigma + 0.5)
	c := -0.5 / (sigma * sigma)
	w := make([]float64, r+1)
	sum := 0.0
	for k := range w {
		w[k] = math.Exp(c * float64(k*k))
		sum += w[k]
		if k > 0 {
			sum += w[k]
		}
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

// reflectTable maps padded positions 0..n+2r-1 (position r is index 0) to
// indexes in [0, n) by scipy's 'reflect' rule, which repeats the mirrored
// line with period 2n however far the kernel reaches.
func reflectTable(n, r int) []int {
	t := make([]int, n+2*r)
	for p := range t {
		i := (p - r) % (2 * n)
		if i < 0 {
			i += 2 * n
		}
		if i >= n {
			i = 2*n - 1 - i
		}
		t[p] = i
	}
	return t
}

// gaussian runs the separable filter as passes over dst: x while
// converting from src, then y and z in place. Every pass works on whole
// x-rows so the inner loops stream through contiguous memory. When there
// are enough slices to share among the cores, x and y run together slice
// by slice, which saves a pass over memory.
func gaussian[T number, F float](ctx context.Context, src []T, dst []F, size [3]int, kernels [3][]float64) error {
	var zero F
	fuse := size[2] >= 2*runtime.GOMAXPROCS(0) && size[0]*size[1]*int(unsafe.Sizeof(zero)) <= 4<<20
	return gaussianPasses(ctx, src, dst, size, kernels, fuse)
}

// gaussianPasses is gaussian with the choice of fusing x and y made.
func gaussianPasses[T number, F float](ctx context.Context, src []T, dst []F, size [3]int, kernels [3][]float64, fuse bool) error {
	nx, ny, nz := size[0], size[1], size[2]
	if fuse && kernels[1] != nil {
		if err := gaussianXY(ctx, src, dst, size, kernels[0], kernels[1]); err != nil {
			return err
		}
	} else {
		if err := gaussianX(ctx, src, dst, nx, ny*nz, kernels[0]); err != nil {
			return err
		}
		if kernels[1] != nil {
			if err := gaussianLines(ctx, dst, nx, nz, nx*ny, ny, nx, kernels[1]); err != nil {
				return err
			}
		}
	}
	if kernels[2] != nil {
		if err := gaussianLines(ctx, dst, nx, ny, nx, nz, nx*ny, kernels[2]); err != nil {
			return err
		}
	}
	return nil
}

func weightsOf[F float](k []float64) []F {
	w := make([]F, len(k))
	for i, v := range k {
		w[i] = F(v)
	}
	return w
}

// rowFilter filters x-rows, converting them to F; without a kernel it only
// converts. It holds one worker's scratch.
type rowFilter[F float] struct {
	w      []F
	tbl    []int
	pad    []F
	lo, hi [][]F
}

func newRowFilter[F float](nx int, kernel []float64) *rowFilter[F] {
	if kernel == nil {
		return &rowFilter[F]{}
	}
	r := len(kernel) - 1
	f := &rowFilter[F]{w: weightsOf[F](kernel), tbl: reflectTable(nx, r)}
	f.pad = make([]F, len(f.tbl))
	f.lo, f.hi = make([][]F, r), make([][]F, r)
	for k := 1; k <= r; k++ {
		f.lo[k-1], f.hi[k-1] = f.pad[r-k:], f.pad[r+k:]
	}
	return f
}

func filterRow[T number, F float](f *rowFilter[F], in []T, out []F) {
	if f.w == nil {
		convertLine(in, out[:len(in)])
		return
	}
	// The row goes into the middle of pad; the ends mirror it.
	r := len(f.lo)
	pad := f.pad[:len(f.tbl)]
	body := pad[r : r+len(in)]
	convertLine(in, body)
	for p, i := range f.tbl[:r] {
		pad[p] = body[i]
	}
	for p, i := range f.tbl[r+len(in):] {
		pad[r+len(in)+p] = body[i]
	}
	smoothLine(out, body, f.lo, f.hi, f.w)
}

// convertLine sets out[i] = F(in[i]): a copy when in is already of the
// result's float type, a vector kernel where there is one (8- and 16-bit
// integers to float32), else a scalar loop.
func convertLine[T number, F float](in []T, out []F) {
	out = out[:len(in)]
	var zt T
	var zf F
	if isFloat[T]() && unsafe.Sizeof(zt) == unsafe.Sizeof(zf) {
		copy(out, unsafe.Slice((*F)(unsafe.Pointer(unsafe.SliceData(in))), len(in)))
		return
	}
	n := 0
	if unsafe.Sizeof(zf) == 4 {
		n = vecConvert(in, viewFloats[float32](out))
	}
	for i, v := range in[n:] {
		out[n+i] = F(v)
	}
}

// gaussianX filters each x-row of src into dst.
func gaussianX[T number, F float](ctx context.Context, src []T, dst []F, nx, rows int, kernel []float64) error {
	return forUnits(ctx, rows, nx*(len(kernel)+1), func(r0, r1 int) {
		f := newRowFilter[F](nx, kernel)
		for row := r0; row < r1; row++ {
			filterRow(f, src[row*nx:(row+1)*nx], dst[row*nx:(row+1)*nx])
		}
	})
}

// gaussianXY filters slice by slice: the x pass into a slice buffer, then
// the y pass from it into dst.
func gaussianXY[T number, F float](ctx context.Context, src []T, dst []F, size [3]int, kx, ky []float64) error {
	nx, ny, nz := size[0], size[1], size[2]
	plane := nx * ny
	r := len(ky) - 1
	w := weightsOf[F](ky)
	tbl := reflectTable(ny, r)
	return forUnits(ctx, nz, plane*(len(kx)+len(ky)+2), func(z0, z1 int) {
		f := newRowFilter[F](nx, kx)
		buf := make([]F, plane)
		lo, hi := make([][]F, r), make([][]F, r)
		for z := z0; z < z1; z++ {
			for y := range ny {
				i := z*plane + y*nx
				filterRow(f, src[i:i+nx], buf[y*nx:(y+1)*nx])
			}
			for y := range ny {
				for k := 1; k <= r; k++ {
					lo[k-1], hi[k-1] = buf[tbl[y+r-k]*nx:], buf[tbl[y+r+k]*nx:]
				}
				i := z*plane + y*nx
				smoothLine(dst[i:i+nx], buf[y*nx:(y+1)*nx], lo, hi, w)
			}
		}
	})
}

// gaussianLines filters along an axis of n voxels whose neighbours are
// stride apart, for each of outer groups (outerStride apart) of x-rows of
// length nx. It copies a block of lines into a buffer that fits in cache
// and writes the filtered rows back in place.
func gaussianLines[F float](ctx context.Context, data []F, nx, outer, outerStride, n, stride int, kernel []float64) error {
	r := len(kernel) - 1
	w := weightsOf[F](kernel)
	tbl := reflectTable(n, r)
	// Blocks of about 256 KiB: large enough for long inner loops, small
	// enough to stay in L2 while the kernel sweeps over them.
	var zero F
	bw := min(nx, max(16, (256<<10)/(n*int(unsafe.Sizeof(zero)))))
	blocks := (nx + bw - 1) / bw
	return forUnits(ctx, outer*blocks, n*bw*len(w), func(u0, u1 int) {
		buf := make([]F, n*bw)
		lo, hi := make([][]F, r), make([][]F, r)
		for u := u0; u < u1; u++ {
			o, b := u/blocks, u%blocks
			x0 := b * bw
			width := min(bw, nx-x0)
			base := o*outerStride + x0
			for i := range n {
				copy(buf[i*width:(i+1)*width], data[base+i*stride:][:width])
			}
			line := func(i int) []F { return buf[i*width : (i+1)*width] }
			for i := range n {
				for k := 1; k <= r; k++ {
					lo[k-1], hi[k-1] = line(tbl[i+r-k]), line(tbl[i+r+k])
				}
				smoothLine(data[base+i*stride:][:width], line(i), lo, hi, w)
			}
		}
	})
}

// smoothLine sets o[j] = w[0]*c[j] + sum over k of w[k]*(lo[k-1][j] +
// hi[k-1][j]), the symmetric kernel applied to rows of neighbours; each
// of lo and hi must hold at least len(o) values. All three passes come
// here, so they share the vector kernel where the CPU has one. The vector
// and scalar kernels round differently (fused multiply-adds, another
// order), so results differ between machines by a few float steps; on
// one machine they are the same however the lines are cut.
func smoothLine[F float](o, c []F, lo, hi [][]F, w []F) {
	var zero F
	switch unsafe.Sizeof(zero) {
	case 4:
		if vecSmoothLine32(viewFloats[float32](o), viewFloats[float32](c), viewFloatLines[float32](lo), viewFloatLines[float32](hi), viewFloats[float32](w)) {
			return
		}
	case 8:
		if vecSmoothLine64(viewFloats[float64](o), viewFloats[float64](c), viewFloatLines[float64](lo), viewFloatLines[float64](hi), viewFloats[float64](w)) {
			return
		}
	}
	smoothLineScalar(o, c, lo, hi, w)
}

// viewFloats views a slice of a float type as the float type G of the
// same size, which is its underlying type: the vector kernels take plain
// float32 and float64. Callers check the sizes match.
func viewFloats[G, F float](v []F) []G { return *(*[]G)(unsafe.Pointer(&v)) }

func viewFloatLines[G, F float](v [][]F) [][]G { return *(*[][]G)(unsafe.Pointer(&v)) }

// smoothLineScalar is smoothLine without vectors. Up to four offsets per
// sweep cut the loads and stores of o.
func smoothLineScalar[F float](o, c []F, lo, hi [][]F, w []F) {
	n := len(o)
	c = c[:n]
	w0 := w[0]
	for j := range o {
		o[j] = w0 * c[j]
	}
	k := 0
	for ; k+3 < len(lo); k += 4 {
		a1, b1 := lo[k][:n], hi[k][:n]
		a2, b2 := lo[k+1][:n], hi[k+1][:n]
		a3, b3 := lo[k+2][:n], hi[k+2][:n]
		a4, b4 := lo[k+3][:n], hi[k+3][:n]
		w1, w2, w3, w4 := w[k+1], w[k+2], w[k+3], w[k+4]
		for j := range o {
			o[j] += (w1*(a1[j]+b1[j]) + w2*(a2[j]+b2[j])) + (w3*(a3[j]+b3[j]) + w4*(a4[j]+b4[j]))
		}
	}
	for ; k+1 < len(lo); k += 2 {
		a1, b1 := lo[k][:n], hi[k][:n]
		a2, b2 := lo[k+1][:n], hi[k+1][:n]
		w1, w2 := w[k+1], w[k+2]
		for j := range o {
			o[j] += w1*(a1[j]+b1[j]) + w2*(a2[j]+b2[j])
		}
	}
	if k < len(lo) {
		a, b := lo[k][:n], hi[k][:n]
		w1 := w[k+1]
		for j := range o {
			o[j] += w1 * (a[j] + b[j])
		}
	}
}
