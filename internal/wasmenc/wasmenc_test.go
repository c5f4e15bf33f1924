package wasmenc

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

// sample builds a module that imports env.record (i32, i64, f64) -> i32,
// keeps "hello" in memory at 100, and exports:
//   - sum(n) -> i32: 0 + 1 + ... + n-1, with a loop;
//   - report(): calls env.record(7, -5, 2.5) and stores its result at 200,
//     then stores each byte of "hello" below 'h' plus one at 300, and 0
//     for the others (memory access and an if/else);
//   - memory, and a custom section.
func sample(t *testing.T) []byte {
	t.Helper()
	var m Module
	record := m.ImportFunc("env", "record", FuncType{Params: []ValType{I32, I64, F64}, Results: []ValType{I32}})
	m.Memory(1, "memory")
	m.Data(100, []byte("hello"))

	sum := m.Func(FuncType{Params: []ValType{I32}, Results: []ValType{I32}}, I32, I32) // n; i, acc
	sum.Code.Block().Loop().
		LocalGet(1).LocalGet(0).I32GeU().BrIf(1).
		LocalGet(2).LocalGet(1).I32Add().LocalSet(2).
		LocalGet(1).I32Const(1).I32Add().LocalSet(1).
		Br(0).End().End().LocalGet(2)

	report := m.Func(FuncType{}, I32)
	report.Code.I32Const(200).I32Const(7).I64Const(-5).F64Const(2.5).Call(record).I32Store(0)
	report.Code.Block().Loop().
		LocalGet(0).I32Const(5).I32GeU().BrIf(1).
		LocalGet(0).I32Load8U(100).I32Const('h').I32LtU().
		If().
		LocalGet(0).LocalGet(0).I32Load8U(100).I32Const(1).I32Add().I32Store8(300).
		Else().
		LocalGet(0).I32Const(0).I32Store8(300).
		End().
		LocalGet(0).I32Const(1).I32Add().LocalSet(0).
		Br(0).End().End()

	m.ExportFunc("sum", sum.Index)
	m.ExportFunc("report", report.Index)
	m.Custom("note", []byte("made by wasmenc"))
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsesBack(t *testing.T) {
	b := sample(t)
	mod, err := wasmfile.Parse(b)
	if err != nil {
		t.Fatalf("wasmfile cannot parse the encoding: %v", err)
	}
	if len(mod.Imports) != 1 || mod.Imports[0].Module != "env" || mod.Imports[0].Name != "record" ||
		mod.Imports[0].Type.String() != "(i32, i64, f64) -> (i32)" {
		t.Errorf("imports %+v", mod.Imports)
	}
	var names []string
	for _, e := range mod.Exports {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "memory,sum,report" {
		t.Errorf("exports %s", got)
	}
	if mod.FuncCount != 2 || len(mod.Memories) != 1 || mod.Memories[0].Min != 1 {
		t.Errorf("%d functions, memories %+v", mod.FuncCount, mod.Memories)
	}
	if cs := mod.CustomSections("note"); len(cs) != 1 || string(cs[0].Data) != "made by wasmenc" {
		t.Errorf("custom sections %+v", cs)
	}
	if again := sample(t); !bytes.Equal(again, b) {
		t.Error("encoding is not deterministic")
	}
}

func TestRunsOnWazero(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	var got []uint64
	_, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			got = append([]uint64(nil), stack[:3]...)
			stack[0] = 42
		}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF64}, []api.ValueType{api.ValueTypeI32}).
		Export("record").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, sample(t))
	if err != nil {
		t.Fatalf("wazero refuses the module: %v", err)
	}
	for _, c := range []struct{ n, want uint64 }{{0, 0}, {1, 0}, {5, 10}, {100, 4950}} {
		res, err := mod.ExportedFunction("sum").Call(ctx, c.n)
		if err != nil || res[0] != c.want {
			t.Errorf("sum(%d) = %v, %v; want %d", c.n, res, err, c.want)
		}
	}
	if _, err := mod.ExportedFunction("report").Call(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || int32(got[0]) != 7 || int64(got[1]) != -5 || math.Float64frombits(got[2]) != 2.5 {
		t.Errorf("host function received %v", got)
	}
	mem := mod.Memory()
	if v, _ := mem.ReadUint32Le(200); v != 42 {
		t.Errorf("stored result %d, want 42", v)
	}
	if b, _ := mem.Read(300, 5); string(b) != "\x00f\x00\x00\x00" {
		t.Errorf("bytes at 300 %q, want \"\\x00f\\x00\\x00\\x00\"", b)
	}
}

