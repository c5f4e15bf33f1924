package clip

import (
	"context"
	"testing"
)

var morphOps = map[string]MorphOp{"erode": Erode, "dilate": Dilate, "open": Open, "close": Close}

func TestMorphologyGolden(t *testing.T) {
	for _, c := range goldenCases(t, "morphology") {
		t.Run(c.Name, func(t *testing.T) {
			var (
				opName       string
				conn, radius int
			)
			c.Param(t, "op", &opName)
			c.Param(t, "connectivity", &conn)
			c.Param(t, "radius", &radius)
			op, ok := morphOps[opName]
			if !ok {
				t.Fatalf("unknown op %q", opName)
			}
			img := c.Image(t, "input", [3]float64{1, 1, 1})
			out, err := Morphology(context.Background(), img, op, Connectivity(conn), radius)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if dt := out.Header().DataType.String(); dt != "uint8" {
				t.Fatalf("result is %s, want uint8", dt)
			}
			compareValues(t, c.Name, imageValues(t, out), c.Values(t, "expected"), 0)
		})
	}
}
