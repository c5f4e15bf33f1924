package clip

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// Connectivity selects which neighbours touch a voxel in the binary
// kernels: 6 (faces), 18 (faces and edges) or 26 (faces, edges and
// corners), i.e. scipy's generate_binary_structure(3, 1|2|3). On 2D images
// (size z = 1) it acts in the plane: 6 is the 4-neighbourhood, 18 and 26
// the 8-neighbourhood.
//
// The binary kernels (Morphology, Label, KeepLargest, RemoveSmall,
// DistanceTransform, BVTV) take images of any data type and treat a voxel
// as foreground when it is non-zero, as numpy's x != 0 does: NaN is
// foreground, -0.0 is background.
type Connectivity int

// The connectivities the binary kernels accept.
const (
	Conn6  Connectivity = 6
	Conn18 Connectivity = 18
	Conn26 Connectivity = 26
)

func (c Connectivity) valid() bool {
	return c == Conn6 || c == Conn18 || c == Conn26
}

// MorphOp is a binary morphological operation.
type MorphOp int

// The operations of Morphology.
const (
	Erode MorphOp = iota
	Dilate
	Open
	Close
)

func (op MorphOp) String() string {
	switch op {
	case Erode:
		return "erode"
	case Dilate:
		return "dilate"
	case Open:
		return "open"
	case Close:
		return "close"
	}
	return fmt.Sprintf("MorphOp(%d)", int(op))
}

// MaxMorphRadius is the largest radius Morphology accepts.
const MaxMorphRadius = 64

// Morphology applies a binary erosion, dilation, opening or closing to the
// foreground of img and returns it as a uint8 0/1 image. The structuring
// element is the elementary neighbourhood of conn applied radius times
// (1..MaxMorphRadius), so radius r reaches r voxels along the axes.
//
// The result equals scipy.ndimage.binary_erosion / binary_dilation /
// binary_opening / binary_closing(img != 0,
// generate_binary_structure(3, c), iterations=radius, border_value=0);
// 2D images use the in-plane part of that structure, because the 3D one
// would erode every single-slice image away. Border value 0 means the
// outside counts as background: erosion eats into objects touching the
// image border, and closing (dilate, then erode) can therefore remove
// foreground within radius of the border instead of only adding to it. We
// keep scipy's convention rather than padding, so results match the
// platform's Python tooling voxel for voxel and the treatment of the
// border is the same for every operation.
//
// Spacing is ignored: the neighbourhood is counted in voxels.
func Morphology(ctx context.Context, img *omni.Image, op MorphOp, conn Connectivity, radius int) (*omni.Image, error) {
	if op < Erode || op > Close {
		return nil, fmt.Errorf("%w: morphology: unknown operation %d", ErrBadArgument, int(op))
	}
	if !conn.valid() {
		return nil, fmt.Errorf("%w: morphology: connectivity %d, want 6, 18 or 26", ErrBadArgument, int(conn))
	}
	if radius < 1 || radius > MaxMorphRadius {
		return nil, fmt.Errorf("%w: morphology: radius %d outside 1..%d", ErrBadArgument, radius, MaxMorphRadius)
	}
	src, err := packImage(ctx, "morphology", img)
	if err != nil {
		return nil, err
	}
	m := newMorpher(src, conn)
	// Opening is radius erosions then as many dilations; closing the
	// reverse.
	erodeFirst := op == Erode || op == Open
	phases := 1
	if op == Open || op == Close {
		phases = 2
	}
	cur := src
	for phase := 0; phase < phases; phase++ {
		erode := erodeFirst == (phase == 0)
		for i := 0; i < radius; i++ {
			if cur, err = m.step(ctx, cur, erode); err != nil {
				return nil, fmt.Errorf("clip: morphology: %w", err)
			}
		}
	}
	out, err := newOutputLike(img, omni.Uint8)
	if err != nil {
		return nil, fmt.Errorf("clip: morphology: %w", err)
	}
	if err := cur.unpack(ctx, out.Pixels()); err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: morphology: %w", err)
	}
	return out, nil
}

// bitVolume is a binary volume packed 64 voxels to a word, each x-row
// starting on a word boundary. Bits past nx in a row's last word are always
// zero, which is what makes them act as background border voxels.
type bitVolume struct {
	nx, ny, nz int
	wpr        int // words per row
	words      []uint64
}

