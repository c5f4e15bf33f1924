package wasmfile

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// funcBody encodes a function body with no locals.
func funcBody(code ...byte) []byte {
	b := append([]byte{0}, code...)
	return cat(leb(uint64(len(b))), b)
}

// oneFunc is a module with one () -> () function exported as "run", whose
// body has no locals and the given code, preceded by extra sections.
func oneFunc(code []byte, extra ...[]byte) []byte {
	secs := [][]byte{
		section(SectionType, vec(functype(nil, nil))),
		section(SectionFunction, vec([]byte{0})),
		section(SectionTable, vec([]byte{byte(FuncRef), 0, 1})),
		section(SectionMemory, vec([]byte{0, 1})),
	}
	secs = append(secs, extra...)
	secs = append(secs,
		section(SectionExport, vec(exportEntry("run", ExternFunc, 0))),
		section(SectionCode, vec(funcBody(code...))),
	)
	return module(secs...)
}

func TestAddStopChecksDecodesInstructions(t *testing.T) {
	loop := []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	// Each case's code contains immediates that hold 0x03 bytes, which a
	// byte scan would take for loops; the real loop follows.
	for _, c := range []struct {
		name string
		code []byte
	}{
		{"i32.const", []byte{0x41, 0x03, 0x1a}},
		{"i64.const", []byte{0x42, 0x83, 0x03, 0x1a}},
		{"f32.const", []byte{0x43, 3, 3, 3, 3, 0x1a}},
		{"f64.const", []byte{0x44, 3, 3, 3, 3, 3, 3, 3, 3, 0x1a}},
		{"memarg", []byte{0x41, 0, 0x28, 0x02, 0x83, 0x03, 0x1a}},
		{"block types", []byte{0x02, 0x40, 0x0b, 0x02, 0x7f, 0x41, 3, 0x0b, 0x1a, 0x02, 0x00, 0x0b}},
		{"br_table", []byte{0x02, 0x40, 0x41, 0, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x0b}},
		{"call_indirect", []byte{0x02, 0x40, 0x41, 0, 0x11, 0x00, 0x00, 0x0b}},
		{"select typed", []byte{0x41, 3, 0x41, 3, 0x41, 1, 0x1c, 0x01, 0x7f, 0x1a}},
		{"ref.null and ref.func", []byte{0xd0, 0x70, 0xd1, 0x1a, 0xd2, 0x00, 0x1a}},
		{"sat trunc", []byte{0x43, 0, 0, 0, 0, 0xfc, 0x00, 0x1a}},
		{"memory.fill and copy", []byte{0x41, 3, 0x41, 3, 0x41, 3, 0xfc, 0x0b, 0x00, 0x41, 3, 0x41, 3, 0x41, 0, 0xfc, 0x0a, 0x00, 0x00}},
		{"table.size and grow", []byte{0xfc, 0x10, 0x00, 0x1a, 0xd0, 0x70, 0x41, 3, 0xfc, 0x0f, 0x00, 0x1a}},
		{"memory.size", []byte{0x3f, 0x00, 0x1a}},
		{"v128.const", []byte{0xfd, 0x0c, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0x1a}},
		{"shuffle and lanes", []byte{0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0xfd, 0x0d, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0xfd, 0x15, 0x03, 0x1a}},
		{"simd load and load_lane", []byte{0x41, 0, 0xfd, 0x00, 0x03, 0x03, 0x1a, 0x41, 0, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0xfd, 0x54, 0x00, 0x03, 0x03, 0x1a}},
		{"simd arithmetic", []byte{0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0xa0, 0x01, 0x1a}},
		{"sign extension", []byte{0x41, 3, 0xc0, 0x1a}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := oneFunc(append(append(append([]byte{}, c.code...), loop...), 0x0b))
			if err := validate(t, in); err != nil {
				t.Fatalf("test module is invalid: %v", err)
			}
			st, err := AddStopChecks(in)
			if err != nil {
				t.Fatal(err)
			}
			out, name := st.Wasm, st.StopGlobal
			if name != StopGlobalName {
				t.Errorf("global exported as %q", name)
			}
			// One local group added (the iteration counter, local 0), the
			// entry check (flag global 0, counter global 1), the loop check.
			want := cat([]byte{1, 1, byte(I32)}, entryCheck(1, 0), c.code, loop[:2], loopCheck(0, 0), loop[2:], []byte{0x0b})
			want = cat(leb(uint64(len(want))), want)
			if !bytes.Contains(out, want) {
				t.Errorf("checks not where expected:\n got %x\nwant %x", out, want)
			}
			if err := validate(t, out); err != nil {
				t.Errorf("instrumented module is invalid: %v", err)
			}
		})
	}
}

