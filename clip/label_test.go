package clip

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// bruteLabel numbers components by flood fill from each unlabelled
// foreground voxel in raster order.
func bruteLabel(v []uint8, size [3]int, conn Connectivity) ([]uint32, int) {
	nx, ny, nz := size[0], size[1], size[2]
	offs := elementOffsets(conn, false) // the 3D element acts in-plane on 2D images
	lab := make([]uint32, len(v))
	count := 0
	var stack []int
	for seed := range v {
		if v[seed] == 0 || lab[seed] != 0 {
			continue
		}
		count++
		lab[seed] = uint32(count)
		stack = append(stack[:0], seed)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y, z := i%nx, i/nx%ny, i/(nx*ny)
			for _, o := range offs {
				xx, yy, zz := x+o[0], y+o[1], z+o[2]
				if xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz {
					continue
				}
				j := (zz*ny+yy)*nx + xx
				if v[j] != 0 && lab[j] == 0 {
					lab[j] = uint32(count)
					stack = append(stack, j)
				}
			}
		}
	}
	return lab, count
}

func TestLabelMatchesFloodFill(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// The larger sizes are cut into several blocks of rows, some of them
	// mid-plane, so the seam merging is exercised.
	sizes := [][3]int{{1, 1, 1}, {64, 2, 2}, {65, 3, 3}, {130, 4, 5}, {9, 11, 1}, {300, 3, 150}, {40, 40, 40}, {1, 1, 500}}
	for _, size := range sizes {
		for _, frac := range []float64{0.2, 0.5, 0.9} {
			img := randomBinary(t, size, frac, r)
			for _, conn := range []Connectivity{Conn6, Conn18, Conn26} {
				labels, count, err := Label(context.Background(), img, conn)
				if err != nil {
					t.Fatal(err)
				}
				want, wantCount := bruteLabel(img.Pixels(), size, conn)
				if count != wantCount {
					t.Fatalf("%v %.1f conn %d: %d components, want %d", size, frac, conn, count, wantCount)
				}
				got := voxels[uint32](labels.Pixels())
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%v %.1f conn %d: voxel %d labelled %d, want %d", size, frac, conn, i, got[i], want[i])
					}
				}
				labels.Close()
			}
		}
	}
}

func TestKeepLargestAndRemoveSmall(t *testing.T) {
	// Components along x, separated by gaps: sizes 2, 3, 1, 3.
	vals := []float64{1, 1, 0, 2, 2, 2, 0, 5, 0, 0, 7, 7, 7}
	img := newImage(t, omni.Int32, [3]int{len(vals), 1, 1}, vals)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() (*omni.Image, error)
		want []uint8
	}{
		{"largest", func() (*omni.Image, error) { return KeepLargest(ctx, img, Conn6, 1) },
			[]uint8{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}},
		{"largest 2 (tie to the lower label)", func() (*omni.Image, error) { return KeepLargest(ctx, img, Conn6, 2) },
			[]uint8{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
		{"largest beyond count", func() (*omni.Image, error) { return KeepLargest(ctx, img, Conn26, 99) },
			[]uint8{1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1}},
		{"remove below 2", func() (*omni.Image, error) { return RemoveSmall(ctx, img, Conn18, 2) },
			[]uint8{1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
		{"remove below 3", func() (*omni.Image, error) { return RemoveSmall(ctx, img, Conn18, 3) },
			[]uint8{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}},
		{"remove below 4", func() (*omni.Image, error) { return RemoveSmall(ctx, img, Conn6, 4) },
			make([]uint8, len(vals))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if got := out.Pixels(); string(got) != string(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestComponentSizes(t *testing.T) {
	img := newImage(t, omni.Uint32, [3]int{6, 1, 1}, []float64{0, 2, 2, 1, 0, 2})
	sizes, err := ComponentSizes(context.Background(), img, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 3 || sizes[2] != 0 {
		t.Errorf("sizes %v, want [1 3 0]", sizes)
	}
	if _, err := ComponentSizes(context.Background(), img, 1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("label above count: err = %v, want ErrBadArgument", err)
	}
	if _, err := ComponentSizes(context.Background(), img, -1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("negative count: err = %v, want ErrBadArgument", err)
	}
	u16 := newImage(t, omni.Uint16, [3]int{2, 1, 1}, []float64{0, 1})
	if _, err := ComponentSizes(context.Background(), u16, 1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("uint16 labels: err = %v, want ErrBadArgument", err)
	}
	if _, err := ComponentSizes(context.Background(), nil, 1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("nil labels: err = %v, want ErrBadArgument", err)
	}
}

func TestLabelBadArguments(t *testing.T) {
	img := randomBinary(t, [3]int{4, 4, 4}, 0.5, rand.New(rand.NewPCG(1, 1)))
	ctx := context.Background()
	if _, _, err := Label(ctx, img, 4); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Label connectivity 4: err = %v", err)
	}
	if _, _, err := Label(ctx, nil, Conn6); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Label nil image: err = %v", err)
	}
	if _, err := KeepLargest(ctx, img, Conn6, 0); !errors.Is(err, ErrBadArgument) {
		t.Errorf("KeepLargest n 0: err = %v", err)
	}
	if _, err := KeepLargest(ctx, img, 0, 1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("KeepLargest connectivity 0: err = %v", err)
	}
	if _, err := RemoveSmall(ctx, img, Conn6, -1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("RemoveSmall negative size: err = %v", err)
	}
	if _, err := RemoveSmall(ctx, img, 27, 1); !errors.Is(err, ErrBadArgument) {
		t.Errorf("RemoveSmall connectivity 27: err = %v", err)
	}
}

func TestLabelCancelled(t *testing.T) {
	img := randomBinary(t, [3]int{64, 64, 64}, 0.5, rand.New(rand.NewPCG(1, 1)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, _, err := Label(ctx, img, Conn26); !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("Label: err = %v, want context.Canceled and no image", err)
	}
	if out, err := KeepLargest(ctx, img, Conn26, 1); !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("KeepLargest: err = %v, want context.Canceled and no image", err)
	}
	if out, err := RemoveSmall(ctx, img, Conn6, 3); !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("RemoveSmall: err = %v, want context.Canceled and no image", err)
	}
	if _, err := ComponentSizes(ctx, newImage(t, omni.Uint32, [3]int{64, 64, 64}, nil), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("ComponentSizes: err = %v, want context.Canceled", err)
	}
}

func benchmarkLabel(b *testing.B, conn Connectivity) {
	img := benchVolume(b)
	b.SetBytes(int64(len(img.Pixels())))
	b.ResetTimer()
	for b.Loop() {
		out, _, err := Label(context.Background(), img, conn)
		if err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
}

func BenchmarkLabel26(b *testing.B) { benchmarkLabel(b, Conn26) }
func BenchmarkLabel6(b *testing.B)  { benchmarkLabel(b, Conn6) }

func TestComponentSizesCountBeyondVoxels(t *testing.T) {
	img := newImage(t, omni.Uint32, [3]int{2, 1, 1}, []float64{1, 2})
	if _, err := ComponentSizes(context.Background(), img, 3); !errors.Is(err, ErrBadArgument) {
		t.Errorf("count 3 for 2 voxels: err = %v, want ErrBadArgument", err)
	}
	if sizes, err := ComponentSizes(context.Background(), img, 2); err != nil || len(sizes) != 2 {
		t.Errorf("count 2: %v, %v", sizes, err)
	}
}
