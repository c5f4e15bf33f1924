package clip

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/xfhost/xfhost/omni"
)

// Label numbers the connected components of img's foreground (non-zero
// voxels) under conn and returns a uint32 image of the labels, 0 for
// background, 1..count for the components in the order in which their
// first voxel appears in x-fastest raster order. That is exactly
// scipy.ndimage.label(img != 0, generate_binary_structure(3, c)).
//
// The volume is cut into runs of foreground along x; runs of neighbouring
// rows that touch are merged with a union-find whose root is always the
// lowest run index, which is what yields raster-order numbering. Blocks of
// rows are merged in parallel and their seams afterwards.
func Label(ctx context.Context, img *omni.Image, conn Connectivity) (labels *omni.Image, count int, err error) {
	rs, err := labelRuns(ctx, "label", img, conn)
	if err != nil {
		return nil, 0, err
	}
	out, err := newOutputLike(img, omni.Uint32)
	if err != nil {
		return nil, 0, fmt.Errorf("clip: label: %w", err)
	}
	dst := voxels[uint32](out.Pixels())
	if err := parallelRows(ctx, rs.rows(), rs.nx, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := dst[r*rs.nx : (r+1)*rs.nx]
			clear(row) // the output is not zeroed; a row is cache-sized
			for i := rs.rowStart[r]; i < rs.rowStart[r+1]; i++ {
				run := rs.runs[i]
				fill(row[run.start:run.end], rs.label[i])
			}
		}
	}); err != nil {
		out.Close()
		return nil, 0, fmt.Errorf("clip: label: %w", err)
	}
	return out, rs.count, nil
}

func fill[T number](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// ComponentSizes counts the voxels of each label of a uint32 labels image
// such as Label returns: element i is the size of label i+1. A label above
// count is an error.
func ComponentSizes(ctx context.Context, labels *omni.Image, count int) ([]int64, error) {
	px, h, err := imagePixels("component sizes", labels)
	if err != nil {
		return nil, err
	}
	if h.DataType != omni.Uint32 {
		return nil, fmt.Errorf("%w: component sizes: labels image is %v, want uint32", ErrBadArgument, h.DataType)
	}
	v := voxels[uint32](px)
	// An image of n voxels holds at most n labels; a larger count would
	// only allocate sizes that must be zero.
	if count < 0 || count > len(v) {
		return nil, fmt.Errorf("%w: component sizes: count %d outside 0..%d (the voxel count)", ErrBadArgument, count, len(v))
	}
	// Each part counts into its own histogram; with many labels per voxel
	// those would cost more than they save, so use a single part then.
	parts := runtime.GOMAXPROCS(0)
	if count > len(v)/(4*parts) {
		parts = 1
	}
	var (
		mu    sync.Mutex
		total = make([]int64, count+1)
		bad   = uint32(0)
	)
	err = runChunks(ctx, chunkBounds(len(v), 1, parts), func(lo, hi int) {
		hist := make([]int64, count+1)
		var worst uint32
		for _, l := range v[lo:hi] {
			if int(l) < len(hist) {
				hist[l]++
			} else {
				worst = max(worst, l)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i, c := range hist {
			total[i] += c
		}
		bad = max(bad, worst)
	})
	if err != nil {
		return nil, fmt.Errorf("clip: component sizes: %w", err)
	}
	if bad != 0 {
		return nil, fmt.Errorf("%w: component sizes: label %d exceeds count %d", ErrBadArgument, bad, count)
	}
	return total[1:], nil
}

// KeepLargest returns a uint8 0/1 image of the n largest components of
// img's foreground under conn (all of them if there are fewer); of
// components of equal size the lower label (earlier in raster order) wins.
func KeepLargest(ctx context.Context, img *omni.Image, conn Connectivity, n int) (*omni.Image, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: keep largest: n = %d, want at least 1", ErrBadArgument, n)
	}
	rs, err := labelRuns(ctx, "keep largest", img, conn)
	if err != nil {
		return nil, err
	}
	sizes := rs.sizes()
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case sizes[a] > sizes[b]:
			return -1
		case sizes[a] < sizes[b]:
			return 1
		}
		return 0
	})
	keep := make([]bool, len(sizes)+1)
	for _, i := range order[:min(n, len(order))] {
		keep[i+1] = true
	}
	return rs.render(ctx, "keep largest", img, keep)
}

