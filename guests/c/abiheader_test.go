//go:build !wasip1

package ctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/wasmfile"
)

// TestABIHeaderSignatures compiles a module that references every import
// declared in xf/xf_abi.h and checks that each one lowers to the Wasm
// signature abi.json gives it, and that the marker macro exports exactly
// the current version's marker.
func TestABIHeaderSignatures(t *testing.T) {
	t.Parallel()
	clang := wasiClang(t)
	spec := abi.MustLoad()
	var src strings.Builder
	src.WriteString("#include \"xf_abi.h\"\nXF_ABI_DEFINE_MARKER()\nvoid *volatile every_import[] = {\n")
	for i := range spec.Functions {
		f := &spec.Functions[i]
		src.WriteString("\t(void *)xf_abi_" + f.Module + "_" + f.Name + ",\n")
	}
	src.WriteString("};\nint main(void) { return every_import[0] == 0; }\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "imports.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	header, _ := filepath.Abs("xf")
	out := filepath.Join(dir, "imports.wasm")
	cmd := exec.Command(clang, "--target=wasm32-wasi", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", header, "-o", out, "imports.c")
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := wasmfile.Parse(wasm)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, im := range mod.Imports {
		f, ok := spec.Function(im.Module, im.Name)
		if !ok {
			if im.Module != "wasi_snapshot_preview1" {
				t.Errorf("import %s.%s is not in abi.json", im.Module, im.Name)
			}
			continue
		}
		seen[f.QualifiedName()] = true
		want := "(" + strings.Join(spec.WasmParams(f), ", ") + ") -> (i32)"
		if got := im.Type.String(); got != want {
			t.Errorf("%s: declared as %s, abi.json says %s", f.QualifiedName(), got, want)
		}
	}
	for i := range spec.Functions {
		if q := spec.Functions[i].QualifiedName(); !seen[q] {
			t.Errorf("%s is not declared in xf_abi.h", q)
		}
	}
	var markers []string
	for _, e := range mod.Exports {
		if _, ok := spec.ParseMarker(e.Name); ok {
			markers = append(markers, e.Name)
		}
	}
	if want := spec.Marker(spec.Version); len(markers) != 1 || markers[0] != want {
		t.Errorf("marker exports %q, want [%s]", markers, want)
	}
}
