// Package e2e runs the task types of this repository as real Wasm guests
// on a real engine, against a local file store, and checks their outputs
// against values computed independently from the raw files.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/policy"
)

var (
	buildOnce sync.Once
	buildErr  error
	modules   = map[string][]byte{}
	buildDir  string
)

// guest returns a built task module: a task type of guests/go or a test
// guest of testdata/guests.
func guest(t testing.TB, name string) []byte {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "xfhost-e2e-guests-")
		if buildErr != nil {
			return
		}
		ctx := context.Background()
		for _, n := range []string{"statminmax", "clipthreshold", "corethreshold", "imagepixelsminmax", "histogramplot"} {
			if modules[n], buildErr = guestbuild.Go(ctx, buildDir, n); buildErr != nil {
				return
			}
		}
		for _, n := range []string{"partial", "panics", "noexit", "nomarker"} {
			dir, _ := filepath.Abs(filepath.Join("testdata", "guests", n))
			if modules[n], buildErr = guestbuild.Package(ctx, buildDir, dir); buildErr != nil {
				return
			}
		}
		// taskmodule.Pack refuses a module without an ABI marker, so the
		// sections go in by hand.
		modules["nomarker"], buildErr = embedWithoutChecks(modules["nomarker"], "testdata/guests/nomarker")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	m, ok := modules[name]
	if !ok {
		t.Fatalf("no guest %q", name)
	}
	return m
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// env is a test's host on wazero over a fresh local store.
type env struct {
	t testing.TB
	*testenv.Env
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{t: t, Env: testenv.New(t, testenv.SharedWazero(t))}
}

// volume writes a synthetic image into the store and returns its Image
// input value.
func (e *env) volume(name string, size [3]int) json.RawMessage {
	e.t.Helper()
	return e.WriteVolume(e.t, name, size, 7)
}

// rawUint16 decodes a little-endian uint16 pixel file independently of
// the omni package.
func (e *env) rawUint16(ref string) []uint16 {
	e.t.Helper()
	return e.Uint16Pixels(e.t, ref)
}

// calibration reads a calibration of the .omni file with plain JSON.
func (e *env) calibration(ref, unitType string) (slope, intercept float64) {
	e.t.Helper()
	slope, intercept, ok := e.Calibration(e.t, ref, unitType)
	if !ok {
		e.t.Fatalf("%s has no %s calibration", ref, unitType)
	}
	return slope, intercept
}

func (e *env) run(module string, inputs map[string]any) *host.Result {
	e.t.Helper()
	return e.Run(e.t, guest(e.t, module), inputs, host.RunOptions{})
}

func wantFailed(t *testing.T, res *host.Result, message string) {
	t.Helper()
	if res.State != host.Failed {
		t.Fatalf("state %s, want failed with %q", res.State, message)
	}
	if !strings.Contains(res.Error, message) {
		t.Fatalf("error %q does not contain %q", res.Error, message)
	}
	if len(res.Outputs) != 0 {
		t.Errorf("failed job reports outputs %v", res.Outputs)
	}
}

func floatOutput(t *testing.T, res *host.Result, key string) float64 {
	t.Helper()
	var f float64
	if err := json.Unmarshal(res.Outputs[key], &f); err != nil {
		t.Fatalf("output %s = %s: %v", key, res.Outputs[key], err)
	}
	return f
}

func minMax(v []uint16) (lo, hi uint16) {
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func TestStatMinMaxRaw(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{41, 33, 27})
	res := e.run("statminmax", map[string]any{"image": img, "calibration": nil})
	testenv.WantDone(t, res)
	lo, hi := minMax(e.rawUint16("scans/bone.raw"))
	if got := floatOutput(t, res, "min"); got != float64(lo) {
		t.Errorf("min = %v, want %v", got, lo)
	}
	if got := floatOutput(t, res, "max"); got != float64(hi) {
		t.Errorf("max = %v, want %v", got, hi)
	}
}

