package clip

import (
	"context"
	"fmt"
	"slices"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// MaxMedianRadius is the largest radius Median accepts: a 21³ box of 9261
// voxels per output voxel.
const MaxMedianRadius = 10

// Median replaces every voxel by the median of the (2r+1)³ box around it,
// as scipy.ndimage.median_filter(img, size=2r+1, mode='reflect') does: the
// image is mirrored about its edges (d c b a | a b c d), so a 2D image (one
// slice) sees its slice repeated along z and a box wider than an axis
// wraps by repeated reflection. radius must lie in 1..MaxMedianRadius.
//
// The result has img's data type, geometry and calibrations (the median
// commutes with any monotonic calibration). Float NaN counts as larger than
// every number including +Inf (scipy leaves NaN's order undefined), and
// -0 as smaller than +0; a NaN result is the quiet NaN with all
// fraction bits set.
func Median(ctx context.Context, img *omni.Image, radius int) (*omni.Image, error) {
	px, h, err := imagePixels("median", img)
	if err != nil {
		return nil, err
	}
	if radius < 1 || radius > MaxMedianRadius {
		return nil, fmt.Errorf("%w: median: radius %d outside 1..%d", ErrBadArgument, radius, MaxMedianRadius)
	}
	out, err := omni.NewUninitialized(sameUnits(h, h.Size, h.DataType))
	if err != nil {
		return nil, fmt.Errorf("clip: median: %w", err)
	}
	dst := out.Pixels()
	switch h.DataType {
	case omni.Uint8:
		err = median(ctx, keysOf[uint8](px), keysOf[uint8](dst), h.Size, radius, plainKeys)
	case omni.Int8:
		err = median(ctx, keysOf[uint8](px), keysOf[uint8](dst), h.Size, radius, signedKeys)
	case omni.Uint16:
		err = median(ctx, keysOf[uint16](px), keysOf[uint16](dst), h.Size, radius, plainKeys)
	case omni.Int16:
		err = median(ctx, keysOf[uint16](px), keysOf[uint16](dst), h.Size, radius, signedKeys)
	case omni.Uint32:
		err = median(ctx, keysOf[uint32](px), keysOf[uint32](dst), h.Size, radius, plainKeys)
	case omni.Int32:
		err = median(ctx, keysOf[uint32](px), keysOf[uint32](dst), h.Size, radius, signedKeys)
	case omni.Float32:
		err = median(ctx, keysOf[uint32](px), keysOf[uint32](dst), h.Size, radius, floatKeys)
	case omni.Float64:
		err = median(ctx, keysOf[uint64](px), keysOf[uint64](dst), h.Size, radius, floatKeys)
	default:
		err = fmt.Errorf("%w: unsupported data type %v", ErrBadArgument, h.DataType)
	}
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: median: %w", err)
	}
	return out, nil
}

// keyType is the unsigned integer a voxel of the same width is sorted as.
type keyType interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// keysOf views pixel bytes as unsigned keys of the voxel's width, like
// voxels does for the voxel types.
func keysOf[K keyType](b []byte) []K {
	var zero K
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*K)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// keyKind says how a voxel's bits become an unsigned key whose order is
// the order of the values, so one integer kernel serves all data types.
type keyKind int

const (
	plainKeys  keyKind = iota // unsigned integers: the bits are the key
	signedKeys                // two's complement: flip the sign bit
	floatKeys                 // IEEE: flip all bits of negatives, the sign of positives; NaN last
)

// keyCodec converts between voxel bits and keys of one key kind and width.
type keyCodec[K keyType] struct {
	kind      keyKind
	sign, inf K // the sign bit; the bits of +Inf (floats only)
	shift     uint
}

func newKeyCodec[K keyType](kind keyKind) keyCodec[K] {
	var c keyCodec[K]
	c.kind = kind
	var all K = ^K(0)
	for all>>c.shift > 1 {
		c.shift++
	}
	c.sign = 1 << c.shift
	inf := uint64(0x7ff0000000000000) // float64; narrower K only for float32
	if c.shift == 31 {
		inf = 0x7f800000
	}
	c.inf = K(inf)
	return c
}

// keys converts voxel bits to keys in place.
func (c keyCodec[K]) keys(v []K) {
	switch c.kind {
	case signedKeys:
		for i, u := range v {
			v[i] = u ^ c.sign
		}
	case floatKeys:
		for i, u := range v {
			k := u ^ (-(u >> c.shift) | c.sign)
			if u&^c.sign > c.inf { // NaN of either sign
				k = ^K(0)
			}
			v[i] = k
		}
	}
}