// validate compiles b with wazero, which validates every instruction.
func validate(t *testing.T, b []byte) error {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	_, err := r.CompileModule(ctx, b)
	return err
}

func TestAddStopChecksSections(t *testing.T) {
	loopForever := []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}
	importG := section(SectionImport, vec(importEntry("env", "g", ExternGlobal, byte(I64), 0x00)))
	for _, c := range []struct {
		name    string
		in      []byte
		index   uint32
		export  string
		globals uint32
	}{
		{"no global section", oneFunc(loopForever), 0, StopGlobalName, 2},
		{"with globals", oneFunc(loopForever, section(SectionGlobal, vec(
			[]byte{byte(I32), 0, 0x41, 5, 0x0b}, []byte{byte(I32), 1, 0x41, 6, 0x0b}))), 2, StopGlobalName, 4},
		{"imported global", module(
			section(SectionType, vec(functype(nil, nil))), importG,
			section(SectionFunction, vec([]byte{0})),
			section(SectionCode, vec(funcBody(loopForever...))),
			custom("trailer", []byte("x"))), 1, StopGlobalName, 2},
		{"name taken", oneFunc(loopForever, section(SectionGlobal, vec([]byte{byte(I32), 0, 0x41, 5, 0x0b}))), 1, StopGlobalName, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if c.name == "name taken" {
				// Export the existing global under the preferred name.
				in = bytes.Replace(in, section(SectionExport, vec(exportEntry("run", ExternFunc, 0))),
					section(SectionExport, vec(exportEntry("run", ExternFunc, 0), exportEntry(StopGlobalName, ExternGlobal, 0))), 1)
				c.export = StopGlobalName + ".1"
			}
			st, err := AddStopChecks(in)
			if err != nil {
				t.Fatal(err)
			}
			out, name := st.Wasm, st.StopGlobal
			if name != c.export {
				t.Errorf("export name %q, want %q", name, c.export)
			}
			m, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.GlobalCount != c.globals {
				t.Errorf("%d globals, want %d", m.GlobalCount, c.globals)
			}
			e, ok := m.Export(name)
			if !ok || e.Kind != ExternGlobal || e.Index != c.index {
				t.Errorf("export %q: %+v, %v; want global %d", name, e, ok, c.index)
			}
			if len(m.Customs) != len(mustParse(t, in).Customs) {
				t.Error("custom sections changed")
			}
		})
	}
}

func mustParse(t *testing.T, b []byte) *Module {
	t.Helper()
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAddStopChecksStopsGuest runs an infinite loop and an infinite
// recursion and stops them through the global.
func TestAddStopChecksStopsGuest(t *testing.T) {
	for _, c := range []struct {
		name string
		code []byte
	}{
		{"loop", []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}},
		{"recursion", []byte{0x10, 0x00, 0x0b}}, // overflows the stack unless stopped first... see below
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := AddStopChecks(oneFunc(c.code))
			if err != nil {
				t.Fatal(err)
			}
			out, name := st.Wasm, st.StopGlobal
			ctx := context.Background()
			r := wazero.NewRuntime(ctx)
			defer r.Close(ctx)
			mod, err := r.Instantiate(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
			if !ok {
				t.Fatalf("global %q is not exported as mutable", name)
			}
			if c.name == "recursion" {
				// With the flag already set the first entry check traps,
				// before the stack can overflow.
				g.Set(1)
			} else {
				time.AfterFunc(20*time.Millisecond, func() { g.Set(1) })
			}
			_, err = mod.ExportedFunction("run").Call(ctx)
			if err == nil || !strings.Contains(err.Error(), "unreachable") {
				t.Errorf("guest not stopped by the global: %v", err)
			}
		})
	}
}

func TestAddStopChecksErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"not wasm", []byte("not wasm"), "not a WebAssembly module"},
		{"unknown opcode", oneFunc([]byte{0x06, 0x0b}), "unknown opcode 0x06"},
		{"unknown misc opcode", oneFunc([]byte{0xfc, 0x12, 0x0b}), "unknown opcode 0xfc 18"},
		{"unknown simd opcode", oneFunc([]byte{0xfd, 0x9a, 0x01, 0x0b}), "unknown opcode 0xfd 154"},
		{"truncated immediate", oneFunc([]byte{0x41}), "unexpected end"},
		{"no final end", oneFunc([]byte{0x01}), "does not end with end"},
		{"long leb", oneFunc([]byte{0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b}), "too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := AddStopChecks(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := AddStopChecks(module()); err != nil {
		t.Errorf("empty module: %v", err)
	}
}

func TestAddStopChecksGoWasip1(t *testing.T) {
	wasm := buildGoWasip1(t)
	st, err := AddStopChecks(wasm)
	if err != nil {
		t.Fatal(err)
	}
	out, name := st.Wasm, st.StopGlobal
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	var stdout bytes.Buffer
	mod, err := r.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithStdout(&stdout).WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mod.ExportedGlobal(name).(api.MutableGlobal); !ok {
		t.Fatalf("global %q not exported", name)
	}
	_, err = mod.ExportedFunction("_start").Call(ctx)
	var exit interface{ ExitCode() uint32 }
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		t.Fatal(err)
	}
	if stdout.String() != "hello\n" {
		t.Errorf("stdout %q", stdout.String())
	}
}

func FuzzAddStopChecks(f *testing.F) {
	f.Add(module())
	f.Add(oneFunc([]byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}))
	f.Add(oneFunc([]byte{0xfd, 0x0c, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0x1a, 0x0b}))
	f.Add(fullModule())
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := AddStopChecks(b)
		if err != nil {
			return
		}
		out, name := st.Wasm, st.StopGlobal
		m, err := Parse(out)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if e, ok := m.Export(name); !ok || e.Kind != ExternGlobal {
			t.Fatalf("global %q not exported", name)
		}
	})
}

// TestAddStopChecksStartSection checks that a start function that never
// returns no longer runs during instantiation, where no host could yet
// reach the stop flag, but is exported for the host to call.
func TestAddStopChecksStartSection(t *testing.T) {
	loopForever := []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}
	in := module(
		section(SectionType, vec(functype(nil, nil))),
		section(SectionFunction, vec([]byte{0})),
		section(SectionExport, vec(exportEntry("run", ExternFunc, 0))),
		section(SectionStart, leb(0)),
		section(SectionCode, vec(funcBody(loopForever...))),
	)
	st, err := AddStopChecks(in)
	if err != nil {
		t.Fatal(err)
	}
	if st.Start != StartExportName {
		t.Fatalf("Start = %q, want %q", st.Start, StartExportName)
	}
	for _, s := range mustParse(t, st.Wasm).Sections {
		if s.ID == SectionStart {
			t.Fatal("start section kept")
		}
	}
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.Instantiate(ctx, st.Wasm) // would never return with the start section
	if err != nil {
		t.Fatal(err)
	}
	g := mod.ExportedGlobal(st.StopGlobal).(api.MutableGlobal)
	time.AfterFunc(20*time.Millisecond, func() { g.Set(1) })
	_, err = mod.ExportedFunction(st.Start).Call(ctx)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("start function not stopped by the global: %v", err)
	}
}
