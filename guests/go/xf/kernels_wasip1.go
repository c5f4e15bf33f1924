//go:build wasip1

package xf

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Kernels run natively on the host on all cores; images stay on the host.
// Each function maps one import of the clip module (abi/ABI.md).

func handleOf(im *Image) uint32 {
	if im == nil {
		return 0
	}
	return im.handle
}

// created turns the handle of a kernel's new image into an Image.
func created(op string, st Status, h uint32) (*Image, error) {
	if err := check(op, "", st); err != nil {
		return nil, err
	}
	return newImage(op, h)
}

// MinMax returns the smallest and largest raw voxel values, only where mask
// is non-zero if mask is not nil.
func MinMax(im, mask *Image) (lo, hi float64, err error) {
	err = check("clip.minmax", "", clipMinmax(im.handle, handleOf(mask), unsafe.Pointer(&lo), unsafe.Pointer(&hi)))
	return lo, hi, err
}

// Threshold returns a uint8 segmentation: 1 where lower <= v <= upper. A nil
// bound is unbounded.
func Threshold(im *Image, lower, upper *float64) (*Image, error) {
	var lo, hi float64
	var flags uint32
	if lower != nil {
		lo, flags = *lower, flags|1
	}
	if upper != nil {
		hi, flags = *upper, flags|2
	}
	var h uint32
	return created("clip.threshold", clipThreshold(im.handle, lo, hi, flags, unsafe.Pointer(&h)), h)
}

// Stats are statistics of raw voxel values.
type Stats struct {
	Min, Max, Sum, Mean, Std float64
	Count                    uint64
}

// Statistics returns min, max, sum, mean, population standard deviation
// and count of the voxels (under mask if not nil).
func Statistics(im, mask *Image) (Stats, error) {
	var b [48]byte
	if err := check("clip.stats", "", clipStats(im.handle, handleOf(mask), unsafe.Pointer(&b))); err != nil {
		return Stats{}, err
	}
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])) }
	return Stats{Min: f(0), Max: f(1), Sum: f(2), Mean: f(3), Std: f(4), Count: binary.LittleEndian.Uint64(b[40:])}, nil
}

// Bin is one histogram bin: the columns x0, pdf, distr and count of
// XamFlow's HistogramPlot.
type Bin struct {
	Centre, PDF, CDF float64
	Count            uint64
}

// HistogramOptions choose the bins: Bins equal bins over [Lower, Upper] if
// HasRange, else over the data's range; or one bin per integer value.
type HistogramOptions struct {
	Bins         int
	Lower, Upper float64
	HasRange     bool
	IntegerBins  bool
}

// Histogram returns the histogram of the voxels (under mask if not nil).
func Histogram(im, mask *Image, opt HistogramOptions) ([]Bin, error) {
	var flags uint32
	if opt.HasRange {
		flags |= 1
	}
	if opt.IntegerBins {
		flags |= 2
	}
	raw, err := fetch("clip.histogram", "", func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return clipHistogram(im.handle, handleOf(mask), uint32(opt.Bins), opt.Lower, opt.Upper, flags, buf, c, l)
	})
	if err != nil {
		return nil, err
	}
	bins := make([]Bin, len(raw)/32)
	le := binary.LittleEndian
	for i := range bins {
		r := raw[32*i:]
		bins[i] = Bin{Centre: math.Float64frombits(le.Uint64(r)), PDF: math.Float64frombits(le.Uint64(r[8:])),
			CDF: math.Float64frombits(le.Uint64(r[16:])), Count: le.Uint64(r[24:])}
	}
	return bins, nil
}

// ThresholdMulti returns a label image: the number of levels (ascending)
// not above each voxel's value.
func ThresholdMulti(im *Image, levels []float64) (*Image, error) {
	var h uint32
	st := clipThresholdMulti(im.handle, unsafe.Pointer(unsafe.SliceData(levels)), uint32(len(levels)), unsafe.Pointer(&h))
	return created("clip.threshold_multi", st, h)
}

// Mask returns a copy of im that is 0 where mask is 0.
func Mask(im, mask *Image) (*Image, error) {
	var h uint32
	return created("clip.mask", clipMask(im.handle, mask.handle, unsafe.Pointer(&h)), h)
}

var dataTypeCodes = map[string]uint32{"uint8": 1, "int8": 2, "uint16": 3, "int16": 4, "uint32": 5, "int32": 6, "float32": 7, "float64": 8}

// Convert returns a copy in another data type ("uint8", ..., "float64"),
// rounding half to even and saturating.
func Convert(im *Image, dataType string) (*Image, error) {
	var h uint32
	return created("clip.convert", clipConvert(im.handle, dataTypeCodes[dataType], unsafe.Pointer(&h)), h)
}

// ArithOp is an arithmetic operation.
type ArithOp uint32

// Arithmetic operations.
const (
	Add ArithOp = iota
	Subtract
	Multiply
	Minimum
	Maximum
)

