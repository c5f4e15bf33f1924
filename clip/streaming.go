package clip

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// The kernels in this file stream each voxel once, independently of its
// neighbours; they are bound by memory bandwidth.

// maxLevels is the most levels MultiThreshold takes: labels must fit uint16.
const maxLevels = math.MaxUint16

// MultiThreshold labels every voxel by the number of levels at or below
// its value (numpy.digitize with ascending levels, right=False): 0 below
// levels[0], len(levels) at or above the last level, and 0 for NaN. Levels
// must be finite and strictly ascending. The labels are uint8 for up to
// 255 levels and uint16 for up to 65535.
func MultiThreshold(ctx context.Context, img *omni.Image, levels []float64) (*omni.Image, error) {
	return multiThreshold(ctx, img, levels, vectorPath)
}

func multiThreshold(ctx context.Context, img *omni.Image, levels []float64, p path) (*omni.Image, error) {
	if len(levels) == 0 || len(levels) > maxLevels {
		return nil, fmt.Errorf("clip: multithreshold: %w: %d levels, want 1 to %d", ErrBadArgument, len(levels), maxLevels)
	}
	for i, l := range levels {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("clip: multithreshold: %w: level %d is %v", ErrBadArgument, i, l)
		}
		if i > 0 && !(l > levels[i-1]) {
			return nil, fmt.Errorf("clip: multithreshold: %w: level %d (%v) not above level %d (%v)", ErrBadArgument, i, l, i-1, levels[i-1])
		}
	}
	dt := omni.Uint8
	if len(levels) > math.MaxUint8 {
		dt = omni.Uint16
	}
	out, err := newOutputLike(img, dt)
	if err != nil {
		return nil, fmt.Errorf("clip: multithreshold: %w", err)
	}
	src, dst, padded := img.Pixels(), out.Pixels(), searchLevels(levels)
	sdt := img.Header().DataType
	switch {
	case p == vectorPath && len(levels) <= maxCompareLevels && !sdt.IsFloat() && canVecLevels(sdt.Size()):
		err = labelCompared(ctx, sdt, src, dst, levels)
	case dt == omni.Uint8:
		err = labelPixels[uint8](ctx, img.Header().DataType, src, dst, padded)
	default:
		err = labelPixels[uint16](ctx, img.Header().DataType, src, dst, padded)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: multithreshold: %w", err)
	}
	return out, nil
}

func labelPixels[L uint8 | uint16](ctx context.Context, dt omni.DataType, src, dst []byte, levels []float64) error {
	switch dt {
	case omni.Uint8:
		return labelTable[uint8, L](ctx, src, dst, levels)
	case omni.Int8:
		return labelTable[int8, L](ctx, src, dst, levels)
	case omni.Uint16:
		return labelTable[uint16, L](ctx, src, dst, levels)
	case omni.Int16:
		return labelTable[int16, L](ctx, src, dst, levels)
	case omni.Uint32:
		return labelSearch[uint32, L](ctx, src, dst, levels)
	case omni.Int32:
		return labelSearch[int32, L](ctx, src, dst, levels)
	case omni.Float32:
		return labelSearch[float32, L](ctx, src, dst, levels)
	case omni.Float64:
		return labelSearch[float64, L](ctx, src, dst, levels)
	}
	return fmt.Errorf("unsupported data type %v", dt)
}

// maxCompareLevels is the most levels labelCompared takes: each costs a
// comparison per voxel.
const maxCompareLevels = 8

// labelCompared labels 8- and 16-bit voxels by comparing them with each
// level in vector code: the label is the number of levels at or below the
// voxel. For integers x >= level is x > ceil(level)-1; levels at or below
// the type's minimum count for every voxel (always) and levels above its
// maximum for none.
func labelCompared(ctx context.Context, dt omni.DataType, src, dst []byte, levels []float64) error {
	switch dt {
	case omni.Uint8:
		return labelComparedOf[uint8](ctx, src, dst, levels)
	case omni.Int8:
		return labelComparedOf[int8](ctx, src, dst, levels)
	case omni.Uint16:
		return labelComparedOf[uint16](ctx, src, dst, levels)
	case omni.Int16:
		return labelComparedOf[int16](ctx, src, dst, levels)
	}
	return fmt.Errorf("unsupported data type %v", dt)
}

