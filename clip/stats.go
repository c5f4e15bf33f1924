package clip

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// Stats summarises the selected voxels of an image.
type Stats struct {
	Min, Max float64
	Sum      float64
	Mean     float64
	Std      float64 // population standard deviation (divides by Count)
	Count    int64   // voxels that entered the statistics
}

// Statistics returns the minimum, maximum, sum, mean and standard deviation
// of img's voxels, counting only voxels where mask (if not nil, any data
// type) is non-zero. NaN voxels are ignored and not counted. A mask of
// another size gives ErrSizeMismatch, an empty selection ErrEmpty.
//
// Integer images are summed exactly (in 128-bit integers), so Sum, Mean and
// Std are the correctly rounded values. Float images are summed in float64
// in blocks of a few thousand voxels, two passes per cache-resident block
// merged with Chan's update, which keeps Std accurate even when the mean is
// far from zero. Images holding ±Inf give Inf or NaN sums, as in numpy.
func Statistics(ctx context.Context, img, mask *omni.Image) (Stats, error) {
	return statistics(ctx, img, mask, vectorPath)
}

func statistics(ctx context.Context, img, mask *omni.Image, p path) (Stats, error) {
	sel, err := selection(ctx, "statistics", img, mask)
	if err != nil {
		return Stats{}, err
	}
	px := img.Pixels()
	var s Stats
	switch dt := img.Header().DataType; dt {
	case omni.Uint8:
		s, err = intStatistics[uint8](ctx, px, sel, p)
	case omni.Int8:
		s, err = intStatistics[int8](ctx, px, sel, p)
	case omni.Uint16:
		s, err = intStatistics[uint16](ctx, px, sel, p)
	case omni.Int16:
		s, err = intStatistics[int16](ctx, px, sel, p)
	case omni.Uint32:
		s, err = intStatistics[uint32](ctx, px, sel, p)
	case omni.Int32:
		s, err = intStatistics[int32](ctx, px, sel, p)
	case omni.Float32:
		s, err = floatStatistics[float32](ctx, px, sel, p)
	case omni.Float64:
		s, err = floatStatistics[float64](ctx, px, sel, p)
	default:
		err = fmt.Errorf("unsupported data type %v", dt)
	}
	if err != nil {
		return Stats{}, fmt.Errorf("clip: statistics: %w", err)
	}
	return s, nil
}

// int128 is a two's complement 128-bit integer, enough to sum squares of
// 32-bit values over any image that fits in memory.
type int128 struct{ hi, lo uint64 }

func (w *int128) addUint64(x uint64) {
	var c uint64
	w.lo, c = bits.Add64(w.lo, x, 0)
	w.hi += c
}

func (w *int128) addInt64(x int64) {
	w.addUint64(uint64(x))
	if x < 0 {
		w.hi-- // sign extension of x
	}
}

func (w *int128) add(o int128) {
	var c uint64
	w.lo, c = bits.Add64(w.lo, o.lo, 0)
	w.hi += o.hi + c
}

func (w int128) big() *big.Int {
	neg := int64(w.hi) < 0
	if neg {
		w.lo, w.hi = -w.lo, ^w.hi
		if w.lo == 0 {
			w.hi++
		}
	}
	b := new(big.Int).Lsh(new(big.Int).SetUint64(w.hi), 64)
	b.Or(b, new(big.Int).SetUint64(w.lo))
	if neg {
		b.Neg(b)
	}
	return b
}

// intShift is subtracted from every voxel before summing: the midpoint of
// unsigned types, so shifted values fit the signed type of the same width
// (the 16-bit vector kernels rely on that) and squares of 32-bit values fit
// 62 bits.
func intShift[T integer]() int64 {
	lo, hi := limits[T]()
	if lo < 0 {
		return 0
	}
	return int64(hi/2) + 1
}

// intSums are exact sums over a range of an integer image.
type intSums struct {
	count  int64
	lo, hi int64 // meaningless while count is 0
	sum    int128
	sq     int128 // non-negative
}

