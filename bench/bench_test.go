// Package bench holds xfhost's benchmarks. Each compares xfhost with a
// reference measured in the same process, so the ratios hold on a noisy
// shared machine. `make bench` runs them and prints the ratio table.
package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
	"github.com/xfhost/xfhost/taskmodule"
)

var (
	ratios  = flag.Bool("ratios", false, "run the benchmark pairs and print the ratio table")
	volEdge = flag.Int("edge", 256, "edge length of the benchmark volume")
)

const callsPerJob = 1 << 20

var emptyInterface = []byte(`{"inputs":[],"outputs":[]}`)

func meta(n string) []byte {
	return []byte(`{"package_format":"XFP-TT1.0","name":"Bench.` + n + `","version":"1.0.0.0"}`)
}

// fixture is a host with a warm compilation cache and a store holding the
// benchmark volume.
type fixture struct {
	host      *host.Host
	dir       string
	volume    json.RawMessage
	statGuest []byte
	trivialGo []byte
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func setup(b testing.TB) *fixture {
	b.Helper()
	fixOnce.Do(func() { fix, fixErr = newFixture() })
	if fixErr != nil {
		b.Fatal(fixErr)
	}
	return fix
}

func newFixture() (*fixture, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "xfhost-bench-")
	if err != nil {
		return nil, err
	}
	store, err := fss.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	nop := engine.HostModule{Name: "bench", Functions: []engine.HostFunction{{
		Name: "nop", Results: []engine.ValueType{engine.I32},
		Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) { stack[0] = 0; return false, 0 },
	}}}
	eng, err := wazeroengine.New(ctx, engine.Config{HostModules: append(host.Imports(), nop)})
	if err != nil {
		return nil, err
	}
	h, err := host.New(host.Options{Engine: eng, Store: store})
	if err != nil {
		return nil, err
	}
	edge := *volEdge
	img, err := synth.Volume(ctx, synth.Options{Size: [3]int{edge, edge, edge}, Seed: 3})
	if err != nil {
		return nil, err
	}
	defer img.Close()
	vol, err := testenv.WriteImage(dir, "", "vol", img)
	if err != nil {
		return nil, err
	}
	stat, err := guestbuild.Go(ctx, dir, "statminmax")
	if err != nil {
		return nil, err
	}
	trivialDir, err := filepath.Abs("testdata/trivial")
	if err != nil {
		return nil, err
	}
	trivial, err := guestbuild.Package(ctx, dir, trivialDir)
	if err != nil {
		return nil, err
	}
	return &fixture{host: h, dir: dir, volume: vol, statGuest: stat, trivialGo: trivial}, nil
}

func pack(b testing.TB, wasm []byte, n string) []byte {
	out, err := taskmodule.Pack(wasm, meta(n), emptyInterface)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func runJob(b *testing.B, f *fixture, wasm []byte, inputs json.RawMessage) {
	b.Helper()
	task, err := f.host.Load(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := f.host.Run(context.Background(), task, inputs, host.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if res.State != host.Done {
			b.Fatalf("job failed: %s", res.Error)
		}
	}
}

// BenchmarkJob measures a whole job with a warm compiled-module cache:
// scratch directory, input validation, instantiation, host calls, cleanup.
func BenchmarkJob(b *testing.B) {
	b.Run("minimal-wasm", benchMinimalJob)
	b.Run("go-guest", benchGoGuestJob)
}

func benchMinimalJob(b *testing.B) {
	f := setup(b)
	wasm := pack(b, loopModule(b, []funcImport{{"xf", "finish"}}, 0, 0, "xf_abi_version_1_0"), "Minimal")
	runJob(b, f, wasm, json.RawMessage(`{}`))
}

func benchGoGuestJob(b *testing.B) {
	f := setup(b)
	runJob(b, f, f.trivialGo, json.RawMessage(`{}`))
}

// BenchmarkHostCall compares one call of an xf import inside a job with a
// call of a do-nothing function registered directly on a bare wazero
// runtime; both loops run 2^20 calls per instance.
func BenchmarkHostCall(b *testing.B) {
	b.Run("xf.error_clear", benchXFCall)
	b.Run("bare-wazero", benchBareCall)
}

func perCall(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/callsPerJob, "ns/call")
}

func benchXFCall(b *testing.B) {
	f := setup(b)
	wasm := pack(b, loopModule(b, []funcImport{{"xf", "error_clear"}, {"xf", "finish"}}, callsPerJob, 1, "xf_abi_version_1_0"), "Calls")
	runJob(b, f, wasm, json.RawMessage(`{}`))
	perCall(b)
}

func benchBareCall(b *testing.B) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	_, err := r.NewHostModuleBuilder("bench").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) { stack[0] = 0 }), nil, []api.ValueType{api.ValueTypeI32}).
		Export("nop").Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	compiled, err := r.CompileModule(ctx, loopModule(b, []funcImport{{"bench", "nop"}}, callsPerJob, -1, ""))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			b.Fatal(err)
		}
		mod.Close(ctx)
	}
	perCall(b)
}

// BenchmarkStatMinMax runs the StatMinMax task type on the volume, against
// a plain Go loop over the same mapped file.
func BenchmarkStatMinMax(b *testing.B) {
	b.Run("guest-job", benchStatGuest)
	b.Run("go-loop", benchStatGoLoop)
}

func volumeBytes() int64 { return int64(*volEdge) * int64(*volEdge) * int64(*volEdge) * 2 }

func benchStatGuest(b *testing.B) {
	f := setup(b)
	in, _ := json.Marshal(map[string]any{"image": f.volume, "calibration": nil})
	b.SetBytes(volumeBytes())
	runJob(b, f, f.statGuest, in)
}

func benchStatGoLoop(b *testing.B) {
	f := setup(b)
	img, err := omni.Open(filepath.Join(f.dir, "vol.omni"))
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	pix := img.Pixels()
	v := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(pix))), len(pix)/2)
	b.SetBytes(volumeBytes())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lo, hi := v[0], v[0]
		for _, x := range v {
			lo = min(lo, x)
			hi = max(hi, x)
		}
		if lo > hi {
			b.Fatal("impossible")
		}
	}
}

// TestRatios runs each pair side by side and prints the ratio table
// (make bench).
func TestRatios(t *testing.T) {
	if !*ratios {
		t.Skip("run with -ratios (make bench)")
	}
	setup(t)
	pairs := []struct {
		what   string
		a, b   func(*testing.B)
		metric string
	}{
		{"per-job overhead: minimal wasm job / trivial Go guest job", benchMinimalJob, benchGoGuestJob, "ns/op"},
		{"host call: xf import in a job / bare wazero function", benchXFCall, benchBareCall, "ns/call"},
		{"StatMinMax 256^3 u16: guest job / Go loop on mapped file", benchStatGuest, benchStatGoLoop, "ns/op"},
	}
	fmt.Printf("\n%-60s %16s %16s %8s\n", "comparison (a / b)", "a", "b", "a/b")
	for _, p := range pairs {
		ra, rb := testing.Benchmark(p.a), testing.Benchmark(p.b)
		va, vb := metric(ra, p.metric), metric(rb, p.metric)
		fmt.Printf("%-60s %16s %16s %8.3f\n", p.what, format(va, p.metric), format(vb, p.metric), va/vb)
	}
}

func metric(r testing.BenchmarkResult, name string) float64 {
	if name == "ns/op" {
		return float64(r.NsPerOp())
	}
	return r.Extra[name]
}

func format(v float64, unit string) string {
	switch {
	case unit != "ns/op":
		return fmt.Sprintf("%.1f %s", v, unit)
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}