func labelComparedOf[T integer](ctx context.Context, src, dst []byte, levels []float64) error {
	tlo, thi := limits[T]()
	var always uint8
	var gt []int64
	for _, l := range levels {
		switch c := math.Ceil(l); {
		case c <= tlo:
			always++
		case c <= thi:
			gt = append(gt, int64(c)-1)
		}
	}
	v := voxels[T](src)
	return slabs(ctx, len(v), func(a, b int) {
		x, o := v[a:b], dst[a:b]
		n := vecLevels(x, o, always, gt)
		x, o = x[n:], o[n:]
		o = o[:len(x)]
		for i, xi := range x {
			label := always
			for _, g := range gt {
				label += b2u8(int64(xi) > g)
			}
			o[i] = label
		}
	})
}

// searchLevels pads levels with NaN to a power-of-two length for
// countAtMost: NaN is never <= x, so the padding is never counted.
func searchLevels(levels []float64) []float64 {
	padded := make([]float64, 1<<bits.Len(uint(len(levels)-1)))
	for i := range padded {
		padded[i] = math.NaN()
	}
	copy(padded, levels)
	return padded
}

// countAtMost returns how many levels are <= x (0 for NaN x) by a binary
// search whose only data-dependent choice is a conditional move. levels
// comes from searchLevels; the mask, a no-op on a power-of-two length,
// lets the compiler drop the bounds checks.
func countAtMost(levels []float64, x float64) int {
	if len(levels) == 0 {
		return 0
	}
	m := len(levels) - 1
	base := 0
	for half := len(levels) / 2; half > 0; half /= 2 {
		base += half & -int(b2u8(levels[(base+half)&m] <= x))
	}
	return base + int(b2u8(levels[base&m] <= x))
}

// labelTable labels 8- and 16-bit voxels through a table of every value's
// label.
func labelTable[T integer, L uint8 | uint16](ctx context.Context, src, dst []byte, levels []float64) error {
	table := new([1 << 16]L)
	lo, hi := limits[T]()
	for x := lo; x <= hi; x++ {
		table[uint16(T(x))] = L(countAtMost(levels, x))
	}
	v, out := voxels[T](src), voxels[L](dst)
	return slabs(ctx, len(v), func(a, b int) {
		x, o := v[a:b], out[a:b]
		o = o[:len(x)]
		for i, xi := range x {
			o[i] = table[uint16(xi)]
		}
	})
}

// labelSearch is countAtMost written out (it is too big for the compiler
// to inline).
func labelSearch[T number, L uint8 | uint16](ctx context.Context, src, dst []byte, levels []float64) error {
	v, out := voxels[T](src), voxels[L](dst)
	return slabs(ctx, len(v), func(a, b int) {
		x, o, levels := v[a:b], out[a:b], levels
		o = o[:len(x)]
		if len(levels) == 0 {
			return
		}
		m := len(levels) - 1
		for i, xi := range x {
			f, base := float64(xi), 0
			for half := len(levels) / 2; half > 0; half /= 2 {
				base += half & -int(b2u8(levels[(base+half)&m] <= f))
			}
			o[i] = L(base + int(b2u8(levels[base&m] <= f)))
		}
	})
}

// Mask returns a copy of img (same data type and calibrations) with the
// voxels where mask, of any data type, is zero set to 0. The mask must
// have img's size.
func Mask(ctx context.Context, img, mask *omni.Image) (*omni.Image, error) {
	return maskImage(ctx, img, mask, vectorPath)
}

func maskImage(ctx context.Context, img, mask *omni.Image, p path) (*omni.Image, error) {
	if mask == nil {
		return nil, fmt.Errorf("clip: mask: %w: no mask image", ErrBadArgument)
	}
	sel, err := selection(ctx, "mask", img, mask)
	if err != nil {
		return nil, err
	}
	dt := img.Header().DataType
	out, err := newOutputCalibrated(img, dt)
	if err != nil {
		return nil, fmt.Errorf("clip: mask: %w", err)
	}
	// Masking moves bits, so only the voxel size matters; a float voxel
	// masked out becomes +0.
	src, dst := img.Pixels(), out.Pixels()
	switch dt.Size() {
	case 1:
		err = maskBits[uint8](ctx, src, sel, dst, p)
	case 2:
		err = maskBits[uint16](ctx, src, sel, dst, p)
	case 4:
		err = maskBits[uint32](ctx, src, sel, dst, p)
	case 8:
		err = maskBits[uint64](ctx, src, sel, dst, p)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: mask: %w", err)
	}
	return out, nil
}

