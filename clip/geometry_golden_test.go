package clip

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestGeometryGolden(t *testing.T) {
	ctx := context.Background()
	for _, c := range goldenCases(t, "geometry") {
		t.Run(c.Name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(c.Name, "crop_"):
				checkCropCase(ctx, t, c)
			case strings.HasPrefix(c.Name, "bbox_"):
				checkBoundingBoxCase(ctx, t, c)
			case strings.HasPrefix(c.Name, "resample_"):
				checkResampleCase(ctx, t, c)
			default:
				t.Fatalf("unknown case %s", c.Name)
			}
		})
	}
}

func checkCropCase(ctx context.Context, t *testing.T, c *goldenCase) {
	var pos, size [3]int
	c.Param(t, "pos", &pos)
	c.Param(t, "size", &size)
	img := c.Image(t, "input", [3]float64{0.5, 0.75, 1.25})
	out, err := Crop(ctx, img, pos, size)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got := out.Header().Size; got != size {
		t.Errorf("size %v, want %v", got, size)
	}
	compareValues(t, "crop", imageValues(t, out), c.Values(t, "expected"), 0)
}

func checkBoundingBoxCase(ctx context.Context, t *testing.T, c *goldenCase) {
	var empty bool
	c.Param(t, "empty", &empty)
	img := c.Image(t, "input", [3]float64{1, 1, 1})
	pos, size, err := BoundingBox(ctx, img)
	if empty {
		if !errors.Is(err, ErrEmpty) {
			t.Fatalf("got %v, %v, %v; want ErrEmpty", pos, size, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var wantPos, wantSize [3]int
	c.Param(t, "pos", &wantPos)
	c.Param(t, "size", &wantSize)
	if pos != wantPos || size != wantSize {
		t.Errorf("box at %v of size %v, want %v of size %v", pos, size, wantPos, wantSize)
	}
}

func checkResampleCase(ctx context.Context, t *testing.T, c *goldenCase) {
	var runs []struct {
		Factor [3]float64
		Interp string
		Array  string
	}
	c.Param(t, "runs", &runs)
	spacing := [3]float64{0.5, 0.75, 1.25}
	img := c.Image(t, "input", spacing)
	in := img.Header().Size
	for _, r := range runs {
		interp := map[string]Interpolation{"nearest": Nearest, "linear": Linear}[r.Interp]
		out, err := Resample(ctx, img, r.Factor, interp)
		if err != nil {
			t.Fatalf("%s: %v", r.Array, err)
		}
		shape := c.Arrays[r.Array].Shape
		h := out.Header()
		if want := [3]int{shape[2], shape[1], shape[0]}; h.Size != want {
			t.Fatalf("%s: size %v, want %v", r.Array, h.Size, want)
		}
		for a := range 3 {
			// Corner centres stay on corner centres.
			want := spacing[a] * float64(in[a]) / float64(h.Size[a])
			if in[a] > 1 && h.Size[a] > 1 {
				want = spacing[a] * float64(in[a]-1) / float64(h.Size[a]-1)
			}
			if h.Spacing[a] != want || h.Origin[a] != 0 {
				t.Errorf("%s: axis %d spacing %v origin %v, want %v and 0", r.Array, a, h.Spacing[a], h.Origin[a], want)
			}
		}
		compareValues(t, "resample "+r.Array, imageValues(t, out), c.Values(t, r.Array), 0)
		out.Close()
	}
}
