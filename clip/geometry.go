package clip

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/xfhost/xfhost/omni"
)

// forUnits runs fn over [0, units) on all cores through slabs. Each unit
// (a row, a block of lines) stands for weight voxels, so slabs sizes the
// chunks by work rather than by unit count.
func forUnits(ctx context.Context, units, weight int, fn func(u0, u1 int)) error {
	weight = max(weight, 1)
	return slabs(ctx, units*weight, func(lo, hi int) {
		// A unit belongs to the chunk holding its first voxel.
		u0 := (lo + weight - 1) / weight
		u1 := (hi + weight - 1) / weight
		if u0 < u1 {
			fn(u0, u1)
		}
	})
}

// sameUnits returns a header for a result of src's geometry with another
// size and data type, for kernels whose output values are in the same units
// as the input's (copied, selected or averaged with weights summing to
// one): unlike newImageSized it keeps the calibrations, which still apply.
func sameUnits(src *omni.Header, size [3]int, dt omni.DataType) *omni.Header {
	h := src.Clone()
	h.Size = size
	h.DataType = dt
	h.ByteOrder = omni.NativeByteOrder()
	h.PixelFiles = nil
	return h
}

// Crop returns the box of img that starts at voxel pos and spans size
// voxels (x, y, z). The box must lie inside the image. The result keeps the
// data type, spacing and calibrations; its origin moves to the centre of
// voxel pos.
func Crop(ctx context.Context, img *omni.Image, pos, size [3]int) (*omni.Image, error) {
	px, h, err := imagePixels("crop", img)
	if err != nil {
		return nil, err
	}
	for a := range 3 {
		if size[a] < 1 || pos[a] < 0 || pos[a] > h.Size[a]-size[a] {
			return nil, fmt.Errorf("%w: crop: box at %v of size %v does not fit in image of size %v",
				ErrBadArgument, pos, size, h.Size)
		}
	}
	oh := sameUnits(h, size, h.DataType)
	for a := range 3 {
		oh.Origin[a] = h.Origin[a] + float64(pos[a])*h.Spacing[a]
	}
	out, err := omni.NewUninitialized(oh)
	if err != nil {
		return nil, fmt.Errorf("clip: crop: %w", err)
	}
	vs := h.DataType.Size()
	dst := out.Pixels()
	// Each output plane is size[1] rows of rowBytes, one copy per row, or
	// one for the whole plane when the box spans whole rows of img.
	rowBytes, rows := size[0]*vs, size[1]
	if size[0] == h.Size[0] {
		rowBytes, rows = rowBytes*rows, 1
	}
	planeBytes := rowBytes * rows
	err = forUnits(ctx, size[2], planeBytes, func(z0, z1 int) {
		for z := z0; z < z1; z++ {
			plane := dst[z*planeBytes : (z+1)*planeBytes]
			s := (((pos[2]+z)*h.Size[1]+pos[1])*h.Size[0] + pos[0]) * vs
			for y := range rows {
				copy(plane[y*rowBytes:(y+1)*rowBytes], px[s:s+rowBytes])
				s += h.Size[0] * vs
			}
		}
	})
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: crop: %w", err)
	}
	return out, nil
}

