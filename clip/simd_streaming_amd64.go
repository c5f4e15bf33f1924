//go:build goexperiment.simd && amd64

package clip

import "simd/archsimd"

// vecMask zeroes the voxels of a prefix of v whose selection byte is 0.
// Selection bytes are widened to the voxel size and compared with zero;
// the kernels for 4- and 8-byte voxels load 16 selection bytes and use
// the first 8 or 4, so they stop 16 voxels before the end.
func vecMask(v, dst any, sel []uint8) int {
	if !haveAVX2 {
		return 0
	}
	switch v := v.(type) {
	case []uint8:
		return maskU8x32(v, sel, dst.([]uint8))
	case []uint16:
		return maskU16x16(v, sel, dst.([]uint16))
	case []uint32:
		return maskU32x8(v, sel, dst.([]uint32))
	case []uint64:
		return maskU64x4(v, sel, dst.([]uint64))
	}
	return 0
}

// The 8- and 16-bit mask kernels clear the voxels whose selection is
// zero with AND NOT, which takes one comparison (equality with zero) where
// a "not equal" mask takes three instructions on AVX2.

func maskU8x32(v, sel, dst []uint8) int {
	const w = 32
	var zero archsimd.Uint8x32
	s, m, d := v, sel[:len(v)], dst[:len(v)]
	for len(s) >= w && len(m) >= w && len(d) >= w {
		drop := archsimd.LoadUint8x32Slice(m).Equal(zero).ToInt8x32().AsUint8x32()
		archsimd.LoadUint8x32Slice(s).AndNot(drop).StoreSlice(d)
		s, m, d = s[w:], m[w:], d[w:]
	}
	return len(v) - len(s)
}

// maskU16x16 does two vectors per iteration, which halves the loop's
// bookkeeping on the usual micro-CT voxel type.
func maskU16x16(v []uint16, sel []uint8, dst []uint16) int {
	const w = 16
	var zero archsimd.Uint16x16
	s, m, d := v, sel[:len(v)], dst[:len(v)]
	for len(s) >= 2*w && len(m) >= 2*w && len(d) >= 2*w {
		drop0 := archsimd.LoadUint8x16Slice(m).ExtendToUint16().Equal(zero).ToInt16x16().AsUint16x16()
		drop1 := archsimd.LoadUint8x16Slice(m[w:]).ExtendToUint16().Equal(zero).ToInt16x16().AsUint16x16()
		archsimd.LoadUint16x16Slice(s).AndNot(drop0).StoreSlice(d)
		archsimd.LoadUint16x16Slice(s[w:]).AndNot(drop1).StoreSlice(d[w:])
		s, m, d = s[2*w:], m[2*w:], d[2*w:]
	}
	for len(s) >= w && len(m) >= w && len(d) >= w {
		drop := archsimd.LoadUint8x16Slice(m).ExtendToUint16().Equal(zero).ToInt16x16().AsUint16x16()
		archsimd.LoadUint16x16Slice(s).AndNot(drop).StoreSlice(d)
		s, m, d = s[w:], m[w:], d[w:]
	}
	return len(v) - len(s)
}

func maskU32x8(v []uint32, sel []uint8, dst []uint32) int {
	const w = 8
	var zero archsimd.Uint32x8
	s, m, d := v, sel[:len(v)], dst[:len(v)]
	for len(s) >= w && len(m) >= 16 && len(d) >= w {
		keep := archsimd.LoadUint8x16Slice(m).ExtendLo8ToUint32().NotEqual(zero)
		archsimd.LoadUint32x8Slice(s).Masked(keep).StoreSlice(d)
		s, m, d = s[w:], m[w:], d[w:]
	}
	return len(v) - len(s)
}

func maskU64x4(v []uint64, sel []uint8, dst []uint64) int {
	const w = 4
	var zero archsimd.Uint64x4
	s, m, d := v, sel[:len(v)], dst[:len(v)]
	for len(s) >= w && len(m) >= 16 && len(d) >= w {
		keep := archsimd.LoadUint8x16Slice(m).ExtendLo4ToUint64().NotEqual(zero)
		archsimd.LoadUint64x4Slice(s).Masked(keep).StoreSlice(d)
		s, m, d = s[w:], m[w:], d[w:]
	}
	return len(v) - len(s)
}

