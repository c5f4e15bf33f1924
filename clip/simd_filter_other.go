//go:build !(goexperiment.simd && amd64)

package clip

// Without the simd experiment the Gaussian's line kernels are the scalar
// ones in filter.go; these report that they did nothing.

func vecSmoothLine32(o, c []float32, lo, hi [][]float32, w []float32) bool { return false }

func vecSmoothLine64(o, c []float64, lo, hi [][]float64, w []float64) bool { return false }