// word is an unsigned integer of a voxel's size, for kernels that only
// move bits.
type word interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// wordsOf views pixel bytes as unsigned words of the voxel size, like voxels.
func wordsOf[U word](b []byte) []U {
	var zero U
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*U)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func maskBits[U word](ctx context.Context, src []byte, sel []uint8, dst []byte, p path) error {
	v, out := wordsOf[U](src), wordsOf[U](dst)
	return slabs(ctx, len(v), func(a, b int) {
		x, s, o := v[a:b], sel[a:b], out[a:b]
		n := 0
		if p == vectorPath {
			n = vecMask(x, o, s)
		}
		x, s, o = x[n:], s[n:], o[n:]
		s, o = s[:len(x)], o[:len(x)]
		for i, xi := range x {
			o[i] = xi & -U(b2u8(s[i] != 0))
		}
	})
}

// newOutputCalibrated is newOutputLike keeping src's calibrations, for
// results whose voxel values mean what src's meant. Its pixels are not
// zeroed either: the caller writes every voxel.
func newOutputCalibrated(src *omni.Image, dt omni.DataType) (*omni.Image, error) {
	h := src.Header()
	return omni.NewUninitialized(sameUnits(h, h.Size, dt))
}

// Convert returns img converted to the data type dt, saturating: float
// values are rounded half to even (numpy.rint), then every value is clipped
// to dt's range; NaN becomes 0 in integer types. Conversion to a float type
// rounds to the nearest representable value. Calibrations are kept, since
// the converted values still mean what they meant.
func Convert(ctx context.Context, img *omni.Image, dt omni.DataType) (*omni.Image, error) {
	return convert(ctx, img, dt, vectorPath)
}

func convert(ctx context.Context, img *omni.Image, dt omni.DataType, p path) (*omni.Image, error) {
	if !dt.Valid() {
		return nil, fmt.Errorf("clip: convert: %w: data type %v", ErrBadArgument, dt)
	}
	out, err := newOutputCalibrated(img, dt)
	if err != nil {
		return nil, fmt.Errorf("clip: convert: %w", err)
	}
	src, dst := img.Pixels(), out.Pixels()
	switch sdt := img.Header().DataType; sdt {
	case omni.Uint8:
		err = convertFrom[uint8](ctx, src, dst, dt, p)
	case omni.Int8:
		err = convertFrom[int8](ctx, src, dst, dt, p)
	case omni.Uint16:
		err = convertFrom[uint16](ctx, src, dst, dt, p)
	case omni.Int16:
		err = convertFrom[int16](ctx, src, dst, dt, p)
	case omni.Uint32:
		err = convertFrom[uint32](ctx, src, dst, dt, p)
	case omni.Int32:
		err = convertFrom[int32](ctx, src, dst, dt, p)
	case omni.Float32:
		err = convertFrom[float32](ctx, src, dst, dt, p)
	case omni.Float64:
		err = convertFrom[float64](ctx, src, dst, dt, p)
	default:
		err = fmt.Errorf("unsupported data type %v", sdt)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: convert: %w", err)
	}
	return out, nil
}

func convertFrom[S number](ctx context.Context, src, dst []byte, dt omni.DataType, p path) error {
	switch dt {
	case omni.Uint8:
		return convertPixels[S, uint8](ctx, src, dst, p)
	case omni.Int8:
		return convertPixels[S, int8](ctx, src, dst, p)
	case omni.Uint16:
		return convertPixels[S, uint16](ctx, src, dst, p)
	case omni.Int16:
		return convertPixels[S, int16](ctx, src, dst, p)
	case omni.Uint32:
		return convertPixels[S, uint32](ctx, src, dst, p)
	case omni.Int32:
		return convertPixels[S, int32](ctx, src, dst, p)
	case omni.Float32:
		return convertPixels[S, float32](ctx, src, dst, p)
	case omni.Float64:
		return convertPixels[S, float64](ctx, src, dst, p)
	}
	return fmt.Errorf("unsupported data type %v", dt)
}