func (s *intSums) merge(o intSums) {
	if o.count == 0 {
		return
	}
	if s.count == 0 {
		s.lo, s.hi = o.lo, o.hi
	}
	s.count += o.count
	s.lo, s.hi = min(s.lo, o.lo), max(s.hi, o.hi)
	s.sum.add(o.sum)
	s.sq.add(o.sq)
}

// intBlock bounds the voxels summed in int64 before the sums are widened:
// shifted 32-bit values sum to at most 2^31·2^20 = 2^51.
const intBlock = 1 << 20

func intStatistics[T integer](ctx context.Context, pixels []byte, sel []uint8, p path) (Stats, error) {
	v := voxels[T](pixels)
	shift := intShift[T]()
	var mu sync.Mutex
	var total intSums
	err := slabs(ctx, len(v), func(a, b int) {
		var part intSums
		for lo := a; lo < b; lo += intBlock {
			hi := min(b, lo+intBlock)
			var s []uint8
			if sel != nil {
				s = sel[lo:hi]
			}
			part.merge(intRangeSums(v[lo:hi], s, shift, p))
		}
		mu.Lock()
		total.merge(part)
		mu.Unlock()
	})
	if err != nil {
		return Stats{}, err
	}
	if total.count == 0 {
		return Stats{}, ErrEmpty
	}
	return total.stats(shift), nil
}

// stats turns exact sums into correctly rounded statistics.
func (s intSums) stats(shift int64) Stats {
	n := big.NewInt(s.count)
	s1, s2 := s.sum.big(), s.sq.big()
	sum := new(big.Int).Mul(big.NewInt(shift), n)
	sum.Add(sum, s1)
	sumF, _ := new(big.Float).SetInt(sum).Float64()
	mean, _ := new(big.Rat).SetFrac(sum, n).Float64()
	// Variance is shift-invariant: (n·Σd² − (Σd)²) / n².
	num := new(big.Int).Mul(n, s2)
	num.Sub(num, new(big.Int).Mul(s1, s1))
	variance, _ := new(big.Rat).SetFrac(num, new(big.Int).Mul(n, n)).Float64()
	return Stats{Min: float64(s.lo), Max: float64(s.hi), Sum: sumF, Mean: mean, Std: math.Sqrt(variance), Count: s.count}
}

// intRangeSums sums at most intBlock voxels; sel is nil or as long as v.
func intRangeSums[T integer](v []T, sel []uint8, shift int64, p path) intSums {
	if len(v) == 0 {
		return intSums{}
	}
	wide := unsafe.Sizeof(v[0]) == 4
	var s intSums
	n := 0
	if p == vectorPath && !wide {
		s, n = vecIntSums(v, sel, shift)
	}
	switch {
	case n == len(v):
	case sel != nil:
		s.merge(intSumsMasked(v[n:], sel[n:], shift, wide))
	case wide:
		s.merge(intSumsWide(v[n:], shift))
	default:
		s.merge(intSumsNarrow(v[n:], shift))
	}
	return s
}

// intSumsNarrow is the loop for 8- and 16-bit voxels: shifted squares are
// at most 2^30, so a block's sum of squares fits a uint64.
func intSumsNarrow[T integer](v []T, shift int64) intSums {
	lo, hi := v[0], v[0]
	var sum int64
	var sq uint64
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
		d := int64(x) - shift
		sum += d
		sq += uint64(d * d)
	}
	s := intSums{count: int64(len(v)), lo: int64(lo), hi: int64(hi)}
	s.sum.addInt64(sum)
	s.sq.addUint64(sq)
	return s
}

// intSumsWide is the loop for 32-bit voxels: squares reach 2^62, so they
// are summed with a carry into a high word.
func intSumsWide[T integer](v []T, shift int64) intSums {
	lo, hi := v[0], v[0]
	var sum int64
	var sqLo, sqHi, c uint64
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
		d := int64(x) - shift
		sum += d
		sqLo, c = bits.Add64(sqLo, uint64(d*d), 0)
		sqHi += c
	}
	s := intSums{count: int64(len(v)), lo: int64(lo), hi: int64(hi)}
	s.sum.addInt64(sum)
	s.sq = int128{hi: sqHi, lo: sqLo}
	return s
}

