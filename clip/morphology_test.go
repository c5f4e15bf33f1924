package clip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// randomBinary makes a uint8 image of the size with about frac of its
// voxels set to 1.
func randomBinary(t testing.TB, size [3]int, frac float64, r *rand.Rand) *omni.Image {
	t.Helper()
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: size, DataType: omni.Uint8, Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	px := img.Pixels()
	for i := range px {
		if r.Float64() < frac {
			px[i] = 1
		}
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// elementOffsets lists the offsets (dx, dy, dz) of the elementary
// structuring element of conn: those with at most 1, 2 or 3 non-zero
// components; 2D images only use dz = 0.
func elementOffsets(conn Connectivity, planar bool) [][3]int {
	limit := map[Connectivity]int{Conn6: 1, Conn18: 2, Conn26: 3}[conn]
	var offs [][3]int
	for dz := -1; dz <= 1; dz++ {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				n := 0
				for _, d := range []int{dx, dy, dz} {
					if d != 0 {
						n++
					}
				}
				if n <= limit && (!planar || dz == 0) {
					offs = append(offs, [3]int{dx, dy, dz})
				}
			}
		}
	}
	return offs
}

// bruteStep is one elementary erosion or dilation, voxel by voxel, with
// background outside the image.
func bruteStep(v []uint8, size [3]int, conn Connectivity, erode bool) []uint8 {
	nx, ny, nz := size[0], size[1], size[2]
	out := make([]uint8, len(v))
	offs := elementOffsets(conn, nz == 1)
	for z := 0; z < nz; z++ {
		for y := 0; y < ny; y++ {
			for x := 0; x < nx; x++ {
				acc := erode
				for _, o := range offs {
					xx, yy, zz := x+o[0], y+o[1], z+o[2]
					on := xx >= 0 && yy >= 0 && zz >= 0 && xx < nx && yy < ny && zz < nz &&
						v[(zz*ny+yy)*nx+xx] != 0
					if on != erode {
						acc = on
						break
					}
				}
				if acc {
					out[(z*ny+y)*nx+x] = 1
				}
			}
		}
	}
	return out
}

func bruteMorphology(v []uint8, size [3]int, op MorphOp, conn Connectivity, radius int) []uint8 {
	first, second := op == Erode || op == Open, op == Close
	for i := 0; i < radius; i++ {
		v = bruteStep(v, size, conn, first)
	}
	if op == Open || op == Close {
		for i := 0; i < radius; i++ {
			v = bruteStep(v, size, conn, second)
		}
	}
	return v
}

func TestMorphologyMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sizes := [][3]int{{1, 1, 1}, {64, 3, 2}, {65, 4, 3}, {129, 5, 4}, {7, 9, 1}, {70, 6, 1}, {5, 1, 6}, {200, 3, 60}}
	for _, size := range sizes {
		img := randomBinary(t, size, 0.6, r)
		for _, op := range []MorphOp{Erode, Dilate, Open, Close} {
			for _, conn := range []Connectivity{Conn6, Conn18, Conn26} {
				radius := 1 + r.IntN(3)
				out, err := Morphology(context.Background(), img, op, conn, radius)
				if err != nil {
					t.Fatal(err)
				}
				want := bruteMorphology(img.Pixels(), size, op, conn, radius)
				got := out.Pixels()
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v %v conn %d radius %d: voxel %d = %d, want %d", size, op, conn, radius, i, got[i], want[i])
					}
				}
				out.Close()
			}
		}
	}
}