func convertPixels[S, D number](ctx context.Context, src, dst []byte, p path) error {
	v, out := voxels[S](src), voxels[D](dst)
	return slabs(ctx, len(v), func(a, b int) {
		x, o := v[a:b], out[a:b]
		n := 0
		if p == vectorPath {
			n = vecConvert(x, o)
		}
		convertScalar(x[n:], o[n:])
	})
}

func convertScalar[S, D number](x []S, o []D) {
	o = o[:len(x)]
	switch {
	case isFloat[D]():
		for i, xi := range x {
			o[i] = D(xi)
		}
	case !isFloat[S]():
		l, h := limits[D]()
		lo, hi := int64(l), int64(h)
		for i, xi := range x {
			o[i] = D(min(max(int64(xi), lo), hi))
		}
	default:
		lo, hi := limits[D]()
		for i, xi := range x {
			o[i] = D(saturate(float64(xi), lo, hi))
		}
	}
}

// saturate rounds y half to even and clips it to [lo, hi], mapping NaN to
// 0 through its bits rather than a branch.
func saturate(y, lo, hi float64) float64 {
	y = min(max(math.RoundToEven(y), lo), hi)
	return math.Float64frombits(math.Float64bits(y) & -uint64(b2u8(y == y)))
}

// ArithOp is a voxel-wise arithmetic operation.
type ArithOp int

// The arithmetic operations.
const (
	Add ArithOp = iota
	Subtract
	Multiply
	Minimum
	Maximum
)

func (op ArithOp) String() string {
	switch op {
	case Add:
		return "add"
	case Subtract:
		return "subtract"
	case Multiply:
		return "multiply"
	case Minimum:
		return "minimum"
	case Maximum:
		return "maximum"
	}
	return fmt.Sprintf("ArithOp(%d)", int(op))
}

func (op ArithOp) valid() bool { return op >= Add && op <= Maximum }

// ArithScalar returns img op v (Subtract: img − v) in img's data type.
// Integer results are computed exactly or in float64, rounded half to even
// and clipped to the type's range (NaN, as from 0·Inf, becomes 0); float
// results are IEEE arithmetic in the image's type with v rounded to it,
// Minimum and Maximum propagating NaN. v must not be NaN.
func ArithScalar(ctx context.Context, img *omni.Image, op ArithOp, v float64) (*omni.Image, error) {
	return arithScalar(ctx, img, op, v, vectorPath)
}

func arithScalar(ctx context.Context, img *omni.Image, op ArithOp, v float64, p path) (*omni.Image, error) {
	if !op.valid() {
		return nil, fmt.Errorf("clip: arithmetic: %w: operation %v", ErrBadArgument, op)
	}
	if math.IsNaN(v) {
		return nil, fmt.Errorf("clip: %v: %w: operand is NaN", op, ErrBadArgument)
	}
	dt := img.Header().DataType
	out, err := newOutputLike(img, dt)
	if err != nil {
		return nil, fmt.Errorf("clip: %v: %w", op, err)
	}
	src, dst := img.Pixels(), out.Pixels()
	switch dt {
	case omni.Uint8:
		err = arithScalarInt[uint8](ctx, src, dst, op, v, p)
	case omni.Int8:
		err = arithScalarInt[int8](ctx, src, dst, op, v, p)
	case omni.Uint16:
		err = arithScalarInt[uint16](ctx, src, dst, op, v, p)
	case omni.Int16:
		err = arithScalarInt[int16](ctx, src, dst, op, v, p)
	case omni.Uint32:
		err = arithScalarInt[uint32](ctx, src, dst, op, v, p)
	case omni.Int32:
		err = arithScalarInt[int32](ctx, src, dst, op, v, p)
	case omni.Float32:
		err = arithScalarFloat[float32](ctx, src, dst, op, v, p)
	case omni.Float64:
		err = arithScalarFloat[float64](ctx, src, dst, op, v, p)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: %v: %w", op, err)
	}
	return out, nil
}

