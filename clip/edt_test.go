package clip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// bruteDistances compares every foreground voxel with every background
// voxel.
func bruteDistances(v []uint8, size [3]int, sp [3]float64) []float64 {
	nx, ny := size[0], size[1]
	var bg [][3]float64
	for i, x := range v {
		if x == 0 {
			bg = append(bg, [3]float64{float64(i%nx) * sp[0], float64(i/nx%ny) * sp[1], float64(i/(nx*ny)) * sp[2]})
		}
	}
	out := make([]float64, len(v))
	for i, x := range v {
		if x == 0 {
			continue
		}
		p := [3]float64{float64(i%nx) * sp[0], float64(i/nx%ny) * sp[1], float64(i/(nx*ny)) * sp[2]}
		best := math.Inf(1)
		for _, q := range bg {
			dx, dy, dz := p[0]-q[0], p[1]-q[1], p[2]-q[2]
			best = min(best, dx*dx+dy*dy+dz*dz)
		}
		out[i] = math.Sqrt(best)
	}
	return out
}

func TestDistanceTransformMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sizes := [][3]int{{1, 1, 1}, {20, 1, 1}, {1, 1, 20}, {1, 20, 1}, {17, 9, 1}, {33, 5, 7}, {6, 30, 11}, {40, 3, 25}}
	for _, size := range sizes {
		for _, frac := range []float64{0.5, 0.97, 1} {
			img := randomBinary(t, size, frac, r)
			sp := [3]float64{0.2 + r.Float64(), 0.2 + r.Float64(), 0.2 + 2*r.Float64()}
			h := img.Header()
			h.Spacing = sp
			img2, err := omni.New(h)
			if err != nil {
				t.Fatal(err)
			}
			copy(img2.Pixels(), img.Pixels())
			out, err := DistanceTransform(context.Background(), img2)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteDistances(img.Pixels(), size, sp)
			got := voxels[float32](out.Pixels())
			for i, w := range want {
				g := float64(got[i])
				if g != w && math.Abs(g-w) > 1e-5*max(1, w) {
					t.Fatalf("%v frac %.2f spacing %v: voxel %d = %v, want %v", size, frac, sp, i, g, w)
				}
			}
			out.Close()
			img2.Close()
		}
	}
}

func TestDistanceTransformBadArguments(t *testing.T) {
	if _, err := DistanceTransform(context.Background(), nil); !errors.Is(err, ErrBadArgument) {
		t.Errorf("nil image: err = %v", err)
	}
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{2, 2, 2}, DataType: omni.Uint8, Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	img.Close()
	if _, err := DistanceTransform(context.Background(), img); !errors.Is(err, ErrBadArgument) {
		t.Errorf("closed image: err = %v", err)
	}
}

func TestDistanceTransformCancelled(t *testing.T) {
	img := randomBinary(t, [3]int{64, 64, 64}, 0.8, rand.New(rand.NewPCG(1, 1)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, err := DistanceTransform(ctx, img); !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("err = %v, want context.Canceled and no image", err)
	}
}

func TestBVTV(t *testing.T) {
	ctx := context.Background()
	seg := newImage(t, omni.Float32, [3]int{4, 1, 1}, []float64{math.NaN(), 0, 3, 0})
	mask := newImage(t, omni.Int8, [3]int{4, 1, 1}, []float64{-1, 1, 1, 0})
	empty := newImage(t, omni.Uint8, [3]int{4, 1, 1}, nil)
	other := newImage(t, omni.Uint8, [3]int{4, 2, 1}, nil)
	if got, err := BVTV(ctx, seg, nil); err != nil || got != 0.5 {
		t.Errorf("whole image: %v, %v; want 0.5 (NaN is foreground)", got, err)
	}
	if got, err := BVTV(ctx, seg, mask); err != nil || got != 2.0/3 {
		t.Errorf("masked: %v, %v; want 2/3", got, err)
	}
	if _, err := BVTV(ctx, seg, empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty mask: err = %v, want ErrEmpty", err)
	}
	if _, err := BVTV(ctx, seg, other); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("mask of another size: err = %v, want ErrSizeMismatch", err)
	}
	if _, err := BVTV(ctx, nil, mask); !errors.Is(err, ErrBadArgument) {
		t.Errorf("nil segmentation: err = %v, want ErrBadArgument", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := BVTV(cancelled, seg, mask); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func BenchmarkDistanceTransform(b *testing.B) {
	img := benchVolume(b)
	b.SetBytes(int64(len(img.Pixels())))
	b.ResetTimer()
	for b.Loop() {
		out, err := DistanceTransform(context.Background(), img)
		if err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
}

func BenchmarkBVTV(b *testing.B) {
	img := benchVolume(b)
	b.SetBytes(int64(len(img.Pixels())))
	b.ResetTimer()
	for b.Loop() {
		if _, err := BVTV(context.Background(), img, img); err != nil {
			b.Fatal(err)
		}
	}
}