// intSumsMasked zeroes unselected voxels' contributions with bit masks
// and swaps them for the type's extremes in the min/max. Only 32-bit
// voxels need the carry of the sum of squares.
func intSumsMasked[T integer](v []T, sel []uint8, shift int64, wide bool) intSums {
	tlo, thi := limits[T]()
	minT, maxT := int64(tlo), int64(thi)
	lo, hi := maxT, minT
	var count, sum int64
	var sqLo, sqHi, c uint64
	sel = sel[:len(v)]
	if wide {
		for i, x := range v {
			w := int64(b2u8(sel[i] != 0))
			m := -w
			xi := int64(x)
			lo = min(lo, xi&m|maxT&^m)
			hi = max(hi, xi&m|minT&^m)
			d := (xi - shift) & m
			count += w
			sum += d
			sqLo, c = bits.Add64(sqLo, uint64(d*d), 0)
			sqHi += c
		}
	} else {
		for i, x := range v {
			w := int64(b2u8(sel[i] != 0))
			m := -w
			xi := int64(x)
			lo = min(lo, xi&m|maxT&^m)
			hi = max(hi, xi&m|minT&^m)
			d := (xi - shift) & m
			count += w
			sum += d
			sqLo += uint64(d * d)
		}
	}
	s := intSums{count: count, lo: lo, hi: hi}
	s.sum.addInt64(sum)
	s.sq = int128{hi: sqHi, lo: sqLo}
	return s
}

// floatBlock is the number of float voxels summed twice (mean, then
// squared deviations) while they sit in the L1 cache.
const floatBlock = 2048

// lanes is the number of interleaved accumulators of the float sums. The
// vector kernels keep the same lanes in registers, so both paths add the
// same numbers in the same order and agree to the bit.
const lanes = 8

// floatMoments are running statistics of float voxels.
type floatMoments struct {
	count    int64
	lo, hi   float64
	mean, m2 float64 // m2: sum of squared deviations from mean
	sum, c   float64 // Neumaier-compensated sum
}

// merge combines two sets of moments (Chan et al.'s parallel update).
func (m *floatMoments) merge(o floatMoments) {
	if o.count == 0 {
		return
	}
	if m.count == 0 {
		*m = o
		return
	}
	n := m.count + o.count
	na, nb, nf := float64(m.count), float64(o.count), float64(n)
	d := o.mean - m.mean
	m.mean += d * (nb / nf)
	m.m2 += o.m2 + d*d*(na*nb/nf)
	m.count = n
	m.lo, m.hi = min(m.lo, o.lo), max(m.hi, o.hi)
	m.addSum(o.sum)
	m.addSum(o.c)
}

// addSum is Neumaier's compensated addition.
func (m *floatMoments) addSum(x float64) {
	t := m.sum + x
	if math.Abs(m.sum) >= math.Abs(x) {
		m.c += (m.sum - t) + x
	} else {
		m.c += (x - t) + m.sum
	}
	m.sum = t
}

func floatStatistics[T float](ctx context.Context, pixels []byte, sel []uint8, p path) (Stats, error) {
	v := voxels[T](pixels)
	type part struct {
		off int
		m   floatMoments
	}
	var mu sync.Mutex
	var parts []part
	err := slabs(ctx, len(v), func(a, b int) {
		var m floatMoments
		for lo := a; lo < b; lo += floatBlock {
			hi := min(b, lo+floatBlock)
			var s []uint8
			if sel != nil {
				s = sel[lo:hi]
			}
			m.merge(floatBlockMoments(v[lo:hi], s, p))
		}
		mu.Lock()
		parts = append(parts, part{a, m})
		mu.Unlock()
	})
	if err != nil {
		return Stats{}, err
	}
	// Merging in voxel order makes the result independent of scheduling.
	slices.SortFunc(parts, func(x, y part) int { return cmp.Compare(x.off, y.off) })
	var total floatMoments
	for _, pt := range parts {
		total.merge(pt.m)
	}
	if total.count == 0 {
		return Stats{}, ErrEmpty
	}
	return Stats{Min: total.lo, Max: total.hi, Sum: total.sum + total.c, Mean: total.mean,
		Std: math.Sqrt(total.m2 / float64(total.count)), Count: total.count}, nil
}

