//go:build !(goexperiment.simd && amd64)

package clip

// Without GOEXPERIMENT=simd on amd64 there are no vector kernels: each
// reports that it covered no voxel and the scalar loops do all the work.
// The signatures match simd_amd64.go and its siblings, where they are
// documented.

func vecMinMax(v any) (lo, hi float64, n int) { return 0, 0, 0 }

func vecThreshold(v any, dst []uint8, lo, hi float64) int { return 0 }

func vecIntSums(v any, sel []uint8, shift int64) (intSums, int) { return intSums{}, 0 }

func vecFloatSums(v any, acc *[lanes]float64) (n, count int, lo, hi float64) { return 0, 0, 0, 0 }

func vecFloatSquares(v any, mean float64, acc *[lanes]float64) int { return 0 }

func vecMask(v, dst any, sel []uint8) int { return 0 }

func vecConvert(src, dst any) int { return 0 }

func vecArithScalarInt(x, dst any, op ArithOp, c int64) int { return 0 }

func vecArithScalarFloat(x, dst any, op ArithOp, c float64) int { return 0 }

func vecArith(x, y, dst any, op ArithOp) int { return 0 }

func canVecLevels(size int) bool { return false }

func vecLevels(v any, dst []uint8, always uint8, gt []int64) int { return 0 }

func vecCountNonZero(b []uint8) (count, n int) { return 0, 0 }

func vecCountNonZeroMasked(seg, mask []uint8) (both, total, n int) { return 0, 0, 0 }
