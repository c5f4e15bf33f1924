package taskmodule

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/params"
)

var fixtures = []string{"Lucid.CLIP.StatMinMax", "Lucid.CLIP.Threshold", "Lucid.Core.Threshold"}

func TestMarker(t *testing.T) {
	if got := MarkerName(Version{1, 0}); got != "xf_abi_version_1_0" {
		t.Errorf("MarkerName(1.0) = %q", got)
	}
	if got := (Version{2, 13}).String(); got != "2.13" {
		t.Errorf("Version.String() = %q", got)
	}
	tests := []struct {
		name string
		want Version
		ok   bool
	}{
		{"xf_abi_version_1_0", Version{1, 0}, true},
		{"xf_abi_version_0_12", Version{0, 12}, true},
		{"xf_abi_version_123456789_0", Version{123456789, 0}, true},
		{"xf_abi_version_1", Version{}, false},
		{"xf_abi_version_1_0_0", Version{}, false},
		{"xf_abi_version_01_0", Version{}, false},
		{"xf_abi_version_1_", Version{}, false},
		{"xf_abi_version__1", Version{}, false},
		{"xf_abi_version_-1_0", Version{}, false},
		{"xf_abi_version_+1_0", Version{}, false},
		{"xf_abi_version_1234567890_0", Version{}, false},
		{"xf_abi_version_a_b", Version{}, false},
		{"proxy_abi_version_0_2_0", Version{}, false},
		{"XF_ABI_VERSION_1_0", Version{}, false},
		{"", Version{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseMarker(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMarker(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	for _, v := range []Version{{0, 0}, {1, 0}, {3, 7}, {10, 200}} {
		if got, ok := ParseMarker(MarkerName(v)); !ok || got != v {
			t.Errorf("ParseMarker(MarkerName(%v)) = %v, %v", v, got, ok)
		}
	}
}

func TestFixturesPackAndParse(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			metadata, iface := loadFixture(t, name)
			packed, err := Pack(markerModule(), metadata, iface)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(packed)
			if err != nil {
				t.Fatal(err)
			}
			if m.Metadata.Name != name {
				t.Errorf("metadata name %q, want %q", m.Metadata.Name, name)
			}
			if !bytes.Equal(m.MetadataJSON, metadata) || !bytes.Equal(m.InterfaceJSON, iface) {
				t.Error("embedded documents differ from the packed ones")
			}
			if m.ABIVersion != (Version{1, 0}) {
				t.Errorf("ABIVersion %v", m.ABIVersion)
			}
			if m.SHA256 != sha256.Sum256(packed) || !bytes.Equal(m.Binary, packed) {
				t.Error("Binary/SHA256 do not describe the parsed module")
			}
			if m.Wasm == nil || len(m.Exports) != 2 || m.Wasm.FuncCount != 2 {
				t.Errorf("wasm structure: %+v", m.Wasm)
			}
			if _, ok := m.Interface.Input("image"); !ok {
				t.Error("interface lacks the image input")
			}
		})
	}
}

func TestPackReplacesSections(t *testing.T) {
	md1, if1 := loadFixture(t, "Lucid.CLIP.Threshold")
	md2, if2 := loadFixture(t, "Lucid.Core.Threshold")
	first, err := Pack(markerModule(), md1, if1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Pack(first, md2, if2)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wasmfile.Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	if n, k := len(w.CustomSections(MetadataSection)), len(w.CustomSections(InterfaceSection)); n != 1 || k != 1 {
		t.Fatalf("got %d metadata and %d interface sections, want one each", n, k)
	}
	m, err := Parse(second)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata.Name != "Lucid.Core.Threshold" {
		t.Errorf("metadata not replaced: %q", m.Metadata.Name)
	}
}

func TestPackErrors(t *testing.T) {
	md, iface := loadFixture(t, "Lucid.CLIP.Threshold")
	tests := []struct {
		name            string
		wasm, md, iface []byte
		want            string
	}{
		{"invalid metadata", markerModule(), []byte(`{"name":"x"}`), iface, `taskmodule: metadata: missing required field "package_format"`},
		{"invalid interface", markerModule(), md, []byte(`{"inputs":[]}`), `taskmodule: interface: missing required field "outputs"`},
		{"metadata not JSON", markerModule(), []byte(`name: x`), iface, "taskmodule: metadata: invalid JSON"},
		{"not wasm", []byte("\x7fELF"), md, iface, "not a WebAssembly module"},
		{"no marker", guestModule(nil), md, iface, "module exports no ABI version marker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Pack(tt.wasm, tt.md, tt.iface)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (%d bytes), want error containing %q", err, len(out), tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	md, iface := loadFixture(t, "Lucid.CLIP.StatMinMax")
	marker := export{"xf_abi_version_1_0", kindFunc, 0}
	sections := func(extra ...[]byte) [][]byte {
		return append([][]byte{custom(MetadataSection, md), custom(InterfaceSection, iface)}, extra...)
	}
	tests := []struct {
		name string
		wasm []byte
		want string
		kind error
	}{
		{"not wasm", []byte("PK\x03\x04"), "taskmodule: wasmfile: offset 0x0: not a WebAssembly module", wasmfile.ErrNotWasm},
		{"malformed wasm", wasmModule([]byte{1, 9}), "taskmodule: wasmfile: offset 0x8: type section size 9 exceeds", nil},
		{"missing metadata", guestModule([]export{marker}, custom(InterfaceSection, iface)),
			`taskmodule: missing custom section "xf.metadata" (the task type's metadata.json)`, ErrMissingSection},
		{"missing interface", guestModule([]export{marker}, custom(MetadataSection, md)),
			`taskmodule: missing custom section "xf.interface" (the task type's interface.json)`, ErrMissingSection},
		{"two metadata sections", guestModule([]export{marker}, sections(custom(MetadataSection, md))...),
			`taskmodule: 2 custom sections named "xf.metadata"; exactly one is allowed`, nil},
		{"metadata invalid JSON", guestModule([]export{marker}, custom(MetadataSection, []byte("{")), custom(InterfaceSection, iface)),
			"taskmodule: xf.metadata section: invalid JSON: unexpected end of JSON input", params.ErrInvalidJSON},
		{"interface invalid JSON", guestModule([]export{marker}, custom(MetadataSection, md), custom(InterfaceSection, []byte("inputs"))),
			"taskmodule: xf.interface section: invalid JSON: invalid character 'i'", params.ErrInvalidJSON},
		{"metadata invalid", guestModule([]export{marker}, custom(MetadataSection, []byte(`{"package_format":"XFP-TT1.0","name":"a b","version":"1.0.0.0"}`)), custom(InterfaceSection, iface)),
			`taskmodule: xf.metadata section: name: "a b" must consist of letters, digits and dots only`, nil},
		{"interface invalid", guestModule([]export{marker}, custom(MetadataSection, md), custom(InterfaceSection, []byte(`{"inputs":[],"outputs":[],"extra":1}`))),
			`taskmodule: xf.interface section: unknown field "extra"`, nil},
		{"no marker", guestModule([]export{{"run", kindFunc, 0}}, sections()...),
			"taskmodule: module exports no ABI version marker (an export named xf_abi_version_<major>_<minor>)", nil},
		{"two markers", guestModule([]export{marker, {"xf_abi_version_2_0", kindFunc, 0}}, sections()...),
			"taskmodule: module exports several ABI version markers (xf_abi_version_1_0, xf_abi_version_2_0); exactly one is allowed", nil},
		{"malformed marker", guestModule([]export{{"xf_abi_version_1", kindFunc, 0}}, sections()...),
			`taskmodule: malformed ABI version marker export "xf_abi_version_1" (want xf_abi_version_<major>_<minor>, e.g. xf_abi_version_1_0)`, nil},
		{"marker is a memory", guestModule([]export{{"xf_abi_version_1_0", kindMemory, 0}}, sections()...),
			`taskmodule: ABI version marker "xf_abi_version_1_0" must be a function, not a memory`, nil},
		{"marker takes a parameter", guestModule([]export{{"xf_abi_version_1_0", kindFunc, 1}}, sections()...),
			`taskmodule: ABI version marker "xf_abi_version_1_0" must have type () -> (), not (i32) -> ()`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.wasm)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", m)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %q\nwant prefix %q", err, tt.want)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("error %q does not wrap %v", err, tt.kind)
			}
		})
	}
}

func TestPackGoWasip1Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	wasm := buildGuest(t)
	md, iface := loadFixture(t, "Lucid.Core.Threshold")
	packed, err := Pack(wasm, md, iface)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(packed)
	if err != nil {
		t.Fatal(err)
	}
	if m.ABIVersion != (Version{1, 0}) {
		t.Errorf("ABIVersion %v", m.ABIVersion)
	}
	if m.Metadata.Name != "Lucid.Core.Threshold" {
		t.Errorf("metadata name %q", m.Metadata.Name)
	}
	var wasi bool
	for _, imp := range m.Imports {
		wasi = wasi || imp.Module == "wasi_snapshot_preview1"
	}
	if !wasi {
		t.Error("no wasi_snapshot_preview1 imports")
	}
	if _, ok := m.Wasm.Export("_start"); !ok {
		t.Error("no _start export")
	}
	if len(packed) <= len(wasm) {
		t.Error("packed module is not larger than the original")
	}
}

// buildGuest compiles a Go wasip1 program exporting the v1.0 marker,
// skipping the test if the toolchain cannot.
func buildGuest(t *testing.T) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/guest\n\ngo 1.24\n",
		"main.go": `package main

//go:wasmexport xf_abi_version_1_0
func abiVersion() {}

func main() {}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command(goBin, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build a wasip1 guest: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
