package clip

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func TestLabelGolden(t *testing.T) {
	ctx := context.Background()
	for _, c := range goldenCases(t, "label") {
		t.Run(c.Name, func(t *testing.T) {
			var conn int
			c.Param(t, "connectivity", &conn)
			img := c.Image(t, "input", [3]float64{1, 1, 1})
			switch {
			case strings.HasPrefix(c.Name, "keep_largest"):
				var n int
				c.Param(t, "n", &n)
				out, err := KeepLargest(ctx, img, Connectivity(conn), n)
				if err != nil {
					t.Fatal(err)
				}
				defer out.Close()
				compareValues(t, c.Name, imageValues(t, out), c.Values(t, "expected"), 0)
			case strings.HasPrefix(c.Name, "remove_small"):
				var minSize int64
				c.Param(t, "min_size", &minSize)
				out, err := RemoveSmall(ctx, img, Connectivity(conn), minSize)
				if err != nil {
					t.Fatal(err)
				}
				defer out.Close()
				compareValues(t, c.Name, imageValues(t, out), c.Values(t, "expected"), 0)
			default:
				checkLabelCase(t, c, img, conn)
			}
		})
	}
}

func checkLabelCase(t *testing.T, c *goldenCase, img *omni.Image, conn int) {
	t.Helper()
	ctx := context.Background()
	var wantCount int
	c.Param(t, "count", &wantCount)
	labels, count, err := Label(ctx, img, Connectivity(conn))
	if err != nil {
		t.Fatal(err)
	}
	defer labels.Close()
	if count != wantCount {
		t.Errorf("count = %d, want %d", count, wantCount)
	}
	got, want := imageValues(t, labels), c.Values(t, "labels")
	compareValues(t, "labels", got, want, 0)
	if err := sameUpToRenumbering(got, want); err != nil {
		t.Errorf("labels up to renumbering: %v", err)
	}
	sizes, err := ComponentSizes(ctx, labels, count)
	if err != nil {
		t.Fatal(err)
	}
	gotSizes := make([]float64, len(sizes))
	for i, s := range sizes {
		gotSizes[i] = float64(s)
	}
	compareValues(t, "sizes", gotSizes, c.Values(t, "sizes"), 0)
}

// sameUpToRenumbering checks that got and want partition the voxels the
// same way, with 0 as background in both, whatever numbers they use.
func sameUpToRenumbering(got, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d labels, want %d", len(got), len(want))
	}
	fwd, back := map[float64]float64{}, map[float64]float64{}
	for i, g := range got {
		w := want[i]
		if (g == 0) != (w == 0) {
			return fmt.Errorf("voxel %d: label %v, want %v", i, g, w)
		}
		if m, ok := fwd[g]; ok && m != w {
			return fmt.Errorf("voxel %d: label %v is both %v and %v", i, g, m, w)
		}
		if m, ok := back[w]; ok && m != g {
			return fmt.Errorf("voxel %d: labels %v and %v are both %v", i, m, g, w)
		}
		fwd[g], back[w] = w, g
	}
	return nil
}
