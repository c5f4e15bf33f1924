package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xfhost/xfhost/internal/wasmenc"
	"github.com/xfhost/xfhost/internal/wasmfile"

	"github.com/xfhost/xfhost/taskmodule"
)

// trapModule is a task module whose _start executes `unreachable`: a
// real Wasm trap, which a Go guest cannot produce on purpose (the Go
// runtime turns faults into panics and exit code 2).
func trapModule(t *testing.T) []byte {
	return startModule(t, "Test.Trap", func(c *wasmenc.Code) { c.Unreachable() })
}

// spinModule's _start loops forever without calling anything.
func spinModule(t *testing.T) []byte {
	return startModule(t, "Test.Spin", func(c *wasmenc.Code) { c.Loop().Br(0).End() })
}

// startModule assembles a task module with no inputs or outputs whose
// _start body is written by start.
func startModule(t *testing.T, taskType string, start func(c *wasmenc.Code)) []byte {
	t.Helper()
	var m wasmenc.Module
	m.Memory(1, "memory")
	f := m.Func(wasmenc.FuncType{})
	start(&f.Code)
	m.ExportFunc("_start", f.Index)
	m.ExportFunc("xf_abi_version_1_0", m.Func(wasmenc.FuncType{}).Index)
	wasm, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	meta := []byte(`{"package_format":"XFP-TT1.0","name":"` + taskType + `","version":"1.0.0.0"}`)
	iface := []byte(`{"inputs":[],"outputs":[]}`)
	packed, err := taskmodule.Pack(wasm, meta, iface)
	if err != nil {
		t.Fatal(err)
	}
	return packed
}

// embedWithoutChecks adds the metadata and interface sections from dir's
// *.json.in files without validating the result.
func embedWithoutChecks(wasm []byte, dir string) ([]byte, error) {
	for file, section := range map[string]string{"metadata.json.in": taskmodule.MetadataSection, "interface.json.in": taskmodule.InterfaceSection} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		if wasm, err = wasmfile.SetCustomSection(wasm, section, data); err != nil {
			return nil, err
		}
	}
	return wasm, nil
}
