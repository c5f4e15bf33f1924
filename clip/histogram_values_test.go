package clip

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestHistogramByValueMatchesTable compares the value-count histogram of
// 8- and 16-bit images (the vector path) with the per-voxel bin table
// (the scalar path) for every option, with and without a mask, on sizes
// that leave unaligned heads and tails in the slabs.
func TestHistogramByValueMatchesTable(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	size := [3]int{67, 61, 37} // more voxels than one slab takes
	n := size[0] * size[1] * size[2]
	maskVals := make([]float64, n)
	for i := range maskVals {
		maskVals[i] = float64(r.IntN(3) % 2)
	}
	mask := newImage(t, omni.Uint8, size, maskVals)
	for _, dt := range []omni.DataType{omni.Uint8, omni.Int8, omni.Uint16, omni.Int16} {
		lo, hi := ranges[dt][0], ranges[dt][1]
		for _, spread := range []float64{1, 40, hi - lo} {
			vals := make([]float64, n)
			for i := range vals {
				// Runs of equal values, as in real volumes.
				if i > 0 && r.IntN(4) == 0 {
					vals[i] = vals[i-1]
					continue
				}
				vals[i] = min(hi, lo+float64(r.IntN(int(spread)+1))+float64(int(spread)%7))
			}
			img := newImage(t, dt, size, vals)
			for _, opt := range []HistogramOptions{
				{Bins: 256},
				{Bins: 1},
				{Bins: 7, Min: lo + 3.5, Max: lo + 30, HasRange: true},
				{Bins: 1000, Min: lo - 100, Max: hi + 100, HasRange: true},
				{IntegerBins: true},
				{IntegerBins: true, Min: lo + 2, Max: lo + 9, HasRange: true},
			} {
				for _, m := range []*omni.Image{nil, mask} {
					vb, verr := histogram(ctx, img, m, opt, vectorPath)
					sb, serr := histogram(ctx, img, m, opt, scalarPath)
					bothEmpty := errors.Is(verr, ErrEmpty) && errors.Is(serr, ErrEmpty)
					if (verr != nil || serr != nil) && !bothEmpty {
						t.Fatalf("%v spread %v %+v mask %v: errors %v and %v", dt, spread, opt, m != nil, verr, serr)
					}
					if len(vb) != len(sb) {
						t.Fatalf("%v spread %v %+v mask %v: %d and %d bins", dt, spread, opt, m != nil, len(vb), len(sb))
					}
					for i := range vb {
						if vb[i] != sb[i] {
							t.Fatalf("%v spread %v %+v mask %v: bin %d is %+v by value, %+v by table", dt, spread, opt, m != nil, i, vb[i], sb[i])
						}
					}
				}
			}
		}
	}
}

func TestHistogramByValueEmptyAndCancelled(t *testing.T) {
	img := newImage(t, omni.Int16, [3]int{5, 1, 1}, []float64{-3, -3, 7, 9, 100})
	none := newImage(t, omni.Uint8, [3]int{5, 1, 1}, nil)
	if _, err := Histogram(context.Background(), img, none, HistogramOptions{Bins: 4}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty mask: %v, want ErrEmpty", err)
	}
	if _, err := Histogram(context.Background(), img, nil, HistogramOptions{Bins: 4, Min: 200, Max: 300, HasRange: true}); !errors.Is(err, ErrEmpty) {
		t.Errorf("range beyond the values: %v, want ErrEmpty", err)
	}
	bins, err := Histogram(context.Background(), img, nil, HistogramOptions{Bins: 103})
	if err != nil || bins[0].Count != 2 || bins[0].Centre != -2.5 || bins[102].Count != 1 {
		t.Errorf("histogram of %v: %v, %v", []int{-3, -3, 7, 9, 100}, bins, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := newImage(t, omni.Uint16, [3]int{256, 256, 4}, nil)
	if _, err := Histogram(ctx, big, nil, HistogramOptions{Bins: 4}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestValuePartsFlush(t *testing.T) {
	c := &valueParts{ways: [][]uint32{{1, 2}, {3, 4}}, n: 10}
	c.flush()
	c.ways[0][1] = 5
	c.flush()
	if c.total[0] != 4 || c.total[1] != 11 || c.n != 0 || c.ways[1][1] != 0 {
		t.Errorf("after two flushes: total %v, ways %v, n %d", c.total, c.ways, c.n)
	}
}
