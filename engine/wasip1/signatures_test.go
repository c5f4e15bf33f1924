package wasip1_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/xfhost/xfhost/engine/wasip1"
	"github.com/xfhost/xfhost/engine/wazeroengine"
)

// TestSignaturesMatchWazero checks Module against the function definitions
// of wazero's own wasi_snapshot_preview1, an implementation written from
// the specification independently of this one: the same names, each with
// the same parameter and result types.
func TestSignaturesMatchWazero(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	compiled, err := wasi_snapshot_preview1.NewBuilder(r).Compile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := compiled.ExportedFunctions()

	m := wasip1.Module()
	if m.Name != wasi_snapshot_preview1.ModuleName {
		t.Errorf("module name %q, want %q", m.Name, wasi_snapshot_preview1.ModuleName)
	}
	// The types as a guest sees them: registered as an engine registers them.
	port := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer port.Close(ctx)
	if err := wazeroengine.InstantiateHostModule(ctx, port, m); err != nil {
		t.Fatal(err)
	}
	registered := port.Module(m.Name).ExportedFunctionDefinitions()
	seen := map[string]bool{}
	for _, f := range m.Functions {
		if seen[f.Name] {
			t.Errorf("%s: defined twice", f.Name)
		}
		seen[f.Name] = true
		def, ok := want[f.Name]
		if !ok {
			t.Errorf("%s: not a WASI preview 1 function", f.Name)
			continue
		}
		if got := registered[f.Name].ParamTypes(); !slices.Equal(got, def.ParamTypes()) {
			t.Errorf("%s: params %v, want %v", f.Name, typeNames(got), typeNames(def.ParamTypes()))
		}
		if got := registered[f.Name].ResultTypes(); !slices.Equal(got, def.ResultTypes()) {
			t.Errorf("%s: results %v, want %v", f.Name, typeNames(got), typeNames(def.ResultTypes()))
		}
		if f.Func == nil {
			t.Errorf("%s: no implementation", f.Name)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: missing", name)
		}
	}
	if len(m.Functions) != 46 {
		t.Errorf("%d functions, want the 46 of WASI preview 1 (45 and sock_accept)", len(m.Functions))
	}
}

func typeNames(ts []api.ValueType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = api.ValueTypeName(t)
	}
	return out
}
