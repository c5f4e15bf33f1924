package guestcheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/taskmodule"
)

// spec is the ABI this host implements; it is immutable after loading.
var spec = abi.MustLoad()

// Names of the static checks, in report order.
const (
	checkParse      = "wasm.parse"
	checkMarker     = "abi.marker"
	checkVersion    = "abi.version"
	checkMemory     = "exports.memory"
	checkStart      = "exports.start"
	checkKnown      = "imports.known"
	checkSignatures = "imports.signatures"
	checkSince      = "imports.since"
	checkMetadata   = "section.metadata"
	checkInterface  = "section.interface"
)

var staticChecks = []string{checkParse, checkMarker, checkVersion, checkMemory, checkStart,
	checkKnown, checkSignatures, checkSince, checkMetadata, checkInterface}

// staticResult is what the static checks learnt about a module.
type staticResult struct {
	version   taskmodule.Version
	hasMarker bool
	iface     *taskmodule.Interface
	ok        bool // every static check passed
}

// checkStatic runs the checks that need no engine. Each check looks at one
// property and reports every defect of that property, so that one broken
// part of a module does not hide the others.
func checkStatic(r *Report, wasm []byte) *staticResult {
	res := &staticResult{ok: true}
	add := func(c Check) {
		if c.Status == Fail {
			res.ok = false
		}
		r.add(c)
	}
	w, err := wasmfile.Parse(wasm)
	if err != nil {
		add(Check{Name: checkParse, Status: Fail, Message: "not a valid WebAssembly module: " + err.Error()})
		for _, name := range staticChecks[1:] {
			add(Check{Name: name, Status: Skip, Message: "the module does not parse"})
		}
		return res
	}
	add(Check{Name: checkParse, Status: Pass, Message: fmt.Sprintf("WebAssembly module of %d bytes, %s, %s", len(wasm), plural(len(w.Imports), "import"), plural(len(w.Exports), "export"))})

	res.version, err = taskmodule.ABIVersion(w.Exports)
	res.hasMarker = err == nil
	if err != nil {
		add(Check{Name: checkMarker, Status: Fail, Message: err.Error()})
		add(Check{Name: checkVersion, Status: Skip, Message: "no valid ABI version marker"})
	} else {
		r.ABIVersion = res.version.String()
		add(Check{Name: checkMarker, Status: Pass, Message: "exports " + taskmodule.MarkerName(res.version)})
		add(versionCheck(res.version))
	}
	add(memoryCheck(w))
	add(startCheck(w))
	add(knownImportsCheck(w))
	add(signaturesCheck(w))
	add(sinceCheck(w, res))

	meta, err := sectionDocument(w, taskmodule.MetadataSection, "metadata.json", taskmodule.ParseMetadata)
	if err != nil {
		add(Check{Name: checkMetadata, Status: Fail, Message: err.Error()})
	} else {
		r.TaskType, r.TaskVersion = meta.Name, meta.Version
		add(Check{Name: checkMetadata, Status: Pass, Message: fmt.Sprintf("task type %s %s", meta.Name, meta.Version)})
	}
	res.iface, err = sectionDocument(w, taskmodule.InterfaceSection, "interface.json", taskmodule.ParseInterface)
	if err != nil {
		add(Check{Name: checkInterface, Status: Fail, Message: err.Error()})
	} else {
		add(Check{Name: checkInterface, Status: Pass, Message: plural(len(res.iface.Inputs), "input") + ", " + plural(len(res.iface.Outputs), "output")})
	}
	return res
}

func versionCheck(v taskmodule.Version) Check {
	gv := abi.Version{Major: v.Major, Minor: v.Minor}
	if !spec.Version.Supports(gv) {
		return Check{Name: checkVersion, Status: Fail,
			Message: fmt.Sprintf("the module is built for ABI %s, this host implements ABI %s and runs %d.0 to %s", gv, spec.Version, spec.Version.Major, spec.Version)}
	}
	return Check{Name: checkVersion, Status: Pass, Message: fmt.Sprintf("ABI %s is supported by this host (ABI %s)", gv, spec.Version)}
}

func memoryCheck(w *wasmfile.Module) Check {
	e, ok := w.Export("memory")
	switch {
	case !ok:
		return Check{Name: checkMemory, Status: Fail, Message: `the module does not export its linear memory as "memory"`}
	case e.Kind != wasmfile.ExternMemory:
		return Check{Name: checkMemory, Status: Fail, Message: fmt.Sprintf(`the export "memory" is a %s, not a memory`, e.Kind)}
	}
	return Check{Name: checkMemory, Status: Pass, Message: `exports its linear memory as "memory"`}
}

func startCheck(w *wasmfile.Module) Check {
	e, ok := w.Export("_start")
	switch {
	case !ok:
		return Check{Name: checkStart, Status: Fail, Message: "the module does not export the WASI command entry point _start"}
	case e.Kind != wasmfile.ExternFunc:
		return Check{Name: checkStart, Status: Fail, Message: fmt.Sprintf("the export _start is a %s, not a function", e.Kind)}
	case len(e.Type.Params) != 0 || len(e.Type.Results) != 0:
		return Check{Name: checkStart, Status: Fail, Message: fmt.Sprintf("_start has type %s, want () -> ()", e.Type)}
	}
	return Check{Name: checkStart, Status: Pass, Message: "exports _start () -> ()"}
}

