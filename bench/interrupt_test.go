package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// computeModule is a compute-heavy guest without imports: _start runs a
// tight arithmetic loop of the given iterations (loop-header checks) and
// then fib(fibN) recursively (function-entry checks).
func computeModule(tb testing.TB, iterations int64, fibN byte) []byte {
	tb.Helper()
	var m wasmenc.Module
	m.Memory(1, "memory")
	i32 := []wasmenc.ValType{wasmenc.I32}
	// _start: locals i, acc; loop { acc = acc*31 + i; i++; br_if i < N }; drop fib(fibN).
	start := m.Func(wasmenc.FuncType{}, wasmenc.I32, wasmenc.I32)
	fib := m.Func(wasmenc.FuncType{Params: i32, Results: i32})
	start.Code.Loop().
		LocalGet(1).I32Const(31).I32Mul().LocalGet(0).I32Add().LocalSet(1).
		LocalGet(0).I32Const(1).I32Add().LocalTee(0).
		I32Const(int32(iterations)).I32LtU().BrIf(0).
		End().
		I32Const(int32(fibN)).Call(fib.Index).Drop()
	// fib(n): n < 2 ? n : fib(n-1) + fib(n-2)
	fib.Code.LocalGet(0).I32Const(2).I32LtU().If().LocalGet(0).Return().End().
		LocalGet(0).I32Const(1).I32Sub().Call(fib.Index).
		LocalGet(0).I32Const(2).I32Sub().Call(fib.Index).I32Add()
	m.ExportFunc("_start", start.Index)
	wasm, err := m.Encode()
	if err != nil {
		tb.Fatalf("encode compute module: %v", err)
	}
	return wasm
}

// benchCompute runs the compute guest on wazero, either through xfhost's
// wazero engine, whose modules carry a stop flag checked at every function
// entry and loop header, or bare, with no interruption checks at all.
func benchCompute(checked bool, iterations int64, fibN byte) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		wasm := computeModule(b, iterations, fibN)
		var run func() error
		if checked {
			eng, err := wazeroengine.New(ctx, engine.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close(ctx)
			mod, err := eng.Compile(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			run = func() error { return mod.Run(ctx, engine.RunConfig{}) }
		} else {
			r := wazero.NewRuntime(ctx)
			defer r.Close(ctx)
			compiled, err := r.CompileModule(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			run = func() error {
				mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
				if mod != nil {
					mod.Close(ctx)
				}
				return err
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := run(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkInterruptChecks measures what the deadline machinery costs a
// compute-heavy guest.
func BenchmarkInterruptChecks(b *testing.B) {
	b.Run("loop/checked", benchCompute(true, 1<<26, 1))
	b.Run("loop/unchecked", benchCompute(false, 1<<26, 1))
	b.Run("calls/checked", benchCompute(true, 1, 27))
	b.Run("calls/unchecked", benchCompute(false, 1, 27))
}

// TestInterruptRatio prints the cost of interruption checks (make bench).
func TestInterruptRatio(t *testing.T) {
	if !*ratios {
		t.Skip("run with -ratios (make bench)")
	}
	fmt.Printf("\ninterruption checks on a compute-heavy guest (wazero)\n")
	for _, c := range []struct {
		what       string
		iterations int64
		fib        byte
	}{{"tight loop, 2^26 iterations", 1 << 26, 1}, {"recursive fib(27), 300k calls", 1, 27}} {
		a, b := testing.Benchmark(benchCompute(true, c.iterations, c.fib)), testing.Benchmark(benchCompute(false, c.iterations, c.fib))
		fmt.Printf("%-34s checked %10s  unchecked %10s  ratio %.2f\n", c.what,
			format(float64(a.NsPerOp()), "ns/op"), format(float64(b.NsPerOp()), "ns/op"), float64(a.NsPerOp())/float64(b.NsPerOp()))
	}
}
