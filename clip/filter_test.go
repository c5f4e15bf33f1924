package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// calibrated is a header with non-trivial geometry and a calibration, to
// check what kernels carry over to their results.
func calibrated(dt omni.DataType, size [3]int) *omni.Header {
	return &omni.Header{Axes: "XYZ", Size: size, DataType: dt,
		Spacing: [3]float64{0.5, 0.75, 1.25}, Origin: [3]float64{-3, 4, 10},
		Calibrations:    []omni.Calibration{{Kind: omni.KindSlopeIntercept, UnitType: "dens", UnitName: "mg HA/ccm", Slope: 2, Intercept: -100}},
		DefaultUnitType: "dens"}
}

func newFrom(t *testing.T, h *omni.Header) *omni.Image {
	t.Helper()
	img, err := omni.New(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// badImages are the images every kernel must refuse.
func badImages(t *testing.T) map[string]*omni.Image {
	closed := newImage(t, omni.Uint8, [3]int{2, 2, 2}, nil)
	closed.Close()
	return map[string]*omni.Image{"nil": nil, "closed": closed}
}

func TestGaussianArguments(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Uint16, [3]int{4, 3, 2}, nil)
	for _, sigma := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1), 1e6} {
		out, err := Gaussian(ctx, img, sigma)
		if !errors.Is(err, ErrBadArgument) || out != nil {
			t.Errorf("sigma %v: got %v, %v; want ErrBadArgument", sigma, out, err)
		}
	}
	for name, bad := range badImages(t) {
		if _, err := Gaussian(ctx, bad, 1); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s image: err = %v, want ErrBadArgument", name, err)
		}
	}
}

// TestGaussianImpulse checks the response to a single voxel against
// Gaussian weights computed here, per axis in voxels of that axis.
func TestGaussianImpulse(t *testing.T) {
	h := calibrated(omni.Float64, [3]int{21, 19, 17})
	img := newFrom(t, h)
	c := [3]int{10, 9, 8}
	n := h.Size
	voxels[float64](img.Pixels())[(c[2]*n[1]+c[1])*n[0]+c[0]] = 1
	const sigma = 0.9 // mm: 1.8, 1.2 and 0.72 voxels; radius 7, 5, 3
	out, err := Gaussian(context.Background(), img, sigma)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	oh := out.Header()
	if oh.DataType != omni.Float64 || oh.Spacing != h.Spacing || oh.Origin != h.Origin ||
		!reflect.DeepEqual(oh.Calibrations, h.Calibrations) || oh.DefaultUnitType != "dens" {
		t.Errorf("result header %+v does not keep the input's geometry and calibrations", oh)
	}
	weight := func(a, d int) float64 {
		s := sigma / h.Spacing[a]
		r := int(4*s + 0.5)
		if d < -r || d > r {
			return 0
		}
		sum := 0.0
		for k := -r; k <= r; k++ {
			sum += math.Exp(-float64(k*k) / (2 * s * s))
		}
		return math.Exp(-float64(d*d)/(2*s*s)) / sum
	}
	got := voxels[float64](out.Pixels())
	for z := range n[2] {
		for y := range n[1] {
			for x := range n[0] {
				want := weight(0, x-c[0]) * weight(1, y-c[1]) * weight(2, z-c[2])
				if g := got[(z*n[1]+y)*n[0]+x]; math.Abs(g-want) > 1e-15 {
					t.Fatalf("voxel (%d,%d,%d) = %v, want %v", x, y, z, g, want)
				}
			}
		}
	}
}

// TestGaussianConstant: mirrored edges keep a constant image constant,
// and integer input gives float32.
func TestGaussianConstant(t *testing.T) {
	for _, dt := range []omni.DataType{omni.Uint8, omni.Int16, omni.Uint32, omni.Float32} {
		size := [3]int{9, 7, 5}
		vals := make([]float64, 9*7*5)
		for i := range vals {
			vals[i] = 100
		}
		out, err := Gaussian(context.Background(), newImage(t, dt, size, vals), 2.5)
		if err != nil {
			t.Fatal(err)
		}
		if out.Header().DataType != omni.Float32 {
			t.Errorf("%v: result is %v, want float32", dt, out.Header().DataType)
		}
		for i, v := range voxels[float32](out.Pixels()) {
			if math.Abs(float64(v)-100) > 1e-4 {
				t.Fatalf("%v: voxel %d = %v, want 100", dt, i, v)
			}
		}
		out.Close()
	}
}

