package clip

import (
	"context"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// exactStats computes the reference statistics of values with big.Float
// arithmetic, skipping NaN and unselected values.
func exactStats(vals []float64, sel []bool) (Stats, bool) {
	var s Stats
	sum := new(big.Float).SetPrec(2048)
	var kept []float64
	for i, v := range vals {
		if math.IsNaN(v) || (sel != nil && !sel[i]) {
			continue
		}
		if len(kept) == 0 || v < s.Min {
			s.Min = v
		}
		if len(kept) == 0 || v > s.Max {
			s.Max = v
		}
		kept = append(kept, v)
		sum.Add(sum, big.NewFloat(v))
	}
	if len(kept) == 0 {
		return s, false
	}
	n := big.NewFloat(float64(len(kept)))
	mean := new(big.Float).SetPrec(2048).Quo(sum, n)
	m2 := new(big.Float).SetPrec(2048)
	for _, v := range kept {
		d := new(big.Float).SetPrec(2048).Sub(big.NewFloat(v), mean)
		m2.Add(m2, d.Mul(d, d))
	}
	s.Count = int64(len(kept))
	s.Sum, _ = sum.Float64()
	s.Mean, _ = mean.Float64()
	variance, _ := m2.Quo(m2, n).Float64()
	s.Std = math.Sqrt(variance)
	return s, true
}

func closeTo(got, want, scale, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), scale)
}

func TestStatisticsAllTypes(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	size := [3]int{17, 23, 29}
	n := size[0] * size[1] * size[2]
	maskVals := make([]float64, n)
	sel := make([]bool, n)
	for i := range maskVals {
		if r.IntN(3) == 0 {
			maskVals[i], sel[i] = -2, true
		}
	}
	for _, dt := range omni.DataTypes() {
		vals := sample(dt, n, r)
		if dt.IsFloat() {
			for i := range vals {
				if dt == omni.Float64 {
					vals[i] /= 1e200 // keep squares finite
				}
			}
			for i := 0; i < n; i += 97 {
				vals[i] = math.NaN()
			}
		}
		img := newImage(t, dt, size, vals)
		for _, mdt := range []omni.DataType{0, omni.Uint8, omni.Int16, omni.Float64} {
			var mask *omni.Image
			var s []bool
			if mdt != 0 {
				mask, s = newImage(t, mdt, size, maskVals), sel
			}
			want, _ := exactStats(vals, s)
			got, err := Statistics(ctx, img, mask)
			if err != nil {
				t.Fatalf("%v mask %v: %v", dt, mdt, err)
			}
			scale := math.Max(math.Abs(want.Min), math.Abs(want.Max))
			// Integer images are summed exactly; floats within rounding.
			tol := 1e-15
			if dt.IsFloat() {
				tol = 1e-13
			}
			if got.Min != want.Min || got.Max != want.Max || got.Count != want.Count ||
				!closeTo(got.Sum, want.Sum, scale, tol) || !closeTo(got.Mean, want.Mean, scale, tol) ||
				!closeTo(got.Std, want.Std, scale, tol) {
				t.Errorf("%v mask %v: got %+v, want %+v", dt, mdt, got, want)
			}
		}
	}
}

// TestStatisticsAccuracy uses data whose mean is far from zero compared
// with its spread, where a one-pass sum of squares loses every digit.
func TestStatisticsAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, tc := range []struct {
		dt     omni.DataType
		offset float64
		spread float64
	}{
		{omni.Float64, 1e9, 1},
		{omni.Float32, 1e5, 0.5},
		{omni.Uint32, 4e9, 3},
		{omni.Int32, -2e9, 2},
	} {
		vals := make([]float64, 100003)
		for i := range vals {
			v := tc.offset + r.NormFloat64()*tc.spread
			if tc.dt == omni.Float32 {
				v = float64(float32(v))
			} else if !tc.dt.IsFloat() {
				v = math.Round(v)
			}
			vals[i] = v
		}
		img := newImage(t, tc.dt, [3]int{len(vals), 1, 1}, vals)
		want, _ := exactStats(vals, nil)
		got, err := Statistics(context.Background(), img, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(got.Std, want.Std, 0, 1e-9) || !closeTo(got.Mean, want.Mean, 0, 1e-15) {
			t.Errorf("%v around %g: std %v mean %v, want %v %v", tc.dt, tc.offset, got.Std, got.Mean, want.Std, want.Mean)
		}
	}
}

func TestStatisticsErrors(t *testing.T) {
	ctx := context.Background()
	nan := math.NaN()
	img := newImage(t, omni.Float32, [3]int{3, 1, 1}, []float64{nan, 2, -4})
	if s, err := Statistics(ctx, img, nil); err != nil || s.Count != 2 || s.Sum != -2 || s.Mean != -1 || s.Std != 3 {
		t.Errorf("NaN not ignored: %+v %v", s, err)
	}
	if _, err := Statistics(ctx, newImage(t, omni.Float64, [3]int{2, 1, 1}, []float64{nan, nan}), nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("all NaN: %v", err)
	}
	if _, err := Statistics(ctx, img, newImage(t, omni.Int8, [3]int{3, 1, 1}, []float64{0, 0, 0})); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty mask: %v", err)
	}
	if _, err := Statistics(ctx, img, newImage(t, omni.Uint8, [3]int{1, 3, 1}, nil)); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("mask of another size: %v", err)
	}
	one := newImage(t, omni.Uint16, [3]int{1, 1, 1}, []float64{65535})
	if s, err := Statistics(ctx, one, nil); err != nil || s != (Stats{Min: 65535, Max: 65535, Sum: 65535, Mean: 65535, Count: 1}) {
		t.Errorf("one voxel: %+v %v", s, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := newImage(t, omni.Uint16, [3]int{256, 256, 16}, nil)
	if _, err := Statistics(cancelled, big, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestInt128(t *testing.T) {
	for _, tc := range []struct {
		adds []int64
		want string
	}{
		{[]int64{-1}, "-1"},
		{[]int64{math.MinInt64, math.MinInt64, 5}, "-18446744073709551611"},
		{[]int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}, "27670116110564327421"},
		{[]int64{3, -3}, "0"},
	} {
		var w int128
		for _, a := range tc.adds {
			w.addInt64(a)
		}
		if got := w.big().String(); got != tc.want {
			t.Errorf("sum of %v = %s, want %s", tc.adds, got, tc.want)
		}
	}
}
