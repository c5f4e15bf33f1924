package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xfhost/xfhost/internal/wasmfile"

	"github.com/xfhost/xfhost/taskmodule"
)

// trapModule is a hand-assembled task module whose _start executes
// `unreachable`: a real Wasm trap, which a Go guest cannot produce on
// purpose (the Go runtime turns faults into panics and exit code 2).
func trapModule(t *testing.T) []byte { return startModule(t, "Test.Trap", 0x00) }

// spinModule's _start loops forever without calling anything.
func spinModule(t *testing.T) []byte {
	return startModule(t, "Test.Spin", 0x03, 0x40, 0x0c, 0x00, 0x0b)
}

// startModule assembles a task module with no inputs or outputs whose
// _start body is the given instructions.
func startModule(t *testing.T, taskType string, body ...byte) []byte {
	t.Helper()
	section := func(id byte, body ...byte) []byte {
		return append([]byte{id, byte(len(body))}, body...)
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var exports []byte
	exports = append(exports, 3)
	exports = append(append(exports, name("memory")...), 0x02, 0)
	exports = append(append(exports, name("_start")...), 0x00, 0)
	exports = append(append(exports, name("xf_abi_version_1_0")...), 0x00, 1)
	var m []byte
	m = append(m, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
	m = append(m, section(1, 1, 0x60, 0, 0)...)       // type: () -> ()
	m = append(m, section(3, 2, 0, 0)...)             // two functions of type 0
	m = append(m, section(5, 1, 0x00, 1)...)          // memory: min 1 page
	m = append(m, section(7, exports...)...)          // exports
	start := append(append([]byte{0}, body...), 0x0b) // no locals, body, end
	code := append([]byte{2, byte(len(start))}, start...)
	code = append(code, 2, 0, 0x0b) // the marker: empty
	m = append(m, section(10, code...)...)
	meta := []byte(`{"package_format":"XFP-TT1.0","name":"` + taskType + `","version":"1.0.0.0"}`)
	iface := []byte(`{"inputs":[],"outputs":[]}`)
	packed, err := taskmodule.Pack(m, meta, iface)
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
