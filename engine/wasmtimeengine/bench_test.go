//go:build cgo

package wasmtimeengine_test

import (
	"context"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wasmtimeengine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// callsPerRun is how many host calls one run of hostCallLoop makes.
const callsPerRun = 10_000

// hostCallLoop is a module whose _start calls test.inc(i32) -> i32 on a
// counter until it reaches callsPerRun. It has one page of memory.
func hostCallLoop() []byte {
	var m wasmenc.Module
	inc := m.ImportFunc("test", "inc", wasmenc.FuncType{Params: []wasmenc.ValType{wasmenc.I32}, Results: []wasmenc.ValType{wasmenc.I32}})
	m.Memory(1, "memory")
	start := m.Func(wasmenc.FuncType{}, wasmenc.I32)
	start.Code.Loop().
		LocalGet(0).Call(inc).LocalSet(0).
		LocalGet(0).I32Const(callsPerRun).I32LtU().BrIf(0).
		End()
	m.ExportFunc("_start", start.Index)
	return mustEncode(&m)
}

// inc is the host function of hostCallLoop; with touchMemory it also reads
// and writes 8 bytes of guest memory, as most ABI calls do.
func inc(touchMemory bool) engine.HostFunc {
	return func(_ context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
		if touchMemory {
			b, ok := mem.Read(64, 8)
			if !ok || !mem.Write(72, b) {
				return true, 1
			}
		}
		stack[0] = uint64(uint32(stack[0]) + 1)
		return false, 0
	}
}

func newEngineNamed(b *testing.B, name string, cfg engine.Config) engine.Engine {
	var e engine.Engine
	var err error
	switch name {
	case "wazero":
		e, err = wazeroengine.New(context.Background(), cfg)
	case "wasmtime":
		e, err = wasmtimeengine.New(context.Background(), cfg)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// BenchmarkHostCall measures one call from the guest to a host function
// and back, on each engine, and with wasmtime-go's own checked host
// functions (Linker.FuncNew) for comparison with this engine's unchecked
// ones. The ns/call metric is the one to compare.
func BenchmarkHostCall(b *testing.B) {
	wasm := hostCallLoop()
	for _, touch := range []bool{false, true} {
		variant := "bare"
		if touch {
			variant = "memory"
		}
		for _, name := range []string{"wazero", "wasmtime"} {
			b.Run(variant+"/"+name, func(b *testing.B) {
				e := newEngineNamed(b, name, engine.Config{HostModules: []engine.HostModule{{Name: "test", Functions: []engine.HostFunction{
					{Name: "inc", Params: []engine.ValueType{engine.I32}, Results: []engine.ValueType{engine.I32}, Func: inc(touch)},
				}}}})
				mod, err := e.Compile(context.Background(), wasm)
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if err := mod.Run(context.Background(), engine.RunConfig{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*callsPerRun), "ns/call")
			})
		}
		b.Run(variant+"/wasmtime-go-FuncNew", func(b *testing.B) {
			benchFuncNew(b, wasm, touch)
		})
	}
}

// benchFuncNew runs hostCallLoop with inc defined through wasmtime-go's
// checked API.
func benchFuncNew(b *testing.B, wasm []byte, touchMemory bool) {
	eng := wasmtime.NewEngine()
	defer eng.Close()
	linker := wasmtime.NewLinker(eng)
	defer linker.Close()
	i32 := wasmtime.NewValType(wasmtime.KindI32)
	ty := wasmtime.NewFuncType([]*wasmtime.ValType{i32}, []*wasmtime.ValType{i32})
	err := linker.FuncNew("test", "inc", ty, func(c *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
		if touchMemory {
			data := c.GetExport("memory").Memory().UnsafeData(c)
			copy(data[72:80], data[64:72])
		}
		return []wasmtime.Val{wasmtime.ValI32(args[0].I32() + 1)}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	mod, err := wasmtime.NewModule(eng, wasm)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		store := wasmtime.NewStore(eng)
		inst, err := linker.Instantiate(store, mod)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inst.GetFunc(store, "_start").Call(store); err != nil {
			b.Fatal(err)
		}
		store.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*callsPerRun), "ns/call")
}

// BenchmarkInstantiateRun measures the fixed cost of a job on each engine:
// instantiating a module with one page of memory and running its empty
// _start.
func BenchmarkInstantiateRun(b *testing.B) {
	for _, name := range []string{"wazero", "wasmtime"} {
		b.Run(name, func(b *testing.B) {
			e := newEngineNamed(b, name, engine.Config{})
			mod, err := e.Compile(context.Background(), memoryMin1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := mod.Run(context.Background(), engine.RunConfig{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
