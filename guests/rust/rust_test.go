//go:build !wasip1

// Package rusttest tests the Rust guest SDK (guests/rust/xf) and the Rust
// ports of the task types. The committed modules run on a real engine and
// their results are checked against values computed from the image files
// and against the Go originals, so they need only Go. The crate's own unit
// tests, and a differential test of its JSON against encoding/json, run
// when Debian's rustc is installed.
package rusttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
)

// tasks are the ported task types; each has a committed Rust module and a
// Go original.
var tasks = []string{"statminmax", "clipthreshold"}

var (
	modulesOnce sync.Once
	rustModules = map[string][]byte{}
	goModules   = map[string][]byte{}
	modulesErr  error
)

// modules returns the committed Rust module and the freshly built Go
// module of a task type.
func modules(t *testing.T, task string) (rust, goOriginal []byte) {
	t.Helper()
	modulesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xfhost-rust-test-")
		if err != nil {
			modulesErr = err
			return
		}
		defer os.RemoveAll(dir)
		for _, name := range tasks {
			if rustModules[name], modulesErr = os.ReadFile(filepath.Join(name, name+".wasm")); modulesErr != nil {
				return
			}
			if goModules[name], modulesErr = guestbuild.Go(context.Background(), dir, name); modulesErr != nil {
				return
			}
		}
	})
	if modulesErr != nil {
		t.Fatal(modulesErr)
	}
	return rustModules[task], goModules[task]
}

// world is a host on wazero over a fresh local file store.
type world struct{ *testenv.Env }

func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{testenv.New(t, testenv.SharedWazero(t))}
}

// synthetic stores a synthetic uint16 micro-CT volume.
func (w *world) synthetic(t *testing.T, name string, size [3]int) json.RawMessage {
	t.Helper()
	return w.WriteVolume(t, name, size, 11)
}

// float64Image stores a float64 image holding values, with calibrations.
func (w *world) float64Image(t *testing.T, name string, values []float64, cals []omni.Calibration) json.RawMessage {
	t.Helper()
	img, err := omni.New(&omni.Header{Axes: "XYZ", Size: [3]int{len(values), 1, 1}, DataType: omni.Float64,
		Spacing: [3]float64{0.03, 0.03, 0.03}, Calibrations: cals})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	for i, v := range values {
		binary.LittleEndian.PutUint64(img.Pixels()[8*i:], math.Float64bits(v))
	}
	return w.WriteImage(t, name, img)
}

// voxels decodes a little-endian pixel file of the store independently of
// the omni package.
func (w *world) voxels(t *testing.T, ref, dataType string) []float64 {
	t.Helper()
	b := w.ReadFile(t, ref)
	var out []float64
	switch dataType {
	case "uint16":
		for i := 0; i+2 <= len(b); i += 2 {
			out = append(out, float64(binary.LittleEndian.Uint16(b[i:])))
		}
	case "float64":
		for i := 0; i+8 <= len(b); i += 8 {
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
		}
	default:
		t.Fatalf("voxels: data type %s", dataType)
	}
	return out
}

// run runs one job of a module.
func (w *world) run(t *testing.T, module []byte, inputs map[string]any) *host.Result {
	t.Helper()
	return w.Run(t, module, inputs, host.RunOptions{})
}

// runBoth runs the Rust port and the Go original of a task type on the same
// inputs and checks that both end the same way: the same state and error,
// and for outputs other than images the same JSON bytes.
func (w *world) runBoth(t *testing.T, task string, inputs map[string]any) (rust, goOriginal *host.Result) {
	t.Helper()
	rm, gm := modules(t, task)
	rust, goOriginal = w.run(t, rm, inputs), w.run(t, gm, inputs)
	if rust.State != goOriginal.State || rust.Error != goOriginal.Error {
		t.Fatalf("%s: Rust ended %s %q, Go %s %q", task, rust.State, rust.Error, goOriginal.State, goOriginal.Error)
	}
	if task != "clipthreshold" && !reflect.DeepEqual(rust.Outputs, goOriginal.Outputs) {
		t.Fatalf("%s: Rust outputs %s, Go %s", task, rust.Outputs, goOriginal.Outputs)
	}
	return rust, goOriginal
}

func wantFailed(t *testing.T, res *host.Result, message string) {
	t.Helper()
	if res.State != host.Failed || res.Error != message {
		t.Fatalf("state %s, error %q; want failed with %q", res.State, res.Error, message)
	}
}

// wantOutput checks an output's exact JSON against Go's encoding of want.
func wantOutput(t *testing.T, res *host.Result, key string, want float64) {
	t.Helper()
	enc, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Outputs[key]); got != string(enc) {
		t.Errorf("output %s = %s, want %s", key, got, enc)
	}
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !math.IsNaN(x) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi
}

func TestStatMinMax(t *testing.T) {
	w := newWorld(t)
	img := w.synthetic(t, "bone", [3]int{23, 19, 17})
	lo, hi := minMax(w.voxels(t, "scans/bone.raw", "uint16"))
	for _, unit := range []any{nil, "dens", "hu"} {
		res, _ := w.runBoth(t, "statminmax", map[string]any{"image": img, "calibration": unit})
		testenv.WantDone(t, res)
		wantLo, wantHi := lo, hi
		if unit != nil {
			slope, intercept, ok := w.Calibration(t, "scans/bone.omni", unit.(string))
			if !ok {
				t.Fatalf("the synthetic volume has no %s calibration", unit)
			}
			// The conversions keep Go from fusing multiply and add, which
			// neither guest does on Wasm.
			wantLo, wantHi = float64(slope*lo)+intercept, float64(slope*hi)+intercept
		}
		wantOutput(t, res, "min", wantLo)
		wantOutput(t, res, "max", wantHi)
	}
	for _, unit := range []string{"linatt", ""} {
		res, _ := w.runBoth(t, "statminmax", map[string]any{"image": img, "calibration": unit})
		wantFailed(t, res, "Image is missing calibration metadata of type "+unit)
	}
}

