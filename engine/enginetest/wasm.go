package enginetest

import (
	"testing"

	"github.com/xfhost/xfhost/internal/wasmenc"
)

// The guests of the suite are assembled instruction by instruction with
// wasmenc: a Go guest would bring a runtime whose start-up hides what each
// test is about, and wat2wasm is not a dependency of this repository.

// Value types the guests use, and the signatures of their imports.
const (
	i32 = wasmenc.I32
	i64 = wasmenc.I64
	f32 = wasmenc.F32
	f64 = wasmenc.F64
)

func sig(params []wasmenc.ValType, results ...wasmenc.ValType) wasmenc.FuncType {
	return wasmenc.FuncType{Params: params, Results: results}
}

// body writes instructions into a function.
type body func(c *wasmenc.Code)

type funcImport struct {
	module, name string
	typ          wasmenc.FuncType
}

// function is a defined function of type () -> (): its extra locals and
// its code.
type function struct {
	locals []wasmenc.ValType
	body   body
}

type dataSegment struct {
	offset uint32
	data   []byte
}

// wasmModule describes a test guest. Its first defined function is
// exported as _start unless noStart is set; with no functions at all it
// gets an empty _start.
type wasmModule struct {
	imports []funcImport
	funcs   []function
	// memory is nil for no memory, else {min} or {min, max} in pages.
	memory  []uint32
	data    []dataSegment
	noStart bool
}

// guest is the common case: a _start running code.
func guest(imports []funcImport, code body) wasmModule {
	return wasmModule{imports: imports, funcs: []function{{body: code}}}
}

func (m wasmModule) encode(t *testing.T) []byte {
	t.Helper()
	var mod wasmenc.Module
	for _, im := range m.imports {
		mod.ImportFunc(im.module, im.name, im.typ)
	}
	funcs := m.funcs
	if len(funcs) == 0 && !m.noStart {
		funcs = []function{{}}
	}
	for i, f := range funcs {
		fn := mod.Func(wasmenc.FuncType{}, f.locals...)
		if f.body != nil {
			f.body(&fn.Code)
		}
		if i == 0 && !m.noStart {
			mod.ExportFunc("_start", fn.Index)
		}
	}
	switch len(m.memory) {
	case 1:
		mod.Memory(m.memory[0], "memory")
	case 2:
		mod.MemoryMax(m.memory[0], m.memory[1], "memory")
	}
	for _, d := range m.data {
		mod.Data(d.offset, d.data)
	}
	wasm, err := mod.Encode()
	if err != nil {
		t.Fatalf("encode test guest: %v", err)
	}
	return wasm
}

// forever is a loop without calls that never ends.
func forever(c *wasmenc.Code) { c.Loop().Br(0).End() }

// i32Const is a body pushing v.
func i32Const(v int32) body { return func(c *wasmenc.Code) { c.I32Const(v) } }

// growMemory grows memory by pages and passes memory.grow's result to the
// function fn.
func growMemory(c *wasmenc.Code, pages int32, fn uint32) {
	c.I32Const(pages).MemoryGrow().Call(fn)
}

// seq returns a body running each fragment in turn.
func seq(fragments ...body) body {
	return func(c *wasmenc.Code) {
		for _, f := range fragments {
			f(c)
		}
	}
}

// callFirst calls function 0: the first import, or _start itself in a
// guest without imports.
func callFirst(c *wasmenc.Code) { c.Call(0) }

// dropConst is a body pushing v and dropping it: guests that differ only
// in their bytes.
func dropConst(v int32) body { return func(c *wasmenc.Code) { c.I32Const(v).Drop() } }
