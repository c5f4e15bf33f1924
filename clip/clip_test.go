package clip

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// newImage makes an image of the data type with the given values, encoding
// them independently of the kernels' typed views.
func newImage(t *testing.T, dt omni.DataType, size [3]int, values []float64) *omni.Image {
	t.Helper()
	img, err := omni.New(&omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: size, DataType: dt,
		ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	p := img.Pixels()
	le := binary.LittleEndian
	for i, v := range values {
		switch dt {
		case omni.Uint8:
			p[i] = uint8(v)
		case omni.Int8:
			p[i] = uint8(int8(v))
		case omni.Uint16:
			le.PutUint16(p[2*i:], uint16(v))
		case omni.Int16:
			le.PutUint16(p[2*i:], uint16(int16(v)))
		case omni.Uint32:
			le.PutUint32(p[4*i:], uint32(v))
		case omni.Int32:
			le.PutUint32(p[4*i:], uint32(int32(v)))
		case omni.Float32:
			le.PutUint32(p[4*i:], math.Float32bits(float32(v)))
		case omni.Float64:
			le.PutUint64(p[8*i:], math.Float64bits(v))
		}
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// ranges are the extremes each data type can hold (a float range that
// keeps differences finite).
var ranges = map[omni.DataType][2]float64{
	omni.Uint8: {0, 255}, omni.Int8: {-128, 127}, omni.Uint16: {0, 65535}, omni.Int16: {-32768, 32767},
	omni.Uint32: {0, 4294967295}, omni.Int32: {-2147483648, 2147483647}, omni.Float32: {-1e30, 1e30}, omni.Float64: {-1e300, 1e300},
}

// sample draws n values representable in dt.
func sample(dt omni.DataType, n int, r *rand.Rand) []float64 {
	lo, hi := ranges[dt][0], ranges[dt][1]
	v := make([]float64, n)
	for i := range v {
		x := lo + r.Float64()*(hi-lo)
		if !dt.IsFloat() {
			x = math.Floor(x)
		}
		if dt == omni.Float32 {
			x = float64(float32(x))
		}
		v[i] = x
	}
	return v
}

func TestMinMaxAllTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	size := [3]int{17, 23, 29}
	n := size[0] * size[1] * size[2]
	for _, dt := range omni.DataTypes() {
		vals := sample(dt, n, r)
		img := newImage(t, dt, size, vals)
		lo, hi, err := MinMax(context.Background(), img, nil)
		if err != nil {
			t.Fatal(err)
		}
		wlo, whi := vals[0], vals[0]
		for _, v := range vals {
			wlo, whi = math.Min(wlo, v), math.Max(whi, v)
		}
		if lo != wlo || hi != whi {
			t.Errorf("%v: minmax = %v, %v, want %v, %v", dt, lo, hi, wlo, whi)
		}
		// Under a mask selecting every third voxel.
		maskVals := make([]float64, n)
		mlo, mhi := math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i += 3 {
			maskVals[i] = 7
			mlo, mhi = math.Min(mlo, vals[i]), math.Max(mhi, vals[i])
		}
		for _, mdt := range []omni.DataType{omni.Uint8, omni.Float32} {
			lo, hi, err = MinMax(context.Background(), img, newImage(t, mdt, size, maskVals))
			if err != nil || lo != mlo || hi != mhi {
				t.Errorf("%v masked by %v: %v, %v, %v; want %v, %v", dt, mdt, lo, hi, err, mlo, mhi)
			}
		}
	}
}

func TestMinMaxEdgeCases(t *testing.T) {
	ctx := context.Background()
	nan := math.NaN()
	img := newImage(t, omni.Float32, [3]int{4, 1, 1}, []float64{nan, 2, nan, -1})
	if lo, hi, err := MinMax(ctx, img, nil); err != nil || lo != -1 || hi != 2 {
		t.Errorf("NaNs not ignored: %v %v %v", lo, hi, err)
	}
	allNaN := newImage(t, omni.Float64, [3]int{2, 1, 1}, []float64{nan, nan})
	if _, _, err := MinMax(ctx, allNaN, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("all NaN: %v", err)
	}
	one := newImage(t, omni.Int16, [3]int{1, 1, 1}, []float64{-5})
	if lo, hi, err := MinMax(ctx, one, nil); err != nil || lo != -5 || hi != -5 {
		t.Errorf("one voxel: %v %v %v", lo, hi, err)
	}
	empty := newImage(t, omni.Uint8, [3]int{4, 1, 1}, []float64{0, 0, 0, 0})
	if _, _, err := MinMax(ctx, img, empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty mask: %v", err)
	}
	if _, _, err := MinMax(ctx, img, one); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("mask of another size: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := newImage(t, omni.Uint16, [3]int{256, 256, 16}, nil)
	if _, _, err := MinMax(cancelled, big, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestThresholdAllTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	size := [3]int{17, 23, 29}
	n := size[0] * size[1] * size[2]
	for _, dt := range omni.DataTypes() {
		vals := sample(dt, n, r)
		if dt.IsFloat() {
			vals[5] = math.NaN()
		}
		img := newImage(t, dt, size, vals)
		lo, hi := vals[1], vals[2]
		if lo > hi {
			lo, hi = hi, lo
		}
		for _, b := range []Bounds{
			{Lower: lo, Upper: hi, HasLower: true, HasUpper: true},
			{Lower: lo, HasLower: true},
			{Upper: hi, HasUpper: true},
			{},
		} {
			seg, err := Threshold(context.Background(), img, b)
			if err != nil {
				t.Fatal(err)
			}
			if seg.Header().DataType != omni.Uint8 || seg.Header().Size != size {
				t.Fatalf("segmentation header %+v", seg.Header())
			}
			for i, v := range vals {
				in := !math.IsNaN(v) && (!b.HasLower || v >= b.Lower) && (!b.HasUpper || v <= b.Upper)
				if want := map[bool]byte{true: 1, false: 0}[in]; seg.Pixels()[i] != want {
					t.Fatalf("%v %+v: voxel %d (%v) = %d, want %d", dt, b, i, v, seg.Pixels()[i], want)
				}
			}
			seg.Close()
		}
	}
	if _, err := Threshold(context.Background(), newImage(t, omni.Uint8, [3]int{1, 1, 1}, nil), Bounds{Lower: math.NaN(), HasLower: true}); err == nil {
		t.Error("NaN bound accepted")
	}
}