// values converts keys back to voxel bits in place.
func (c keyCodec[K]) values(v []K) {
	switch c.kind {
	case signedKeys:
		for i, k := range v {
			v[i] = k ^ c.sign
		}
	case floatKeys:
		for i, k := range v {
			v[i] = k ^ (((k >> c.shift) - 1) | c.sign)
		}
	}
}

// median filters keys row by row: every output x-row reads the (2r+1)²
// input rows around it. Radius 1 sorts the nine keys at each x into a
// column and reduces each window of three columns with a branch-free
// selection network. Larger radii slide a window along x: a histogram of
// keys for 8- and 16-bit types, a sorted array for wider ones.
func median[K keyType](ctx context.Context, src, dst []K, size [3]int, r int, kind keyKind) error {
	nx, ny, nz := size[0], size[1], size[2]
	m := 2*r + 1
	colLen := m * m
	tx, ty, tz := reflectTable(nx, r), reflectTable(ny, r), reflectTable(nz, r)
	codec := newKeyCodec[K](kind)
	useHistogram := r > 1 && codec.shift < 16
	return forUnits(ctx, ny*nz, nx*colLen*m, func(r0, r1 int) {
		rows := make([][]K, colLen)
		var cols, win []K
		var hist *keyHistogram
		if useHistogram {
			hist = newKeyHistogram(int(codec.shift) + 1)
		} else {
			cols = make([]K, len(tx)*colLen)
			if r > 1 {
				win = make([]K, medianBufLen(colLen, m))
			}
		}
		for row := r0; row < r1; row++ {
			y, z := row%ny, row/ny
			for dz := range m {
				for dy := range m {
					rows[dz*m+dy] = src[(tz[z+dz]*ny+ty[y+dy])*nx:][:nx]
				}
			}
			o := dst[row*nx : (row+1)*nx]
			if useHistogram {
				histogramMedian(o, rows, tx, m, codec.flip(), hist)
				continue
			}
			if r == 1 {
				columns9(cols, rows, tx, codec)
				median27(o, cols)
			} else {
				for p, xs := range tx {
					col := cols[p*colLen : (p+1)*colLen]
					for j, in := range rows {
						col[j] = in[xs]
					}
					codec.keys(col)
					slices.Sort(col)
				}
				slidingMedian(o, cols, colLen, m, win)
			}
			codec.values(o)
		}
	})
}

// flip is what integer keys are XORed with: the sign bit for signed
// types, nothing for unsigned ones. Float keys need more than a flip.
func (c keyCodec[K]) flip() K {
	if c.kind == signedKeys {
		return c.sign
	}
	return 0
}

// keyHistogram counts keys of up to 16 bits in levels of 16-way bins, so
// that finding the k-th key scans at most 16 bins per level.
type keyHistogram struct {
	counts [][]uint16 // level l has 16^(l+1) bins; counts stay below 21³
	shifts []uint     // key >> shifts[l] is the key's bin at level l
}

func newKeyHistogram(bits int) *keyHistogram {
	h := &keyHistogram{}
	for l := 0; 4*l < bits; l++ {
		h.counts = append(h.counts, make([]uint16, 1<<(4*(l+1))))
		h.shifts = append(h.shifts, uint(bits-4*(l+1)))
	}
	return h
}

// update adds d (1, or 0xffff to subtract 1) to key k's bins.
func (h *keyHistogram) update(k uint, d uint16) {
	for l, c := range h.counts {
		c[k>>h.shifts[l]] += d
	}
}

// replace swaps key a for key b. Level by level from the finest, it stops
// where both share a bin: nearby voxels usually do, and skipping those
// updates spares the chains of increments to the same few coarse bins
// that would otherwise serialise the loop.
func (h *keyHistogram) replace(a, b uint) {
	for l := len(h.counts) - 1; l >= 0; l-- {
		s := h.shifts[l]
		if a>>s == b>>s {
			return
		}
		c := h.counts[l]
		c[a>>s]--
		c[b>>s]++
	}
}

// kth returns the key of rank t (0-based) among the counted keys.
func (h *keyHistogram) kth(t int) uint {
	bin := 0
	for _, c := range h.counts {
		bin *= 16
		for t >= int(c[bin]) {
			t -= int(c[bin])
			bin++
		}
	}
	return uint(bin)
}

