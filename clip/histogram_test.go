package clip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestHistogramAllTypes checks properties numpy's histogram has for every
// type: counts add up to the voxels in range, the density integrates to
// 1, the CDF ends at 1, and integer bins count each value.
func TestHistogramAllTypes(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(21, 22))
	size := [3]int{31, 17, 9}
	n := size[0] * size[1] * size[2]
	for _, dt := range omni.DataTypes() {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(r.IntN(41) - 15)
			if dt.IsFloat() {
				vals[i] = float64(float32(vals[i] + r.Float64()))
			} else if ranges[dt][0] == 0 {
				vals[i] += 15
			}
		}
		if dt.IsFloat() {
			vals[4] = math.NaN()
		}
		img := newImage(t, dt, size, vals)
		for _, opt := range []HistogramOptions{
			{Bins: 10},
			{Bins: 3, Min: 2, Max: 9.5, HasRange: true},
			{Bins: 1000},
			{IntegerBins: true},
			{IntegerBins: true, Min: 1.5, Max: 4, HasRange: true},
		} {
			if opt.IntegerBins && dt.IsFloat() {
				continue
			}
			bins, err := Histogram(ctx, img, nil, opt)
			if err != nil {
				t.Fatalf("%v %+v: %v", dt, opt, err)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, v := range vals {
				if !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
			if opt.HasRange {
				lo, hi = opt.Min, opt.Max
			}
			if opt.IntegerBins {
				lo, hi = math.Floor(lo), math.Ceil(hi)
			}
			var inRange int64
			for _, v := range vals {
				if v >= lo && v <= hi {
					inRange++
				}
			}
			var total int64
			integral := 0.0
			for i, b := range bins {
				total += b.Count
				width := (hi - lo) / float64(len(bins))
				if opt.IntegerBins {
					width = 1
					var c int64
					for _, v := range vals {
						if v == b.Centre {
							c++
						}
					}
					if b.Count != c || b.Centre != lo+float64(i) {
						t.Errorf("%v %+v: bin %d = %+v, want %d voxels of %v", dt, opt, i, b, c, lo+float64(i))
					}
				}
				integral += b.PDF * width
				if math.Abs(b.CDF-float64(total)/float64(inRange)) > 1e-12 {
					t.Errorf("%v %+v: bin %d CDF %v", dt, opt, i, b.CDF)
				}
			}
			if total != inRange || math.Abs(integral-1) > 1e-9 || bins[len(bins)-1].CDF != 1 {
				t.Errorf("%v %+v: %d counted of %d in range, density integral %v", dt, opt, total, inRange, integral)
			}
		}
	}
}

func TestHistogramMaskAndEdges(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Float64, [3]int{6, 1, 1}, []float64{0, 1, 2, 3, 4, math.NaN()})
	mask := newImage(t, omni.Float32, [3]int{6, 1, 1}, []float64{1, 0, 1, 0, 1, 1})
	bins, err := Histogram(ctx, img, mask, HistogramOptions{Bins: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Selected 0, 2, 4: edges 0, 2, 4; 2 opens the second bin, 4 closes it.
	if len(bins) != 2 || bins[0].Count != 1 || bins[1].Count != 2 || bins[0].Centre != 1 || bins[1].Centre != 3 {
		t.Errorf("bins %+v", bins)
	}
	constant := newImage(t, omni.Uint8, [3]int{4, 1, 1}, []float64{7, 7, 7, 7})
	bins, err = Histogram(ctx, constant, nil, HistogramOptions{Bins: 2})
	if err != nil || len(bins) != 2 || bins[0].Count != 0 || bins[1].Count != 4 || bins[0].Centre != 6.75 {
		t.Errorf("constant image (range widened to 6.5..7.5): %+v %v", bins, err)
	}
}

func TestHistogramErrors(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Int16, [3]int{4, 1, 1}, []float64{-3, 0, 5, 1000})
	flt := newImage(t, omni.Float32, [3]int{2, 1, 1}, []float64{1, math.Inf(1)})
	for _, tc := range []struct {
		name string
		img  *omni.Image
		mask *omni.Image
		opt  HistogramOptions
		want error
	}{
		{"no bins", img, nil, HistogramOptions{}, ErrBadArgument},
		{"too many bins", img, nil, HistogramOptions{Bins: maxBins + 1}, ErrBadArgument},
		{"integer bins of floats", flt, nil, HistogramOptions{IntegerBins: true}, ErrBadArgument},
		{"reversed range", img, nil, HistogramOptions{Bins: 4, Min: 3, Max: 2, HasRange: true}, ErrBadArgument},
		{"NaN range", img, nil, HistogramOptions{Bins: 4, Min: math.NaN(), Max: 2, HasRange: true}, ErrBadArgument},
		{"infinite data", flt, nil, HistogramOptions{Bins: 4}, ErrBadArgument},
		{"too many integer bins", img, nil, HistogramOptions{IntegerBins: true, Min: -1e9, Max: 1e9, HasRange: true}, ErrBadArgument},
		{"nothing in range", img, nil, HistogramOptions{Bins: 4, Min: 10, Max: 20, HasRange: true}, ErrEmpty},
		{"empty mask", img, newImage(t, omni.Uint8, [3]int{4, 1, 1}, nil), HistogramOptions{Bins: 4}, ErrEmpty},
		{"mask size", img, newImage(t, omni.Uint8, [3]int{2, 2, 1}, nil), HistogramOptions{Bins: 4}, ErrSizeMismatch},
	} {
		if _, err := Histogram(ctx, tc.img, tc.mask, tc.opt); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := newImage(t, omni.Float32, [3]int{256, 256, 16}, nil)
	if _, err := Histogram(cancelled, big, nil, HistogramOptions{Bins: 8, Max: 1, HasRange: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
