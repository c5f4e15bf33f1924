package synth

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

func volume(t *testing.T, opt Options) *omni.Image {
	t.Helper()
	img, err := Volume(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestDeterministic(t *testing.T) {
	opt := Options{Size: [3]int{40, 33, 27}, Seed: 42}
	a := volume(t, opt)
	opt.Workers = 1
	b := volume(t, opt)
	opt.Workers = 5
	c := volume(t, opt)
	if !bytes.Equal(a.Pixels(), b.Pixels()) || !bytes.Equal(a.Pixels(), c.Pixels()) {
		t.Error("same seed gave different volumes (or output depends on the worker count)")
	}
}

func TestSeedsDiffer(t *testing.T) {
	a := volume(t, Options{Size: [3]int{32, 32, 32}, Seed: 1})
	b := volume(t, Options{Size: [3]int{32, 32, 32}, Seed: 2})
	same := 0
	pa, pb := a.Pixels(), b.Pixels()
	for i := 0; i < len(pa); i += 2 {
		if pa[i] == pb[i] && pa[i+1] == pb[i+1] {
			same++
		}
	}
	if frac := float64(same) / float64(len(pa)/2); frac > 0.05 {
		t.Errorf("seeds 1 and 2 share %.1f%% of voxel values", 100*frac)
	}
}

// TestBimodal checks that voxels split into a bone and a marrow population
// centred on the documented grey levels.
func TestBimodal(t *testing.T) {
	for _, seed := range []int64{0, 7, -3} {
		img := volume(t, Options{Size: [3]int{96, 96, 96}, Seed: seed})
		const mid = (MarrowRaw + BoneRaw) / 2
		var nHigh, nLow int
		var sumHigh, sumLow float64
		p := img.Pixels()
		for i := 0; i < len(p); i += 2 {
			v := float64(binary.NativeEndian.Uint16(p[i:]))
			if v > mid {
				nHigh++
				sumHigh += v
			} else {
				nLow++
				sumLow += v
			}
		}
		frac := float64(nHigh) / float64(nHigh+nLow)
		if frac < 0.10 || frac > 0.40 {
			t.Errorf("seed %d: %.1f%% of voxels above %d, want 10-40%%", seed, 100*frac, mid)
		}
		meanHigh, meanLow := sumHigh/float64(nHigh), sumLow/float64(nLow)
		// Partial-volume voxels pull both means towards the middle.
		if math.Abs(meanHigh-BoneRaw) > 600 || math.Abs(meanLow-MarrowRaw) > 400 {
			t.Errorf("seed %d: class means %.0f and %.0f, want near %d and %d", seed, meanHigh, meanLow, BoneRaw, MarrowRaw)
		}
	}
}

func TestNoiseLevel(t *testing.T) {
	// With a period far larger than the volume, a small block is almost
	// uniform, so its spread is the noise.
	img := volume(t, Options{Size: [3]int{64, 64, 4}, Seed: 3, Period: 1000})
	p := img.Pixels()
	var sum, sumSq float64
	n := float64(len(p) / 2)
	for i := 0; i < len(p); i += 2 {
		v := float64(binary.NativeEndian.Uint16(p[i:]))
		sum += v
		sumSq += v * v
	}
	mean := sum / n
	sd := math.Sqrt(sumSq/n - mean*mean)
	if sd < 0.8*NoiseSigmaRaw || sd > 1.5*NoiseSigmaRaw {
		t.Errorf("standard deviation %.0f, want about %d", sd, NoiseSigmaRaw)
	}
}

func TestHeaderAndCalibrations(t *testing.T) {
	img := volume(t, Options{Size: [3]int{8, 9, 10}, Seed: 1, Spacing: 0.012})
	h := img.Header()
	if h.Size != [3]int{8, 9, 10} || h.DataType != omni.Uint16 || h.Axes != "XYZ" {
		t.Errorf("header %+v", h)
	}
	if h.Spacing != [3]float64{0.012, 0.012, 0.012} {
		t.Errorf("spacing %v", h.Spacing)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
	if !img.Writable() {
		t.Error("generated image is not writable")
	}
	def, ok := h.DefaultCalibration()
	if !ok || def.UnitType != "dens" || def.UnitName != "mg HA/ccm" {
		t.Fatalf("default calibration %+v, %v", def, ok)
	}
	if got := def.RawToCalibrated(MarrowRaw); got != 0 {
		t.Errorf("marrow density %v mg HA/ccm, want 0", got)
	}
	if got := def.RawToCalibrated(BoneRaw); got != 900 {
		t.Errorf("bone density %v mg HA/ccm, want 900", got)
	}
	hu := h.CalibrationsOfUnitType("hu")
	if len(hu) != 1 || hu[0].RawToCalibrated(MarrowRaw) != 0 || hu[0].RawToCalibrated(BoneRaw) != 1800 {
		t.Errorf("hu calibrations %+v", hu)
	}
	def2 := volume(t, Options{Size: [3]int{2, 2, 2}}).Header()
	if def2.Spacing[0] != DefaultSpacing {
		t.Errorf("default spacing %v", def2.Spacing[0])
	}
}

func TestWriteAndOpen(t *testing.T) {
	img := volume(t, Options{Size: [3]int{16, 16, 16}, Seed: 9})
	dir := t.TempDir()
	if err := omni.Write(dir, "synth", img); err != nil {
		t.Fatal(err)
	}
	back, err := omni.Open(filepath.Join(dir, "synth.omni"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if !bytes.Equal(back.Pixels(), img.Pixels()) {
		t.Error("pixels changed on disk")
	}
	if len(back.Header().CalibrationsOfUnitType("dens")) != 1 {
		t.Error("calibration lost on disk")
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img, err := Volume(ctx, Options{Size: [3]int{64, 64, 64}})
	if !errors.Is(err, context.Canceled) || img != nil {
		t.Errorf("got %v, %v; want context.Canceled", img, err)
	}
}

type cancelAfter struct {
	context.Context
	calls, limit int
	cancel       context.CancelFunc
}

// Err cancels the context after a number of checks, so cancellation lands
// between slices deterministically.
func (c *cancelAfter) Err() error {
	c.calls++
	if c.calls > c.limit {
		c.cancel()
	}
	return c.Context.Err()
}

func TestCancelledBetweenSlices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &cancelAfter{Context: ctx, limit: 5, cancel: cancel}
	// One worker, so Err is not called concurrently.
	img, err := Volume(c, Options{Size: [3]int{16, 16, 64}, Workers: 1})
	if !errors.Is(err, context.Canceled) || img != nil {
		t.Errorf("got %v, %v; want context.Canceled", img, err)
	}
	if c.calls > 10 {
		t.Errorf("Err checked %d times after cancelling at 5; generation did not stop", c.calls)
	}
}

func TestBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"zero size", Options{}, "size[0]"},
		{"negative size", Options{Size: [3]int{4, -1, 4}}, "size[1]"},
		{"too many voxels", Options{Size: [3]int{2048, 2048, 2048}}, "exceeds"},
		{"huge axis", Options{Size: [3]int{math.MaxInt, 1, 1}}, "exceeds"},
		{"overflowing product", Options{Size: [3]int{1 << 20, 1 << 20, 1 << 20}}, "exceeds"},
		{"negative spacing", Options{Size: [3]int{4, 4, 4}, Spacing: -1}, "spacing"},
		{"NaN spacing", Options{Size: [3]int{4, 4, 4}, Spacing: math.NaN()}, "spacing"},
		{"negative period", Options{Size: [3]int{4, 4, 4}, Period: -1}, "period"},
		{"period below 4 voxels", Options{Size: [3]int{4, 4, 4}, Spacing: 0.1, Period: 0.3}, "at least 4"},
		{"negative workers", Options{Size: [3]int{4, 4, 4}, Workers: -2}, "workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Volume(context.Background(), tt.opt)
			if err == nil {
				img.Close()
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "synth: volume: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix and %q", err, tt.want)
			}
		})
	}
}

func TestTinyVolumes(t *testing.T) {
	for _, size := range [][3]int{{1, 1, 1}, {1, 7, 1}, {3, 1, 5}} {
		img := volume(t, Options{Size: size, Workers: 8})
		if int64(len(img.Pixels())) != img.Header().PixelBytes() {
			t.Errorf("size %v: %d pixel bytes", size, len(img.Pixels()))
		}
	}
}

func BenchmarkVolume256(b *testing.B) {
	for b.Loop() {
		img, err := Volume(context.Background(), Options{Size: [3]int{256, 256, 256}, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		img.Close()
	}
}
