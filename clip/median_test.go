package clip

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func TestMedianArguments(t *testing.T) {
	ctx := context.Background()
	img := newImage(t, omni.Uint8, [3]int{4, 3, 2}, nil)
	for _, r := range []int{0, -1, MaxMedianRadius + 1} {
		out, err := Median(ctx, img, r)
		if !errors.Is(err, ErrBadArgument) || out != nil {
			t.Errorf("radius %d: got %v, %v; want ErrBadArgument", r, out, err)
		}
	}
	for name, bad := range badImages(t) {
		if _, err := Median(ctx, bad, 1); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%s image: err = %v, want ErrBadArgument", name, err)
		}
	}
}

// naiveMedian is the definition: sort each mirrored (2r+1)³ window, NaN
// last, and take the middle.
func naiveMedian(v []float64, size [3]int, r int) []float64 {
	mirror := func(i, n int) int {
		i %= 2 * n
		if i < 0 {
			i += 2 * n
		}
		if i >= n {
			i = 2*n - 1 - i
		}
		return i
	}
	less := func(a, b float64) int {
		switch {
		case math.IsNaN(a) && math.IsNaN(b):
			return 0
		case math.IsNaN(a):
			return 1
		case math.IsNaN(b):
			return -1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	nx, ny, nz := size[0], size[1], size[2]
	out := make([]float64, len(v))
	var w []float64
	for z := range nz {
		for y := range ny {
			for x := range nx {
				w = w[:0]
				for dz := -r; dz <= r; dz++ {
					for dy := -r; dy <= r; dy++ {
						for dx := -r; dx <= r; dx++ {
							w = append(w, v[(mirror(z+dz, nz)*ny+mirror(y+dy, ny))*nx+mirror(x+dx, nx)])
						}
					}
				}
				slices.SortFunc(w, less)
				out[(z*ny+y)*nx+x] = w[len(w)/2]
			}
		}
	}
	return out
}

// TestMedianNaive compares every data type, radius path and edge case
// with the definition, on values with many ties and, for floats, NaN,
// infinities and both zeros.
func TestMedianNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	shapes := []struct {
		size  [3]int
		radii []int
	}{
		{[3]int{9, 7, 6}, []int{1, 2, 3}},
		{[3]int{8, 5, 1}, []int{1, 2}},
		{[3]int{1, 1, 6}, []int{1, 4}},
		{[3]int{3, 2, 2}, []int{1, 10}},
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1, -1}
	for _, dt := range omni.DataTypes() {
		for _, s := range shapes {
			n := s.size[0] * s.size[1] * s.size[2]
			vals := sample(dt, n, r)
			for i := range vals {
				switch {
				case r.IntN(3) == 0: // ties
					vals[i] = vals[r.IntN(n)]
				case dt.IsFloat() && r.IntN(6) == 0:
					vals[i] = special[r.IntN(len(special))]
				}
			}
			img := newImage(t, dt, s.size, vals)
			for _, radius := range s.radii {
				t.Run(fmt.Sprintf("%v/%v/r%d", dt, s.size, radius), func(t *testing.T) {
					out, err := Median(context.Background(), img, radius)
					if err != nil {
						t.Fatal(err)
					}
					defer out.Close()
					compareValues(t, "median", imageValues(t, out), naiveMedian(imageValues(t, img), s.size, radius), 0)
				})
			}
		}
	}
}

// TestSort9 checks the network on all 0/1 inputs, which by the 0-1
// principle proves it sorts any input.
func TestSort9(t *testing.T) {
	for bits := range 1 << 9 {
		c := make([]uint8, 9)
		for i := range c {
			c[i] = uint8(bits >> i & 1)
		}
		sort9(c)
		if !slices.IsSorted(c) {
			t.Fatalf("input %09b sorted to %v", bits, c)
		}
	}
}

// TestKeyOrder checks that keys order values as numbers (NaN last, -0
// before +0) and convert back to the same bits.
func TestKeyOrder(t *testing.T) {
	f64 := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
		math.SmallestNonzeroFloat64, 1, math.MaxFloat64, math.Inf(1)}
	var k64 []uint64
	for _, f := range f64 {
		k64 = append(k64, math.Float64bits(f))
	}
	checkKeys(t, "float64", k64, floatKeys)
	var k32 []uint32
	for _, f := range f64 {
		k32 = append(k32, math.Float32bits(float32(f)))
	}
	checkKeys(t, "float32", slices.Compact(k32), floatKeys)
	checkKeys(t, "int16", []uint16{0x8000, 0xffff, 0, 1, 0x7fff}, signedKeys)
	checkKeys(t, "uint16", []uint16{0, 1, 0x7fff, 0x8000, 0xffff}, plainKeys)
	checkKeys(t, "int8", []uint8{0x80, 0xff, 0, 1, 0x7f}, signedKeys)

	// Every NaN becomes the largest key and comes back as a NaN.
	c := newKeyCodec[uint32](floatKeys)
	nans := []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0xffffffff}
	c.keys(nans)
	for _, k := range nans {
		if k != math.MaxUint32 {
			t.Errorf("NaN key %#x, want the largest", k)
		}
	}
	c.values(nans)
	for _, v := range nans {
		if f := math.Float32frombits(v); f == f {
			t.Errorf("NaN key came back as %v", f)
		}
	}
}

// checkKeys expects vals (bits, in increasing value order) to give
// strictly increasing keys that convert back unchanged.
func checkKeys[K keyType](t *testing.T, name string, vals []K, kind keyKind) {
	t.Helper()
	c := newKeyCodec[K](kind)
	keys := slices.Clone(vals)
	c.keys(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Errorf("%s: key of %#x (%#x) is not below key of %#x (%#x)", name, vals[i-1], keys[i-1], vals[i], keys[i])
		}
	}
	c.values(keys)
	if !reflect.DeepEqual(keys, vals) {
		t.Errorf("%s: round trip gave %#x, want %#x", name, keys, vals)
	}
}

func BenchmarkMedian(b *testing.B) {
	img := scanLikeVolume(b)
	b.Run("radius=1", func(b *testing.B) {
		b.SetBytes(int64(len(img.Pixels())))
		for range b.N {
			out, err := Median(context.Background(), img, 1)
			if err != nil {
				b.Fatal(err)
			}
			out.Close()
		}
	})
}

// TestMedian27 checks the selection network on every triple of sorted 0/1
// columns. Each output is a min/max expression of its inputs, so by the 0-1
// principle it then selects the median of any three sorted columns.
func TestMedian27(t *testing.T) {
	cols := make([]uint8, 27)
	o := make([]uint8, 1)
	for ones := range 1000 {
		n := [3]int{ones % 10, ones / 10 % 10, ones / 100}
		for c, k := range n {
			for i := range 9 {
				cols[c*9+i] = uint8(oneIf(i >= 9-k))
			}
		}
		median27(o, cols)
		if want := uint8(oneIf(n[0]+n[1]+n[2] >= 14)); o[0] != want {
			t.Fatalf("columns with %v ones: median %d, want %d", n, o[0], want)
		}
	}
}