func newBitVolume(nx, ny, nz int) *bitVolume {
	wpr := (nx + 63) / 64
	return &bitVolume{nx: nx, ny: ny, nz: nz, wpr: wpr, words: make([]uint64, wpr*ny*nz)}
}

func (b *bitVolume) rows() int { return b.ny * b.nz }

func (b *bitVolume) row(r int) []uint64 { return b.words[r*b.wpr : (r+1)*b.wpr] }

// lastMask keeps the valid bits of a row's last word.
func (b *bitVolume) lastMask() uint64 {
	if k := b.nx % 64; k != 0 {
		return 1<<k - 1
	}
	return math.MaxUint64
}

// imagePixels returns img's pixels, checking that the image is still open.
func imagePixels(op string, img *omni.Image) ([]byte, *omni.Header, error) {
	if img == nil {
		return nil, nil, fmt.Errorf("%w: %s: image is nil", ErrBadArgument, op)
	}
	h := img.Header()
	px := img.Pixels()
	if int64(len(px)) != h.PixelBytes() {
		return nil, nil, fmt.Errorf("%w: %s: image is closed", ErrBadArgument, op)
	}
	return px, h, nil
}

// packImage packs the foreground (non-zero voxels) of img into bits.
func packImage(ctx context.Context, op string, img *omni.Image) (*bitVolume, error) {
	px, h, err := imagePixels(op, img)
	if err != nil {
		return nil, err
	}
	b := newBitVolume(h.Size[0], h.Size[1], h.Size[2])
	var fn func(lo, hi int)
	switch h.DataType {
	case omni.Uint8:
		fn = packRows(b, voxels[uint8](px), px)
	case omni.Int8:
		fn = packRows(b, voxels[int8](px), px)
	case omni.Uint16:
		fn = packRows(b, voxels[uint16](px), px)
	case omni.Int16:
		fn = packRows(b, voxels[int16](px), px)
	case omni.Uint32:
		fn = packRows(b, voxels[uint32](px), px)
	case omni.Int32:
		fn = packRows(b, voxels[int32](px), px)
	case omni.Float32:
		fn = packRows(b, voxels[float32](px), px)
	case omni.Float64:
		fn = packRows(b, voxels[float64](px), px)
	default:
		return nil, fmt.Errorf("clip: %s: unsupported data type %v", op, h.DataType)
	}
	if err := parallelRows(ctx, b.rows(), b.nx, fn); err != nil {
		return nil, fmt.Errorf("clip: %s: %w", op, err)
	}
	return b, nil
}

// packRows packs rows of v (whose bytes are px). Whole words of 64 voxels
// go through packWord, a branch-free test of 8 bytes at a time; the rest
// of a row (and every row on big-endian hosts, where the lanes would be
// ordered differently) takes the plain loop.
func packRows[T number](b *bitVolume, v []T, px []byte) func(lo, hi int) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	swar := omni.NativeByteOrder() == omni.LittleEndian
	keep := uint64(math.MaxUint64)
	if isFloat[T]() { // ignore the sign bit: -0.0 is background
		keep = laneHigh[size] ^ math.MaxUint64
	}
	return func(lo, hi int) {
		nx := b.nx
		for r := lo; r < hi; r++ {
			row := v[r*nx : r*nx+nx]
			out := b.row(r)
			wi := 0
			if swar {
				rowBytes := px[r*nx*size : (r+1)*nx*size]
				for ; (wi+1)*64 <= nx; wi++ {
					out[wi] = packWord(rowBytes[wi*64*size:(wi+1)*64*size], size, keep)
				}
			}
			for ; wi < len(out); wi++ {
				seg := row[wi*64 : min(nx, wi*64+64)]
				var w uint64
				for i, x := range seg {
					if x != 0 {
						w |= 1 << uint(i)
					}
				}
				out[wi] = w
			}
		}
	}
}

// laneHigh[size] has the top bit of every size-byte lane of a word set.
var laneHigh = [9]uint64{1: 0x8080808080808080, 2: 0x8000800080008000, 4: 0x8000000080000000, 8: 0x8000000000000000}

