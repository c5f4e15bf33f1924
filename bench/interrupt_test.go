package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
)

// computeModule is a compute-heavy guest without imports: _start runs a
// tight arithmetic loop of the given iterations (loop-header checks) and
// then fib(fibN) recursively (function-entry checks).
func computeModule(iterations int64, fibN byte) []byte {
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	// Types: 0 = () -> (), 1 = (i32) -> i32.
	m = append(m, section(1, vec([]byte{0x60, 0x00, 0x00}, []byte{0x60, 0x01, 0x7f, 0x01, 0x7f}))...)
	m = append(m, section(3, vec([]byte{0x00}, []byte{0x01}))...) // _start, fib
	m = append(m, section(5, vec([]byte{0x00, 0x01}))...)
	m = append(m, section(7, vec(append(name("memory"), 0x02, 0x00), append(name("_start"), 0x00, 0x00)))...)
	// _start: locals i32 i, i32 acc; loop { acc = acc*31 + i; i++; br_if i < N }; fib(27); drop
	start := []byte{0x01, 0x02, 0x7f}
	start = append(start, 0x03, 0x40) // loop
	start = append(start, 0x20, 0x01, 0x41, 0x1f, 0x6c, 0x20, 0x00, 0x6a, 0x21, 0x01)
	start = append(start, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x22, 0x00)
	start = append(start, 0x41)
	start = append(start, sleb(iterations)...)
	start = append(start, 0x49, 0x0d, 0x00, 0x0b) // i32.lt_u, br_if 0, end loop
	start = append(start, 0x41, fibN, 0x10, 0x01, 0x1a, 0x0b)
	// fib(n): n < 2 ? n : fib(n-1) + fib(n-2)
	fib := []byte{0x00, 0x20, 0x00, 0x41, 0x02, 0x49, 0x04, 0x7f, 0x20, 0x00, 0x05,
		0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x01, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x01, 0x6a, 0x0b, 0x0b}
	m = append(m, section(10, vec(append(uleb(uint64(len(start))), start...), append(uleb(uint64(len(fib))), fib...)))...)
	return m
}

// benchCompute runs the compute guest on wazero, either through xfhost's
// wazero engine, whose modules carry a stop flag checked at every function
// entry and loop header, or bare, with no interruption checks at all.
func benchCompute(checked bool, iterations int64, fibN byte) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		wasm := computeModule(iterations, fibN)
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