func TestMorphologyKeepsGeometry(t *testing.T) {
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{4, 5, 6}, DataType: omni.Float64,
		Spacing: [3]float64{0.5, 0.25, 2}, Origin: [3]float64{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	out, err := Morphology(context.Background(), img, Dilate, Conn6, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	h := out.Header()
	if h.DataType != omni.Uint8 || h.Spacing != img.Header().Spacing || h.Origin != img.Header().Origin || h.Size != img.Header().Size {
		t.Errorf("header %+v does not keep the input's geometry", h)
	}
}

func TestMorphologyNaNIsForeground(t *testing.T) {
	img := newImage(t, omni.Float32, [3]int{3, 1, 1}, []float64{math.NaN(), math.Copysign(0, -1), 2})
	out2, err := Morphology(context.Background(), img, Dilate, Conn6, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer out2.Close()
	if got := out2.Pixels(); got[0] != 1 || got[1] != 1 || got[2] != 1 {
		t.Errorf("dilated %v, want [1 1 1]", got)
	}
	img2 := newImage(t, omni.Float64, [3]int{3, 1, 1}, []float64{math.Copysign(0, -1), 0, 0})
	out3, err := Morphology(context.Background(), img2, Dilate, Conn26, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer out3.Close()
	if got := out3.Pixels(); got[0]|got[1]|got[2] != 0 {
		t.Errorf("-0 dilated to %v, want background", got)
	}
}

func TestMorphologyBadArguments(t *testing.T) {
	img := randomBinary(t, [3]int{4, 4, 4}, 0.5, rand.New(rand.NewPCG(1, 1)))
	closed, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{2, 2, 2}, DataType: omni.Uint8, Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	tests := []struct {
		name   string
		img    *omni.Image
		op     MorphOp
		conn   Connectivity
		radius int
	}{
		{"op", img, MorphOp(7), Conn6, 1},
		{"negative op", img, MorphOp(-1), Conn6, 1},
		{"connectivity", img, Erode, 8, 1},
		{"radius 0", img, Erode, Conn6, 0},
		{"radius too large", img, Dilate, Conn26, MaxMorphRadius + 1},
		{"nil image", nil, Dilate, Conn26, 1},
		{"closed image", closed, Dilate, Conn26, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Morphology(context.Background(), tt.img, tt.op, tt.conn, tt.radius)
			if !errors.Is(err, ErrBadArgument) {
				t.Errorf("err = %v, want ErrBadArgument", err)
			}
			if out != nil {
				t.Error("got an image with the error")
			}
		})
	}
}

func TestMorphologyCancelled(t *testing.T) {
	img := randomBinary(t, [3]int{64, 64, 64}, 0.5, rand.New(rand.NewPCG(1, 1)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range []MorphOp{Erode, Close} {
		if out, err := Morphology(ctx, img, op, Conn26, 3); !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("%v: err = %v, want context.Canceled and no image", op, err)
		}
	}
}

func TestMorphOpString(t *testing.T) {
	for op, want := range map[MorphOp]string{Erode: "erode", Dilate: "dilate", Open: "open", Close: "close", 9: "MorphOp(9)"} {
		if got := op.String(); got != want {
			t.Errorf("%d: %q, want %q", int(op), got, want)
		}
	}
}

// benchVolume is a 256³ uint16 volume shaped like a segmented trabecular
// bone scan: a gyroid of ~20% foreground with speckle noise, 0 outside.
// Sine tables per axis and a hash per voxel keep it cheap to build.
func benchVolume(b *testing.B) *omni.Image {
	b.Helper()
	const n = 256
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{n, n, n}, DataType: omni.Uint16,
		Spacing: [3]float64{0.01, 0.01, 0.01}})
	if err != nil {
		b.Fatal(err)
	}
	var sn, cs [n]float64
	for i := range sn {
		a := 2 * math.Pi * float64(i) / 37
		sn[i], cs[i] = math.Sin(a), math.Cos(a)
	}
	v := voxels[uint16](img.Pixels())
	for z := 0; z < n; z++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				i := (z*n+y)*n + x
				g := sn[x]*cs[y] + sn[y]*cs[z] + sn[z]*cs[x]
				h := uint64(i) * 0x9e3779b97f4a7c15
				h ^= h >> 29
				h *= 0xbf58476d1ce4e5b9
				h ^= h >> 32
				noise := float64(h>>11)/(1<<53)*2 - 1
				if g+0.35*noise > 0.8 {
					v[i] = uint16(1000 + h%3000)
				}
			}
		}
	}
	b.Cleanup(func() { img.Close() })
	return img
}

func benchmarkMorphology(b *testing.B, op MorphOp, conn Connectivity) {
	img := benchVolume(b)
	b.SetBytes(int64(len(img.Pixels())))
	b.ResetTimer()
	for b.Loop() {
		out, err := Morphology(context.Background(), img, op, conn, 1)
		if err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
}

func BenchmarkMorphologyErode26(b *testing.B) { benchmarkMorphology(b, Erode, Conn26) }
func BenchmarkMorphologyDilate6(b *testing.B) { benchmarkMorphology(b, Dilate, Conn6) }
func BenchmarkMorphologyClose18(b *testing.B) { benchmarkMorphology(b, Close, Conn18) }

// TestPackImageAllTypes checks the word-at-a-time packing against the
// definition on values whose non-zero bits sit in every byte of a lane,
// signed extremes, denormals, -0.0 and NaN.
func TestPackImageAllTypes(t *testing.T) {
	special := map[omni.DataType][]float64{
		omni.Uint8: {1, 128, 255}, omni.Int8: {-128, -1, 1, 127},
		omni.Uint16: {1, 256, 32768, 65535}, omni.Int16: {-32768, -1, 256, 1},
		omni.Uint32: {1, 1 << 8, 1 << 16, 1 << 24, 1 << 31}, omni.Int32: {-2147483648, -1, 1 << 8, 1 << 16, 1 << 24},
		omni.Float32: {math.NaN(), math.Inf(-1), -1e-45, 1e-45, 1, -2, math.Copysign(0, -1)},
		omni.Float64: {math.NaN(), math.Inf(1), -5e-324, 5e-324, 1e300, math.Copysign(0, -1)},
	}
	r := rand.New(rand.NewPCG(9, 9))
	size := [3]int{200, 3, 2}
	n := size[0] * size[1] * size[2]
	for dt, sp := range special {
		vals := make([]float64, n)
		for i := range vals {
			if r.IntN(2) == 0 {
				vals[i] = sp[r.IntN(len(sp))]
			}
		}
		img := newImage(t, dt, size, vals)
		b, err := packImage(context.Background(), "test", img)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			x, row := i%size[0], i/size[0]
			got := b.row(row)[x/64]>>(x%64)&1 == 1
			if want := v != 0; got != want {
				t.Fatalf("%v: voxel %d (%v) packed as %v, want %v", dt, i, v, got, want)
			}
		}
		for row := 0; row < b.rows(); row++ {
			if last := b.row(row)[b.wpr-1]; last&^b.lastMask() != 0 {
				t.Fatalf("%v: row %d has bits past the row end", dt, row)
			}
		}
	}
}