// packWord packs 64 little-endian voxels of size bytes into a word, bit i
// set if voxel i has a non-zero bit within keep. Per word of 8 bytes, a
// lane is non-zero iff adding the lane's low-bits mask to its low bits
// carries into, or its own value already has, the lane's top bit; the
// lanes' top bits are then gathered by a multiply whose partial products
// land on distinct bits.
func packWord(p []byte, size int, keep uint64) uint64 {
	le := binary.LittleEndian
	var w uint64
	switch size {
	case 1:
		a := (*[64]byte)(p)
		const hi, lo = 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
		for k := 0; k < 8; k++ {
			u := le.Uint64(a[8*k:])
			nz := ((u & lo) + lo | u) & hi
			w |= (nz >> 7 * 0x0102040810204080 >> 56) << uint(8*k)
		}
	case 2:
		a := (*[128]byte)(p)
		const hi, lo = 0x8000800080008000, 0x7fff7fff7fff7fff
		const gather = 1<<60 | 1<<45 | 1<<30 | 1<<15
		for k := 0; k < 16; k++ {
			u := le.Uint64(a[8*k:]) & keep
			nz := ((u & lo) + lo | u) & hi
			w |= (nz >> 15 * gather >> 60) << uint(4*k)
		}
	case 4:
		a := (*[256]byte)(p)
		const hi, lo = 0x8000000080000000, 0x7fffffff7fffffff
		for k := 0; k < 32; k++ {
			u := le.Uint64(a[8*k:]) & keep
			nz := ((u & lo) + lo | u) & hi
			w |= (nz>>31&1 | nz>>62) << uint(2*k)
		}
	case 8:
		a := (*[512]byte)(p)
		for k := 0; k < 64; k++ {
			u := le.Uint64(a[8*k:]) & keep
			w |= (u | -u) >> 63 << uint(k)
		}
	}
	return w
}

// spreadBits maps a byte of 8 voxel bits to 8 bytes of 0/1, little-endian,
// so unpacking writes a word of output per 8 voxels. Read-only after init.
var spreadBits = func() (t [256]uint64) {
	for b := range t {
		for i := 0; i < 8; i++ {
			if b&(1<<i) != 0 {
				t[b] |= 1 << (8 * i)
			}
		}
	}
	return t
}()

// unpack writes the volume as 0/1 bytes.
func (b *bitVolume) unpack(ctx context.Context, dst []byte) error {
	nx := b.nx
	return parallelRows(ctx, b.rows(), nx, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			out := dst[r*nx : r*nx+nx]
			for wi, w := range b.row(r) {
				seg := out[wi*64 : min(nx, wi*64+64)]
				i := 0
				for ; i+8 <= len(seg); i += 8 {
					binary.LittleEndian.PutUint64(seg[i:], spreadBits[uint8(w>>uint(i))])
				}
				for ; i < len(seg); i++ {
					seg[i] = uint8(w >> uint(i) & 1)
				}
			}
		}
	})
}

// A morpher applies the elementary erosion or dilation of one
// connectivity. Each step first takes the x-neighbourhood of every row
// (h = row | row<<1 | row>>1, or & for erosion) and then combines whole
// rows: a row of the structuring element that includes x-1 and x+1 reads
// h, one that only includes x reads the row itself. Both work a word (64
// voxels) at a time.
type morpher struct {
	offsets []rowOffset
	horiz   *bitVolume // x-neighbourhoods of the step's input
	free    *bitVolume // the ping-pong buffer the next step writes
}

// rowOffset is one row of the structuring element relative to the output
// row; wide means it covers x-1..x+1, not just x.
type rowOffset struct {
	dz, dy int
	wide   bool
}

func newMorpher(b *bitVolume, conn Connectivity) *morpher {
	// A row of the element whose z, y offsets have k non-zero components
	// holds the x offsets that keep the number of non-zero components
	// within the connectivity's limit: all three if k < limit, only x = 0
	// if k == limit, none beyond.
	limit := 1
	switch conn {
	case Conn18:
		limit = 2
	case Conn26:
		limit = 3
	}
	var offs []rowOffset
	for dz := -1; dz <= 1; dz++ {
		if b.nz == 1 && dz != 0 {
			continue // 2D: in-plane neighbourhood only
		}
		for dy := -1; dy <= 1; dy++ {
			k := 0
			if dz != 0 {
				k++
			}
			if dy != 0 {
				k++
			}
			switch {
			case k < limit:
				offs = append(offs, rowOffset{dz, dy, true})
			case k == limit:
				offs = append(offs, rowOffset{dz, dy, false})
			}
		}
	}
	return &morpher{offsets: offs, horiz: newBitVolume(b.nx, b.ny, b.nz), free: newBitVolume(b.nx, b.ny, b.nz)}
}

