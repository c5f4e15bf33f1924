package host

import (
	"context"
	"encoding/binary"
	"errors"
	"math"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/clip"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/omni"
)

// The clip imports: thin adapters from the ABI's handles and out-pointers
// to the clip package. Images a kernel creates are counted against the
// job's image quota before the kernel runs.

// kernelStatus maps a kernel error onto a status. A kernel stopped by the
// job's deadline returns LIMIT_EXCEEDED; the engine then stops the guest.
func kernelStatus(ctx context.Context, err error) abi.Status {
	switch {
	case ctx.Err() != nil:
		return abi.LimitExceeded
	case errors.Is(err, clip.ErrSizeMismatch), errors.Is(err, clip.ErrBadArgument):
		return abi.BadArgument
	case errors.Is(err, clip.ErrEmpty):
		return abi.NotFound
	}
	return abi.Internal
}

// optionalImage resolves a handle that may be 0 (none).
func (j *job) optionalImage(h uint32) (*omni.Image, abi.Status) {
	if h == 0 {
		return nil, abi.OK
	}
	im, st := j.image(h)
	if st != abi.OK {
		return nil, st
	}
	return im.img, abi.OK
}

// kernelImage runs a kernel that creates an image of about outBytes bytes
// and hands the guest a handle to it.
func (j *job) kernelImage(ctx context.Context, c engine.Memory, out uint32, outBytes int64, run func() (*omni.Image, error)) abi.Status {
	if _, ok := c.Read(out, 4); !ok {
		return abi.InvalidMemoryAccess
	}
	if outBytes < 0 || !j.reserveImageBytes(outBytes) {
		return abi.LimitExceeded
	}
	img, err := run()
	if err != nil {
		j.reserveImageBytes(-outBytes)
		return kernelStatus(ctx, err)
	}
	// Count what the kernel really allocated.
	if actual := int64(len(img.Pixels())); actual != outBytes {
		j.reserveImageBytes(actual - outBytes)
		outBytes = actual
	}
	return j.addImage(c, &jobImage{img: img, writable: true, bytes: outBytes}, out)
}

// imageAndMask resolves an image handle and an optional mask handle (0 for
// none), the first two arguments of the statistical kernels.
func (j *job) imageAndMask(image, mask uint32) (*omni.Image, *omni.Image, abi.Status) {
	im, st := j.image(image)
	if st != abi.OK {
		return nil, nil, st
	}
	m, st := j.optionalImage(mask)
	if st != abi.OK {
		return nil, nil, st
	}
	return im.img, m, abi.OK
}

func voxelCount(img *omni.Image) int64 { return img.Header().VoxelCount() }

func clipMinMax(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, mask, st := j.imageAndMask(u32(a[0]), u32(a[1]))
	if st != abi.OK {
		return st
	}
	minOut, maxOut := u32(a[2]), u32(a[3])
	if _, ok := c.Read(minOut, 8); !ok {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(maxOut, 8); !ok {
		return abi.InvalidMemoryAccess
	}
	lo, hi, err := clip.MinMax(ctx, im, mask)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	writeF64(c, minOut, lo)
	writeF64(c, maxOut, hi)
	return abi.OK
}

func clipThreshold(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	flags := u32(a[3])
	if flags&^3 != 0 {
		return abi.BadArgument
	}
	b := clip.Bounds{Lower: f64(a[1]), Upper: f64(a[2]), HasLower: flags&1 != 0, HasUpper: flags&2 != 0}
	if (b.HasLower && math.IsNaN(b.Lower)) || (b.HasUpper && math.IsNaN(b.Upper)) {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[4]), voxelCount(im.img), func() (*omni.Image, error) {
		return clip.Threshold(ctx, im.img, b)
	})
}