// BoundingBox returns the smallest box (x, y, z) holding every non-zero
// voxel of img, as scipy.ndimage.find_objects(img != 0) does: NaN counts as
// non-zero, -0 as zero. It returns ErrEmpty if all voxels are zero.
func BoundingBox(ctx context.Context, img *omni.Image) (pos, size [3]int, err error) {
	px, h, err := imagePixels("bounding box", img)
	if err != nil {
		return pos, size, err
	}
	var b box
	switch h.DataType {
	case omni.Uint8:
		b, err = boundingBox(ctx, voxels[uint8](px), h.Size)
	case omni.Int8:
		b, err = boundingBox(ctx, voxels[int8](px), h.Size)
	case omni.Uint16:
		b, err = boundingBox(ctx, voxels[uint16](px), h.Size)
	case omni.Int16:
		b, err = boundingBox(ctx, voxels[int16](px), h.Size)
	case omni.Uint32:
		b, err = boundingBox(ctx, voxels[uint32](px), h.Size)
	case omni.Int32:
		b, err = boundingBox(ctx, voxels[int32](px), h.Size)
	case omni.Float32:
		b, err = boundingBox(ctx, voxels[float32](px), h.Size)
	case omni.Float64:
		b, err = boundingBox(ctx, voxels[float64](px), h.Size)
	default:
		return pos, size, fmt.Errorf("%w: bounding box: unsupported data type %v", ErrBadArgument, h.DataType)
	}
	if err != nil {
		return pos, size, fmt.Errorf("clip: bounding box: %w", err)
	}
	if !b.ok {
		return pos, size, fmt.Errorf("%w: bounding box: every voxel is zero", ErrEmpty)
	}
	for a := range 3 {
		pos[a], size[a] = b.lo[a], b.hi[a]-b.lo[a]+1
	}
	return pos, size, nil
}

// box is an inclusive voxel range; ok is false while it is empty.
type box struct {
	lo, hi [3]int
	ok     bool
}

func (b *box) add(c box) {
	if !c.ok {
		return
	}
	if !b.ok {
		*b = c
		return
	}
	for a := range 3 {
		b.lo[a], b.hi[a] = min(b.lo[a], c.lo[a]), max(b.hi[a], c.hi[a])
	}
}

func boundingBox[T number](ctx context.Context, v []T, size [3]int) (box, error) {
	nx := size[0]
	var mu sync.Mutex
	var all box
	err := forUnits(ctx, size[1]*size[2], nx, func(r0, r1 int) {
		var b box
		for r := r0; r < r1; r++ {
			row := v[r*nx : (r+1)*nx]
			first := 0
			for first < len(row) && row[first] == 0 {
				first++
			}
			if first == len(row) {
				continue
			}
			last := len(row) - 1
			for row[last] == 0 {
				last--
			}
			y, z := r%size[1], r/size[1]
			b.add(box{lo: [3]int{first, y, z}, hi: [3]int{last, y, z}, ok: true})
		}
		mu.Lock()
		all.add(b)
		mu.Unlock()
	})
	return all, err
}

// Interpolation selects how Resample computes values between voxels.
type Interpolation int

const (
	// Nearest takes the nearest input voxel; use it for labels and masks.
	Nearest Interpolation = iota
	// Linear interpolates trilinearly between the eight surrounding voxels.
	Linear
)

func (i Interpolation) String() string {
	switch i {
	case Nearest:
		return "nearest"
	case Linear:
		return "linear"
	}
	return fmt.Sprintf("Interpolation(%d)", int(i))
}

// Limits of Resample.
const (
	// MaxResampleFactor is the largest zoom factor per axis.
	MaxResampleFactor = 16
	// MaxResampleVoxels caps the voxel count of a resampled image.
	MaxResampleVoxels = 1 << 31
)