// TestMoreInstructions runs F32Const, I32Xor and MemoryGrow on wazero:
// grow(n) grows memory by n pages and returns memory.grow's result,
// f32() returns a constant and xor(a, b) returns a ^ b.
func TestMoreInstructions(t *testing.T) {
	var m Module
	m.MemoryMax(1, 3, "")
	grow := m.Func(FuncType{Params: []ValType{I32}, Results: []ValType{I32}})
	grow.Code.LocalGet(0).MemoryGrow()
	f32 := m.Func(FuncType{Results: []ValType{F32}})
	f32.Code.F32Const(-1.5)
	xor := m.Func(FuncType{Params: []ValType{I32, I32}, Results: []ValType{I32}})
	xor.Code.LocalGet(0).LocalGet(1).I32Xor()
	m.ExportFunc("grow", grow.Index)
	m.ExportFunc("f32", f32.Index)
	m.ExportFunc("xor", xor.Index)
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, b)
	if err != nil {
		t.Fatalf("wazero refuses the module: %v", err)
	}
	call := func(name string, args ...uint64) uint64 {
		t.Helper()
		res, err := mod.ExportedFunction(name).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res[0]
	}
	for _, c := range []struct{ pages, want int32 }{{1, 1}, {2, -1}, {1, 2}} {
		if got := int32(call("grow", uint64(c.pages))); got != c.want {
			t.Errorf("memory.grow %d = %d, want %d", c.pages, got, c.want)
		}
	}
	if got := math.Float32frombits(uint32(call("f32"))); got != -1.5 {
		t.Errorf("f32.const -1.5 = %v", got)
	}
	if got := call("xor", 0b1100, 0b1010); got != 0b0110 {
		t.Errorf("i32.xor = %b, want 110", got)
	}
}

func TestLocalsAreGrouped(t *testing.T) {
	f := &Func{locals: []ValType{I32, I32, F64, I32}}
	want := []byte{3, 2, 0x7f, 1, 0x7c, 1, 0x7f}
	if got := f.encodeLocals(); !bytes.Equal(got, want) {
		t.Errorf("locals % x, want % x", got, want)
	}
}

func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want []byte
	}{{0, []byte{0}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0}}, {-1, []byte{0x7f}}, {-64, []byte{0x40}}, {-65, []byte{0xbf, 0x7f}},
		{math.MaxInt32, []byte{0xff, 0xff, 0xff, 0xff, 0x07}}, {math.MinInt32, []byte{0x80, 0x80, 0x80, 0x80, 0x78}}} {
		if got := sleb(c.v); !bytes.Equal(got, c.want) {
			t.Errorf("sleb(%d) = % x, want % x", c.v, got, c.want)
		}
	}
	if got := uleb(624485); !bytes.Equal(got, []byte{0xe5, 0x8e, 0x26}) {
		t.Errorf("uleb(624485) = % x", got)
	}
}

func TestMisuseIsReported(t *testing.T) {
	cases := map[string]func(m *Module){
		"import after a function": func(m *Module) {
			m.Func(FuncType{})
			m.ImportFunc("env", "f", FuncType{})
		},
		"same import, two types": func(m *Module) {
			m.ImportFunc("env", "f", FuncType{})
			m.ImportFunc("env", "f", FuncType{Params: []ValType{I32}})
		},
		"two memories":        func(m *Module) { m.Memory(1, ""); m.Memory(1, "") },
		"data without memory": func(m *Module) { m.Data(0, []byte{1}) },
		"data past memory":    func(m *Module) { m.Memory(1, ""); m.Data(65535, []byte{1, 2}) },
		"unclosed block":      func(m *Module) { m.Func(FuncType{}).Code.Block() },
	}
	for name, build := range cases {
		var m Module
		build(&m)
		if _, err := m.Encode(); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
}
