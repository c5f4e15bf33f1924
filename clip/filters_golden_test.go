package clip

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func TestFiltersGolden(t *testing.T) {
	ctx := context.Background()
	for _, c := range goldenCases(t, "filters") {
		t.Run(c.Name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(c.Name, "gaussian_"):
				checkGaussianCase(ctx, t, c)
			case strings.HasPrefix(c.Name, "median_"):
				checkMedianCase(ctx, t, c)
			default:
				t.Fatalf("unknown case %s", c.Name)
			}
		})
	}
}

func checkGaussianCase(ctx context.Context, t *testing.T, c *goldenCase) {
	var sigma float64
	var spacing [3]float64
	c.Param(t, "sigma_mm", &sigma)
	c.Param(t, "spacing", &spacing)
	img := c.Image(t, "input", spacing)
	out, err := Gaussian(ctx, img, sigma)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	want := omni.Float32
	if img.Header().DataType == omni.Float64 {
		want = omni.Float64
	}
	if dt := out.Header().DataType; dt != want {
		t.Fatalf("result is %v, want %v", dt, want)
	}
	compareValues(t, "gaussian", imageValues(t, out), c.Values(t, "expected"), c.Tolerance)
}

func checkMedianCase(ctx context.Context, t *testing.T, c *goldenCase) {
	var radii []int
	c.Param(t, "radii", &radii)
	img := c.Image(t, "input", [3]float64{1, 1, 1})
	for _, r := range radii {
		out, err := Median(ctx, img, r)
		if err != nil {
			t.Fatalf("radius %d: %v", r, err)
		}
		if dt := out.Header().DataType; dt != img.Header().DataType {
			t.Fatalf("radius %d: result is %v, want %v", r, dt, img.Header().DataType)
		}
		name := fmt.Sprintf("r%d", r)
		compareValues(t, "median "+name, imageValues(t, out), c.Values(t, name), 0)
		out.Close()
	}
}