// Resample zooms img by factor (x, y, z) as scipy.ndimage.zoom(img,
// (fz, fy, fx), order=0 (Nearest) or 1 (Linear), mode='nearest',
// grid_mode=False) does:
//
//   - an axis of n voxels gets round(n*f) voxels, rounding half to even;
//   - corner voxel centres map to corner voxel centres: output voxel k
//     samples input position k*(n_in-1)/(n_out-1), so the origin stays and
//     the spacing becomes spacing*(n_in-1)/(n_out-1). An axis with one voxel
//     before or after keeps spacing*n_in/n_out instead;
//   - Nearest takes the voxel at floor(position+0.5);
//   - Linear sums value*weight over the eight neighbours in float64 in
//     scipy's order and stores integers rounded half away from zero and
//     clipped to the type's range; float results keep NaN and Inf as the
//     products give them (an Inf neighbour with weight 0 yields NaN).
//
// Factors must lie in (0, MaxResampleFactor]. The result has img's data
// type and calibrations.
func Resample(ctx context.Context, img *omni.Image, factor [3]float64, interp Interpolation) (*omni.Image, error) {
	px, h, err := imagePixels("resample", img)
	if err != nil {
		return nil, err
	}
	if interp != Nearest && interp != Linear {
		return nil, fmt.Errorf("%w: resample: unknown interpolation %d", ErrBadArgument, int(interp))
	}
	var size [3]int
	var spacing [3]float64
	total := 1.0
	for a := range 3 {
		f := factor[a]
		if !(f > 0 && f <= MaxResampleFactor) {
			return nil, fmt.Errorf("%w: resample: factor %v along %c is outside (0, %d]",
				ErrBadArgument, f, "xyz"[a], MaxResampleFactor)
		}
		n := math.RoundToEven(float64(h.Size[a]) * f)
		if n < 1 {
			return nil, fmt.Errorf("%w: resample: factor %v leaves no voxel of the %d along %c",
				ErrBadArgument, f, h.Size[a], "xyz"[a])
		}
		size[a] = int(n)
		total *= n
		in, out := float64(h.Size[a]), n
		if h.Size[a] > 1 && size[a] > 1 {
			in, out = in-1, out-1
		}
		spacing[a] = h.Spacing[a] * in / out
	}
	if total > MaxResampleVoxels {
		return nil, fmt.Errorf("%w: resample: %d x %d x %d voxels exceed the limit of %d",
			ErrBadArgument, size[0], size[1], size[2], MaxResampleVoxels)
	}
	oh := sameUnits(h, size, h.DataType)
	oh.Spacing = spacing
	out, err := omni.NewUninitialized(oh)
	if err != nil {
		return nil, fmt.Errorf("clip: resample: %w", err)
	}
	var plan [3]axisPlan
	for a := range 3 {
		plan[a] = planAxis(h.Size[a], size[a])
	}
	dst := out.Pixels()
	switch h.DataType {
	case omni.Uint8:
		err = resample(ctx, voxels[uint8](px), voxels[uint8](dst), h.Size, size, &plan, interp)
	case omni.Int8:
		err = resample(ctx, voxels[int8](px), voxels[int8](dst), h.Size, size, &plan, interp)
	case omni.Uint16:
		err = resample(ctx, voxels[uint16](px), voxels[uint16](dst), h.Size, size, &plan, interp)
	case omni.Int16:
		err = resample(ctx, voxels[int16](px), voxels[int16](dst), h.Size, size, &plan, interp)
	case omni.Uint32:
		err = resample(ctx, voxels[uint32](px), voxels[uint32](dst), h.Size, size, &plan, interp)
	case omni.Int32:
		err = resample(ctx, voxels[int32](px), voxels[int32](dst), h.Size, size, &plan, interp)
	case omni.Float32:
		err = resample(ctx, voxels[float32](px), voxels[float32](dst), h.Size, size, &plan, interp)
	case omni.Float64:
		err = resample(ctx, voxels[float64](px), voxels[float64](dst), h.Size, size, &plan, interp)
	default:
		err = fmt.Errorf("%w: unsupported data type %v", ErrBadArgument, h.DataType)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: resample: %w", err)
	}
	return out, nil
}

// axisPlan holds, per output index along one axis, the input index of the
// nearest voxel and the two linear neighbours with their weights.
type axisPlan struct {
	near, lo, hi []int
	wlo, whi     []float64
}