// expectedSignature is the signature the host provides for an import, if
// it provides the import at all.
func expectedSignature(module, name string) (wasmfile.FuncType, bool) {
	switch module {
	case "xf", "clip":
		f, ok := spec.Function(module, name)
		if !ok {
			return wasmfile.FuncType{}, false
		}
		return abiSignature(f), true
	case wasiModule:
		return wasiSignature(name)
	}
	return wasmfile.FuncType{}, false
}

// abiSignature converts an abi.json function to its Wasm signature. Every
// import returns an i32 status.
func abiSignature(f *abi.Function) wasmfile.FuncType {
	ft := wasmfile.FuncType{Results: []wasmfile.ValType{wasmfile.I32}}
	for _, w := range spec.WasmParams(f) {
		ft.Params = append(ft.Params, valType(w))
	}
	return ft
}

// valType converts a Wasm value type name of abi.json, which uses only
// i32, i64, f32 and f64 (TestABIValueTypes checks).
func valType(name string) wasmfile.ValType {
	switch name {
	case "i64":
		return wasmfile.I64
	case "f32":
		return wasmfile.F32
	case "f64":
		return wasmfile.F64
	}
	return wasmfile.I32
}

func knownImportsCheck(w *wasmfile.Module) Check {
	var problems []string
	counts := map[string]int{}
	for _, im := range w.Imports {
		q := im.Module + "." + im.Name
		switch im.Module {
		case "xf", "clip", wasiModule:
			if _, ok := expectedSignature(im.Module, im.Name); !ok {
				problems = append(problems, fmt.Sprintf("%s: module %s has no %s %q (ABI %s)", q, im.Module, im.Kind, im.Name, spec.Version))
				continue
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: the host provides no module %q (only xf, clip and %s)", q, im.Module, wasiModule))
			continue
		}
		counts[im.Module]++
	}
	if len(problems) > 0 {
		return Check{Name: checkKnown, Status: Fail, Problems: problems}
	}
	var parts []string
	for _, m := range []string{"xf", "clip", wasiModule} {
		if counts[m] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", m, counts[m]))
		}
	}
	msg := "no imports"
	if len(parts) > 0 {
		msg = fmt.Sprintf("%s, all provided by the host (%s)", plural(len(w.Imports), "import"), strings.Join(parts, ", "))
	}
	return Check{Name: checkKnown, Status: Pass, Message: msg}
}

// signaturesCheck compares every import the host provides with the
// signature it provides; unknown imports are imports.known's business.
func signaturesCheck(w *wasmfile.Module) Check {
	var problems []string
	for _, im := range w.Imports {
		want, ok := expectedSignature(im.Module, im.Name)
		if !ok {
			continue
		}
		q := im.Module + "." + im.Name
		source := "abi.json"
		if im.Module == wasiModule {
			source = "WASI preview 1"
		}
		switch {
		case im.Kind != wasmfile.ExternFunc:
			problems = append(problems, fmt.Sprintf("%s: imported as a %s, %s defines a function %s", q, im.Kind, source, want))
		case !im.Type.Equal(want):
			problems = append(problems, fmt.Sprintf("%s: signature %s, %s says %s", q, im.Type, source, want))
		}
	}
	if len(problems) > 0 {
		return Check{Name: checkSignatures, Status: Fail, Problems: problems}
	}
	return Check{Name: checkSignatures, Status: Pass, Message: "every import has the signature the host provides"}
}

// sinceCheck finds imports added after the ABI version the module declares:
// the host refuses them, since the module claims to need only that version.
func sinceCheck(w *wasmfile.Module, res *staticResult) Check {
	if !res.hasMarker {
		return Check{Name: checkSince, Status: Skip, Message: "no valid ABI version marker"}
	}
	gv := abi.Version{Major: res.version.Major, Minor: res.version.Minor}
	if !spec.Version.Supports(gv) {
		return Check{Name: checkSince, Status: Skip, Message: "the module's ABI version is not supported"}
	}
	var problems []string
	for _, im := range w.Imports {
		f, ok := spec.Function(im.Module, im.Name)
		if !ok {
			continue
		}
		if sv, err := abi.ParseVersion(f.Since); err == nil && !gv.Supports(sv) {
			problems = append(problems, fmt.Sprintf("%s: added in ABI %s, the module declares ABI %s (export %s instead)",
				f.QualifiedName(), sv, gv, taskmodule.MarkerName(taskmodule.Version{Major: sv.Major, Minor: sv.Minor})))
		}
	}
	if len(problems) > 0 {
		return Check{Name: checkSince, Status: Fail, Problems: problems}
	}
	return Check{Name: checkSince, Status: Pass, Message: fmt.Sprintf("every ABI import exists in ABI %s", gv)}
}

// sectionDocument finds the one custom section called name and parses it
// with parse, which names the offending field in its errors.
func sectionDocument[T any](w *wasmfile.Module, name, doc string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	secs := w.CustomSections(name)
	switch len(secs) {
	case 0:
		return zero, fmt.Errorf("missing custom section %q (the task type's %s)", name, doc)
	case 1:
	default:
		return zero, fmt.Errorf("%d custom sections named %q; exactly one is allowed", len(secs), name)
	}
	v, err := parse(secs[0].Data)
	if err != nil {
		// Drop the parser's "taskmodule: interface:" prefix: the section
		// name says which document it is.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return zero, fmt.Errorf("custom section %q: %w", name, err)
	}
	return v, nil
}
