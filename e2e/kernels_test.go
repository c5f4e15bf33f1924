package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
)

// maskImage writes a uint8 mask of the given size into the store, with
// voxel i set when sel(i), and returns its Image input value.
func (e *env) maskImage(name string, size [3]int, sel func(i int) bool) json.RawMessage {
	e.t.Helper()
	h := &omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: size, DataType: omni.Uint8,
		ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{0.03, 0.03, 0.03}}
	img, err := omni.New(h)
	if err != nil {
		e.t.Fatal(err)
	}
	defer img.Close()
	for i := range img.Pixels() {
		if sel(i) {
			img.Pixels()[i] = 1
		}
	}
	return e.WriteImage(e.t, name, img)
}

func TestImagePixelsMinMax(t *testing.T) {
	e := newEnv(t)
	size := [3]int{23, 19, 17}
	img := e.volume("bone", size)
	voxels := e.rawUint16("scans/bone.raw")
	inMask := func(i int) bool { return (i/7)%3 == 0 }
	mask := e.maskImage("mask", size, inMask)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range voxels {
		if inMask(i) {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
	}
	t.Run("masked raw", func(t *testing.T) {
		res := e.run("imagepixelsminmax", map[string]any{"image": img, "mask": mask, "calibration": nil})
		testenv.WantDone(t, res)
		if got := floatOutput(t, res, "min"); got != lo {
			t.Errorf("min = %v, want %v", got, lo)
		}
		if got := floatOutput(t, res, "max"); got != hi {
			t.Errorf("max = %v, want %v", got, hi)
		}
	})
	t.Run("masked calibrated", func(t *testing.T) {
		res := e.run("imagepixelsminmax", map[string]any{"image": img, "mask": mask, "calibration": "dens"})
		testenv.WantDone(t, res)
		slope, icpt := e.calibration("scans/bone.omni", "dens")
		if got, want := floatOutput(t, res, "max"), slope*hi+icpt; got != want {
			t.Errorf("max = %v, want %v", got, want)
		}
	})
	t.Run("no mask", func(t *testing.T) {
		res := e.run("imagepixelsminmax", map[string]any{"image": img, "mask": nil, "calibration": nil})
		testenv.WantDone(t, res)
		alo, ahi := minMax(voxels)
		if floatOutput(t, res, "min") != float64(alo) || floatOutput(t, res, "max") != float64(ahi) {
			t.Errorf("outputs %v, want %d..%d", res.Outputs, alo, ahi)
		}
	})
	t.Run("mask of another size", func(t *testing.T) {
		other := e.maskImage("small", [3]int{4, 4, 4}, func(int) bool { return true })
		res := e.run("imagepixelsminmax", map[string]any{"image": img, "mask": other, "calibration": nil})
		wantFailed(t, res, "Mask size [4 4 4] differs from image size [23 19 17]")
	})
	t.Run("empty mask", func(t *testing.T) {
		empty := e.maskImage("empty", size, func(int) bool { return false })
		res := e.run("imagepixelsminmax", map[string]any{"image": img, "mask": empty, "calibration": nil})
		wantFailed(t, res, "Mask selects no voxel")
	})
}

// numpyHistogram computes numpy.histogram(values, bins) counts independently:
// equal-width bins over [min, max], the last bin closed.
func numpyHistogram(values []float64, bins int) (edges []float64, counts []int64) {
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	edges = make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/float64(bins)
	}
	counts = make([]int64, bins)
	for _, v := range values {
		// The bin whose half-open interval holds v; the last bin is closed.
		k := 0
		for k < bins-1 && v >= edges[k+1] {
			k++
		}
		counts[k]++
	}
	return edges, counts
}

func TestHistogramPlot(t *testing.T) {
	e := newEnv(t)
	img := e.volume("bone", [3]int{21, 17, 13})
	voxels := e.rawUint16("scans/bone.raw")
	values := make([]float64, len(voxels))
	for i, v := range voxels {
		values[i] = float64(v)
	}
	const bins = 64
	res := e.run("histogramplot", map[string]any{"image": img, "mask": nil, "bins": bins, "calibration": nil})
	testenv.WantDone(t, res)
	var out struct{ Type, Filename string }
	if err := json.Unmarshal(res.Outputs["histogram"], &out); err != nil || out.Type != "CSV" {
		t.Fatalf("output %s (%v)", res.Outputs["histogram"], err)
	}
	data, err := os.ReadFile(filepath.Join(e.Dir, filepath.FromSlash(out.Filename)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "x0,pdf,distr,count" || len(lines) != bins+1 {
		t.Fatalf("table header %q, %d lines", lines[0], len(lines))
	}
	edges, counts := numpyHistogram(values, bins)
	var cum int64
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		x0, _ := strconv.ParseFloat(f[0], 64)
		pdf, _ := strconv.ParseFloat(f[1], 64)
		distr, _ := strconv.ParseFloat(f[2], 64)
		count, _ := strconv.ParseInt(f[3], 10, 64)
		cum += counts[i]
		width := edges[1] - edges[0]
		want := []float64{(edges[i] + edges[i+1]) / 2, float64(counts[i]) / float64(len(values)) / width, float64(cum) / float64(len(values))}
		for k, got := range []float64{x0, pdf, distr} {
			if math.Abs(got-want[k]) > 1e-9*math.Max(1, math.Abs(want[k])) {
				t.Errorf("bin %d column %d = %v, want %v", i, k, got, want[k])
			}
		}
		if count != counts[i] {
			t.Errorf("bin %d count = %d, want %d", i, count, counts[i])
		}
	}
	if cum != int64(len(values)) {
		t.Errorf("counts sum to %d of %d voxels", cum, len(values))
	}
}