func clipStats(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, mask, st := j.imageAndMask(u32(a[0]), u32(a[1]))
	if st != abi.OK {
		return st
	}
	out := u32(a[2])
	if _, ok := c.Read(out, 48); !ok {
		return abi.InvalidMemoryAccess
	}
	s, err := clip.Statistics(ctx, im, mask)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	var b [48]byte
	for i, v := range []float64{s.Min, s.Max, s.Sum, s.Mean, s.Std} {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	binary.LittleEndian.PutUint64(b[40:], uint64(s.Count))
	c.Write(out, b[:])
	return abi.OK
}

func clipHistogram(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, mask, st := j.imageAndMask(u32(a[0]), u32(a[1]))
	if st != abi.OK {
		return st
	}
	flags := u32(a[5])
	if flags&^3 != 0 {
		return abi.BadArgument
	}
	opt := clip.HistogramOptions{Bins: int(u32(a[2])), Min: f64(a[3]), Max: f64(a[4]), HasRange: flags&1 != 0, IntegerBins: flags&2 != 0}
	buf, bufCap, lenOut := u32(a[6]), u32(a[7]), u32(a[8])
	if _, ok := c.Read(lenOut, 4); !ok {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(buf, bufCap); !ok {
		return abi.InvalidMemoryAccess
	}
	bins, err := clip.Histogram(ctx, im, mask, opt)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	data := make([]byte, 32*len(bins))
	for i, b := range bins {
		binary.LittleEndian.PutUint64(data[32*i:], math.Float64bits(b.Centre))
		binary.LittleEndian.PutUint64(data[32*i+8:], math.Float64bits(b.PDF))
		binary.LittleEndian.PutUint64(data[32*i+16:], math.Float64bits(b.CDF))
		binary.LittleEndian.PutUint64(data[32*i+24:], uint64(b.Count))
	}
	return writeResult(c, data, buf, bufCap, lenOut)
}

func clipThresholdMulti(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	n := u32(a[2])
	if n == 0 || n > 65535 {
		return abi.BadArgument
	}
	raw, ok := c.Read(u32(a[1]), n*8)
	if !ok {
		return abi.InvalidMemoryAccess
	}
	levels := make([]float64, n)
	for i := range levels {
		levels[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	bytes := voxelCount(im.img)
	if n > 255 {
		bytes *= 2
	}
	return j.kernelImage(ctx, c, u32(a[3]), bytes, func() (*omni.Image, error) {
		return clip.MultiThreshold(ctx, im.img, levels)
	})
}

func clipMask(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	mask, st := j.image(u32(a[1]))
	if st != abi.OK {
		return st
	}
	return j.kernelImage(ctx, c, u32(a[2]), int64(len(im.img.Pixels())), func() (*omni.Image, error) {
		return clip.Mask(ctx, im.img, mask.img)
	})
}

func clipConvert(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	code := u32(a[1])
	dt := omni.DataType(code)
	if code == 0 || code > 255 || !dt.Valid() {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[2]), voxelCount(im.img)*int64(dt.Size()), func() (*omni.Image, error) {
		return clip.Convert(ctx, im.img, dt)
	})
}

func arithOp(v uint32) (clip.ArithOp, bool) {
	if v > uint32(clip.Maximum) {
		return 0, false
	}
	return clip.ArithOp(v), true
}

func clipArithScalar(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	op, ok := arithOp(u32(a[1]))
	v := f64(a[2])
	if !ok || math.IsNaN(v) {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[3]), int64(len(im.img.Pixels())), func() (*omni.Image, error) {
		return clip.ArithScalar(ctx, im.img, op, v)
	})
}

func clipArith(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	x, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	y, st := j.image(u32(a[1]))
	if st != abi.OK {
		return st
	}
	op, ok := arithOp(u32(a[2]))
	if !ok {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[3]), int64(len(x.img.Pixels())), func() (*omni.Image, error) {
		return clip.Arith(ctx, x.img, y.img, op)
	})
}

func clipGaussian(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	size := int64(4)
	if im.img.Header().DataType == omni.Float64 {
		size = 8
	}
	sigma := f64(a[1])
	return j.kernelImage(ctx, c, u32(a[2]), voxelCount(im.img)*size, func() (*omni.Image, error) {
		return clip.Gaussian(ctx, im.img, sigma)
	})
}

func clipMedian(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	radius := int(u32(a[1]))
	return j.kernelImage(ctx, c, u32(a[2]), int64(len(im.img.Pixels())), func() (*omni.Image, error) {
		return clip.Median(ctx, im.img, radius)
	})
}

func connectivity(v uint32) (clip.Connectivity, bool) {
	switch v {
	case 6, 18, 26:
		return clip.Connectivity(v), true
	}
	return 0, false
}

func clipMorphology(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	op := u32(a[1])
	conn, ok := connectivity(u32(a[2]))
	if !ok || op > uint32(clip.Close) {
		return abi.BadArgument
	}
	radius := int(u32(a[3]))
	return j.kernelImage(ctx, c, u32(a[4]), voxelCount(im.img), func() (*omni.Image, error) {
		return clip.Morphology(ctx, im.img, clip.MorphOp(op), conn, radius)
	})
}

func clipLabel(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	conn, ok := connectivity(u32(a[1]))
	if !ok {
		return abi.BadArgument
	}
	countOut := u32(a[3])
	if _, ok := c.Read(countOut, 4); !ok {
		return abi.InvalidMemoryAccess
	}
	var count int
	st = j.kernelImage(ctx, c, u32(a[2]), voxelCount(im.img)*4, func() (*omni.Image, error) {
		labels, n, err := clip.Label(ctx, im.img, conn)
		count = n
		return labels, err
	})
	if st == abi.OK {
		writeU32(c, countOut, uint32(count))
	}
	return st
}

func clipComponentSizes(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	if im.img.Header().DataType != omni.Uint32 {
		return abi.TypeMismatch
	}
	buf, bufCap, lenOut := u32(a[1]), u32(a[2]), u32(a[3])
	if _, ok := c.Read(lenOut, 4); !ok {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(buf, bufCap); !ok {
		return abi.InvalidMemoryAccess
	}
	_, hi, err := clip.MinMax(ctx, im.img, nil)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	sizes, err := clip.ComponentSizes(ctx, im.img, int(hi))
	if err != nil {
		return kernelStatus(ctx, err)
	}
	data := make([]byte, 8*len(sizes))
	for i, s := range sizes {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(s))
	}
	return writeResult(c, data, buf, bufCap, lenOut)
}

func clipKeepLargest(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	conn, ok := connectivity(u32(a[1]))
	n := int(u32(a[2]))
	if !ok || n == 0 {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[3]), voxelCount(im.img), func() (*omni.Image, error) {
		return clip.KeepLargest(ctx, im.img, conn, n)
	})
}