// floatBlockMoments computes the moments of at most floatBlock voxels
// exactly as the vector kernels do.
func floatBlockMoments[T float](v []T, sel []uint8, p path) floatMoments {
	var acc [lanes]float64
	var count int
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	if p == vectorPath && sel == nil {
		var l, h float64
		if n, count, l, h = vecFloatSums(v, &acc); n > 0 {
			lo, hi = l, h
		}
	}
	c, l, h := floatSums(v[n:], sel, n, &acc)
	count += c
	if count == 0 {
		return floatMoments{}
	}
	m := floatMoments{count: int64(count), lo: min(lo, l), hi: max(hi, h)}
	m.sum = reduceLanes(&acc)
	m.mean = m.sum / float64(count)
	acc = [lanes]float64{}
	n = 0
	if p == vectorPath && sel == nil {
		n = vecFloatSquares(v, m.mean, &acc)
	}
	floatSquares(v[n:], sel, n, m.mean, &acc)
	m.m2 = reduceLanes(&acc)
	return m
}

func reduceLanes(acc *[lanes]float64) float64 {
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

// floatSums adds the non-NaN (and selected) voxels of v to acc, voxel i
// of the block going to lane i%lanes; v starts at index off of the block
// (a multiple of lanes) and sel, if not nil, covers the whole block. NaN is
// turned into +0 through its bits so the loop does not branch.
func floatSums[T float](v []T, sel []uint8, off int, acc *[lanes]float64) (count int, lo, hi float64) {
	const posInf, negInf = 0x7ff0000000000000, 0xfff0000000000000
	lo, hi = math.Inf(1), math.Inf(-1)
	if sel == nil {
		for i, x := range v {
			ok := b2u8(x == x)
			keep := -uint64(ok)
			b := math.Float64bits(float64(x)) & keep
			acc[i%lanes] += math.Float64frombits(b)
			lo = min(lo, math.Float64frombits(b|posInf&^keep))
			hi = max(hi, math.Float64frombits(b|negInf&^keep))
			count += int(ok)
		}
		return count, lo, hi
	}
	sel = sel[off:]
	sel = sel[:len(v)]
	for i, x := range v {
		ok := b2u8(x == x) & b2u8(sel[i] != 0)
		keep := -uint64(ok)
		b := math.Float64bits(float64(x)) & keep
		acc[i%lanes] += math.Float64frombits(b)
		lo = min(lo, math.Float64frombits(b|posInf&^keep))
		hi = max(hi, math.Float64frombits(b|negInf&^keep))
		count += int(ok)
	}
	return count, lo, hi
}

// floatSquares adds the squared deviations from mean of the voxels
// floatSums counted to acc, lane by lane like floatSums. The conversion of
// d*d forbids fusing it into an FMA, which the vector kernels do not use.
func floatSquares[T float](v []T, sel []uint8, off int, mean float64, acc *[lanes]float64) {
	if sel == nil {
		for i, x := range v {
			d := float64(x) - mean
			sq := math.Float64bits(float64(d * d))
			acc[i%lanes] += math.Float64frombits(sq & -uint64(b2u8(d == d)))
		}
		return
	}
	sel = sel[off:]
	sel = sel[:len(v)]
	for i, x := range v {
		d := float64(x) - mean
		sq := math.Float64bits(float64(d * d))
		acc[i%lanes] += math.Float64frombits(sq & -uint64(b2u8(d == d)&b2u8(sel[i] != 0)))
	}
}
