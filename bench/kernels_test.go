package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/clip"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/omni"
)

var (
	kernelRatios = flag.Bool("kernel-ratios", false, "run the kernel comparisons and print their ratio table")
	python       = flag.String("python", "/usr/bin/python3", "Python with numpy and scipy for the reference timings")
)

// kernelData is the benchmark volume and images derived from it, made once.
type kernelData struct {
	vol, seg, other *omni.Image
	guestLoop       []byte
}

var (
	kdOnce sync.Once
	kd     *kernelData
	kdErr  error
)

func kernelSetup(tb testing.TB) *kernelData {
	tb.Helper()
	f := setup(tb)
	kdOnce.Do(func() {
		ctx := context.Background()
		d := &kernelData{}
		if d.vol, kdErr = omni.Open(filepath.Join(f.dir, "vol.omni")); kdErr != nil {
			return
		}
		if d.seg, kdErr = clip.Threshold(ctx, d.vol, clip.Bounds{Lower: 3400, HasLower: true}); kdErr != nil {
			return
		}
		// other is the volume upside down (z reversed), for image-image ops.
		if d.other, kdErr = omni.New(d.vol.Header()); kdErr != nil {
			return
		}
		h := d.vol.Header()
		plane := h.Size[0] * h.Size[1] * 2
		src, dst := d.vol.Pixels(), d.other.Pixels()
		for z := 0; z < h.Size[2]; z++ {
			copy(dst[z*plane:(z+1)*plane], src[(h.Size[2]-1-z)*plane:])
		}
		trivialDir, _ := filepath.Abs("testdata/guestloop")
		d.guestLoop, kdErr = guestbuild.Package(ctx, f.dir, trivialDir)
		kd = d
	})
	if kdErr != nil {
		tb.Fatal(kdErr)
	}
	return kd
}

// kernel is one row of the table.
type kernel struct {
	name      string
	streaming bool    // bound by memory bandwidth: compared with copy and the guest loop
	guestOp   string  // the guestloop op doing the same work, if any
	target    float64 // minimum speed-up over numpy/scipy
	run       func(ctx context.Context, d *kernelData) (*omni.Image, error)
}

func kernels() []kernel {
	return []kernel{
		{"minmax", true, "minmax", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			_, _, err := clip.MinMax(ctx, d.vol, nil)
			return nil, err
		}},
		{"statistics", true, "statistics", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			_, err := clip.Statistics(ctx, d.vol, nil)
			return nil, err
		}},
		{"histogram", true, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			_, err := clip.Histogram(ctx, d.vol, nil, clip.HistogramOptions{Bins: 256})
			return nil, err
		}},
		{"threshold", true, "threshold", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Threshold(ctx, d.vol, clip.Bounds{Lower: 3400, Upper: 60000, HasLower: true, HasUpper: true})
		}},
		{"threshold_multi", true, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.MultiThreshold(ctx, d.vol, []float64{2000, 3400, 5000})
		}},
		{"mask", true, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Mask(ctx, d.vol, d.seg)
		}},
		{"convert", true, "convert", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Convert(ctx, d.vol, omni.Float32)
		}},
		{"arith_scalar", true, "arith_scalar", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.ArithScalar(ctx, d.vol, clip.Add, 100)
		}},
		{"arith", true, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Arith(ctx, d.vol, d.other, clip.Minimum)
		}},
		{"gaussian", false, "", 5, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Gaussian(ctx, d.vol, d.vol.Header().Spacing[0])
		}},
		{"median", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Median(ctx, d.vol, 1)
		}},
		{"erode26", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Morphology(ctx, d.seg, clip.Erode, 26, 1)
		}},
		{"dilate6", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Morphology(ctx, d.seg, clip.Dilate, 6, 1)
		}},
		{"label26", false, "", 5, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			labels, _, err := clip.Label(ctx, d.seg, 26)
			return labels, err
		}},
		{"distance_transform", false, "", 5, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.DistanceTransform(ctx, d.seg)
		}},
		{"resample", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Resample(ctx, d.vol, [3]float64{0.5, 0.5, 0.5}, clip.Linear)
		}},
		{"crop", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			return clip.Crop(ctx, d.vol, [3]int{64, 64, 64}, [3]int{128, 128, 128})
		}},
		{"bounding_box", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			_, _, err := clip.BoundingBox(ctx, d.seg)
			return nil, err
		}},
		{"bvtv", false, "", 1, func(ctx context.Context, d *kernelData) (*omni.Image, error) {
			_, err := clip.BVTV(ctx, d.seg, nil)
			return nil, err
		}},
	}
}

func benchKernel(k kernel) func(*testing.B) {
	return func(b *testing.B) {
		d := kernelSetup(b)
		b.SetBytes(int64(len(d.vol.Pixels())))
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			out, err := k.run(ctx, d)
			if err != nil {
				b.Fatal(err)
			}
			if out != nil {
				out.Close()
			}
		}
	}
}

