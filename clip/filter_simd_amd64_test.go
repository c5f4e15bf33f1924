//go:build goexperiment.simd && amd64

package clip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestVecSmoothLineMatchesScalar runs every vector line kernel the CPU
// supports against the scalar one on random lines, for line lengths
// around the vector and block sizes and kernel radii from 1 to 13. The
// results may differ only by rounding: within the golden tests' tolerance
// of 5e-7 times the largest input magnitude (1e-12 for float64).
func TestVecSmoothLineMatchesScalar(t *testing.T) {
	lengths := []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 256}
	radii := []int{1, 2, 3, 4, 5, 8, 12, 13}
	kernels32 := map[string]func(o, c []float32, lo, hi [][]float32, w []float32){}
	if haveFMA {
		kernels32["x8"] = smoothF32x8
	}
	if haveAVX512 {
		kernels32["x16"] = smoothF32x16
	}
	if len(kernels32) == 0 {
		t.Skip("no vector line kernel on this CPU")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for name, kernel := range kernels32 {
		for _, n := range lengths {
			for _, rad := range radii {
				t.Run(fmt.Sprintf("f32%s/n%d/r%d", name, n, rad), func(t *testing.T) {
					o, c, lo, hi, w, scale := randomLines[float32](r, n, rad, 65535)
					want := make([]float32, n)
					smoothLineScalar(want, c, lo, hi, w)
					kernel(o, c, lo, hi, w)
					checkClose(t, o, want, 5e-7*scale)
				})
			}
		}
	}
	for _, n := range lengths {
		for _, rad := range radii {
			t.Run(fmt.Sprintf("f64x4/n%d/r%d", n, rad), func(t *testing.T) {
				o, c, lo, hi, w, scale := randomLines[float64](r, n, rad, 1e6)
				want := make([]float64, n)
				smoothLineScalar(want, c, lo, hi, w)
				smoothF64x4(o, c, lo, hi, w)
				checkClose(t, o, want, 1e-12*scale)
			})
		}
	}
}

// randomLines returns an output line of n voxels, filled with NaN to show
// voxels a kernel leaves alone, and random centre and neighbour lines in
// [-amp, amp] for a Gaussian of radius rad. The neighbour lines are longer
// than n, as the padded rows of the x pass are, so a kernel reading past
// n would change the result.
func randomLines[F float](r *rand.Rand, n, rad int, amp float64) (o, c []F, lo, hi [][]F, w []F, scale float64) {
	line := func() []F {
		v := make([]F, n+rad)
		for i := range v {
			v[i] = F(amp * (2*r.Float64() - 1))
			if i < n {
				scale = max(scale, math.Abs(float64(v[i])))
			}
		}
		return v
	}
	o = make([]F, n)
	for i := range o {
		o[i] = F(math.NaN())
	}
	c = line()
	lo, hi = make([][]F, rad), make([][]F, rad)
	for k := range lo {
		lo[k], hi[k] = line(), line()
	}
	w = weightsOf[F](gaussianKernel(float64(rad) / 4))
	return o, c, lo, hi, w, scale
}

func checkClose[F float](t *testing.T, got, want []F, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
			t.Fatalf("voxel %d: got %v, want %v (difference %g > %g)", i, got[i], want[i], d, tol)
		}
	}
}