func TestStatMinMaxCalibrated(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{20, 21, 22})
	for _, unit := range []string{"dens", "hu"} {
		res := e.run("statminmax", map[string]any{"image": img, "calibration": unit})
		testenv.WantDone(t, res)
		lo, hi := minMax(e.rawUint16("scans/bone.raw"))
		slope, icpt := e.calibration("scans/bone.omni", unit)
		if got, want := floatOutput(t, res, "min"), slope*float64(lo)+icpt; got != want {
			t.Errorf("%s min = %v, want %v", unit, got, want)
		}
		if got, want := floatOutput(t, res, "max"), slope*float64(hi)+icpt; got != want {
			t.Errorf("%s max = %v, want %v", unit, got, want)
		}
	}
}

func TestStatMinMaxMissingCalibration(t *testing.T) {
	e := newEnv(t)
	res := e.run("statminmax", map[string]any{"image": e.volume("bone", [3]int{8, 8, 8}), "calibration": "linatt"})
	wantFailed(t, res, "Image is missing calibration metadata of type linatt")
}

// segmentation reads an Image output's pixels from the store.
func (e *env) segmentation(res *host.Result, key string) []byte {
	e.t.Helper()
	out := e.OutputImage(e.t, res, key)
	img, err := omni.Open(filepath.Join(e.Dir, filepath.FromSlash(out.Header)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer img.Close()
	if img.Header().DataType != omni.Uint8 || img.Header().Size != out.Size {
		e.t.Fatalf("segmentation header %+v", img.Header())
	}
	return out.Pixels
}

func compareSegmentation(t *testing.T, got []byte, voxels []uint16, inside func(float64) bool) {
	t.Helper()
	if len(got) != len(voxels) {
		t.Fatalf("segmentation has %d voxels, want %d", len(got), len(voxels))
	}
	ones := 0
	for i, v := range voxels {
		want := byte(0)
		if inside(float64(v)) {
			want = 1
			ones++
		}
		if got[i] != want {
			t.Fatalf("voxel %d (value %d) = %d, want %d", i, v, got[i], want)
		}
	}
	t.Logf("%d of %d voxels inside", ones, len(voxels))
}

func TestClipThreshold(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{37, 29, 23})
	voxels := e.rawUint16("scans/bone.raw")
	lo, hi := minMax(voxels)
	mid := float64(lo+hi) / 2
	cases := []struct {
		name         string
		lower, upper any
		inside       func(float64) bool
	}{
		{"both", mid, float64(hi) - 100, func(v float64) bool { return v >= mid && v <= float64(hi)-100 }},
		{"lower only", mid, nil, func(v float64) bool { return v >= mid }},
		{"upper only", nil, mid, func(v float64) bool { return v <= mid }},
		{"neither", nil, nil, func(float64) bool { return true }},
		{"inclusive", float64(hi), float64(hi), func(v float64) bool { return v == float64(hi) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.run("clipthreshold", map[string]any{"image": img, "threshold_lower0": c.lower, "threshold_upper0": c.upper})
			testenv.WantDone(t, res)
			compareSegmentation(t, e.segmentation(res, "segments"), voxels, c.inside)
		})
	}
}

func TestCoreThresholdCalibrated(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{31, 27, 19})
	voxels := e.rawUint16("scans/bone.raw")
	slope, icpt := e.calibration("scans/bone.omni", "dens")
	t.Run("defaults", func(t *testing.T) {
		// calibration defaults to dens, the lower bound to 1 (calibrated).
		res := e.run("corethreshold", map[string]any{"image": img, "threshold_upper0": nil})
		testenv.WantDone(t, res)
		compareSegmentation(t, e.segmentation(res, "segments"), voxels, func(v float64) bool { return v >= (1-icpt)/slope })
	})
	t.Run("hu range", func(t *testing.T) {
		s, i := e.calibration("scans/bone.omni", "hu")
		lo, hi := 200.0, 1500.0
		res := e.run("corethreshold", map[string]any{"image": img, "calibration": "hu", "threshold_lower0": lo, "threshold_upper0": hi})
		testenv.WantDone(t, res)
		compareSegmentation(t, e.segmentation(res, "segments"), voxels, func(v float64) bool {
			return v >= (lo-i)/s && v <= (hi-i)/s
		})
	})
	t.Run("unknown unit", func(t *testing.T) {
		res := e.run("corethreshold", map[string]any{"image": img, "calibration": "kelvin", "threshold_upper0": nil})
		wantFailed(t, res, `"calibration"`)
	})
}