// histogramMedian writes the medians of one output row to o from the rows
// of input around it, sliding a histogram of the window's keys along x:
// each step drops one column of keys and adds the next. The histogram is
// left empty for the next row.
func histogramMedian[K keyType](o []K, rows [][]K, tx []int, m int, flip K, h *keyHistogram) {
	column := func(p int, d uint16) {
		xs := tx[p]
		for _, in := range rows {
			h.update(uint(in[xs]^flip), d)
		}
	}
	for p := range m {
		column(p, 1)
	}
	mid := m * len(rows) / 2
	for x := range o {
		o[x] = K(h.kth(mid)) ^ flip
		if x+1 < len(o) {
			out, in := tx[x], tx[x+m]
			for _, v := range rows {
				h.replace(uint(v[out]^flip), uint(v[in]^flip))
			}
		}
	}
	for p := len(o) - 1; p < len(o)-1+m; p++ {
		column(p, 0xffff)
	}
}

// slidingMedian writes the median of each window of m sorted columns
// (stored one after another in cols, colLen keys each) to o. It keeps the
// window sorted and moves it along x by dropping the leaving column and
// merging in the entering one, both without data-dependent branches.
func slidingMedian[K keyType](o, cols []K, colLen, m int, buf []K) {
	n := m * colLen
	// w and next hold a window; kept the window minus a column and add a
	// column, each followed by a sentinel for mergeSorted.
	w, next := buf[:n], buf[n:2*n]
	kept, add := buf[2*n:3*n-colLen+1], buf[3*n-colLen+1:3*n+2]
	add[colLen] = ^K(0)
	copy(w, cols[:n])
	slices.Sort(w)
	mid := n / 2
	for x := range o {
		o[x] = w[mid]
		if x+1 == len(o) {
			break
		}
		dropSorted(kept, w, cols[x*colLen:(x+1)*colLen])
		copy(add, cols[(x+m)*colLen:(x+m+1)*colLen])
		mergeSorted(next, kept, add)
		w, next = next, w
	}
}

// medianBufLen is the scratch slidingMedian needs.
func medianBufLen(colLen, m int) int {
	return 3*m*colLen + 2
}

// oneIf is 1 for true and 0 for false; the compiler emits SETcc.
func oneIf(b bool) int {
	var v int
	if b {
		v = 1
	}
	return v
}

// dropSorted writes w without the keys of drop (a sorted sub-multiset of
// sorted w) to dst, followed by the largest key as a sentinel for
// mergeSorted.
func dropSorted[K keyType](dst, w, drop []K) {
	dst = dst[:len(w)-len(drop)+1]
	last := len(drop) - 1
	i, j := 0, 0
	for _, v := range w {
		hit := oneIf(v == drop[min(j, last)]) & oneIf(j <= last)
		dst[min(i, len(dst)-1)] = v
		i += 1 - hit
		j += hit
	}
	dst[len(dst)-1] = ^K(0)
}

// mergeSorted merges sorted a and b, each followed by a sentinel holding
// the largest key, into out (len(a)+len(b)-2 keys). Reading a sentinel
// where a real largest key remains yields the same value, so indexes only
// need clamping at the sentinels.
func mergeSorted[K keyType](out, a, b []K) {
	na, nb := len(a)-1, len(b)-1
	i, j := 0, 0
	for k := range out {
		x, y := a[i], b[j]
		takeA := oneIf(x <= y)
		out[k] = min(x, y)
		i = min(i+takeA, na)
		j = min(j+1-takeA, nb)
	}
}

// columns9 fills cols with the sorted keys of the nine rows at each x of
// tx, reading the rows through locals to keep slice headers in registers.
func columns9[K keyType](cols []K, rows [][]K, tx []int, codec keyCodec[K]) {
	r0, r1, r2, r3, r4 := rows[0], rows[1], rows[2], rows[3], rows[4]
	r5, r6, r7, r8 := rows[5], rows[6], rows[7], rows[8]
	cols = cols[:len(tx)*9]
	for p, x := range tx {
		c := cols[p*9 : p*9+9]
		c[0], c[1], c[2], c[3], c[4] = r0[x], r1[x], r2[x], r3[x], r4[x]
		c[5], c[6], c[7], c[8] = r5[x], r6[x], r7[x], r8[x]
		if codec.kind != plainKeys {
			codec.keys(c)
		}
		sort9(c)
	}
}

