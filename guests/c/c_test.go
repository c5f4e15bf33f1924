//go:build !wasip1

// Package ctest tests the C guests: the committed task modules
// guests/c/<task>/<task>.wasm run on a wazero host against a local file
// store, and their results are checked against values computed here from
// the image bytes. The C SDK's JSON code is compared with encoding/json in
// xfjson_test.go. build.sh rebuilds the modules; these tests need only Go.
package ctest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/taskmodule"
)

// world is a host on wazero over a store holding one synthetic volume,
// whose header gets extra calibrations with awkward numbers.
type world struct {
	*testenv.Env
	volume json.RawMessage
	voxels []uint16
	cals   map[string][2]float64 // unit type: slope, intercept
}

var extraCalibrations = []struct {
	unitType         string
	slope, intercept float64
}{
	{"odd", 0.1234567, -1000.3},      // digits that only round-trip with care
	{"tiny", 1.1e-12, 3e-9},          // exponent notation, negative exponents
	{"huge", 7.3e19, 1},              // exponent notation from 1e21 up
	{"negative", -1.0 / 3, 1e-7 / 3}, // 17 significant digits
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{Env: testenv.New(t, testenv.SharedWazero(t)), cals: map[string][2]float64{}}
	w.volume = w.WriteVolume(t, "bone", [3]int{23, 19, 17}, 5)
	scans := filepath.Join(w.Dir, "scans")
	w.addCalibrations(t, filepath.Join(scans, "bone.omni"))
	w.voxels = w.Uint16Pixels(t, "scans/bone.raw")
	// A header that does not parse, for a guest-side image_open failure.
	if err := os.WriteFile(filepath.Join(scans, "broken.omni"), []byte(`{"format_version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// addCalibrations appends extraCalibrations to an .omni header with plain
// JSON and records every calibration of the file.
func (w *world) addCalibrations(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var header map[string]any
	if err := json.Unmarshal(data, &header); err != nil {
		t.Fatal(err)
	}
	cals, _ := header["calibrations"].([]any)
	for _, c := range extraCalibrations {
		cals = append(cals, map[string]any{"type": "slope_intercept", "unit_type": c.unitType, "unit_name": c.unitType,
			"slope": c.slope, "intercept": c.intercept})
	}
	header["calibrations"] = cals
	for _, c := range cals {
		m := c.(map[string]any)
		w.cals[m["unit_type"].(string)] = [2]float64{m["slope"].(float64), m["intercept"].(float64)}
	}
	if data, err = json.Marshal(header); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// module reads a committed C task module: DIR/<name of DIR>.wasm.
func module(t *testing.T, dir string) []byte {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(dir, filepath.Base(dir)+".wasm"))
	if err != nil {
		t.Fatalf("%v (rebuild with guests/c/build.sh)", err)
	}
	return wasm
}

// run runs a job and returns its result and the imports it called.
func (w *world) run(t *testing.T, wasm []byte, inputs map[string]any) (*host.Result, []string) {
	t.Helper()
	var calls []string
	opt := host.RunOptions{OnCall: func(c host.Call) {
		if c.Stopped {
			calls = append(calls, c.Import+" stopped")
		} else {
			calls = append(calls, c.Import+" "+c.Status.String())
		}
	}}
	return w.Run(t, wasm, inputs, opt), calls
}

func wantFailed(t *testing.T, res *host.Result, message string) {
	t.Helper()
	if res.State != host.Failed || res.Error != message {
		t.Fatalf("state %s, error %q; want failed with %q", res.State, res.Error, message)
	}
	if len(res.Outputs) != 0 {
		t.Errorf("a failed job has outputs %v", res.Outputs)
	}
}

// wantOutput compares an output's JSON text with what Go's encoding/json
// writes for want: the C SDK must produce the same bytes.
func wantOutput(t *testing.T, res *host.Result, key string, want any) {
	t.Helper()
	enc, _ := json.Marshal(want)
	if got := string(res.Outputs[key]); got != string(enc) {
		t.Errorf("output %s = %s, want %s", key, got, enc)
	}
}

// The ports are checked to match their Go originals: same metadata and
// interface, and the Go SDK's sequence of import calls.
func TestPortsMatchGoOriginals(t *testing.T) {
	for _, task := range []string{"statminmax", "clipthreshold"} {
		mod, err := taskmodule.Parse(module(t, task))
		if err != nil {
			t.Fatal(err)
		}
		for section, got := range map[string][]byte{"metadata.json": mod.MetadataJSON, "interface.json": mod.InterfaceJSON} {
			orig, err := os.ReadFile(filepath.Join("..", "go", task, section))
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if json.Unmarshal(orig, &a) != nil || json.Unmarshal(got, &b) != nil {
				t.Fatalf("%s %s: not JSON", task, section)
			}
			if ae, be := mustJSON(a), mustJSON(b); ae != be {
				t.Errorf("%s: %s differs from the Go original:\n%s\n%s", task, section, be, ae)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func minMax(v []uint16) (lo, hi uint16) {
	lo, hi = math.MaxUint16, 0
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func TestStatMinMax(t *testing.T) {
	w := newWorld(t)
	wasm := module(t, "statminmax")
	lo, hi := minMax(w.voxels)
	// What the Go SDK calls, in order, for a successful job. Like Go's,
	// the C SDK's first buffer for a result is 256 bytes, too small for
	// the information of an image with six calibrations.
	goCalls := []string{"xf.inputs_get OK", "xf.job_info_get OK", "xf.image_open OK",
		"xf.image_info_get BUFFER_TOO_SMALL", "xf.image_info_get OK",
		"clip.minmax OK", "xf.output_set OK", "xf.output_set OK", "xf.finish OK"}

	t.Run("raw", func(t *testing.T) {
		res, calls := w.run(t, wasm, map[string]any{"image": w.volume, "calibration": nil})
		testenv.WantDone(t, res)
		wantOutput(t, res, "min", float64(lo))
		wantOutput(t, res, "max", float64(hi))
		if !slices.Equal(calls, goCalls) {
			t.Errorf("calls %q, want the Go SDK's %q", calls, goCalls)
		}
	})
	units := []string{"dens", "hu"}
	for _, c := range extraCalibrations {
		units = append(units, c.unitType)
	}
	for _, unit := range units {
		t.Run(unit, func(t *testing.T) {
			res, _ := w.run(t, wasm, map[string]any{"image": w.volume, "calibration": unit})
			testenv.WantDone(t, res)
			c := w.cals[unit]
			wantOutput(t, res, "min", c[0]*float64(lo)+c[1])
			wantOutput(t, res, "max", c[0]*float64(hi)+c[1])
		})
	}
	t.Run("missing calibration", func(t *testing.T) {
		res, calls := w.run(t, wasm, map[string]any{"image": w.volume, "calibration": "linatt"})
		wantFailed(t, res, "Image is missing calibration metadata of type linatt")
		want := append(slices.Clone(goCalls[:6]), "xf.fail stopped")
		if !slices.Equal(calls, want) {
			t.Errorf("calls %q, want the Go SDK's %q", calls, want)
		}
	})
	t.Run("broken image", func(t *testing.T) {
		img := strings.Replace(string(w.volume), "bone.omni", "broken.omni", 1)
		res, _ := w.run(t, wasm, map[string]any{"image": json.RawMessage(img), "calibration": nil})
		wantFailed(t, res, `xf.image_open "image": BAD_ARGUMENT`)
	})
}

// segmentation reads an Image output's pixels from the store.
func (w *world) segmentation(t *testing.T, res *host.Result, key string) []byte {
	t.Helper()
	out := w.OutputImage(t, res, key)
	if out.Size != [3]int{23, 19, 17} {
		t.Fatalf("output %s = %s", key, res.Outputs[key])
	}
	return out.Pixels
}

func TestClipThreshold(t *testing.T) {
	w := newWorld(t)
	wasm := module(t, "clipthreshold")
	lo, hi := minMax(w.voxels)
	mid := float64(lo+hi)/2 + 0.5
	cases := []struct {
		name         string
		lower, upper any
		inside       func(float64) bool
	}{
		{"both", mid, float64(hi) - 50, func(v float64) bool { return v >= mid && v <= float64(hi)-50 }},
		{"lower only", mid, nil, func(v float64) bool { return v >= mid }},
		{"upper only", nil, mid, func(v float64) bool { return v <= mid }},
		{"null bounds", nil, nil, func(float64) bool { return true }},
		{"inclusive", float64(hi), float64(hi), func(v float64) bool { return v == float64(hi) }},
		{"empty", float64(hi), float64(lo), func(float64) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, calls := w.run(t, wasm, map[string]any{"image": w.volume, "threshold_lower0": c.lower, "threshold_upper0": c.upper})
			testenv.WantDone(t, res)
			got := w.segmentation(t, res, "segments")
			if len(got) != len(w.voxels) {
				t.Fatalf("segmentation has %d voxels, want %d", len(got), len(w.voxels))
			}
			for i, v := range w.voxels {
				want := byte(0)
				if c.inside(float64(v)) {
					want = 1
				}
				if got[i] != want {
					t.Fatalf("voxel %d (value %d) = %d, want %d", i, v, got[i], want)
				}
			}
			// The segmentation has no calibrations: its information fits.
			goCalls := []string{"xf.inputs_get OK", "xf.job_info_get OK", "xf.image_open OK",
				"xf.image_info_get BUFFER_TOO_SMALL", "xf.image_info_get OK",
				"clip.threshold OK", "xf.image_info_get OK", "xf.output_image_set OK", "xf.finish OK"}
			if !slices.Equal(calls, goCalls) {
				t.Errorf("calls %q, want the Go SDK's %q", calls, goCalls)
			}
		})
	}
	t.Run("broken image", func(t *testing.T) {
		img := strings.Replace(string(w.volume), "bone.omni", "broken.omni", 1)
		res, _ := w.run(t, wasm, map[string]any{"image": json.RawMessage(img), "threshold_lower0": 1, "threshold_upper0": nil})
		wantFailed(t, res, `xf.image_open "image": BAD_ARGUMENT`)
	})
}

// xorshiftSum is Bench.Loop's computation, written again in Go.
func xorshiftSum(n int64) int64 {
	x, sum := uint64(0x9E3779B97F4A7C15), uint64(0)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		sum += x
	}
	return int64(sum >> 1)
}

func TestBenchLoop(t *testing.T) {
	w := newWorld(t)
	wasm := module(t, "loop")
	ns := []int64{0, 1, 2, 1000, 1000003}
	if !testing.Short() {
		ns = append(ns, 1e8) // the size the benchmark runs; about a second
	}
	for _, n := range ns {
		t.Run(strconv.FormatInt(n, 10), func(t *testing.T) {
			res, _ := w.run(t, wasm, map[string]any{"n": n})
			testenv.WantDone(t, res)
			want := xorshiftSum(n)
			if n == 1e8 && want != 999902648913052913 { // the figure guests/c/README.md gives
				t.Errorf("xorshiftSum(1e8) = %d, the README says 999902648913052913", want)
			}
			wantOutput(t, res, "sum", want)
		})
	}
}

// volumeFacts are what the SDK check reports about the test volume,
// computed here from its voxels.
type volumeFacts struct {
	lo, hi, sum        float64
	mid                float64 // the threshold: voxels >= mid are "ones"
	ones               int
	maskedMin          float64
	box                [6]int
	components         int
	largest, atLargest int // the largest component's size; how many have it
}

func (w *world) facts(size [3]int) volumeFacts {
	f := volumeFacts{lo: math.Inf(1), hi: math.Inf(-1)}
	for _, v := range w.voxels {
		f.lo, f.hi, f.sum = min(f.lo, float64(v)), max(f.hi, float64(v)), f.sum+float64(v)
	}
	f.mid = (f.lo + f.hi) / 2
	f.maskedMin = math.Inf(1)
	lo, hi := [3]int{size[0], size[1], size[2]}, [3]int{-1, -1, -1}
	in := func(i int) bool { return float64(w.voxels[i]) >= f.mid }
	for i, v := range w.voxels {
		if !in(i) {
			continue
		}
		f.ones++
		f.maskedMin = min(f.maskedMin, float64(v))
		p := [3]int{i % size[0], i / size[0] % size[1], i / (size[0] * size[1])}
		for a := range 3 {
			lo[a], hi[a] = min(lo[a], p[a]), max(hi[a], p[a])
		}
	}
	f.box = [6]int{lo[0], lo[1], lo[2], hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1}
	// 6-connected components by flood fill.
	seen := make([]bool, len(w.voxels))
	for start := range w.voxels {
		if !in(start) || seen[start] {
			continue
		}
		f.components++
		n, stack := 0, []int{start}
		seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y, z := i%size[0], i/size[0]%size[1], i/(size[0]*size[1])
			for _, d := range [6][3]int{{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}} {
				nx, ny, nz := x+d[0], y+d[1], z+d[2]
				if nx < 0 || ny < 0 || nz < 0 || nx >= size[0] || ny >= size[1] || nz >= size[2] {
					continue
				}
				j := nx + size[0]*(ny+size[1]*nz)
				if in(j) && !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		switch {
		case n > f.largest:
			f.largest, f.atLargest = n, 1
		case n == f.largest:
			f.atLargest++
		}
	}
	return f
}

// TestSDKCheck runs testdata/sdkcheck, which calls every part of the C SDK
// and reports what it got, and checks each line.
func TestSDKCheck(t *testing.T) {
	w := newWorld(t)
	wasm := module(t, filepath.Join("testdata", "sdkcheck"))
	const s = "q\"é\u2028<x>\x7f&"
	res, _ := w.run(t, wasm, map[string]any{"image": w.volume, "i": math.MinInt64, "f": 1.5, "s": s, "b": true, "nul": nil})
	testenv.WantDone(t, res)
	var report string
	if err := json.Unmarshal(res.Outputs["report"], &report); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, res, "report", report) // escaped as Go escapes it

	f := w.facts([3]int{23, 19, 17})
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	js := func(v float64) string { b, _ := json.Marshal(v); return string(b) }
	dens := w.cals["dens"]
	want := []string{
		"i=-9223372036854775808", "f=1.5", "s=" + s, "b=true", "nul=absent 1",
		`err_null=input "nul" is null`,
		`err_missing=input "zz" does not exist`,
		`err_string_as_float=input "s": json: cannot unmarshal string into Go value of type float64`,
		`err_fraction_as_int=input "f": json: cannot unmarshal number 1.5 into Go value of type int64`,
		`err_number_as_string=input "i": json: cannot unmarshal number into Go value of type string`,
		`err_number_as_bool=input "f": json: cannot unmarshal number into Go value of type bool`,
		"image_kind=object", "task_type=Test.CSDKCheck 1.0.0.0", "abi=1.1", "status_text=DENIED STATUS_99",
		"image=uint16 23x19x17", "calibrations=6 dens hu",
		"dens_of_1000=" + js(dens[0]*1000+dens[1]), "raw_of_0_dens=" + js((0-dens[1])/dens[0]),
		fmt.Sprintf("stats=%s %s %s %d", num(f.lo), num(f.hi), num(f.sum), len(w.voxels)),
		fmt.Sprintf("histogram=4 %d 1", len(w.voxels)),
		"threshold=uint8 23x19x17",
		"bvtv=" + js(float64(f.ones)/float64(len(w.voxels))),
		fmt.Sprintf("bounding_box=%d %d %d %d %d %d", f.box[0], f.box[1], f.box[2], f.box[3], f.box[4], f.box[5]),
		"label=uint32 23x19x17",
		fmt.Sprintf("components=%d %d %d", f.components, f.components, f.ones),
		"err_component_sizes=clip.component_sizes: TYPE_MISMATCH",
		fmt.Sprintf("keep_largest=%d %d", f.largest, f.largest),
		fmt.Sprintf("remove_small=%d", f.largest*f.atLargest),
		fmt.Sprintf("mask=%s %s", num(f.maskedMin), num(f.hi)),
		"threshold_multi=uint8 23x19x17", "convert=float32 23x19x17",
		"arith_scalar=" + num(f.hi+1), "arith=" + num(f.hi),
		"gaussian=float32 23x19x17", "median=uint16 23x19x17", "morphology=uint8 23x19x17",
		"distance_transform=float32 23x19x17", "crop=uint16 4x5x6", "resample=uint16 23x19x34",
		"created=uint16 4x3x2", "created_spacing_z=1.25", "roundtrip=same 276000",
		"err_short_buffer=xf.image_read: BUFFER_TOO_SMALL", "created_like=uint8 4x3x2",
		"err_write_input=xf.image_write: DENIED", "err_create_json=xf.image_create: INVALID_JSON",
		"temp_path=/scratch/ named", "related_path=named", "upload=ref",
		`err_upload=xf.output_file_upload "/etc/passwd": BAD_ARGUMENT`,
		"err_progress=xf.progress_set: BAD_ARGUMENT",
		`err_output_nan=output "report": json: unsupported value: NaN`,
		`err_output_missing=xf.output_set "nope": NOT_FOUND`,
	}
	got := strings.Split(report, "\n")
	for i := range max(len(got), len(want)) {
		g, wnt := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			wnt = want[i]
		}
		if g != wnt {
			t.Errorf("line %d: got %q\nwant %q", i+1, g, wnt)
		}
	}

	if res.Units["report"] != "lines" {
		t.Errorf("units %v", res.Units)
	}
	var logs []string
	for _, l := range res.Log {
		logs = append(logs, l.Source+" "+l.Message)
	}
	if !slices.Equal(logs, []string{"guest plain line", "guest formatted 42"}) {
		t.Errorf("log %q", logs)
	}
	if len(res.Progress) != 1 || res.Progress[0].Percent != 50 || len(res.Activity) != 1 || res.Activity[0].Title != "activity" {
		t.Errorf("progress %+v, activity %+v", res.Progress, res.Activity)
	}
	if res.ErrorNote != "" || res.EstimatedDuration != 2500*time.Millisecond {
		t.Errorf("error message %q (want cleared), estimated duration %v", res.ErrorNote, res.EstimatedDuration)
	}
}