// planAxis reproduces scipy's zoom_shift arithmetic bit for bit, so that
// integer results round exactly as scipy's do.
func planAxis(nIn, nOut int) axisPlan {
	p := axisPlan{
		near: make([]int, nOut), lo: make([]int, nOut), hi: make([]int, nOut),
		wlo: make([]float64, nOut), whi: make([]float64, nOut),
	}
	zoom := 1.0
	if nOut > 1 {
		zoom = float64(nIn-1) / float64(nOut-1)
	}
	last := float64(nIn - 1)
	for k := range nOut {
		cc := float64(k) * zoom
		if cc > last { // mode='nearest'
			cc = last
		}
		p.near[k] = int(math.Floor(cc + 0.5))
		start := math.Floor(cc)
		p.lo[k] = int(start)
		// The neighbour past the last voxel has weight 0; scipy's 'nearest'
		// mode reads the last voxel again (so Inf there still gives NaN).
		p.hi[k] = min(int(start)+1, nIn-1)
		p.wlo[k] = 1 - (cc - start)
		p.whi[k] = 1 - p.wlo[k]
	}
	return p
}

func resample[T number](ctx context.Context, src, dst []T, in, out [3]int, plan *[3]axisPlan, interp Interpolation) error {
	nx, ny := in[0], in[1]
	ox, oy := out[0], out[1]
	px, py, pz := &plan[0], &plan[1], &plan[2]
	if interp == Nearest {
		return forUnits(ctx, oy*out[2], ox, func(r0, r1 int) {
			for r := r0; r < r1; r++ {
				y, z := r%oy, r/oy
				row := src[(pz.near[z]*ny+py.near[y])*nx:][:nx]
				o := dst[r*ox : (r+1)*ox]
				near := px.near[:len(o)]
				for x := range o {
					o[x] = row[near[x]]
				}
			}
		})
	}
	lo, hi := limits[T]()
	isFloat := math.IsInf(lo, -1)
	return forUnits(ctx, oy*out[2], 8*ox, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			y, z := r%oy, r/oy
			wz0, wz1, wy0, wy1 := pz.wlo[z], pz.whi[z], py.wlo[y], py.whi[y]
			z0, z1, y0, y1 := pz.lo[z]*ny, pz.hi[z]*ny, py.lo[y], py.hi[y]
			r00 := src[(z0+y0)*nx:][:nx]
			r01 := src[(z0+y1)*nx:][:nx]
			r10 := src[(z1+y0)*nx:][:nx]
			r11 := src[(z1+y1)*nx:][:nx]
			o := dst[r*ox : (r+1)*ox]
			xl, xh := px.lo[:len(o)], px.hi[:len(o)]
			wl, wh := px.wlo[:len(o)], px.whi[:len(o)]
			for x := range o {
				l, h, a, b := xl[x], xh[x], wl[x], wh[x]
				// scipy's order: corners with x fastest, each value times
				// the z, y and x weights in turn. The conversions keep the
				// compiler from fusing multiply and add, which would round
				// differently.
				t := 0.0
				t += float64(float64(float64(float64(r00[l])*wz0)*wy0) * a)
				t += float64(float64(float64(float64(r00[h])*wz0)*wy0) * b)
				t += float64(float64(float64(float64(r01[l])*wz0)*wy1) * a)
				t += float64(float64(float64(float64(r01[h])*wz0)*wy1) * b)
				t += float64(float64(float64(float64(r10[l])*wz1)*wy0) * a)
				t += float64(float64(float64(float64(r10[h])*wz1)*wy0) * b)
				t += float64(float64(float64(float64(r11[l])*wz1)*wy1) * a)
				t += float64(float64(float64(float64(r11[h])*wz1)*wy1) * b)
				o[x] = fromInterpolated[T](t, lo, hi, isFloat)
			}
		}
	})
}

// fromInterpolated stores an interpolated value as scipy does: floats are
// converted, integers rounded half away from zero and clipped to [lo, hi].
func fromInterpolated[T number](t, lo, hi float64, isFloat bool) T {
	if isFloat {
		return T(t)
	}
	if t > 0 {
		t += 0.5
	} else if lo < 0 {
		t -= 0.5
	} else {
		t = 0
	}
	return T(min(max(t, lo), hi))
}
