package clip

import (
	"context"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

type streamingRun struct {
	Expected string    `json:"expected"`
	Lower    *float64  `json:"lower"`
	Upper    *float64  `json:"upper"`
	Levels   []float64 `json:"levels"`
	DataType string    `json:"data_type"`
	Op       string    `json:"op"`
	Value    float64   `json:"value"`
}

var arithOps = map[string]ArithOp{"add": Add, "subtract": Subtract, "multiply": Multiply, "minimum": Minimum, "maximum": Maximum}

// TestStreamingGolden checks the streaming kernels against numpy
// (testdata/golden/gen_streaming.py) on both kernel paths. All results
// must match exactly.
func TestStreamingGolden(t *testing.T) {
	ctx := context.Background()
	one := [3]float64{1, 1, 1}
	for _, c := range goldenCases(t, "streaming") {
		var kind string
		c.Param(t, "kind", &kind)
		var runs []streamingRun
		if c.HasParam("runs") {
			c.Param(t, "runs", &runs)
		}
		for _, p := range []path{vectorPath, scalarPath} {
			check := func(what string, out *omni.Image, err error, expected string) {
				t.Helper()
				if err != nil {
					t.Errorf("%s %s: %v", c.Name, what, err)
					return
				}
				defer out.Close()
				want := c.Arrays[expected]
				if got := out.Header().DataType.String(); got != want.DType {
					t.Errorf("%s %s: data type %s, want %s", c.Name, what, got, want.DType)
					return
				}
				compareValues(t, c.Name+" "+what, imageValues(t, out), c.Values(t, expected), 0)
			}
			switch kind {
			case "threshold":
				img := c.Image(t, "image", one)
				for _, r := range runs {
					var b Bounds
					if r.Lower != nil {
						b.Lower, b.HasLower = *r.Lower, true
					}
					if r.Upper != nil {
						b.Upper, b.HasUpper = *r.Upper, true
					}
					out, err := threshold(ctx, img, b, p)
					check(r.Expected, out, err, r.Expected)
				}
			case "multithreshold":
				img := c.Image(t, "image", one)
				for _, r := range runs {
					out, err := MultiThreshold(ctx, img, r.Levels)
					check(r.Expected, out, err, r.Expected)
				}
			case "mask":
				out, err := maskImage(ctx, c.Image(t, "image", one), c.Image(t, "mask", one), p)
				check("mask", out, err, "expected")
			case "convert":
				img := c.Image(t, "image", one)
				for _, r := range runs {
					dt, err := omni.ParseDataType(r.DataType)
					if err != nil {
						t.Fatal(err)
					}
					out, err := convert(ctx, img, dt, p)
					check("to "+r.DataType, out, err, r.Expected)
				}
			case "arithscalar":
				img := c.Image(t, "image", one)
				for _, r := range runs {
					out, err := arithScalar(ctx, img, arithOps[r.Op], r.Value, p)
					check(r.Expected, out, err, r.Expected)
				}
			case "arith":
				a, b := c.Image(t, "a", one), c.Image(t, "b", one)
				for _, r := range runs {
					out, err := arith(ctx, a, b, arithOps[r.Op], p)
					check(r.Op, out, err, r.Expected)
				}
			default:
				t.Fatalf("%s: unknown kind %q", c.Name, kind)
			}
		}
	}
}