// step applies one elementary erosion or dilation to src and returns the
// result; src becomes the buffer of the following step.
func (m *morpher) step(ctx context.Context, src *bitVolume, erode bool) (*bitVolume, error) {
	h, dst := m.horiz, m.free
	mask := src.lastMask()
	if err := parallelRows(ctx, src.rows(), src.nx, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			horizontal(h.row(r), src.row(r), erode, mask)
		}
	}); err != nil {
		return nil, err
	}
	if err := parallelRows(ctx, src.rows(), src.nx, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			m.combineRow(dst, src, h, r, erode)
		}
	}); err != nil {
		return nil, err
	}
	m.free = src
	return dst, nil
}

// horizontal sets out to the 3-voxel x-neighbourhood AND (erode) or OR of
// in; voxels beyond the row's ends count as background.
func horizontal(out, in []uint64, erode bool, lastMask uint64) {
	n := len(in)
	out = out[:n]
	for i, w := range in {
		var prev, next uint64
		if i > 0 {
			prev = in[i-1] >> 63
		}
		if i+1 < n {
			next = in[i+1] << 63
		}
		left := w<<1 | prev  // bit x holds voxel x-1
		right := w>>1 | next // bit x holds voxel x+1
		if erode {
			out[i] = w & left & right
		} else {
			out[i] = w | left | right
		}
	}
	out[n-1] &= lastMask
}

func (m *morpher) combineRow(dst, src, h *bitVolume, r int, erode bool) {
	z, y := r/src.ny, r%src.ny
	out := dst.row(r)
	first := true
	for _, o := range m.offsets {
		zz, yy := z+o.dz, y+o.dy
		if zz < 0 || zz >= src.nz || yy < 0 || yy >= src.ny {
			if erode { // the border is background: nothing survives
				clear(out)
				return
			}
			continue
		}
		from := src
		if o.wide {
			from = h
		}
		in := from.row(zz*src.ny + yy)
		in = in[:len(out)]
		switch {
		case first:
			copy(out, in)
			first = false
		case erode:
			for i, w := range in {
				out[i] &= w
			}
		default:
			for i, w := range in {
				out[i] |= w
			}
		}
	}
}

// parallelRows runs fn over [0, rows) in chunks on all cores; rowLen is
// the work per row, used to keep chunks large enough to be worth a
// goroutine. It stops handing out chunks once ctx is done and then
// returns ctx.Err().
func parallelRows(ctx context.Context, rows, rowLen int, fn func(lo, hi int)) error {
	// Bounded chunks keep cancellation prompt (see maxChunkWork).
	parts := max(4*runtime.GOMAXPROCS(0), int((int64(rows)*int64(rowLen)+maxChunkWork-1)/maxChunkWork))
	return runChunks(ctx, chunkBounds(rows, rowLen, parts), fn)
}

// chunkBounds splits [0, n) items of cost each into at most parts ranges
// of at least 32k cost, returning the boundaries b[0] = 0 < ... < b[k] = n.
func chunkBounds(n, cost, parts int) []int {
	const minCost = 1 << 15
	if cost < 1 {
		cost = 1
	}
	if most := n * cost / minCost; parts > most {
		parts = max(1, most)
	}
	parts = min(parts, max(n, 1))
	b := make([]int, parts+1)
	for i := range b {
		b[i] = int(int64(n) * int64(i) / int64(parts))
	}
	return b
}

// runChunks runs fn on the ranges [b[i], b[i+1]) concurrently, at most
// GOMAXPROCS at a time, and returns ctx.Err() if the context ended.
func runChunks(ctx context.Context, b []int, fn func(lo, hi int)) error {
	chunks := len(b) - 1
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for i := 0; i < chunks; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if b[i] < b[i+1] {
				fn(b[i], b[i+1])
			}
		}
		return ctx.Err()
	}
	next := make(chan int, chunks)
	for i := 0; i < chunks; i++ {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				if b[i] < b[i+1] {
					fn(b[i], b[i+1])
				}
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}