func TestReflectTable(t *testing.T) {
	// scipy 'reflect' for n=3, r=7: ... c b a | a b c | c b a a b c ...
	got := reflectTable(3, 7)
	want := []int{0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reflectTable(3, 7) = %v, want %v", got, want)
	}
	if got := reflectTable(1, 2); !reflect.DeepEqual(got, []int{0, 0, 0, 0, 0}) {
		t.Errorf("reflectTable(1, 2) = %v", got)
	}
}

// TestKernelsCancelled: a job whose context has ended gets no result.
func TestKernelsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img := newImage(t, omni.Int16, [3]int{40, 30, 20}, nil)
	kernels := map[string]func() (*omni.Image, error){
		"gaussian": func() (*omni.Image, error) { return Gaussian(ctx, img, 1) },
		"median":   func() (*omni.Image, error) { return Median(ctx, img, 1) },
		"median r3": func() (*omni.Image, error) {
			return Median(ctx, img, 3)
		},
		"crop": func() (*omni.Image, error) { return Crop(ctx, img, [3]int{1, 1, 1}, [3]int{5, 5, 5}) },
		"resample": func() (*omni.Image, error) {
			return Resample(ctx, img, [3]float64{0.5, 2, 1}, Linear)
		},
		"bounding box": func() (*omni.Image, error) {
			_, _, err := BoundingBox(ctx, img)
			return nil, err
		},
	}
	for name, run := range kernels {
		out, err := run()
		if !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("%s: got %v, %v; want context.Canceled", name, out, err)
		}
	}
}

// scanLikeVolume is a 256³ uint16 volume for benchmarks: blocks of two
// grey levels with noise, cheap to make and deterministic.
func scanLikeVolume(b *testing.B) *omni.Image {
	b.Helper()
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{256, 256, 256}, DataType: omni.Uint16,
		Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { img.Close() })
	v := voxels[uint16](img.Pixels())
	s := uint32(12345)
	for i := range v {
		s ^= s << 13 // xorshift32
		s ^= s >> 17
		s ^= s << 5
		x, y, z := i&255, (i>>8)&255, i>>16
		v[i] = uint16(1000 + 20000*((x/32+y/32+z/32)%2) + int(s&1023))
	}
	return img
}

func BenchmarkGaussian(b *testing.B) {
	img := scanLikeVolume(b)
	for _, sigma := range []float64{1, 3} {
		b.Run(fmt.Sprintf("sigma=%gvoxels", sigma), func(b *testing.B) {
			b.SetBytes(int64(len(img.Pixels())))
			for range b.N {
				out, err := Gaussian(context.Background(), img, sigma)
				if err != nil {
					b.Fatal(err)
				}
				out.Close()
			}
		})
	}
}

// TestGaussianFusedPasses: running x and y slice by slice must give the
// same bits as separate passes; which one Gaussian takes depends on the
// number of cores.
func TestGaussianFusedPasses(t *testing.T) {
	size := [3]int{13, 11, 9}
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]int16, size[0]*size[1]*size[2])
	for i := range src {
		src[i] = int16(r.IntN(65536) - 32768)
	}
	kernels := [3][]float64{gaussianKernel(1.3), gaussianKernel(0.7), gaussianKernel(2.1)}
	for _, k := range [][3][]float64{kernels, {nil, kernels[1], kernels[2]}} {
		fused := make([]float32, len(src))
		separate := make([]float32, len(src))
		if err := gaussianPasses(context.Background(), src, fused, size, k, true); err != nil {
			t.Fatal(err)
		}
		if err := gaussianPasses(context.Background(), src, separate, size, k, false); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fused, separate) {
			t.Errorf("fused and separate passes differ (x kernel %v)", k[0] != nil)
		}
	}
}