// ArithScalar returns im op v, saturating for integer images.
func ArithScalar(im *Image, op ArithOp, v float64) (*Image, error) {
	var h uint32
	return created("clip.arith_scalar", clipArithScalar(im.handle, uint32(op), v, unsafe.Pointer(&h)), h)
}

// Arith returns a op b for images of one size and data type.
func Arith(a, b *Image, op ArithOp) (*Image, error) {
	var h uint32
	return created("clip.arith", clipArith(a.handle, b.handle, uint32(op), unsafe.Pointer(&h)), h)
}

// Gaussian returns a Gaussian-filtered float image; sigma is in mm.
func Gaussian(im *Image, sigmaMM float64) (*Image, error) {
	var h uint32
	return created("clip.gaussian", clipGaussian(im.handle, sigmaMM, unsafe.Pointer(&h)), h)
}

// Median returns a median-filtered image over a (2 radius + 1)^3 box.
func Median(im *Image, radius int) (*Image, error) {
	var h uint32
	return created("clip.median", clipMedian(im.handle, uint32(radius), unsafe.Pointer(&h)), h)
}

// MorphOp is a binary morphology operation.
type MorphOp uint32

// Morphology operations.
const (
	Erode MorphOp = iota
	Dilate
	Open
	Close
)

// Morphology applies a binary operation with the 6-, 18- or 26-neighbourhood
// radius times.
func Morphology(im *Image, op MorphOp, connectivity, radius int) (*Image, error) {
	var h uint32
	return created("clip.morphology", clipMorphology(im.handle, uint32(op), uint32(connectivity), uint32(radius), unsafe.Pointer(&h)), h)
}

// Label labels the connected components of the non-zero voxels and returns
// the uint32 label image and the number of components.
func Label(im *Image, connectivity int) (*Image, int, error) {
	var h, n uint32
	labels, err := created("clip.label", clipLabel(im.handle, uint32(connectivity), unsafe.Pointer(&h), unsafe.Pointer(&n)), h)
	return labels, int(n), err
}

// ComponentSizes returns the voxel count of labels 1..n of a label image.
func ComponentSizes(labels *Image) ([]uint64, error) {
	raw, err := fetch("clip.component_sizes", "", func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return clipComponentSizes(labels.handle, buf, c, l)
	})
	if err != nil {
		return nil, err
	}
	sizes := make([]uint64, len(raw)/8)
	for i := range sizes {
		sizes[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	return sizes, nil
}

// KeepLargest keeps the n largest connected components.
func KeepLargest(im *Image, connectivity, n int) (*Image, error) {
	var h uint32
	return created("clip.keep_largest", clipKeepLargest(im.handle, uint32(connectivity), uint32(n), unsafe.Pointer(&h)), h)
}

// RemoveSmall removes connected components of fewer than minSize voxels.
func RemoveSmall(im *Image, connectivity int, minSize uint64) (*Image, error) {
	var h uint32
	return created("clip.remove_small", clipRemoveSmall(im.handle, uint32(connectivity), minSize, unsafe.Pointer(&h)), h)
}

// DistanceTransform returns each non-zero voxel's distance in mm to the
// nearest zero voxel.
func DistanceTransform(im *Image) (*Image, error) {
	var h uint32
	return created("clip.distance_transform", clipDistanceTransform(im.handle, unsafe.Pointer(&h)), h)
}

// BVTV returns the bone volume fraction of a segmentation within mask (the
// whole image if mask is nil).
func BVTV(seg, mask *Image) (float64, error) {
	var v float64
	err := check("clip.bvtv", "", clipBvtv(seg.handle, handleOf(mask), unsafe.Pointer(&v)))
	return v, err
}

// Crop returns a box of the image.
func Crop(im *Image, b Box) (*Image, error) {
	var h uint32
	st := clipCrop(im.handle, uint32(b.Pos[0]), uint32(b.Pos[1]), uint32(b.Pos[2]),
		uint32(b.Size[0]), uint32(b.Size[1]), uint32(b.Size[2]), unsafe.Pointer(&h))
	return created("clip.crop", st, h)
}

// BoundingBox returns the box of the non-zero voxels.
func BoundingBox(im *Image) (Box, error) {
	var v [6]uint32
	if err := check("clip.bounding_box", "", clipBoundingBox(im.handle, unsafe.Pointer(&v))); err != nil {
		return Box{}, err
	}
	return Box{Pos: [3]int{int(v[0]), int(v[1]), int(v[2])}, Size: [3]int{int(v[3]), int(v[4]), int(v[5])}}, nil
}

// Interpolation is a resampling method.
type Interpolation uint32

// Resampling methods.
const (
	Nearest Interpolation = iota // for labels and segmentations
	Linear
)

// Resample returns the image resampled by a factor per axis.
func Resample(im *Image, factor [3]float64, interp Interpolation) (*Image, error) {
	var h uint32
	return created("clip.resample", clipResample(im.handle, factor[0], factor[1], factor[2], uint32(interp), unsafe.Pointer(&h)), h)
}
