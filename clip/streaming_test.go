package clip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// saturated is the reference conversion: round half to even, clip to the
// type's range, NaN to 0 for integer types; float32 rounds to nearest.
func saturated(v float64, dt omni.DataType) float64 {
	switch dt {
	case omni.Float64:
		return v
	case omni.Float32:
		return float64(float32(v))
	}
	if math.IsNaN(v) {
		return 0
	}
	lo, hi := ranges[dt][0], ranges[dt][1]
	return math.Min(math.Max(math.RoundToEven(v), lo), hi)
}

func TestMultiThreshold(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(31, 32))
	size := [3]int{13, 7, 5}
	n := size[0] * size[1] * size[2]
	for _, dt := range omni.DataTypes() {
		vals := sample(dt, n, r)
		if dt.IsFloat() {
			vals[0] = math.NaN()
		}
		img := newImage(t, dt, size, vals)
		for _, levels := range [][]float64{{0}, {-100.5, 3, 99}, manyLevels(300)} {
			out, err := MultiThreshold(ctx, img, levels)
			if err != nil {
				t.Fatal(err)
			}
			wantType := omni.Uint8
			if len(levels) > 255 {
				wantType = omni.Uint16
			}
			if out.Header().DataType != wantType || out.Header().Size != size {
				t.Fatalf("%v: header %+v", dt, out.Header())
			}
			got := imageValues(t, out)
			for i, v := range vals {
				want := 0
				for _, l := range levels {
					if l <= v {
						want++
					}
				}
				if got[i] != float64(want) {
					t.Fatalf("%v %d levels: voxel %v labelled %v, want %d", dt, len(levels), v, got[i], want)
				}
			}
			out.Close()
		}
	}
	img := newImage(t, omni.Uint8, [3]int{1, 1, 1}, nil)
	for _, bad := range [][]float64{nil, {1, 1}, {2, 1}, {math.NaN()}, {0, math.Inf(1)}, make([]float64, maxLevels+1)} {
		if _, err := MultiThreshold(ctx, img, bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("levels %.3v: %v", bad, err)
		}
	}
}

func manyLevels(n int) []float64 {
	l := make([]float64, n)
	for i := range l {
		l[i] = -1e4 + float64(i)*77.7
	}
	return l
}

func TestMask(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(33, 34))
	size := [3]int{9, 8, 7}
	n := size[0] * size[1] * size[2]
	maskVals := make([]float64, n)
	for i := range maskVals {
		maskVals[i] = float64(r.IntN(3) - 1)
	}
	for _, dt := range omni.DataTypes() {
		vals := sample(dt, n, r)
		img := newImage(t, dt, size, vals)
		for _, mdt := range []omni.DataType{omni.Uint8, omni.Int8, omni.Float32} {
			out, err := Mask(ctx, img, newImage(t, mdt, size, maskVals))
			if err != nil {
				t.Fatal(err)
			}
			if out.Header().DataType != dt {
				t.Fatalf("%v: result is %v", dt, out.Header().DataType)
			}
			for i, v := range imageValues(t, out) {
				want := vals[i]
				if maskVals[i] == 0 {
					want = 0
				}
				if v != want {
					t.Fatalf("%v masked by %v: voxel %d = %v, want %v", dt, mdt, i, v, want)
				}
			}
			out.Close()
		}
	}
	img := newImage(t, omni.Uint8, [3]int{2, 1, 1}, nil)
	if _, err := Mask(ctx, img, nil); !errors.Is(err, ErrBadArgument) {
		t.Errorf("nil mask: %v", err)
	}
	if _, err := Mask(ctx, img, newImage(t, omni.Uint8, [3]int{1, 2, 1}, nil)); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("mask size: %v", err)
	}
}

func TestMaskKeepsCalibrations(t *testing.T) {
	h := &omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: [3]int{2, 1, 1}, DataType: omni.Int16,
		ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{0.5, 0.5, 2},
		Calibrations: []omni.Calibration{{Kind: omni.KindSlopeIntercept, UnitType: "hu", Slope: 1, Intercept: -1024}}}
	img, err := omni.New(h)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	out, err := Mask(context.Background(), img, img)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got := out.Header(); len(got.Calibrations) != 1 || got.Spacing != h.Spacing {
		t.Errorf("header %+v", got)
	}
}