// vecConvert converts a prefix of src for the common micro-CT pairs
// (8/16-bit integers, float32, float64); other pairs return 0. Results
// equal convertScalar's: widening is exact, int→float32 of 16-bit values
// is exact, narrowing saturates, and float→int rounds half to even with
// NaN zeroed before clipping.
func vecConvert(src, dst any) int {
	if !haveAVX2 {
		return 0
	}
	switch s := src.(type) {
	case []uint8:
		switch d := dst.(type) {
		case []uint16:
			return convertU8ToU16(s, d)
		case []float32:
			return convertU8ToF32(s, d)
		}
	case []uint16:
		switch d := dst.(type) {
		case []uint8:
			if haveAVX512 {
				return convertU16ToU8(s, d)
			}
		case []int16:
			return convertU16ToI16(s, d)
		case []uint32:
			return convertU16ToU32(s, d)
		case []float32:
			return convertU16ToF32(s, d)
		}
	case []int16:
		switch d := dst.(type) {
		case []uint16:
			return convertI16ToU16(s, d)
		case []int32:
			return convertI16ToI32(s, d)
		case []float32:
			return convertI16ToF32(s, d)
		}
	case []float32:
		switch d := dst.(type) {
		case []uint16:
			if haveAVX512 {
				return convertF32ToU16(s, d)
			}
		case []int16:
			if haveAVX512 {
				return convertF32ToI16(s, d)
			}
		case []float64:
			return convertF32ToF64(s, d)
		}
	case []float64:
		if d, ok := dst.([]float32); ok {
			return convertF64ToF32(s, d)
		}
	}
	return 0
}