func clipRemoveSmall(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	conn, ok := connectivity(u32(a[1]))
	minSize := a[2]
	if !ok || minSize > math.MaxInt64 {
		return abi.BadArgument
	}
	return j.kernelImage(ctx, c, u32(a[3]), voxelCount(im.img), func() (*omni.Image, error) {
		return clip.RemoveSmall(ctx, im.img, conn, int64(minSize))
	})
}

func clipDistanceTransform(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	return j.kernelImage(ctx, c, u32(a[1]), voxelCount(im.img)*4, func() (*omni.Image, error) {
		return clip.DistanceTransform(ctx, im.img)
	})
}

func clipBVTV(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	seg, mask, st := j.imageAndMask(u32(a[0]), u32(a[1]))
	if st != abi.OK {
		return st
	}
	out := u32(a[2])
	if _, ok := c.Read(out, 8); !ok {
		return abi.InvalidMemoryAccess
	}
	v, err := clip.BVTV(ctx, seg, mask)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	writeF64(c, out, v)
	return abi.OK
}

func clipCrop(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	h := im.img.Header()
	pos := [3]int{int(u32(a[1])), int(u32(a[2])), int(u32(a[3]))}
	size := [3]int{int(u32(a[4])), int(u32(a[5])), int(u32(a[6]))}
	for i := range 3 {
		if size[i] < 1 || pos[i]+size[i] > h.Size[i] {
			return abi.BadArgument
		}
	}
	bytes := int64(size[0]) * int64(size[1]) * int64(size[2]) * int64(h.DataType.Size())
	return j.kernelImage(ctx, c, u32(a[7]), bytes, func() (*omni.Image, error) {
		return clip.Crop(ctx, im.img, pos, size)
	})
}

func clipBoundingBox(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	out := u32(a[1])
	if _, ok := c.Read(out, 24); !ok {
		return abi.InvalidMemoryAccess
	}
	pos, size, err := clip.BoundingBox(ctx, im.img)
	if err != nil {
		return kernelStatus(ctx, err)
	}
	var b [24]byte
	for i := range 3 {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(pos[i]))
		binary.LittleEndian.PutUint32(b[12+4*i:], uint32(size[i]))
	}
	c.Write(out, b[:])
	return abi.OK
}

func clipResample(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	factor := [3]float64{f64(a[1]), f64(a[2]), f64(a[3])}
	interp := u32(a[4])
	if interp > uint32(clip.Linear) {
		return abi.BadArgument
	}
	h := im.img.Header()
	bytes := int64(h.DataType.Size())
	for i, f := range factor {
		if !(f > 0 && f <= 16) {
			return abi.BadArgument
		}
		bytes *= int64(math.Max(1, math.Round(float64(h.Size[i])*f)))
	}
	return j.kernelImage(ctx, c, u32(a[5]), bytes, func() (*omni.Image, error) {
		return clip.Resample(ctx, im.img, factor, clip.Interpolation(interp))
	})
}
