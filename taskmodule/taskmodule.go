// Package taskmodule reads and writes task type modules: WebAssembly
// binaries that carry a XamFlow task type's package metadata and interface
// declaration in custom sections, and declare the host ABI version they
// target through a marker export.
//
// Bundling both documents into the .wasm file keeps a task type a single,
// content-addressable artifact; validating them here, before anything runs,
// means a job is only ever started with inputs its task type declares.
package taskmodule

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

// Names of the custom sections holding metadata.json and interface.json.
const (
	MetadataSection  = "xf.metadata"
	InterfaceSection = "xf.interface"
)

// ErrMissingSection is wrapped when a module lacks one of the two sections.
var ErrMissingSection = errors.New("missing custom section")

// Module is a parsed task type module.
type Module struct {
	Binary        []byte // the module as given to Parse; not copied, do not modify
	SHA256        [32]byte
	Metadata      *Metadata
	MetadataJSON  []byte // contents of the xf.metadata section
	Interface     *Interface
	InterfaceJSON []byte // contents of the xf.interface section
	ABIVersion    Version
	Imports       []wasmfile.Import
	Exports       []wasmfile.Export
	Wasm          *wasmfile.Module
}

// Parse decodes a task type module and validates its metadata, interface
// and ABI marker. Whether the host supports the declared ABI version is for
// the host to decide.
func Parse(wasm []byte) (*Module, error) {
	w, err := wasmfile.Parse(wasm)
	if err != nil {
		return nil, fmt.Errorf("taskmodule: %w", err)
	}
	m := &Module{Binary: wasm, SHA256: sha256.Sum256(wasm), Imports: w.Imports, Exports: w.Exports, Wasm: w}
	if m.MetadataJSON, err = customSection(w, MetadataSection, "metadata.json"); err != nil {
		return nil, err
	}
	if m.InterfaceJSON, err = customSection(w, InterfaceSection, "interface.json"); err != nil {
		return nil, err
	}
	if m.Metadata, err = parseMetadata(m.MetadataJSON); err != nil {
		return nil, fmt.Errorf("taskmodule: %s section: %w", MetadataSection, err)
	}
	if m.Interface, err = parseInterface(m.InterfaceJSON); err != nil {
		return nil, fmt.Errorf("taskmodule: %s section: %w", InterfaceSection, err)
	}
	if m.ABIVersion, err = abiVersion(w.Exports); err != nil {
		return nil, fmt.Errorf("taskmodule: %w", err)
	}
	return m, nil
}

func customSection(w *wasmfile.Module, name, doc string) ([]byte, error) {
	secs := w.CustomSections(name)
	switch len(secs) {
	case 0:
		return nil, fmt.Errorf("taskmodule: %w %q (the task type's %s)", ErrMissingSection, name, doc)
	case 1:
		return secs[0].Data, nil
	}
	return nil, fmt.Errorf("taskmodule: %d custom sections named %q; exactly one is allowed", len(secs), name)
}

// ABIVersion finds the single ABI version marker among a module's exports,
// with the same rules and messages as Parse, for callers (such as the guest
// conformance checker) that inspect a module whose other parts may be broken.
func ABIVersion(exports []wasmfile.Export) (Version, error) { return abiVersion(exports) }

// abiVersion finds the single ABI marker export. Exports that merely start
// like a marker are rejected too, since they are almost certainly a
// misspelt marker rather than an unrelated function.
func abiVersion(exports []wasmfile.Export) (Version, error) {
	var found []string
	var v Version
	for _, e := range exports {
		if !strings.HasPrefix(e.Name, markerPrefix) {
			continue
		}
		mv, ok := ParseMarker(e.Name)
		if !ok {
			return Version{}, fmt.Errorf("malformed ABI version marker export %q (want %s<major>_<minor>, e.g. %s)", e.Name, markerPrefix, MarkerName(Version{1, 0}))
		}
		if e.Kind != wasmfile.ExternFunc {
			return Version{}, fmt.Errorf("ABI version marker %q must be a function, not a %s", e.Name, e.Kind)
		}
		if len(e.Type.Params) != 0 || len(e.Type.Results) != 0 {
			return Version{}, fmt.Errorf("ABI version marker %q must have type () -> (), not %s", e.Name, e.Type)
		}
		found = append(found, e.Name)
		v = mv
	}
	switch len(found) {
	case 0:
		return Version{}, fmt.Errorf("module exports no ABI version marker (an export named %s<major>_<minor>)", markerPrefix)
	case 1:
		return v, nil
	}
	return Version{}, fmt.Errorf("module exports several ABI version markers (%s); exactly one is allowed", strings.Join(found, ", "))
}

// Pack validates the metadata and interface documents and embeds them
// verbatim into wasm, replacing any existing xf.metadata and xf.interface
// sections. The result is checked with Parse, so it fails if wasm is not a
// valid task module apart from the two documents (e.g. lacks the marker).
func Pack(wasm, metadataJSON, interfaceJSON []byte) ([]byte, error) {
	if _, err := ParseMetadata(metadataJSON); err != nil {
		return nil, err
	}
	if _, err := ParseInterface(interfaceJSON); err != nil {
		return nil, err
	}
	out, err := wasmfile.SetCustomSection(wasm, MetadataSection, metadataJSON)
	if err != nil {
		return nil, fmt.Errorf("taskmodule: pack: %w", err)
	}
	if out, err = wasmfile.SetCustomSection(out, InterfaceSection, interfaceJSON); err != nil {
		return nil, fmt.Errorf("taskmodule: pack: %w", err)
	}
	if _, err := Parse(out); err != nil {
		return nil, err
	}
	return out, nil
}
