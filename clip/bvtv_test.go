package clip

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestBVTVBytesMatchesPacked compares the byte counting of 8-bit images
// with the bit packing every data type goes through, for densities from
// empty to full and with odd sizes that leave tails everywhere.
func TestBVTVBytesMatchesPacked(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	size := [3]int{131, 67, 19}
	n := size[0] * size[1] * size[2]
	fill := func(dt omni.DataType, density float64) *omni.Image {
		vals := make([]float64, n)
		for i := range vals {
			if r.Float64() < density {
				vals[i] = float64([]int{1, 127, -128, -1, 0x40}[r.IntN(5)])
				if dt == omni.Uint8 {
					vals[i] = float64(uint8(int8(vals[i])))
				}
			}
		}
		return newImage(t, dt, size, vals)
	}
	for _, dt := range []omni.DataType{omni.Uint8, omni.Int8} {
		for _, density := range []float64{0, 0.001, 0.3, 0.97, 1} {
			seg := fill(dt, density)
			for _, mask := range []*omni.Image{nil, fill(omni.Uint8, 0.6), fill(omni.Int8, 1), fill(omni.Uint8, 0.0005)} {
				got, gerr := BVTV(ctx, seg, mask)
				want, werr := bvtvPacked(ctx, seg, mask)
				if got != want || (gerr == nil) != (werr == nil) {
					t.Errorf("%v density %v (mask %v): %v, %v by bytes; %v, %v packed", dt, density, mask != nil, got, gerr, want, werr)
				}
			}
		}
	}
}

func TestBVTVBytesErrors(t *testing.T) {
	ctx := context.Background()
	seg := newImage(t, omni.Uint8, [3]int{4, 1, 1}, []float64{1, 0, 2, 0})
	empty := newImage(t, omni.Uint8, [3]int{4, 1, 1}, nil)
	other := newImage(t, omni.Int8, [3]int{2, 2, 1}, nil)
	closed := newImage(t, omni.Uint8, [3]int{4, 1, 1}, nil)
	closed.Close()
	if got, err := BVTV(ctx, seg, nil); err != nil || got != 0.5 {
		t.Errorf("whole image: %v, %v; want 0.5", got, err)
	}
	if _, err := BVTV(ctx, seg, empty); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty mask: err = %v, want ErrEmpty", err)
	}
	if _, err := BVTV(ctx, seg, other); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("mask of another size: err = %v, want ErrSizeMismatch", err)
	}
	if _, err := BVTV(ctx, closed, nil); !errors.Is(err, ErrBadArgument) {
		t.Errorf("closed segmentation: err = %v, want ErrBadArgument", err)
	}
	if _, err := BVTV(ctx, seg, closed); !errors.Is(err, ErrBadArgument) {
		t.Errorf("closed mask: err = %v, want ErrBadArgument", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := BVTV(cancelled, seg, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

// TestNonZeroBits tries every byte value in every lane against zero and
// 0xff neighbours, whose carries must not leak across lanes.
func TestNonZeroBits(t *testing.T) {
	for lane := range 8 {
		for v := range 256 {
			for _, rest := range []uint64{0, 0xffffffffffffffff} {
				w := rest&^(0xff<<(8*lane)) | uint64(v)<<(8*lane)
				want := uint64(0)
				for l := range 8 {
					if w>>(8*l)&0xff != 0 {
						want |= 0x80 << (8 * l)
					}
				}
				if got := nonZeroBits(w); got != want {
					t.Fatalf("nonZeroBits(%#x) = %#x, want %#x", w, got, want)
				}
			}
		}
	}
}

// TestCountNonZeroScalar checks the word loops on their own, with every
// alignment of the start and the end.
func TestCountNonZeroScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	b, m := make([]byte, 200), make([]byte, 200)
	for i := range b {
		b[i] = byte(r.IntN(3) * r.IntN(256))
		m[i] = byte(r.IntN(2) * r.IntN(256))
	}
	for lo := range 9 {
		for hi := len(b) - 9; hi <= len(b); hi++ {
			var want, wantBoth, wantTotal int
			for i := lo; i < hi; i++ {
				want += int(b2u8(b[i] != 0))
				wantTotal += int(b2u8(m[i] != 0))
				wantBoth += int(b2u8(b[i] != 0 && m[i] != 0))
			}
			if got := countNonZero(b[lo:hi]); got != want {
				t.Fatalf("countNonZero [%d:%d] = %d, want %d", lo, hi, got, want)
			}
			if both, total := countNonZeroMasked(b[lo:hi], m[lo:hi]); both != wantBoth || total != wantTotal {
				t.Fatalf("countNonZeroMasked [%d:%d] = %d, %d, want %d, %d", lo, hi, both, total, wantBoth, wantTotal)
			}
		}
	}
}
