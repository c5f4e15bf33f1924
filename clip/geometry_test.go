package clip

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func TestCropArguments(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Uint8, [3]int{4, 3, 2}, nil)
	for _, c := range []struct{ pos, size [3]int }{
		{[3]int{0, 0, 0}, [3]int{0, 1, 1}},
		{[3]int{0, 0, 0}, [3]int{5, 1, 1}},
		{[3]int{-1, 0, 0}, [3]int{1, 1, 1}},
		{[3]int{0, 2, 0}, [3]int{1, 2, 1}},
		{[3]int{0, 0, 2}, [3]int{1, 1, 1}},
		{[3]int{0, 0, math.MaxInt}, [3]int{1, 1, math.MaxInt}},
	} {
		out, err := Crop(ctx, img, c.pos, c.size)
		if !errors.Is(err, ErrBadArgument) || out != nil {
			t.Errorf("pos %v size %v: got %v, %v; want ErrBadArgument", c.pos, c.size, out, err)
		}
	}
	for name, bad := range badImages(t) {
		if _, err := Crop(ctx, bad, [3]int{}, [3]int{1, 1, 1}); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s image: err = %v, want ErrBadArgument", name, err)
		}
	}
}

// TestCropHeader: the box's first voxel becomes the origin; spacing and
// calibrations stay.
func TestCropHeader(t *testing.T) {
	h := calibrated(omni.Int32, [3]int{6, 5, 4})
	img := newFrom(t, h)
	v := voxels[int32](img.Pixels())
	for i := range v {
		v[i] = int32(i)
	}
	out, err := Crop(context.Background(), img, [3]int{1, 2, 3}, [3]int{4, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	oh := out.Header()
	if want := [3]float64{-3 + 0.5, 4 + 1.5, 10 + 3.75}; oh.Origin != want {
		t.Errorf("origin %v, want %v", oh.Origin, want)
	}
	if oh.Spacing != h.Spacing || !reflect.DeepEqual(oh.Calibrations, h.Calibrations) || oh.DefaultUnitType != h.DefaultUnitType {
		t.Errorf("header %+v lost spacing or calibrations", oh)
	}
	want := []int32{103, 104, 105, 106, 109, 110, 111, 112} // (3*5+2)*6+1 = 103
	if got := voxels[int32](out.Pixels()); !reflect.DeepEqual(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
}

func TestBoundingBoxArguments(t *testing.T) {
	for name, bad := range badImages(t) {
		if _, _, err := BoundingBox(context.Background(), bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s image: err = %v, want ErrBadArgument", name, err)
		}
	}
}

// TestBoundingBoxLarge spreads non-zero voxels over many rows so that
// the parallel parts must be merged.
func TestBoundingBoxLarge(t *testing.T) {
	size := [3]int{300, 200, 100}
	img := newImage(t, omni.Uint16, size, nil)
	v := voxels[uint16](img.Pixels())
	set := func(x, y, z int) { v[(z*size[1]+y)*size[0]+x] = 1 }
	set(150, 10, 5)
	set(7, 100, 50)
	set(299, 150, 90)
	set(20, 199, 20)
	pos, sz, err := BoundingBox(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if pos != [3]int{7, 10, 5} || sz != [3]int{293, 190, 86} {
		t.Errorf("box at %v of size %v, want [7 10 5] of [293 190 86]", pos, sz)
	}
}

func TestResampleArguments(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Uint8, [3]int{17, 3, 2}, nil)
	for _, f := range [][3]float64{
		{0, 1, 1}, {-1, 1, 1}, {math.NaN(), 1, 1}, {math.Inf(1), 1, 1}, {1, 16.5, 1},
		{0.02, 1, 1}, // 17*0.02 rounds to no voxel
		{1, 1, 0.25}, // 2*0.25 = 0.5 rounds to even: 0
	} {
		out, err := Resample(ctx, img, f, Linear)
		if !errors.Is(err, ErrBadArgument) || out != nil {
			t.Errorf("factor %v: got %v, %v; want ErrBadArgument", f, out, err)
		}
	}
	if _, err := Resample(ctx, img, [3]float64{1, 1, 1}, Interpolation(2)); !errors.Is(err, ErrBadArgument) {
		t.Errorf("interpolation 2: err = %v, want ErrBadArgument", err)
	}
	// 128*64*65 voxels times 16³ exceed MaxResampleVoxels.
	big := newImage(t, omni.Uint8, [3]int{128, 64, 65}, nil)
	if _, err := Resample(ctx, big, [3]float64{16, 16, 16}, Nearest); !errors.Is(err, ErrBadArgument) {
		t.Errorf("too many voxels: err = %v, want ErrBadArgument", err)
	}
	for name, bad := range badImages(t) {
		if _, err := Resample(ctx, bad, [3]float64{1, 1, 1}, Nearest); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s image: err = %v, want ErrBadArgument", name, err)
		}
	}
	if Nearest.String() != "nearest" || Linear.String() != "linear" || Interpolation(5).String() != "Interpolation(5)" {
		t.Error("Interpolation.String")
	}
}

// TestResampleHeader: corner voxels keep their positions, so the origin
// stays and the spacing scales by (n_in-1)/(n_out-1); calibrations stay.
func TestResampleHeader(t *testing.T) {
	h := calibrated(omni.Float32, [3]int{11, 1, 4})
	img := newFrom(t, h)
	out, err := Resample(context.Background(), img, [3]float64{0.5, 3, 1.5}, Linear)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	oh := out.Header()
	// x: 11 -> round(5.5) = 6 (half to even); y: 1 -> 3; z: 4 -> 6.
	if oh.Size != [3]int{6, 3, 6} {
		t.Fatalf("size %v, want [6 3 6]", oh.Size)
	}
	want := [3]float64{0.5 * 10 / 5, 0.75 / 3, 1.25 * 3 / 5}
	if oh.Spacing != want || oh.Origin != h.Origin {
		t.Errorf("spacing %v origin %v, want %v and %v", oh.Spacing, oh.Origin, want, h.Origin)
	}
	if !reflect.DeepEqual(oh.Calibrations, h.Calibrations) || oh.DataType != omni.Float32 {
		t.Errorf("header %+v lost the data type or calibrations", oh)
	}
}

func BenchmarkResample(b *testing.B) {
	img := scanLikeVolume(b)
	b.Run("factor=0.5/linear", func(b *testing.B) {
		b.SetBytes(int64(len(img.Pixels())))
		for range b.N {
			out, err := Resample(context.Background(), img, [3]float64{0.5, 0.5, 0.5}, Linear)
			if err != nil {
				b.Fatal(err)
			}
			out.Close()
		}
	})
}