// BenchmarkKernel runs every kernel on the 256³ uint16 volume (all cores).
func BenchmarkKernel(b *testing.B) {
	for _, k := range kernels() {
		b.Run(k.name, benchKernel(k))
	}
}

// benchCopy copies the volume's bytes: the memory-bandwidth reference.
func benchCopy(b *testing.B) {
	d := kernelSetup(b)
	src := d.vol.Pixels()
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(dst, src)
	}
}

// guestLoopSeconds times op as a loop inside a Go guest on wazero: the
// time of a job looping `repeat` times minus that of a job looping zero
// times, per loop.
func guestLoopSeconds(tb testing.TB, op string) float64 {
	f := setup(tb)
	d := kernelSetup(tb)
	task, err := f.host.Load(context.Background(), d.guestLoop)
	if err != nil {
		tb.Fatal(err)
	}
	job := func(repeat int) time.Duration {
		in, _ := json.Marshal(map[string]any{"image": f.volume, "op": op, "repeat": repeat})
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			res, err := f.host.Run(context.Background(), task, in, host.RunOptions{})
			if err != nil || res.State != host.Done {
				tb.Fatalf("guest loop %s: %v %v", op, err, res.Error)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	const repeat = 4
	return (job(repeat) - job(0)).Seconds() / repeat
}

// scipySeconds runs scipy_bench.py on the volume, or returns nil when no
// Python with numpy and scipy is available.
func scipySeconds(tb testing.TB) map[string]float64 {
	f := setup(tb)
	d := kernelSetup(tb)
	if err := exec.Command(*python, "-c", "import numpy, scipy").Run(); err != nil {
		tb.Logf("no numpy/scipy at %s (%v): install python3-scipy for that column", *python, err)
		return nil
	}
	h := d.vol.Header()
	args := []string{"scipy_bench.py", filepath.Join(f.dir, "vol.raw")}
	for _, v := range h.Size {
		args = append(args, fmt.Sprint(v))
	}
	for _, v := range h.Spacing {
		args = append(args, fmt.Sprint(v))
	}
	out, err := exec.Command(*python, args...).Output()
	if err != nil {
		tb.Fatalf("scipy_bench.py: %v", err)
	}
	var secs map[string]float64
	if err := json.Unmarshal(out, &secs); err != nil {
		tb.Fatalf("scipy_bench.py output %q: %v", out, err)
	}
	return secs
}

// TestKernelRatios prints the kernel table (make bench): each kernel
// against numpy/scipy on the same data, and the streaming kernels against a
// copy of the same bytes (per core) and the same loop inside a Wasm guest.
func TestKernelRatios(t *testing.T) {
	if !*kernelRatios {
		t.Skip("run with -kernel-ratios (make bench)")
	}
	kernelSetup(t)
	ref := scipySeconds(t)
	procs := runtime.GOMAXPROCS(0)
	oneCore := func(fn func(*testing.B)) testing.BenchmarkResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		return testing.Benchmark(fn)
	}
	copy1 := oneCore(benchCopy)
	copyGBs := float64(copy1.Bytes) * float64(copy1.N) / copy1.T.Seconds() / 1e9
	fmt.Printf("\nkernels on a 256^3 uint16 volume, %d cores; copy of the same bytes on one core: %.1f GB/s\n", procs, copyGBs)
	fmt.Printf("%-19s %10s %9s %12s %12s %12s %8s %s\n", "kernel", "time", "GB/s", "1-core/copy", "x guest", "x scipy", "target", "met")
	for _, k := range kernels() {
		r := testing.Benchmark(benchKernel(k))
		secs := r.T.Seconds() / float64(r.N)
		gbs := float64(r.Bytes) / secs / 1e9
		perCopy, vsGuest, vsScipy := "", "", ""
		met := true
		if k.streaming {
			r1 := oneCore(benchKernel(k))
			ratio := float64(r1.Bytes) * float64(r1.N) / r1.T.Seconds() / 1e9 / copyGBs
			perCopy = fmt.Sprintf("%.2f", ratio)
			met = met && ratio >= 0.6
		}
		if k.guestOp != "" {
			g := guestLoopSeconds(t, k.guestOp) / secs
			vsGuest = fmt.Sprintf("%.1f", g)
			met = met && g >= 10
		}
		if s, ok := ref[k.name]; ok {
			vsScipy = fmt.Sprintf("%.1f", s/secs)
			met = met && s/secs >= k.target
		}
		target := fmt.Sprintf(">=%gx", k.target)
		if k.streaming {
			target += ",0.6c"
		}
		fmt.Printf("%-19s %8.2fms %9.2f %12s %12s %12s %8s %v\n", k.name, secs*1e3, gbs, perCopy, vsGuest, vsScipy, target, met)
	}
}