// exactOperand bounds the integer operands computed in int64: products
// with 32-bit voxels stay below 2^63.
const exactOperand = 1 << 31

// arithScalarInt works in int64 when that gives the float64 result
// exactly: Minimum and Maximum always (the clipped, rounded operand is
// an integer of the type), the others for integer operands. Other operands
// go through float64 as the reference does.
func arithScalarInt[T integer](ctx context.Context, src, dst []byte, op ArithOp, v float64, p path) error {
	x, out := voxels[T](src), voxels[T](dst)
	tlo, thi := limits[T]()
	var c int64
	exact := true
	switch {
	case op == Minimum || op == Maximum:
		c = int64(min(max(math.RoundToEven(v), tlo), thi))
	case v == math.Trunc(v) && math.Abs(v) <= exactOperand:
		c = int64(v)
	default:
		exact = false
	}
	return slabs(ctx, len(x), func(a, b int) {
		xs, o := x[a:b], out[a:b]
		if !exact {
			arithIntFloat(xs, o, op, v, tlo, thi)
			return
		}
		n := 0
		if p == vectorPath {
			n = vecArithScalarInt(xs, o, op, c)
		}
		arithIntExact(xs[n:], o[n:], op, c, int64(tlo), int64(thi))
	})
}

func arithIntExact[T integer](x, o []T, op ArithOp, c, lo, hi int64) {
	o = o[:len(x)]
	switch op {
	case Add:
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)+c, lo), hi))
		}
	case Subtract:
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)-c, lo), hi))
		}
	case Multiply:
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)*c, lo), hi))
		}
	case Minimum:
		for i, xi := range x {
			o[i] = T(min(int64(xi), c))
		}
	case Maximum:
		for i, xi := range x {
			o[i] = T(max(int64(xi), c))
		}
	}
}

func arithIntFloat[T integer](x, o []T, op ArithOp, v, lo, hi float64) {
	o = o[:len(x)]
	switch op {
	case Add:
		for i, xi := range x {
			o[i] = T(saturate(float64(xi)+v, lo, hi))
		}
	case Subtract:
		for i, xi := range x {
			o[i] = T(saturate(float64(xi)-v, lo, hi))
		}
	case Multiply:
		for i, xi := range x {
			o[i] = T(saturate(float64(xi)*v, lo, hi))
		}
	}
}

func arithScalarFloat[T float](ctx context.Context, src, dst []byte, op ArithOp, v float64, p path) error {
	x, out := voxels[T](src), voxels[T](dst)
	c := T(v)
	return slabs(ctx, len(x), func(a, b int) {
		xs, o := x[a:b], out[a:b]
		n := 0
		if p == vectorPath {
			n = vecArithScalarFloat(xs, o, op, float64(c))
		}
		arithFloatScalar(xs[n:], o[n:], op, c)
	})
}

func arithFloatScalar[T float](x, o []T, op ArithOp, c T) {
	o = o[:len(x)]
	switch op {
	case Add:
		for i, xi := range x {
			o[i] = xi + c
		}
	case Subtract:
		for i, xi := range x {
			o[i] = xi - c
		}
	case Multiply:
		for i, xi := range x {
			o[i] = xi * c
		}
	case Minimum:
		for i, xi := range x {
			o[i] = min(xi, c)
		}
	case Maximum:
		for i, xi := range x {
			o[i] = max(xi, c)
		}
	}
}

// Arith returns a op b voxel by voxel (Subtract: a − b) with ArithScalar's
// rules. The images must have the same size and data type.
func Arith(ctx context.Context, a, b *omni.Image, op ArithOp) (*omni.Image, error) {
	return arith(ctx, a, b, op, vectorPath)
}