// TestStatMinMaxFloats covers the outputs where Go's JSON switches to
// exponent form, and the values it cannot encode.
func TestStatMinMaxFloats(t *testing.T) {
	w := newWorld(t)
	tiny := omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: "tiny", Slope: 3e-15, Intercept: 0}
	values := []float64{2.5e22, 1e-7, math.NaN(), 4096.5, -3.25e-9}
	img := w.float64Image(t, "wide", values, []omni.Calibration{tiny})
	lo, hi := minMax(w.voxels(t, "scans/wide.raw", "float64"))

	res, _ := w.runBoth(t, "statminmax", map[string]any{"image": img, "calibration": nil})
	testenv.WantDone(t, res)
	wantOutput(t, res, "min", lo)
	wantOutput(t, res, "max", hi)
	if string(res.Outputs["max"]) != "2.5e+22" || string(res.Outputs["min"]) != "-3.25e-9" {
		t.Errorf("outputs %s: not in exponent form", res.Outputs)
	}

	res, _ = w.runBoth(t, "statminmax", map[string]any{"image": img, "calibration": "tiny"})
	testenv.WantDone(t, res)
	wantOutput(t, res, "min", float64(tiny.Slope*lo)+tiny.Intercept)
	wantOutput(t, res, "max", float64(tiny.Slope*hi)+tiny.Intercept)

	nan := w.float64Image(t, "nan", []float64{math.NaN(), math.NaN()}, nil)
	res, _ = w.runBoth(t, "statminmax", map[string]any{"image": nan, "calibration": nil})
	wantFailed(t, res, "clip.minmax: NOT_FOUND")

	inf := w.float64Image(t, "inf", []float64{1, math.Inf(1)}, nil)
	res, _ = w.runBoth(t, "statminmax", map[string]any{"image": inf, "calibration": nil})
	wantFailed(t, res, `output "max": json: unsupported value: +Inf`)
}

func TestClipThreshold(t *testing.T) {
	w := newWorld(t)
	img := w.synthetic(t, "bone", [3]int{21, 18, 15})
	voxels := w.voxels(t, "scans/bone.raw", "uint16")
	lo, hi := minMax(voxels)
	mid := (lo + hi) / 2
	cases := []struct {
		name         string
		lower, upper any
		inside       func(float64) bool
	}{
		{"both", mid, hi - 100, func(v float64) bool { return v >= mid && v <= hi-100 }},
		{"lower only", mid, nil, func(v float64) bool { return v >= mid }},
		{"upper only", nil, mid, func(v float64) bool { return v <= mid }},
		{"neither", nil, nil, func(float64) bool { return true }},
		{"inclusive", hi, hi, func(v float64) bool { return v == hi }},
		{"empty", hi, lo, func(float64) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rust, goOriginal := w.runBoth(t, "clipthreshold", map[string]any{"image": img, "threshold_lower0": c.lower, "threshold_upper0": c.upper})
			testenv.WantDone(t, rust)
			got := w.segmentation(t, rust)
			if !bytes.Equal(got, w.segmentation(t, goOriginal)) {
				t.Error("the Rust and Go segmentations differ")
			}
			for i, v := range voxels {
				want := byte(0)
				if c.inside(v) {
					want = 1
				}
				if got[i] != want {
					t.Fatalf("voxel %d (value %v) = %d, want %d", i, v, got[i], want)
				}
			}
		})
	}
}

// segmentation checks the segments output of a job and returns its voxels.
func (w *world) segmentation(t *testing.T, res *host.Result) []byte {
	t.Helper()
	out := w.OutputImage(t, res, "segments")
	var h struct {
		Size     [3]int `json:"size"`
		DataType string `json:"data_type"`
	}
	if err := json.Unmarshal(w.ReadFile(t, out.Header), &h); err != nil {
		t.Fatal(err)
	}
	if h.DataType != "uint8" || h.Size != out.Size || len(out.Pixels) != out.Size[0]*out.Size[1]*out.Size[2] {
		t.Fatalf("segmentation header %+v, output size %v, %d bytes", h, out.Size, len(out.Pixels))
	}
	return out.Pixels
}

// TestFailures checks that the ports fail with the Go originals' messages.
func TestFailures(t *testing.T) {
	w := newWorld(t)
	missing := json.RawMessage(`{"type":"Image","filename":"scans/none.omni","size":[1,1,1],"filenames":["scans/none.raw"]}`)
	for _, c := range []struct {
		task    string
		inputs  map[string]any
		message string
	}{
		{"statminmax", map[string]any{"image": missing, "calibration": nil}, `xf.image_open "image": IO_ERROR`},
		{"clipthreshold", map[string]any{"image": missing, "threshold_lower0": 1, "threshold_upper0": nil}, `xf.image_open "image": IO_ERROR`},
	} {
		res, _ := w.runBoth(t, c.task, c.inputs)
		wantFailed(t, res, c.message)
	}
}