func convertU8ToU16(v []uint8, dst []uint16) int {
	const w = 16
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadUint8x16Slice(s).ExtendToUint16().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// convertU8ToF32 loads 16 bytes and converts the first 8.
func convertU8ToF32(v []uint8, dst []float32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	for len(s) >= 16 && len(d) >= w {
		archsimd.LoadUint8x16Slice(s).ExtendLo8ToUint32().AsInt32x8().ConvertToFloat32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertU16ToU8(v []uint16, dst []uint8) int {
	const w = 16
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadUint16x16Slice(s).SaturateToUint8().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertU16ToI16(v []uint16, dst []int16) int {
	const w = 16
	top := archsimd.BroadcastUint16x16(32767)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadUint16x16Slice(s).Min(top).AsInt16x16().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertU16ToU32(v []uint16, dst []uint32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadUint16x8Slice(s).ExtendToUint32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// convertU16ToF32 converts four vectors per iteration: with one, the
// loop's bookkeeping costs as much as the conversion.
func convertU16ToF32(v []uint16, dst []float32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	for len(s) >= 4*w && len(d) >= 4*w {
		a := archsimd.LoadUint16x8Slice(s).ExtendToUint32().AsInt32x8().ConvertToFloat32()
		b := archsimd.LoadUint16x8Slice(s[w:]).ExtendToUint32().AsInt32x8().ConvertToFloat32()
		c := archsimd.LoadUint16x8Slice(s[2*w:]).ExtendToUint32().AsInt32x8().ConvertToFloat32()
		e := archsimd.LoadUint16x8Slice(s[3*w:]).ExtendToUint32().AsInt32x8().ConvertToFloat32()
		a.StoreSlice(d)
		b.StoreSlice(d[w:])
		c.StoreSlice(d[2*w:])
		e.StoreSlice(d[3*w:])
		s, d = s[4*w:], d[4*w:]
	}
	for len(s) >= w && len(d) >= w {
		archsimd.LoadUint16x8Slice(s).ExtendToUint32().AsInt32x8().ConvertToFloat32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertI16ToU16(v []int16, dst []uint16) int {
	const w = 16
	var zero archsimd.Int16x16
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadInt16x16Slice(s).Max(zero).AsUint16x16().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertI16ToI32(v []int16, dst []int32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadInt16x8Slice(s).ExtendToInt32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertI16ToF32(v []int16, dst []float32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadInt16x8Slice(s).ExtendToInt32().ConvertToFloat32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// roundClip32 is saturate for float32 lanes: NaN to 0, round half to
// even, clip to [lo, hi]; the result converts to int32 exactly.
func roundClip32(x, lo, hi archsimd.Float32x8) archsimd.Int32x8 {
	return x.Masked(x.Equal(x)).RoundToEven().Max(lo).Min(hi).ConvertToInt32()
}

func convertF32ToU16(v []float32, dst []uint16) int {
	const w = 8
	lo, hi := archsimd.BroadcastFloat32x8(0), archsimd.BroadcastFloat32x8(65535)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		roundClip32(archsimd.LoadFloat32x8Slice(s), lo, hi).AsUint32x8().TruncateToUint16().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertF32ToI16(v []float32, dst []int16) int {
	const w = 8
	lo, hi := archsimd.BroadcastFloat32x8(-32768), archsimd.BroadcastFloat32x8(32767)
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		roundClip32(archsimd.LoadFloat32x8Slice(s), lo, hi).TruncateToInt16().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertF32ToF64(v []float32, dst []float64) int {
	const w = 4
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadFloat32x4Slice(s).ConvertToFloat64().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

func convertF64ToF32(v []float64, dst []float32) int {
	const w = 4
	s, d := v, dst[:len(v)]
	for len(s) >= w && len(d) >= w {
		archsimd.LoadFloat64x4Slice(s).ConvertToFloat32().StoreSlice(d)
		s, d = s[w:], d[w:]
	}
	return len(v) - len(s)
}

// vecArithScalarInt computes x op c over a prefix of x with saturating
// instructions, where they give exactly arithIntExact's results: addition
// and subtraction of 8- and 16-bit voxels (unsigned operands beyond the
// type's range saturate the same way when clamped to ±(2^bits − 1)),
// multiplication of uint16 voxels, and minimum and maximum of every
// integer type (c is already clipped to the type).
func vecArithScalarInt(x, dst any, op ArithOp, c int64) int {
	if !haveAVX2 {
		return 0
	}
	if op == Subtract {
		op, c = Add, -c
	}
	switch x := x.(type) {
	case []uint8:
		return arithScalarU8x32(x, dst.([]uint8), op, c)
	case []int8:
		return arithScalarI8x32(x, dst.([]int8), op, c)
	case []uint16:
		return arithScalarU16x16(x, dst.([]uint16), op, c)
	case []int16:
		return arithScalarI16x16(x, dst.([]int16), op, c)
	case []uint32:
		return arithScalarU32x8(x, dst.([]uint32), op, c)
	case []int32:
		return arithScalarI32x8(x, dst.([]int32), op, c)
	}
	return 0
}

func arithScalarU8x32(v, dst []uint8, op ArithOp, c int64) int {
	const w = 32
	s, d := v, dst[:len(v)]
	switch op {
	case Add:
		k := archsimd.BroadcastUint8x32(uint8(min(max(c, -c), 255)))
		if c >= 0 {
			for len(s) >= w && len(d) >= w {
				archsimd.LoadUint8x32Slice(s).AddSaturated(k).StoreSlice(d)
				s, d = s[w:], d[w:]
			}
		} else {
			for len(s) >= w && len(d) >= w {
				archsimd.LoadUint8x32Slice(s).SubSaturated(k).StoreSlice(d)
				s, d = s[w:], d[w:]
			}
		}
	case Minimum:
		k := archsimd.BroadcastUint8x32(uint8(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint8x32Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case Maximum:
		k := archsimd.BroadcastUint8x32(uint8(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint8x32Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

func arithScalarI8x32(v, dst []int8, op ArithOp, c int64) int {
	const w = 32
	s, d := v, dst[:len(v)]
	switch {
	case op == Add && c >= -127 && c <= 127:
		k := archsimd.BroadcastInt8x32(int8(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt8x32Slice(s).AddSaturated(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case op == Minimum:
		k := archsimd.BroadcastInt8x32(int8(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt8x32Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case op == Maximum:
		k := archsimd.BroadcastInt8x32(int8(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt8x32Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

func arithScalarU16x16(v, dst []uint16, op ArithOp, c int64) int {
	const w = 16
	s, d := v, dst[:len(v)]
	switch op {
	case Add:
		k := archsimd.BroadcastUint16x16(uint16(min(max(c, -c), 65535)))
		if c >= 0 {
			for len(s) >= w && len(d) >= w {
				archsimd.LoadUint16x16Slice(s).AddSaturated(k).StoreSlice(d)
				s, d = s[w:], d[w:]
			}
		} else {
			for len(s) >= w && len(d) >= w {
				archsimd.LoadUint16x16Slice(s).SubSaturated(k).StoreSlice(d)
				s, d = s[w:], d[w:]
			}
		}
	case Multiply:
		// x·c saturates iff the high half of the 32-bit product is not
		// zero; c beyond 65535 saturates every x > 0 the same way.
		if c < 0 {
			return 0
		}
		k := archsimd.BroadcastUint16x16(uint16(min(c, 65535)))
		var zero archsimd.Uint16x16
		for len(s) >= w && len(d) >= w {
			x := archsimd.LoadUint16x16Slice(s)
			over := x.MulHigh(k).NotEqual(zero).ToInt16x16().AsUint16x16()
			x.Mul(k).Or(over).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case Minimum:
		k := archsimd.BroadcastUint16x16(uint16(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint16x16Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case Maximum:
		k := archsimd.BroadcastUint16x16(uint16(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint16x16Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

func arithScalarI16x16(v, dst []int16, op ArithOp, c int64) int {
	const w = 16
	s, d := v, dst[:len(v)]
	switch {
	case op == Add && c >= -32767 && c <= 32767:
		k := archsimd.BroadcastInt16x16(int16(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt16x16Slice(s).AddSaturated(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case op == Minimum:
		k := archsimd.BroadcastInt16x16(int16(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt16x16Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case op == Maximum:
		k := archsimd.BroadcastInt16x16(int16(c))
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt16x16Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

func arithScalarU32x8(v, dst []uint32, op ArithOp, c int64) int {
	const w = 8
	s, d := v, dst[:len(v)]
	k := archsimd.BroadcastUint32x8(uint32(c))
	switch op {
	case Minimum:
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint32x8Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case Maximum:
		for len(s) >= w && len(d) >= w {
			archsimd.LoadUint32x8Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

func arithScalarI32x8(v, dst []int32, op ArithOp, c int64) int {
	const w = 8
	s, d := v, dst[:len(v)]
	k := archsimd.BroadcastInt32x8(int32(c))
	switch op {
	case Minimum:
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt32x8Slice(s).Min(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	case Maximum:
		for len(s) >= w && len(d) >= w {
			archsimd.LoadInt32x8Slice(s).Max(k).StoreSlice(d)
			s, d = s[w:], d[w:]
		}
	}
	return len(v) - len(s)
}

// vecArithScalarFloat computes x op c in the voxels' type. Minimum and
// maximum put NaN voxels back afterwards, since the instructions return
// the second operand for NaN and Go's min and max propagate it.
func vecArithScalarFloat(x, dst any, op ArithOp, c float64) int {
	if !haveAVX2 {
		return 0
	}
	switch x := x.(type) {
	case []float32:
		return arithF32x8(x, nil, dst.([]float32), op, float32(c))
	case []float64:
		return arithF64x4(x, nil, dst.([]float64), op, float64(c))
	}
	return 0
}

// vecArith computes x op y over a prefix, for the operations with exact
// vector counterparts (see vecArithScalarInt; products only for uint16).
func vecArith(x, y, dst any, op ArithOp) int {
	if !haveAVX2 {
		return 0
	}
	switch x := x.(type) {
	case []uint8:
		return arithU8x32(x, y.([]uint8), dst.([]uint8), op)
	case []int8:
		return arithI8x32(x, y.([]int8), dst.([]int8), op)
	case []uint16:
		return arithU16x16(x, y.([]uint16), dst.([]uint16), op)
	case []int16:
		return arithI16x16(x, y.([]int16), dst.([]int16), op)
	case []uint32:
		return arithU32x8(x, y.([]uint32), dst.([]uint32), op)
	case []int32:
		return arithI32x8(x, y.([]int32), dst.([]int32), op)
	case []float32:
		return arithF32x8(x, y.([]float32), dst.([]float32), op, 0)
	case []float64:
		return arithF64x4(x, y.([]float64), dst.([]float64), op, 0)
	}
	return 0
}

func arithU8x32(v, u, dst []uint8, op ArithOp) int {
	const w = 32
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint8x32Slice(s).AddSaturated(archsimd.LoadUint8x32Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint8x32Slice(s).SubSaturated(archsimd.LoadUint8x32Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint8x32Slice(s).Min(archsimd.LoadUint8x32Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint8x32Slice(s).Max(archsimd.LoadUint8x32Slice(t)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

func arithI8x32(v, u, dst []int8, op ArithOp) int {
	const w = 32
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt8x32Slice(s).AddSaturated(archsimd.LoadInt8x32Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt8x32Slice(s).SubSaturated(archsimd.LoadInt8x32Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt8x32Slice(s).Min(archsimd.LoadInt8x32Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt8x32Slice(s).Max(archsimd.LoadInt8x32Slice(t)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

// arithU16x16 does four vectors per iteration where it can: uint16 is
// the usual micro-CT voxel, and with one vector per iteration the loop's
// bookkeeping costs more than the arithmetic.
func arithU16x16(v, u, dst []uint16, op ArithOp) int {
	const w = 16
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= 4*w && len(t) >= 4*w && len(d) >= 4*w; s, t, d = s[4*w:], t[4*w:], d[4*w:] {
			archsimd.LoadUint16x16Slice(s).AddSaturated(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
			archsimd.LoadUint16x16Slice(s[w:]).AddSaturated(archsimd.LoadUint16x16Slice(t[w:])).StoreSlice(d[w:])
			archsimd.LoadUint16x16Slice(s[2*w:]).AddSaturated(archsimd.LoadUint16x16Slice(t[2*w:])).StoreSlice(d[2*w:])
			archsimd.LoadUint16x16Slice(s[3*w:]).AddSaturated(archsimd.LoadUint16x16Slice(t[3*w:])).StoreSlice(d[3*w:])
		}
	case Subtract:
		for ; len(s) >= 4*w && len(t) >= 4*w && len(d) >= 4*w; s, t, d = s[4*w:], t[4*w:], d[4*w:] {
			archsimd.LoadUint16x16Slice(s).SubSaturated(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
			archsimd.LoadUint16x16Slice(s[w:]).SubSaturated(archsimd.LoadUint16x16Slice(t[w:])).StoreSlice(d[w:])
			archsimd.LoadUint16x16Slice(s[2*w:]).SubSaturated(archsimd.LoadUint16x16Slice(t[2*w:])).StoreSlice(d[2*w:])
			archsimd.LoadUint16x16Slice(s[3*w:]).SubSaturated(archsimd.LoadUint16x16Slice(t[3*w:])).StoreSlice(d[3*w:])
		}
	case Minimum:
		for ; len(s) >= 4*w && len(t) >= 4*w && len(d) >= 4*w; s, t, d = s[4*w:], t[4*w:], d[4*w:] {
			archsimd.LoadUint16x16Slice(s).Min(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
			archsimd.LoadUint16x16Slice(s[w:]).Min(archsimd.LoadUint16x16Slice(t[w:])).StoreSlice(d[w:])
			archsimd.LoadUint16x16Slice(s[2*w:]).Min(archsimd.LoadUint16x16Slice(t[2*w:])).StoreSlice(d[2*w:])
			archsimd.LoadUint16x16Slice(s[3*w:]).Min(archsimd.LoadUint16x16Slice(t[3*w:])).StoreSlice(d[3*w:])
		}
	case Maximum:
		for ; len(s) >= 4*w && len(t) >= 4*w && len(d) >= 4*w; s, t, d = s[4*w:], t[4*w:], d[4*w:] {
			archsimd.LoadUint16x16Slice(s).Max(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
			archsimd.LoadUint16x16Slice(s[w:]).Max(archsimd.LoadUint16x16Slice(t[w:])).StoreSlice(d[w:])
			archsimd.LoadUint16x16Slice(s[2*w:]).Max(archsimd.LoadUint16x16Slice(t[2*w:])).StoreSlice(d[2*w:])
			archsimd.LoadUint16x16Slice(s[3*w:]).Max(archsimd.LoadUint16x16Slice(t[3*w:])).StoreSlice(d[3*w:])
		}
	}
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint16x16Slice(s).AddSaturated(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint16x16Slice(s).SubSaturated(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint16x16Slice(s).Min(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint16x16Slice(s).Max(archsimd.LoadUint16x16Slice(t)).StoreSlice(d)
		}
	case Multiply:
		var zero archsimd.Uint16x16
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			a, b := archsimd.LoadUint16x16Slice(s), archsimd.LoadUint16x16Slice(t)
			over := a.MulHigh(b).NotEqual(zero).ToInt16x16().AsUint16x16()
			a.Mul(b).Or(over).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

func arithI16x16(v, u, dst []int16, op ArithOp) int {
	const w = 16
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt16x16Slice(s).AddSaturated(archsimd.LoadInt16x16Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt16x16Slice(s).SubSaturated(archsimd.LoadInt16x16Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt16x16Slice(s).Min(archsimd.LoadInt16x16Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt16x16Slice(s).Max(archsimd.LoadInt16x16Slice(t)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

func arithU32x8(v, u, dst []uint32, op ArithOp) int {
	const w = 8
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint32x8Slice(s).Min(archsimd.LoadUint32x8Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadUint32x8Slice(s).Max(archsimd.LoadUint32x8Slice(t)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

func arithI32x8(v, u, dst []int32, op ArithOp) int {
	const w = 8
	s, t, d := v, u[:len(v)], dst[:len(v)]
	switch op {
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt32x8Slice(s).Min(archsimd.LoadInt32x8Slice(t)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadInt32x8Slice(s).Max(archsimd.LoadInt32x8Slice(t)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

// arithF32x8 computes x op y, or x op c when y is nil.
func arithF32x8(v, u, dst []float32, op ArithOp, c float32) int {
	const w = 8
	s, d := v, dst[:len(v)]
	if u == nil {
		k := archsimd.BroadcastFloat32x8(c)
		switch op {
		case Add:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat32x8Slice(s).Add(k).StoreSlice(d)
			}
		case Subtract:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat32x8Slice(s).Sub(k).StoreSlice(d)
			}
		case Multiply:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat32x8Slice(s).Mul(k).StoreSlice(d)
			}
		case Minimum:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				x := archsimd.LoadFloat32x8Slice(s)
				x.Min(k).Merge(x, x.Equal(x)).StoreSlice(d)
			}
		case Maximum:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				x := archsimd.LoadFloat32x8Slice(s)
				x.Max(k).Merge(x, x.Equal(x)).StoreSlice(d)
			}
		}
		return len(v) - len(s)
	}
	t := u[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat32x8Slice(s).Add(archsimd.LoadFloat32x8Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat32x8Slice(s).Sub(archsimd.LoadFloat32x8Slice(t)).StoreSlice(d)
		}
	case Multiply:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat32x8Slice(s).Mul(archsimd.LoadFloat32x8Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			x, y := archsimd.LoadFloat32x8Slice(s), archsimd.LoadFloat32x8Slice(t)
			x.Min(y).Merge(x, x.Equal(x)).Merge(y, y.Equal(y)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			x, y := archsimd.LoadFloat32x8Slice(s), archsimd.LoadFloat32x8Slice(t)
			x.Max(y).Merge(x, x.Equal(x)).Merge(y, y.Equal(y)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}

// arithF64x4 computes x op y, or x op c when y is nil.
func arithF64x4(v, u, dst []float64, op ArithOp, c float64) int {
	const w = 4
	s, d := v, dst[:len(v)]
	if u == nil {
		k := archsimd.BroadcastFloat64x4(c)
		switch op {
		case Add:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat64x4Slice(s).Add(k).StoreSlice(d)
			}
		case Subtract:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat64x4Slice(s).Sub(k).StoreSlice(d)
			}
		case Multiply:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				archsimd.LoadFloat64x4Slice(s).Mul(k).StoreSlice(d)
			}
		case Minimum:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				x := archsimd.LoadFloat64x4Slice(s)
				x.Min(k).Merge(x, x.Equal(x)).StoreSlice(d)
			}
		case Maximum:
			for ; len(s) >= w && len(d) >= w; s, d = s[w:], d[w:] {
				x := archsimd.LoadFloat64x4Slice(s)
				x.Max(k).Merge(x, x.Equal(x)).StoreSlice(d)
			}
		}
		return len(v) - len(s)
	}
	t := u[:len(v)]
	switch op {
	case Add:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat64x4Slice(s).Add(archsimd.LoadFloat64x4Slice(t)).StoreSlice(d)
		}
	case Subtract:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat64x4Slice(s).Sub(archsimd.LoadFloat64x4Slice(t)).StoreSlice(d)
		}
	case Multiply:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			archsimd.LoadFloat64x4Slice(s).Mul(archsimd.LoadFloat64x4Slice(t)).StoreSlice(d)
		}
	case Minimum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			x, y := archsimd.LoadFloat64x4Slice(s), archsimd.LoadFloat64x4Slice(t)
			x.Min(y).Merge(x, x.Equal(x)).Merge(y, y.Equal(y)).StoreSlice(d)
		}
	case Maximum:
		for ; len(s) >= w && len(t) >= w && len(d) >= w; s, t, d = s[w:], t[w:], d[w:] {
			x, y := archsimd.LoadFloat64x4Slice(s), archsimd.LoadFloat64x4Slice(t)
			x.Max(y).Merge(x, x.Equal(x)).Merge(y, y.Equal(y)).StoreSlice(d)
		}
	}
	return len(v) - len(s)
}
