package clip

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// goldenCase is one case written by testdata/golden/golden.py: the
// reference function that produced the expected arrays and its parameters.
type goldenCase struct {
	Name      string
	Function  string                     `json:"function"`
	Params    map[string]json.RawMessage `json:"params"`
	Arrays    map[string]goldenArray     `json:"arrays"`
	Tolerance float64                    `json:"tolerance"`
	dir       string
}

type goldenArray struct {
	File  string `json:"file"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

// goldenCases loads every case of a family; it fails the test if there are
// none, so a missing golden directory cannot pass silently.
func goldenCases(t *testing.T, family string) []*goldenCase {
	t.Helper()
	dir := filepath.Join("testdata", "golden", family)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases in %s (run testdata/golden/make_golden.py)", dir)
	}
	var cases []*goldenCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &goldenCase{Name: filepath.Base(f[:len(f)-5]), dir: dir}
		if err := json.Unmarshal(data, c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, c)
	}
	return cases
}

// Param decodes one parameter.
func (c *goldenCase) Param(t *testing.T, name string, v any) {
	t.Helper()
	raw, ok := c.Params[name]
	if !ok {
		t.Fatalf("%s: no parameter %q", c.Name, name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: parameter %q: %v", c.Name, name, err)
	}
}

// HasParam reports whether a parameter is present and not null.
func (c *goldenCase) HasParam(name string) bool {
	raw, ok := c.Params[name]
	return ok && string(raw) != "null"
}

func (c *goldenCase) raw(t *testing.T, name string) (goldenArray, []byte) {
	t.Helper()
	a, ok := c.Arrays[name]
	if !ok {
		t.Fatalf("%s: no array %q", c.Name, name)
	}
	f, err := os.Open(filepath.Join(c.dir, a.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", a.File, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", a.File, err)
	}
	return a, data
}

// Image loads an array as an image with the given spacing (x, y, z mm).
// Arrays of rank 3 have numpy shape (z, y, x).
func (c *goldenCase) Image(t *testing.T, name string, spacing [3]float64) *omni.Image {
	t.Helper()
	a, data := c.raw(t, name)
	if len(a.Shape) != 3 {
		t.Fatalf("%s: array %q has shape %v, want 3 dimensions", c.Name, name, a.Shape)
	}
	dt, err := omni.ParseDataType(a.DType)
	if err != nil {
		t.Fatal(err)
	}
	img, err := omni.New(&omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ",
		Size: [3]int{a.Shape[2], a.Shape[1], a.Shape[0]}, DataType: dt,
		ByteOrder: omni.NativeByteOrder(), Spacing: spacing})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != len(img.Pixels()) {
		t.Fatalf("%s: array %q has %d bytes, want %d", c.Name, name, len(data), len(img.Pixels()))
	}
	copy(img.Pixels(), data)
	t.Cleanup(func() { img.Close() })
	return img
}

// Values loads an array of any rank as float64 values (int64 and uint64
// arrays must hold values below 2^53).
func (c *goldenCase) Values(t *testing.T, name string) []float64 {
	t.Helper()
	a, data := c.raw(t, name)
	return decodeValues(t, a.DType, data)
}

func decodeValues(t *testing.T, dtype string, data []byte) []float64 {
	t.Helper()
	le := binary.LittleEndian
	var out []float64
	switch dtype {
	case "uint8":
		for _, b := range data {
			out = append(out, float64(b))
		}
	case "int8":
		for _, b := range data {
			out = append(out, float64(int8(b)))
		}
	case "uint16":
		for i := 0; i+2 <= len(data); i += 2 {
			out = append(out, float64(le.Uint16(data[i:])))
		}
	case "int16":
		for i := 0; i+2 <= len(data); i += 2 {
			out = append(out, float64(int16(le.Uint16(data[i:]))))
		}
	case "uint32":
		for i := 0; i+4 <= len(data); i += 4 {
			out = append(out, float64(le.Uint32(data[i:])))
		}
	case "int32":
		for i := 0; i+4 <= len(data); i += 4 {
			out = append(out, float64(int32(le.Uint32(data[i:]))))
		}
	case "float32":
		for i := 0; i+4 <= len(data); i += 4 {
			out = append(out, float64(math.Float32frombits(le.Uint32(data[i:]))))
		}
	case "float64":
		for i := 0; i+8 <= len(data); i += 8 {
			out = append(out, math.Float64frombits(le.Uint64(data[i:])))
		}
	case "int64":
		for i := 0; i+8 <= len(data); i += 8 {
			out = append(out, float64(int64(le.Uint64(data[i:]))))
		}
	case "uint64":
		for i := 0; i+8 <= len(data); i += 8 {
			out = append(out, float64(le.Uint64(data[i:])))
		}
	default:
		t.Fatalf("unsupported golden dtype %q", dtype)
	}
	return out
}

// imageValues returns an image's voxels as float64, read independently of
// the kernels' typed views.
func imageValues(t *testing.T, img *omni.Image) []float64 {
	t.Helper()
	return decodeValues(t, img.Header().DataType.String(), img.Pixels())
}

// compareValues checks got against want within tol (absolute); NaNs must
// match NaNs. It reports the first few differences.
func compareValues(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		g, w := got[i], want[i]
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				bad++
			} else {
				continue
			}
		} else if math.Abs(g-w) > tol {
			bad++
		} else {
			continue
		}
		if bad <= 5 {
			t.Errorf("%s: value %d = %v, want %v (tolerance %g)", what, i, g, w, tol)
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(got))
	}
}