// sort9 sorts nine keys with Batcher's odd-even merge network (for 16
// inputs, pruned to 9): fixed compare-exchanges the compiler turns into
// conditional moves, so random data costs no mispredicted branches.
func sort9[K keyType](c []K) {
	c = c[:9]
	a0, a1, a2, a3, a4, a5, a6, a7, a8 := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	a0, a1 = min(a0, a1), max(a0, a1)
	a2, a3 = min(a2, a3), max(a2, a3)
	a0, a2 = min(a0, a2), max(a0, a2)
	a1, a3 = min(a1, a3), max(a1, a3)
	a1, a2 = min(a1, a2), max(a1, a2)
	a4, a5 = min(a4, a5), max(a4, a5)
	a6, a7 = min(a6, a7), max(a6, a7)
	a4, a6 = min(a4, a6), max(a4, a6)
	a5, a7 = min(a5, a7), max(a5, a7)
	a5, a6 = min(a5, a6), max(a5, a6)
	a0, a4 = min(a0, a4), max(a0, a4)
	a2, a6 = min(a2, a6), max(a2, a6)
	a2, a4 = min(a2, a4), max(a2, a4)
	a1, a5 = min(a1, a5), max(a1, a5)
	a3, a7 = min(a3, a7), max(a3, a7)
	a3, a5 = min(a3, a5), max(a3, a5)
	a1, a2 = min(a1, a2), max(a1, a2)
	a3, a4 = min(a3, a4), max(a3, a4)
	a5, a6 = min(a5, a6), max(a5, a6)
	a0, a8 = min(a0, a8), max(a0, a8)
	a4, a8 = min(a4, a8), max(a4, a8)
	a2, a4 = min(a2, a4), max(a2, a4)
	a6, a8 = min(a6, a8), max(a6, a8)
	a3, a5 = min(a3, a5), max(a3, a5)
	a1, a2 = min(a1, a2), max(a1, a2)
	a3, a4 = min(a3, a4), max(a3, a4)
	a5, a6 = min(a5, a6), max(a5, a6)
	a7, a8 = min(a7, a8), max(a7, a8)
	c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8] = a0, a1, a2, a3, a4, a5, a6, a7, a8
}

// median27 writes the median of each 3x3x3 window to o, given the sorted
// 9-key columns at x = -1 .. len(o) in cols.
//
// With the three columns A, B, C of a window side by side, sorting each
// rank i (A[i], B[i], C[i]) into (lo, mid, hi) keeps the three new columns
// sorted. An entry then has at least (i+1)(j+1) entries <= it and
// (9-i)(3-j) >= it (j = 0, 1, 2 for lo, mid, hi), which rules out all but
// 13 candidates with 7 entries known below them: lo of ranks 5..8, mid of
// ranks 2..6 and hi of ranks 0..3. The median is the 7th smallest of these
// three sorted lists.
func median27[K keyType](o, cols []K) {
	cols = cols[:(len(o)+2)*9]
	for x := range o {
		a := cols[x*9 : x*9+9]
		b := cols[x*9+9 : x*9+18]
		c := cols[x*9+18 : x*9+27]
		// hi of ranks 0..3 (h), mid of ranks 2..6 (m), lo of ranks 5..8 (l).
		h0 := max(a[0], b[0], c[0])
		h1 := max(a[1], b[1], c[1])
		p, q := min(a[2], b[2]), max(a[2], b[2])
		h2, m0 := max(q, c[2]), max(p, min(q, c[2]))
		p, q = min(a[3], b[3]), max(a[3], b[3])
		h3, m1 := max(q, c[3]), max(p, min(q, c[3]))
		p, q = min(a[4], b[4]), max(a[4], b[4])
		m2 := max(p, min(q, c[4]))
		p, q = min(a[5], b[5]), max(a[5], b[5])
		l0, m3 := min(p, c[5]), max(p, min(q, c[5]))
		p, q = min(a[6], b[6]), max(a[6], b[6])
		l1, m4 := min(p, c[6]), max(p, min(q, c[6]))
		l2 := min(a[7], b[7], c[7])
		l3 := min(a[8], b[8], c[8])
		// Merge l and h: l ascending followed by h descending is bitonic.
		// Only x[1..5] are needed below.
		x0, x4 := min(l0, h3), max(l0, h3)
		x1, x5 := min(l1, h2), max(l1, h2)
		x2, x6 := min(l2, h1), max(l2, h1)
		x3, x7 := min(l3, h0), max(l3, h0)
		x0, x2 = min(x0, x2), max(x0, x2)
		x1, x3 = min(x1, x3), max(x1, x3)
		x4 = min(x4, x6)
		x5 = min(x5, x7)
		x1 = max(x0, x1)
		x2, x3 = min(x2, x3), max(x2, x3)
		x4, x5 = min(x4, x5), max(x4, x5)
		// The 7th smallest of sorted x (8) and m (5) is the smallest over
		// splits i of the largest of x[:i] and m[:7-i]; i = 7 (all from x)
		// never wins, as TestMedian27 proves, so it is left out.
		o[x] = min(max(x1, m4), max(x2, m3), max(x3, m2), max(x4, m1), max(x5, m0))
	}
}