func TestJobFailures(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{8, 9, 10})
	cases := []struct {
		name, module string
		inputs       map[string]any
		message      string
	}{
		{"missing input", "statminmax", map[string]any{"calibration": nil}, `"image"`},
		{"wrong input type", "clipthreshold", map[string]any{"image": img, "threshold_lower0": "low", "threshold_upper0": nil}, `"threshold_lower0"`},
		{"image given a number", "statminmax", map[string]any{"image": 3, "calibration": nil}, `"image"`},
		{"unknown input", "statminmax", map[string]any{"image": img, "calibration": nil, "colour": "red"}, `"colour"`},
		{"finish without an output", "partial", map[string]any{"image": img, "calibration": nil}, "finish called without required outputs: max"},
		{"guest panic", "panics", map[string]any{"image": img, "calibration": nil}, "guest exited with code 2"},
		{"exit without finish", "noexit", map[string]any{"image": img, "calibration": nil}, "guest exited without calling finish"},
		{"missing ABI marker", "nomarker", map[string]any{"image": img, "calibration": nil}, "no ABI version marker"},
		{"image file missing", "statminmax", map[string]any{"image": json.RawMessage(`{"type":"Image","filename":"scans/none.omni","size":[1,1,1]}`), "calibration": nil}, "IO_ERROR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.run(c.module, c.inputs)
			wantFailed(t, res, c.message)
		})
	}
}

func TestGuestTrap(t *testing.T) {
	e := newEnv(t)
	res, err := e.Host.RunModule(context.Background(), trapModule(t), []byte(`{}`), host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed(t, res, "guest trapped")
	if !strings.Contains(res.Error, "unreachable") {
		t.Errorf("trap message %q does not name the trap", res.Error)
	}
}

func TestConcurrentJobsAreIsolated(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{16, 16, 16})
	lo, hi := minMax(e.rawUint16("scans/bone.raw"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			module, inputs := "statminmax", map[string]any{"image": img, "calibration": nil}
			if i%2 == 1 {
				module = "panics"
			}
			in, _ := json.Marshal(inputs)
			res, err := e.Host.RunModule(context.Background(), guest(t, module), in, host.RunOptions{})
			switch {
			case err != nil:
				errs <- err
			case module == "statminmax" && (res.State != host.Done || string(res.Outputs["min"]) != fmt.Sprint(lo) || string(res.Outputs["max"]) != fmt.Sprint(hi)):
				errs <- fmt.Errorf("job %d: %s %s %v", i, res.State, res.Error, res.Outputs)
			case module == "panics" && res.State != host.Failed:
				errs <- fmt.Errorf("job %d: panicking guest ended %s", i, res.State)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDeadlineStopsGuest(t *testing.T) {
	e := newEnv(t)
	pol := policy.Defaults()
	pol.Default.Deadline = policy.Duration(200 * time.Millisecond)
	h, err := host.New(host.Options{Engine: testenv.SharedWazero(t), Store: e.Store, ScratchDir: t.TempDir(), Policy: &pol})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	task, err := h.Load(context.Background(), spinModule(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := h.Run(context.Background(), task, []byte(`{}`), host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed(t, res, "deadline exceeded")
	t.Logf("deadline to stop: %v", time.Since(start)-200*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan time.Time, 1)
	time.AfterFunc(100*time.Millisecond, func() { cancelled <- time.Now(); cancel() })
	res, err = h.Run(ctx, task, []byte(`{}`), host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed(t, res, "job cancelled")
	t.Logf("cancel to stop: %v", time.Since(<-cancelled))
}

func TestPolicyDeniesCapabilities(t *testing.T) {
	e := newEnv(t)
	pol := policy.Defaults()
	pol.TaskTypes = map[string]policy.Limits{"Lucid.CLIP.*": {Capabilities: []string{"images"}}}
	h, err := host.New(host.Options{Engine: testenv.SharedWazero(t), Store: e.Store, ScratchDir: t.TempDir(), Policy: &pol})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	in, _ := json.Marshal(map[string]any{"image": e.volume("bone", [3]int{4, 4, 4}), "calibration": nil})
	res, err := h.RunModule(context.Background(), guest(t, "statminmax"), in, host.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantFailed(t, res, "the policy denies imports: clip.minmax (capability kernels.basic)")
}