// RemoveSmall returns a uint8 0/1 image of img's foreground without the
// components under conn that have fewer than minSize voxels.
func RemoveSmall(ctx context.Context, img *omni.Image, conn Connectivity, minSize int64) (*omni.Image, error) {
	if minSize < 0 {
		return nil, fmt.Errorf("%w: remove small: minimum size %d is negative", ErrBadArgument, minSize)
	}
	rs, err := labelRuns(ctx, "remove small", img, conn)
	if err != nil {
		return nil, err
	}
	sizes := rs.sizes()
	keep := make([]bool, len(sizes)+1)
	for i, s := range sizes {
		keep[i+1] = s >= minSize
	}
	return rs.render(ctx, "remove small", img, keep)
}

// run is a foreground run [start, end) along x.
type run struct{ start, end int32 }

// runSet is the foreground of a volume as runs, row by row (row r = z*ny +
// y), with a component label per run once labelled.
type runSet struct {
	nx, ny, nz int
	rowStart   []int // runs of row r are runs[rowStart[r]:rowStart[r+1]]
	runs       []run
	label      []uint32 // union-find parents while merging, then labels
	count      int
}

func (rs *runSet) rows() int { return rs.ny * rs.nz }

func labelRuns(ctx context.Context, op string, img *omni.Image, conn Connectivity) (*runSet, error) {
	if !conn.valid() {
		return nil, fmt.Errorf("%w: %s: connectivity %d, want 6, 18 or 26", ErrBadArgument, op, int(conn))
	}
	b, err := packImage(ctx, op, img)
	if err != nil {
		return nil, err
	}
	rs, err := extractRuns(ctx, b)
	if err == nil {
		err = rs.merge(ctx, conn)
	}
	if err != nil {
		return nil, fmt.Errorf("clip: %s: %w", op, err)
	}
	rs.number()
	return rs, nil
}

// extractRuns finds the runs of set bits of every row: it counts them
// first so that all rows can be filled in parallel into one array.
func extractRuns(ctx context.Context, b *bitVolume) (*runSet, error) {
	if b.nx > math.MaxInt32 {
		return nil, fmt.Errorf("rows of %d voxels are too long to label", b.nx)
	}
	rs := &runSet{nx: b.nx, ny: b.ny, nz: b.nz, rowStart: make([]int, b.rows()+1)}
	err := parallelRows(ctx, b.rows(), b.nx/8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, carry := 0, uint64(0)
			for _, w := range b.row(r) {
				n += bits.OnesCount64(w &^ (w<<1 | carry)) // bits that start a run
				carry = w >> 63
			}
			rs.rowStart[r+1] = n
		}
	})
	if err != nil {
		return nil, err
	}
	for r := 1; r < len(rs.rowStart); r++ {
		rs.rowStart[r] += rs.rowStart[r-1]
	}
	total := rs.rowStart[len(rs.rowStart)-1]
	if int64(total) >= math.MaxUint32 {
		return nil, fmt.Errorf("%d foreground runs are too many to label", total)
	}
	rs.runs = make([]run, total)
	err = parallelRows(ctx, b.rows(), b.nx/8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			out := rs.runs[rs.rowStart[r]:rs.rowStart[r+1]]
			k := 0
			in, start := false, 0
			for wi, w := range b.row(r) {
				base := wi * 64
				for {
					if !in {
						if w == 0 {
							break
						}
						s := bits.TrailingZeros64(w)
						start, in = base+s, true
						w |= 1<<uint(s) - 1 // so the end is the first clear bit
					}
					if ^w == 0 {
						break // the run goes on in the next word
					}
					e := bits.TrailingZeros64(^w)
					out[k] = run{int32(start), int32(base + e)}
					k++
					in = false
					w &^= 1<<uint(e) - 1
				}
			}
			if in {
				out[k] = run{int32(start), int32(b.nx)}
			}
		}
	})
	return rs, err
}

// neighbour is a row earlier in raster order that can touch the current
// one: at offset dz, dy, with runs touching if they overlap after one of
// them is widened by reach voxels (1 when diagonal x-steps connect).
type neighbour struct {
	dz, dy int
	reach  int32
}

func backwardNeighbours(conn Connectivity) []neighbour {
	limit := 1 // as in newMorpher: non-zero offset components allowed
	switch conn {
	case Conn18:
		limit = 2
	case Conn26:
		limit = 3
	}
	var ns []neighbour
	for _, o := range [][2]int{{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}} {
		k := 0
		for _, d := range o {
			if d != 0 {
				k++
			}
		}
		switch {
		case k < limit:
			ns = append(ns, neighbour{o[0], o[1], 1})
		case k == limit:
			ns = append(ns, neighbour{o[0], o[1], 0})
		}
	}
	return ns
}