func arith(ctx context.Context, a, b *omni.Image, op ArithOp, p path) (*omni.Image, error) {
	if !op.valid() {
		return nil, fmt.Errorf("clip: arithmetic: %w: operation %v", ErrBadArgument, op)
	}
	ha, hb := a.Header(), b.Header()
	if ha.Size != hb.Size {
		return nil, fmt.Errorf("clip: %v: %w: %v and %v", op, ErrSizeMismatch, ha.Size, hb.Size)
	}
	if ha.DataType != hb.DataType {
		return nil, fmt.Errorf("clip: %v: %w: data types %v and %v differ", op, ErrBadArgument, ha.DataType, hb.DataType)
	}
	out, err := newOutputLike(a, ha.DataType)
	if err != nil {
		return nil, fmt.Errorf("clip: %v: %w", op, err)
	}
	pa, pb, dst := a.Pixels(), b.Pixels(), out.Pixels()
	switch ha.DataType {
	case omni.Uint8:
		err = arithInt[uint8](ctx, pa, pb, dst, op, p)
	case omni.Int8:
		err = arithInt[int8](ctx, pa, pb, dst, op, p)
	case omni.Uint16:
		err = arithInt[uint16](ctx, pa, pb, dst, op, p)
	case omni.Int16:
		err = arithInt[int16](ctx, pa, pb, dst, op, p)
	case omni.Uint32:
		err = arithInt[uint32](ctx, pa, pb, dst, op, p)
	case omni.Int32:
		err = arithInt[int32](ctx, pa, pb, dst, op, p)
	case omni.Float32:
		err = arithFloatImages[float32](ctx, pa, pb, dst, op, p)
	case omni.Float64:
		err = arithFloatImages[float64](ctx, pa, pb, dst, op, p)
	default:
		err = fmt.Errorf("unsupported data type %v", ha.DataType)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: %v: %w", op, err)
	}
	return out, nil
}

func arithInt[T integer](ctx context.Context, pa, pb, dst []byte, op ArithOp, p path) error {
	x, y, out := voxels[T](pa), voxels[T](pb), voxels[T](dst)
	l, h := limits[T]()
	return slabs(ctx, len(x), func(a, b int) {
		xs, ys, o := x[a:b], y[a:b], out[a:b]
		n := 0
		if p == vectorPath {
			n = vecArith(xs, ys, o, op)
		}
		arithIntPairs(xs[n:], ys[n:], o[n:], op, l, h)
	})
}

// arithIntPairs computes in int64, which is exact for every operation
// but the product of 32-bit voxels; that goes through float64 like the
// reference (exact whenever the result is not clipped).
func arithIntPairs[T integer](x, y, o []T, op ArithOp, l, h float64) {
	lo, hi := int64(l), int64(h)
	y, o = y[:len(x)], o[:len(x)]
	switch op {
	case Add:
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)+int64(y[i]), lo), hi))
		}
	case Subtract:
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)-int64(y[i]), lo), hi))
		}
	case Multiply:
		if h > math.MaxUint16 {
			for i, xi := range x {
				o[i] = T(min(max(float64(xi)*float64(y[i]), l), h))
			}
			return
		}
		for i, xi := range x {
			o[i] = T(min(max(int64(xi)*int64(y[i]), lo), hi))
		}
	case Minimum:
		for i, xi := range x {
			o[i] = min(xi, y[i])
		}
	case Maximum:
		for i, xi := range x {
			o[i] = max(xi, y[i])
		}
	}
}

func arithFloatImages[T float](ctx context.Context, pa, pb, dst []byte, op ArithOp, p path) error {
	x, y, out := voxels[T](pa), voxels[T](pb), voxels[T](dst)
	return slabs(ctx, len(x), func(a, b int) {
		xs, ys, o := x[a:b], y[a:b], out[a:b]
		n := 0
		if p == vectorPath {
			n = vecArith(xs, ys, o, op)
		}
		arithFloatPairs(xs[n:], ys[n:], o[n:], op)
	})
}

func arithFloatPairs[T float](x, y, o []T, op ArithOp) {
	y, o = y[:len(x)], o[:len(x)]
	switch op {
	case Add:
		for i, xi := range x {
			o[i] = xi + y[i]
		}
	case Subtract:
		for i, xi := range x {
			o[i] = xi - y[i]
		}
	case Multiply:
		for i, xi := range x {
			o[i] = xi * y[i]
		}
	case Minimum:
		for i, xi := range x {
			o[i] = min(xi, y[i])
		}
	case Maximum:
		for i, xi := range x {
			o[i] = max(xi, y[i])
		}
	}
}
