package clip

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// directGaussian is the textbook separable filter in float64: every axis
// in turn, each output the full weighted sum over the mirrored line. It is
// the reference for rows long enough to use every part of the line kernels
// (the golden volumes are only 17 voxels wide).
func directGaussian(in []float64, size [3]int, kernels [3][]float64) []float64 {
	cur := append([]float64(nil), in...)
	strides := [3]int{1, size[0], size[0] * size[1]}
	for a, k := range kernels {
		if k == nil {
			continue
		}
		n, s, r := size[a], strides[a], len(k)-1
		tbl := reflectTable(n, r)
		next := make([]float64, len(cur))
		for i := range cur {
			p := i / s % n // position along the axis
			base := i - p*s
			sum := 0.0
			for d := -r; d <= r; d++ {
				sum += k[max(d, -d)] * cur[base+tbl[p+d+r]*s]
			}
			next[i] = sum
		}
		cur = next
	}
	return cur
}

// TestGaussianMatchesDirect compares Gaussian, vector kernels included
// where the CPU has them, with directGaussian on random volumes whose
// rows are long enough for the kernels' wide loops and their tails.
func TestGaussianMatchesDirect(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		dt    omni.DataType
		size  [3]int
		sigma float64 // mm; spacing is 0.5, 0.75, 1.25 mm
	}{
		{omni.Uint16, [3]int{150, 37, 21}, 0.9},
		{omni.Uint16, [3]int{64, 5, 7}, 2.6},
		{omni.Int16, [3]int{77, 40, 1}, 1.7},
		{omni.Uint8, [3]int{129, 3, 9}, 0.6},
		{omni.Int32, [3]int{33, 31, 12}, 1.1},
		{omni.Float32, [3]int{95, 17, 9}, 1.4},
		{omni.Float64, [3]int{150, 37, 21}, 0.9},
		{omni.Float64, [3]int{41, 6, 5}, 3.2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_%dx%dx%d_sigma%g", c.dt, c.size[0], c.size[1], c.size[2], c.sigma), func(t *testing.T) {
			h := calibrated(c.dt, c.size)
			img := newFrom(t, h)
			vals := make([]float64, c.size[0]*c.size[1]*c.size[2])
			fillRandom(r, c.dt, img.Pixels(), vals)
			var kernels [3][]float64
			scale := 0.0
			for a := range 3 {
				if c.size[a] > 1 {
					kernels[a] = gaussianKernel(c.sigma / h.Spacing[a])
				}
			}
			for _, v := range vals {
				scale = max(scale, math.Abs(v))
			}
			out, err := Gaussian(ctx, img, c.sigma)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			tol := 5e-7 * scale // the golden tests' tolerance
			if c.dt == omni.Float64 {
				tol = 1e-12 * scale
			}
			compareValues(t, "gaussian", imageValues(t, out), directGaussian(vals, c.size, kernels), tol)
		})
	}
}

// fillRandom writes random voxels of type dt into px and their values
// into vals, over most of the type's range.
func fillRandom(r *rand.Rand, dt omni.DataType, px []byte, vals []float64) {
	for i := range vals {
		u := r.Float64()
		switch dt {
		case omni.Uint8:
			vals[i] = float64(uint8(u * 255))
			voxels[uint8](px)[i] = uint8(vals[i])
		case omni.Uint16:
			vals[i] = float64(uint16(u * 65535))
			voxels[uint16](px)[i] = uint16(vals[i])
		case omni.Int16:
			vals[i] = float64(int16(u*65535 - 32768))
			voxels[int16](px)[i] = int16(vals[i])
		case omni.Int32:
			vals[i] = float64(int32(u*4e9 - 2e9))
			voxels[int32](px)[i] = int32(vals[i])
		case omni.Float32:
			vals[i] = float64(float32(u*2e3 - 1e3))
			voxels[float32](px)[i] = float32(vals[i])
		case omni.Float64:
			vals[i] = u*2e3 - 1e3
			voxels[float64](px)[i] = vals[i]
		default:
			panic("fillRandom: unsupported type " + dt.String())
		}
	}
}

// TestGaussianCutIndependent: the y pass cuts rows into blocks when lines
// are long, the fused x and y passes do not; both must give the same bits
// (each voxel's sum runs in one order wherever it falls in a vector).
func TestGaussianCutIndependent(t *testing.T) {
	size := [3]int{150, 600, 4} // y lines of 600 voxels: blocks of 109 of the 150 voxel rows
	r := rand.New(rand.NewPCG(7, 8))
	src := make([]uint16, size[0]*size[1]*size[2])
	for i := range src {
		src[i] = uint16(r.IntN(65536))
	}
	kernels := [3][]float64{gaussianKernel(1.3), gaussianKernel(2.2), gaussianKernel(0.8)}
	fused := make([]float32, len(src))
	separate := make([]float32, len(src))
	ctx := context.Background()
	if err := gaussianPasses(ctx, src, fused, size, kernels, true); err != nil {
		t.Fatal(err)
	}
	if err := gaussianPasses(ctx, src, separate, size, kernels, false); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fused, separate) {
		t.Error("fused and separate passes differ")
	}
}

// BenchmarkSmoothLine times the line kernel alone on 256-voxel rows.
func BenchmarkSmoothLine(b *testing.B) {
	const nx, rows = 256, 64
	buf := make([]float32, nx*rows)
	for i := range buf {
		buf[i] = float32(i % 1000)
	}
	out := make([]float32, nx)
	for _, sigma := range []float64{1, 3} {
		w := weightsOf[float32](gaussianKernel(sigma))
		r := len(w) - 1
		lo, hi := make([][]float32, r), make([][]float32, r)
		b.Run(fmt.Sprintf("sigma=%gvoxels", sigma), func(b *testing.B) {
			b.SetBytes(nx * 4)
			for i := range b.N {
				y := r + i%(rows-2*r)
				for k := 1; k <= r; k++ {
					lo[k-1], hi[k-1] = buf[(y-k)*nx:], buf[(y+k)*nx:]
				}
				smoothLine(out, buf[y*nx:], lo, hi, w)
			}
		})
	}
}
