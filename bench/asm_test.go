package bench

import (
	"testing"

	"github.com/xfhost/xfhost/internal/wasmenc"
)

// Benchmark guests are assembled with wasmenc, instruction by
// instruction: Go guests carry a runtime whose start-up would hide the
// costs measured here.

type funcImport struct{ module, name string }

// loopModule returns a module whose _start calls the first import n times,
// then calls the import at index finish if finish >= 0. Imports all have
// type () -> i32. It exports memory and, if marker is set, a function of
// that name.
func loopModule(tb testing.TB, imports []funcImport, n int32, finish int, marker string) []byte {
	tb.Helper()
	var m wasmenc.Module
	for _, im := range imports {
		m.ImportFunc(im.module, im.name, wasmenc.FuncType{Results: []wasmenc.ValType{wasmenc.I32}})
	}
	m.Memory(1, "memory")
	start := m.Func(wasmenc.FuncType{}, wasmenc.I32) // local 0 counts the calls
	start.Code.Block().Loop().
		LocalGet(0).I32Const(n).I32GeU().BrIf(1).
		Call(0).Drop().
		LocalGet(0).I32Const(1).I32Add().LocalSet(0).
		Br(0).End().End()
	if finish >= 0 {
		start.Code.Call(uint32(finish)).Drop()
	}
	m.ExportFunc("_start", start.Index)
	if marker != "" {
		m.ExportFunc(marker, m.Func(wasmenc.FuncType{}).Index)
	}
	wasm, err := m.Encode()
	if err != nil {
		tb.Fatalf("encode loop module: %v", err)
	}
	return wasm
}
