package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
)

var engineRatios = flag.Bool("engine-ratios", false, "compare the engines and print the table")

// loopN is Bench.Loop's iteration count: long enough that start-up is
// noise next to the loop (~0.1-0.3 s per job).
const loopN = 100_000_000

// loopSum is Bench.Loop's result for loopN, computed natively: the
// reference for guest compute speed, and a check of the guest's answer.
func loopSum(n int64) uint64 {
	x, sum := uint64(0x9E3779B97F4A7C15), uint64(0)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		sum += x
	}
	return sum
}

// engineHost is a host on the named engine over an empty local store.
func engineHost(b testing.TB, name string) *host.Host {
	b.Helper()
	ctx := context.Background()
	eng, err := engines.New(ctx, name, engine.Config{HostModules: host.Imports()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close(ctx) })
	return testenv.New(b, eng).Host
}

// benchEngineJob runs wasm as a job per iteration on the named engine,
// compiled once beforehand; check, if set, inspects the first result.
func benchEngineJob(name string, wasm []byte, inputs string, check func(*testing.B, *host.Result)) func(*testing.B) {
	return func(b *testing.B) {
		h := engineHost(b, name)
		task, err := h.Load(context.Background(), wasm)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := h.Run(context.Background(), task, json.RawMessage(inputs), host.RunOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if res.State != host.Done {
				b.Fatalf("job failed: %s", res.Error)
			}
			if i == 0 && check != nil {
				check(b, res)
			}
		}
	}
}

// BenchmarkEngines measures each engine of this build on the same jobs.
func BenchmarkEngines(b *testing.B) {
	minimal := pack(b, loopModule(b, []funcImport{{"xf", "finish"}}, 0, 0, "xf_abi_version_1_0"), "Minimal")
	calls := pack(b, loopModule(b, []funcImport{{"xf", "error_clear"}, {"xf", "finish"}}, callsPerJob, 1, "xf_abi_version_1_0"), "Calls")
	loop, err := os.ReadFile("../guests/c/loop/loop.wasm")
	if err != nil {
		b.Fatal(err)
	}
	want := fmt.Sprint(loopSum(loopN) >> 1)
	checkLoop := func(b *testing.B, res *host.Result) {
		if got := string(res.Outputs["sum"]); got != want {
			b.Fatalf("Bench.Loop sum = %s, want %s", got, want)
		}
	}
	for _, name := range engines.Names() {
		b.Run(name+"/job-minimal", benchEngineJob(name, minimal, `{}`, nil))
		b.Run(name+"/host-call", func(b *testing.B) {
			benchEngineJob(name, calls, `{}`, nil)(b)
			perCall(b)
		})
		b.Run(name+"/loop-c", benchEngineJob(name, loop, fmt.Sprintf(`{"n":%d}`, loopN), checkLoop))
	}
	b.Run("native/loop-go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got := fmt.Sprint(loopSum(loopN) >> 1); got != want {
				b.Fatal(got)
			}
		}
	})
}

// TestEngineRatios prints, per engine, the per-job overhead, the cost of
// one xf import call and the speed of a compute loop in a C guest against
// the same loop compiled natively by Go (make bench).
func TestEngineRatios(t *testing.T) {
	if !*engineRatios {
		t.Skip("run with -engine-ratios (make bench)")
	}
	minimal := pack(t, loopModule(t, []funcImport{{"xf", "finish"}}, 0, 0, "xf_abi_version_1_0"), "Minimal")
	calls := pack(t, loopModule(t, []funcImport{{"xf", "error_clear"}, {"xf", "finish"}}, callsPerJob, 1, "xf_abi_version_1_0"), "Calls")
	loop, err := os.ReadFile("../guests/c/loop/loop.wasm")
	if err != nil {
		t.Fatal(err)
	}
	want := loopSum(loopN)
	native := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			// Checking the result keeps the compiler from dropping the loop.
			if loopSum(loopN) != want {
				b.Fatal("native loop gave another sum")
			}
		}
	})
	fmt.Printf("\nengines (xorshift loop of %d steps; native Go %s)\n", loopN, format(float64(native.NsPerOp()), "ns/op"))
	fmt.Printf("%-10s %14s %14s %14s %12s\n", "engine", "job overhead", "xf call", "C loop job", "x native")
	for _, name := range engines.Names() {
		job := testing.Benchmark(benchEngineJob(name, minimal, `{}`, nil))
		call := testing.Benchmark(benchEngineJob(name, calls, `{}`, nil))
		lp := testing.Benchmark(benchEngineJob(name, loop, fmt.Sprintf(`{"n":%d}`, loopN), nil))
		perCallNs := float64(call.NsPerOp()) / callsPerJob
		fmt.Printf("%-10s %14s %14s %14s %12.2f\n", name,
			format(float64(job.NsPerOp()), "ns/op"), format(perCallNs, "ns/op"),
			format(float64(lp.NsPerOp()), "ns/op"), float64(lp.NsPerOp())/float64(native.NsPerOp()))
	}
}
