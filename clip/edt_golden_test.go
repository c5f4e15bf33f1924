package clip

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func TestDistanceTransformGolden(t *testing.T) {
	ctx := context.Background()
	for _, c := range goldenCases(t, "edt") {
		t.Run(c.Name, func(t *testing.T) {
			if strings.HasPrefix(c.Name, "bvtv") {
				checkBVTVCase(t, c)
				return
			}
			var spacing [3]float64
			c.Param(t, "spacing", &spacing)
			img := c.Image(t, "input", spacing)
			out, err := DistanceTransform(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if dt := out.Header().DataType; dt != omni.Float32 {
				t.Fatalf("result is %v, want float32", dt)
			}
			compareDistances(t, imageValues(t, out), c.Values(t, "expected"), c.Tolerance)
		})
	}
}

// compareDistances allows tol absolute or relative, whichever is larger;
// infinities must match exactly.
func compareDistances(t *testing.T, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d distances, want %d", len(got), len(want))
	}
	bad := 0
	for i, g := range got {
		w := want[i]
		ok := g == w || math.Abs(g-w) <= tol*max(1, math.Abs(w))
		if !ok {
			bad++
			if bad <= 5 {
				t.Errorf("distance %d = %v, want %v", i, g, w)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d of %d distances differ", bad, len(got))
	}
}

func checkBVTVCase(t *testing.T, c *goldenCase) {
	seg := c.Image(t, "seg", [3]float64{1, 1, 1})
	var mask *omni.Image
	var masked bool
	c.Param(t, "masked", &masked)
	if masked {
		mask = c.Image(t, "mask", [3]float64{1, 1, 1})
	}
	got, err := BVTV(context.Background(), seg, mask)
	if err != nil {
		t.Fatal(err)
	}
	compareValues(t, "bv/tv", []float64{got}, c.Values(t, "expected"), c.Tolerance)
}
