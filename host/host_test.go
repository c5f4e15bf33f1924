package host

import (
	"context"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

func funcImport(module, name string, params ...wasmfile.ValType) wasmfile.Import {
	return wasmfile.Import{Module: module, Name: name, Kind: wasmfile.ExternFunc,
		Type: wasmfile.FuncType{Params: params, Results: []wasmfile.ValType{wasmfile.I32}}}
}

func TestCheckModule(t *testing.T) {
	i32 := wasmfile.I32
	good := []wasmfile.Import{
		funcImport("xf", "finish"),
		funcImport("xf", "output_set", i32, i32, i32, i32),
		funcImport("clip", "threshold", i32, wasmfile.F64, wasmfile.F64, i32, i32),
		{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: wasmfile.ExternFunc},
	}
	cases := []struct {
		name    string
		version taskmodule.Version
		imports []wasmfile.Import
		errs    []string
	}{
		{"good", taskmodule.Version{Major: 1}, good, nil},
		{"newer minor", taskmodule.Version{Major: 1, Minor: 7}, good, []string{"built for ABI 1.7", "implements ABI " + spec.Version.String()}},
		{"import newer than the marker", taskmodule.Version{Major: 1}, []wasmfile.Import{funcImport("clip", "median", i32, i32, i32)},
			[]string{"clip.median (since ABI 1.1, module declares 1.0)"}},
		{"other major", taskmodule.Version{Major: 2}, good, []string{"built for ABI 2.0"}},
		{"unknown imports", taskmodule.Version{Major: 1}, append(good[:1:1], funcImport("xf", "spawn_job"), funcImport("clip", "fft")),
			[]string{"xf.spawn_job (not defined", "clip.fft (not defined"}},
		{"wrong signature", taskmodule.Version{Major: 1}, []wasmfile.Import{funcImport("xf", "finish", i32)},
			[]string{"xf.finish (signature (i32) -> (i32), want () -> (i32))"}},
		{"not a function", taskmodule.Version{Major: 1}, []wasmfile.Import{{Module: "xf", Name: "finish", Kind: wasmfile.ExternMemory}},
			[]string{"xf.finish (signature"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckModule(&taskmodule.Module{ABIVersion: c.version, Imports: c.imports, Exports: memoryExport})
			if c.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range c.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

var memoryExport = []wasmfile.Export{{Name: "memory", Kind: wasmfile.ExternMemory}}

func TestCheckModuleWantsMemory(t *testing.T) {
	err := CheckModule(&taskmodule.Module{ABIVersion: taskmodule.Version{Major: 1}})
	if err == nil || !strings.Contains(err.Error(), `"memory"`) {
		t.Errorf("module without memory: %v", err)
	}
}

// TestHandlesAreJobLocal shows that a handle of one job means nothing in
// another, even at the same slot.
func TestHandlesAreJobLocal(t *testing.T) {
	a, b := newHarness(t), newHarness(t)
	// Both harnesses must share one host to share the generation counter,
	// as jobs of one host do.
	b.j.h = a.j.h
	b.j.images = newHandleTable(&a.j.h.handleGen)
	k, kn := a.str(strAt, "image")
	a.want(abi.OK, "xf.image_open", k, kn, outAt)
	ha := a.u32(outAt)
	k, kn = b.str(strAt, "image")
	b.want(abi.OK, "xf.image_open", k, kn, outAt)
	hb := b.u32(outAt)
	if ha&slotMask != hb&slotMask {
		t.Fatalf("expected the same slot, got %#x and %#x", ha, hb)
	}
	b.want(abi.InvalidHandle, "xf.image_info_get", uint64(ha), bufAt, bufCap, outAt)
	a.want(abi.InvalidHandle, "xf.image_info_get", uint64(hb), bufAt, bufCap, outAt)
	a.want(abi.OK, "xf.image_close", uint64(ha))
	a.want(abi.OK, "xf.image_open", k, kn, outAt)
	if reused := a.u32(outAt); reused == ha {
		t.Errorf("a reopened slot reuses the closed handle %#x", ha)
	}
	a.want(abi.InvalidHandle, "xf.image_close", uint64(ha))
}

func TestRunReportsInvalidInputsWithoutRunning(t *testing.T) {
	h := newHarness(t)
	task := h.j.task
	res, err := h.j.h.Run(context.Background(), task, []byte(`{"image": 5}`), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != Failed || !strings.Contains(res.Error, `invalid inputs: input "image"`) {
		t.Errorf("state %s, error %q", res.State, res.Error)
	}
}

// tableBomb is a tiny module declaring a table of 2^27 elements, which
// wazero would allocate (a GiB of host memory) if it were compiled.
func tableBomb(t *testing.T) []byte {
	t.Helper()
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	exports := []byte{3}
	exports = append(append(exports, name("memory")...), 0x02, 0)
	exports = append(append(exports, name("_start")...), 0x00, 0)
	exports = append(append(exports, name("xf_abi_version_1_0")...), 0x00, 0)
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = append(m, sec(1, 1, 0x60, 0, 0)...)
	m = append(m, sec(3, 1, 0)...)
	m = append(m, sec(4, 1, 0x70, 0x00, 0x80, 0x80, 0x80, 0x40)...) // funcref table, min 2^27
	m = append(m, sec(5, 1, 0x00, 1)...)
	m = append(m, sec(7, exports...)...)
	m = append(m, sec(10, 1, 2, 0, 0x0b)...)
	packed, err := taskmodule.Pack(m, []byte(`{"package_format":"XFP-TT1.0","name":"Test.Bomb","version":"1.0.0.0"}`), []byte(`{"inputs":[],"outputs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	return packed
}

func TestLoadEnforcesPolicy(t *testing.T) {
	h := newHarness(t).j.h
	_, err := h.Load(context.Background(), tableBomb(t))
	if err == nil || !strings.Contains(err.Error(), "table 0 minimum size 134217728 exceeds") {
		t.Errorf("table bomb: %v", err)
	}
	p := policy.Defaults()
	p.Default.Module.MaxBytes = 10
	small, err := New(Options{Engine: nopEngine{}, Store: h.store, ScratchDir: t.TempDir(), Policy: &p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Load(context.Background(), tableBomb(t)); err == nil || !strings.Contains(err.Error(), "the policy allows 10") {
		t.Errorf("oversize module: %v", err)
	}
}

func TestCapabilities(t *testing.T) {
	i32 := wasmfile.I32
	mod := &taskmodule.Module{Imports: []wasmfile.Import{
		funcImport("xf", "finish"),
		funcImport("xf", "image_open", i32, i32, i32),
		funcImport("clip", "gaussian", i32, wasmfile.F64, i32),
		funcImport("wasi_snapshot_preview1", "fd_write", i32, i32, i32, i32),
	}}
	l := policy.Defaults().Default
	if err := checkCapabilities(mod, l); err != nil {
		t.Errorf("default policy: %v", err)
	}
	l.Capabilities = []string{"kernels.basic"}
	err := checkCapabilities(mod, l)
	if err == nil || !strings.Contains(err.Error(), "xf.image_open (capability images), clip.gaussian (capability kernels.filters)") {
		t.Errorf("denied imports: %v", err)
	}
}
