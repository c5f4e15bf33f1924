//go:build goexperiment.simd && amd64

package clip

import "simd/archsimd"

// canVecLevels reports whether vecLevels has a kernel for voxels of size
// bytes: 8-bit voxels need AVX2, 16-bit ones AVX-512 to narrow the labels
// to bytes (VPMOVWB).
func canVecLevels(size int) bool {
	return size == 1 && haveAVX2 || size == 2 && haveAVX512
}

// vecLevels writes always + the number of gt[k] below x (signed
// comparison, x > gt[k]) for a prefix of v, an 8- or 16-bit integer slice,
// and returns its length. gt holds values of v's type, at most
// maxCompareLevels of them.
func vecLevels(v any, dst []uint8, always uint8, gt []int64) int {
	if len(gt) > maxCompareLevels {
		return 0
	}
	switch v := v.(type) {
	case []uint8:
		if haveAVX2 {
			return levelsU8x32(v, dst, always, gt, 0x80)
		}
	case []int8:
		if haveAVX2 {
			return levelsU8x32(reinterpret[uint8](v), dst, always, gt, 0)
		}
	case []uint16:
		if haveAVX512 {
			return levelsU16x16(v, dst, always, gt, 0x8000)
		}
	case []int16:
		if haveAVX512 {
			return levelsU16x16(reinterpret[uint16](v), dst, always, gt, 0)
		}
	}
	return 0
}

// levelsU8x32 flips the sign bit of unsigned voxels (bias 0x80) so that
// one signed comparison per level (VPCMPGTB) serves both signednesses;
// each true lane is -1, which the subtraction counts.
func levelsU8x32(v, dst []uint8, always uint8, gt []int64, bias uint8) int {
	const w = 32
	var g [maxCompareLevels]archsimd.Int8x32
	for k, t := range gt {
		g[k] = archsimd.BroadcastUint8x32(uint8(t) ^ bias).AsInt8x32()
	}
	n := len(gt)
	flip, start := archsimd.BroadcastUint8x32(bias), archsimd.BroadcastInt8x32(int8(always))
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		x := archsimd.LoadUint8x32Slice(s).Xor(flip).AsInt8x32()
		acc := start
		for _, gk := range g[:n] {
			acc = acc.Sub(x.Greater(gk).ToInt8x32())
		}
		acc.AsUint8x32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func levelsU16x16(v []uint16, dst []uint8, always uint8, gt []int64, bias uint16) int {
	const w = 16
	var g [maxCompareLevels]archsimd.Int16x16
	for k, t := range gt {
		g[k] = archsimd.BroadcastUint16x16(uint16(t) ^ bias).AsInt16x16()
	}
	n := len(gt)
	flip, start := archsimd.BroadcastUint16x16(bias), archsimd.BroadcastInt16x16(int16(always))
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		x := archsimd.LoadUint16x16Slice(s).Xor(flip).AsInt16x16()
		acc := start
		for _, gk := range g[:n] {
			acc = acc.Sub(x.Greater(gk).ToInt16x16())
		}
		acc.AsUint16x16().TruncateToUint8().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}