func TestConvertAllPairs(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(35, 36))
	size := [3]int{11, 5, 3}
	n := size[0] * size[1] * size[2]
	for _, from := range omni.DataTypes() {
		vals := sample(from, n, r)
		if from.IsFloat() {
			copy(vals, []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.5, 1.5, -2.5, 255.5, 65535.49, -32768.5, 3e9})
			if from == omni.Float32 {
				for i, v := range vals {
					vals[i] = float64(float32(v))
				}
			}
		}
		img := newImage(t, from, size, vals)
		for _, to := range omni.DataTypes() {
			out, err := Convert(ctx, img, to)
			if err != nil {
				t.Fatal(err)
			}
			if out.Header().DataType != to || out.Header().Size != size {
				t.Fatalf("%v to %v: header %+v", from, to, out.Header())
			}
			for i, v := range imageValues(t, out) {
				want := saturated(vals[i], to)
				if v != want && !(math.IsNaN(v) && math.IsNaN(want)) {
					t.Fatalf("%v to %v: %v became %v, want %v", from, to, vals[i], v, want)
				}
			}
			out.Close()
		}
	}
	if _, err := Convert(ctx, newImage(t, omni.Uint8, [3]int{1, 1, 1}, nil), omni.DataType(99)); !errors.Is(err, ErrBadArgument) {
		t.Errorf("bad data type: %v", err)
	}
}

func TestArithScalarAndImages(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(37, 38))
	size := [3]int{7, 6, 5}
	n := size[0] * size[1] * size[2]
	apply := func(op ArithOp, x, y float64) float64 {
		switch op {
		case Add:
			return x + y
		case Subtract:
			return x - y
		case Multiply:
			return x * y
		case Minimum:
			return math.Min(x, y)
		}
		return math.Max(x, y)
	}
	for _, dt := range omni.DataTypes() {
		a, b := sample(dt, n, r), sample(dt, n, r)
		if dt.IsFloat() {
			for i := range a { // keep float32 sums exact in float64
				a[i], b[i] = float64(float32(a[i]/1e25)), float64(float32(b[i]/1e25))
			}
		}
		ia, ib := newImage(t, dt, size, a), newImage(t, dt, size, b)
		for _, op := range []ArithOp{Add, Subtract, Multiply, Minimum, Maximum} {
			for _, v := range []float64{0, 1, -3, 2.5, -0.5, 1000.25, 1e12} {
				out, err := ArithScalar(ctx, ia, op, v)
				if err != nil {
					t.Fatal(err)
				}
				for i, got := range imageValues(t, out) {
					want := saturated(apply(op, a[i], v), dt)
					if dt == omni.Float32 {
						want = float64(float32(apply(op, a[i], float64(float32(v)))))
					}
					if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
						t.Fatalf("%v %v %v: voxel %v became %v, want %v", dt, op, v, a[i], got, want)
					}
				}
				out.Close()
			}
			out, err := Arith(ctx, ia, ib, op)
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range imageValues(t, out) {
				want := saturated(apply(op, a[i], b[i]), dt)
				if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("%v %v images: %v, %v became %v, want %v", dt, op, a[i], b[i], got, want)
				}
			}
			out.Close()
		}
	}
	img := newImage(t, omni.Int16, [3]int{2, 1, 1}, nil)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"NaN operand", errOf(ArithScalar(ctx, img, Add, math.NaN())), ErrBadArgument},
		{"bad op", errOf(ArithScalar(ctx, img, ArithOp(9), 1)), ErrBadArgument},
		{"bad op images", errOf(Arith(ctx, img, img, ArithOp(-1))), ErrBadArgument},
		{"size", errOf(Arith(ctx, img, newImage(t, omni.Int16, [3]int{1, 2, 1}, nil), Add)), ErrSizeMismatch},
		{"data type", errOf(Arith(ctx, img, newImage(t, omni.Uint16, [3]int{2, 1, 1}, nil), Add)), ErrBadArgument},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func errOf(img *omni.Image, err error) error {
	if img != nil {
		img.Close()
	}
	return err
}

func TestStreamingCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img := newImage(t, omni.Uint16, [3]int{256, 256, 16}, nil)
	for name, run := range map[string]func() (*omni.Image, error){
		"threshold":      func() (*omni.Image, error) { return Threshold(ctx, img, Bounds{Lower: 1, HasLower: true}) },
		"multithreshold": func() (*omni.Image, error) { return MultiThreshold(ctx, img, []float64{1, 2}) },
		"mask":           func() (*omni.Image, error) { return Mask(ctx, img, img) },
		"convert":        func() (*omni.Image, error) { return Convert(ctx, img, omni.Float32) },
		"arithscalar":    func() (*omni.Image, error) { return ArithScalar(ctx, img, Add, 1) },
		"arith":          func() (*omni.Image, error) { return Arith(ctx, img, img, Add) },
	} {
		if out, err := run(); !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("%s: %v, %v", name, out, err)
		}
	}
}

func TestArithOpString(t *testing.T) {
	if Add.String() != "add" || Maximum.String() != "maximum" || ArithOp(7).String() != "ArithOp(7)" {
		t.Error("ArithOp names")
	}
}
