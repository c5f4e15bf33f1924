package guestcheck

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

// TestWASITableMatchesWazero compares the WASI preview 1 signatures written
// down in wasi.go with the functions wazero, the default engine, provides:
// the same names, the same parameters and results.
func TestWASITableMatchesWazero(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	compiled, err := wasi_snapshot_preview1.NewBuilder(r).Compile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	provided := compiled.ExportedFunctions()
	toWasm := map[api.ValueType]wasmfile.ValType{api.ValueTypeI32: wasmfile.I32, api.ValueTypeI64: wasmfile.I64,
		api.ValueTypeF32: wasmfile.F32, api.ValueTypeF64: wasmfile.F64}
	convert := func(ts []api.ValueType) []wasmfile.ValType {
		var out []wasmfile.ValType
		for _, v := range ts {
			out = append(out, toWasm[v])
		}
		return out
	}
	for name, def := range provided {
		want, ok := wasiSignature(name)
		if !ok {
			t.Errorf("wazero provides %s.%s, which wasi.go lacks", wasiModule, name)
			continue
		}
		got := wasmfile.FuncType{Params: convert(def.ParamTypes()), Results: convert(def.ResultTypes())}
		if !got.Equal(want) {
			t.Errorf("%s: wazero %s, wasi.go %s", name, got, want)
		}
	}
	for name := range wasiParams {
		if _, ok := provided[name]; !ok {
			t.Errorf("wasi.go lists %s, which wazero does not provide", name)
		}
	}
}

// TestABIValueTypes checks that abi.json uses only the value types
// valType converts.
func TestABIValueTypes(t *testing.T) {
	for i := range spec.Functions {
		for _, w := range spec.WasmParams(&spec.Functions[i]) {
			if !slices.Contains([]string{"i32", "i64", "f32", "f64"}, w) {
				t.Errorf("%s: value type %q", spec.Functions[i].QualifiedName(), w)
			}
		}
	}
}

// TestExpectedSignature spot-checks signatures against ABI.md's table.
func TestExpectedSignature(t *testing.T) {
	for _, tc := range []struct {
		module, name, want string
		known              bool
	}{
		{"xf", "log", "(i32, i32, i32) -> (i32)", true},
		{"xf", "progress_set", "(f64) -> (i32)", true},
		{"clip", "remove_small", "(i32, i32, i64, i32) -> (i32)", true},
		{"clip", "threshold", "(i32, f64, f64, i32, i32) -> (i32)", true},
		{wasiModule, "proc_exit", "(i32) -> ()", true},
		{wasiModule, "clock_time_get", "(i32, i64, i32) -> (i32)", true},
		{"xf", "proc_exit", "", false},
		{wasiModule, "log", "", false},
		{"env", "memory", "", false},
	} {
		got, ok := expectedSignature(tc.module, tc.name)
		if ok != tc.known || (ok && got.String() != tc.want) {
			t.Errorf("expectedSignature(%s, %s) = %s, %v; want %s, %v", tc.module, tc.name, got, ok, tc.want, tc.known)
		}
	}
}
