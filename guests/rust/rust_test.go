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

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
)

// tasks are the ported task types; each has a committed Rust module and a
// Go original.
var tasks = []string{"statminmax", "clipthreshold"}

var (
	modulesOnce sync.Once
	rustModules = map[string][]byte{}
	goModules   = map[string][]byte{}
	modulesErr  error
	engineOnce  sync.Once
	sharedEng   engine.Engine
	engineErr   error
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
type world struct {
	dir  string
	host *host.Host
}

func newWorld(t *testing.T) *world {
	t.Helper()
	engineOnce.Do(func() {
		sharedEng, engineErr = wazeroengine.New(context.Background(), engine.Config{HostModules: host.Imports()})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	dir := t.TempDir()
	store, err := fss.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h, err := host.New(host.Options{Engine: sharedEng, Store: store, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return &world{dir: dir, host: h}
}

// store writes img as scans/<name>.omni and returns its Image input value.
func (w *world) store(t *testing.T, name string, img *omni.Image) json.RawMessage {
	t.Helper()
	scans := filepath.Join(w.dir, "scans")
	if err := os.MkdirAll(scans, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := omni.Write(scans, name, img); err != nil {
		t.Fatal(err)
	}
	v, err := json.Marshal(map[string]any{"type": "Image", "filename": "scans/" + name + ".omni",
		"size": img.Header().Size, "filenames": []string{"scans/" + name + ".raw"}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// synthetic stores a synthetic uint16 micro-CT volume.
func (w *world) synthetic(t *testing.T, name string, size [3]int) json.RawMessage {
	t.Helper()
	img, err := synth.Volume(context.Background(), synth.Options{Size: size, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	return w.store(t, name, img)
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
	return w.store(t, name, img)
}

// file reads a file of the store.
func (w *world) file(t *testing.T, ref string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, filepath.FromSlash(ref)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// voxels decodes a little-endian pixel file of the store independently of
// the omni package.
func (w *world) voxels(t *testing.T, ref, dataType string) []float64 {
	t.Helper()
	b := w.file(t, ref)
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

// calibration reads a calibration from an .omni header with plain JSON.
func (w *world) calibration(t *testing.T, ref, unitType string) (slope, intercept float64, ok bool) {
	t.Helper()
	var h struct {
		Calibrations []struct {
			UnitType  string  `json:"unit_type"`
			Slope     float64 `json:"slope"`
			Intercept float64 `json:"intercept"`
		} `json:"calibrations"`
	}
	if err := json.Unmarshal(w.file(t, ref), &h); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.Calibrations {
		if c.UnitType == unitType {
			return c.Slope, c.Intercept, true
		}
	}
	return 0, 0, false
}

// run runs one job of a module.
func (w *world) run(t *testing.T, module []byte, inputs map[string]any) *host.Result {
	t.Helper()
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.host.RunModule(context.Background(), module, in, host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
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

func wantDone(t *testing.T, res *host.Result) {
	t.Helper()
	if res.State != host.Done {
		t.Fatalf("state %s, error %q, log %v", res.State, res.Error, res.Log)
	}
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
		wantDone(t, res)
		wantLo, wantHi := lo, hi
		if unit != nil {
			slope, intercept, ok := w.calibration(t, "scans/bone.omni", unit.(string))
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
	wantDone(t, res)
	wantOutput(t, res, "min", lo)
	wantOutput(t, res, "max", hi)
	if string(res.Outputs["max"]) != "2.5e+22" || string(res.Outputs["min"]) != "-3.25e-9" {
		t.Errorf("outputs %s: not in exponent form", res.Outputs)
	}

	res, _ = w.runBoth(t, "statminmax", map[string]any{"image": img, "calibration": "tiny"})
	wantDone(t, res)
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
			wantDone(t, rust)
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
	var out struct {
		Type      string   `json:"type"`
		Filename  string   `json:"filename"`
		Filenames []string `json:"filenames"`
		Size      [3]int   `json:"size"`
	}
	if err := json.Unmarshal(res.Outputs["segments"], &out); err != nil {
		t.Fatalf("segments = %s: %v", res.Outputs["segments"], err)
	}
	if out.Type != "Image" || len(out.Filenames) != 1 {
		t.Fatalf("segments = %s", res.Outputs["segments"])
	}
	var h struct {
		Size     [3]int `json:"size"`
		DataType string `json:"data_type"`
	}
	if err := json.Unmarshal(w.file(t, out.Filename), &h); err != nil {
		t.Fatal(err)
	}
	raw := w.file(t, out.Filenames[0])
	if h.DataType != "uint8" || h.Size != out.Size || len(raw) != out.Size[0]*out.Size[1]*out.Size[2] {
		t.Fatalf("segmentation header %+v, output %+v, %d bytes", h, out, len(raw))
	}
	return raw
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