// merge unites touching runs. Blocks of rows are merged in parallel, each
// only with rows inside the block, so every worker writes only its own
// runs' parents; the seams between blocks are merged afterwards.
func (rs *runSet) merge(ctx context.Context, conn Connectivity) error {
	rs.label = make([]uint32, len(rs.runs))
	for i := range rs.label {
		rs.label[i] = uint32(i)
	}
	ns := backwardNeighbours(conn)
	bounds := chunkBounds(rs.rows(), rs.nx, 4*runtime.GOMAXPROCS(0))
	err := runChunks(ctx, bounds, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			rs.mergeRow(r, ns, lo, r)
		}
	})
	if err != nil {
		return err
	}
	// Only the first ny+1 rows of a block have neighbours before it.
	for i := 1; i+1 < len(bounds); i++ {
		lo, hi := bounds[i], bounds[i+1]
		for r := lo; r < min(hi, lo+rs.ny+1); r++ {
			rs.mergeRow(r, ns, 0, lo)
		}
	}
	return ctx.Err()
}

// mergeRow unites the runs of row r with those of its earlier neighbour
// rows that lie in [from, to). It walks the row's runs once, keeping a
// cursor into each neighbour row and the root of the current run, so a
// touching run already in the same set costs one comparison.
func (rs *runSet) mergeRow(r int, ns []neighbour, from, to int) {
	a0, a1 := rs.rowStart[r], rs.rowStart[r+1]
	if a0 == a1 {
		return
	}
	type cursor struct {
		j, end int
		reach  int32
	}
	var cs [4]cursor
	k := 0
	z, y := r/rs.ny, r%rs.ny
	for _, n := range ns {
		zz, yy := z+n.dz, y+n.dy
		if zz < 0 || yy < 0 || yy >= rs.ny {
			continue
		}
		nr := zz*rs.ny + yy
		if nr < from || nr >= to || rs.rowStart[nr] == rs.rowStart[nr+1] {
			continue
		}
		cs[k] = cursor{rs.rowStart[nr], rs.rowStart[nr+1], n.reach}
		k++
	}
	runs, p := rs.runs, rs.label
	for i := a0; i < a1; i++ {
		x := runs[i]
		root := rs.find(uint32(i))
		for c := range cs[:k] {
			cur := &cs[c]
			j, end, reach := cur.j, cur.end, cur.reach
			for j < end && runs[j].end+reach <= x.start {
				j++
			}
			cur.j = j // later runs of row r start further right
			for ; j < end && runs[j].start < x.end+reach; j++ {
				rb := p[j]
				if rb == root {
					continue
				}
				if rb = rs.find(rb); rb < root {
					p[root] = rb
					root = rb
				} else if rb > root {
					p[rb] = root
				}
				p[j] = root
			}
		}
		p[i] = root
	}
}

// find returns the root of x's set. Roots are always the lowest index of
// their set, so a parent's index is never above its child's, which number
// relies on.
func (rs *runSet) find(x uint32) uint32 {
	p := rs.label
	for p[x] != x {
		p[x] = p[p[x]] // path halving
		x = p[x]
	}
	return x
}

// number replaces the parents by labels 1..count in order of the roots,
// i.e. of each component's first run in raster order. Parents precede
// their children, so one forward pass resolves every run.
func (rs *runSet) number() {
	p := rs.label
	next := uint32(0)
	for i, q := range p {
		if q == uint32(i) {
			next++
			p[i] = next
		} else {
			p[i] = p[q]
		}
	}
	rs.count = int(next)
}

// sizes returns the voxel count of each label (index label-1).
func (rs *runSet) sizes() []int64 {
	s := make([]int64, rs.count)
	for i, r := range rs.runs {
		s[rs.label[i]-1] += int64(r.end - r.start)
	}
	return s
}

// render writes the runs of the labels marked in keep as a uint8 0/1 image.
func (rs *runSet) render(ctx context.Context, op string, img *omni.Image, keep []bool) (*omni.Image, error) {
	out, err := newOutputLike(img, omni.Uint8)
	if err != nil {
		return nil, fmt.Errorf("clip: %s: %w", op, err)
	}
	dst := out.Pixels()
	if err := parallelRows(ctx, rs.rows(), rs.nx, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := dst[r*rs.nx : (r+1)*rs.nx]
			clear(row) // the output is not zeroed
			for i := rs.rowStart[r]; i < rs.rowStart[r+1]; i++ {
				if keep[rs.label[i]] {
					run := rs.runs[i]
					fill(row[run.start:run.end], 1)
				}
			}
		}
	}); err != nil {
		out.Close()
		return nil, fmt.Errorf("clip: %s: %w", op, err)
	}
	return out, nil
}
