//go:build goexperiment.simd && amd64

package clip

import (
	"math/bits"
	"simd/archsimd"
)

// vecCountNonZero counts the non-zero bytes of a prefix of b and returns
// the count and the prefix's length.
func vecCountNonZero(b []uint8) (count, n int) {
	if !haveAVX2 {
		return 0, 0
	}
	const w = 32
	var zero archsimd.Uint8x32
	s := b
	for len(s) >= 2*w {
		z0 := archsimd.LoadUint8x32Slice(s).Equal(zero).ToBits()
		z1 := archsimd.LoadUint8x32Slice(s[w:]).Equal(zero).ToBits()
		count += 2*w - bits.OnesCount64(uint64(z0)<<32|uint64(z1))
		s = s[2*w:]
	}
	return count, len(b) - len(s)
}

// vecCountNonZeroMasked counts, over a prefix of seg and mask, the bytes
// where mask is non-zero (total) and those where both are (both).
func vecCountNonZeroMasked(seg, mask []uint8) (both, total, n int) {
	if !haveAVX2 {
		return 0, 0, 0
	}
	const w = 32
	var zero archsimd.Uint8x32
	s, m := seg, mask[:len(seg)]
	for len(s) >= w && len(m) >= w {
		sz := archsimd.LoadUint8x32Slice(s).Equal(zero).ToBits()
		mz := archsimd.LoadUint8x32Slice(m).Equal(zero).ToBits()
		total += w - bits.OnesCount32(mz)
		both += w - bits.OnesCount32(sz|mz)
		s, m = s[w:], m[w:]
	}
	return both, total, len(seg) - len(s)
}
