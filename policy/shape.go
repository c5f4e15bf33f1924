package policy

import (
	"fmt"
	"strings"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

// CheckShape checks a parsed module of size bytes, whose function bodies
// measure code, against the limits and lists every excess. Run it before
// compiling: wazero accepts, for example, table minimums of 2^27 elements
// and allocates them, and spends minutes compiling 240 KB of nested
// blocks.
func (ml ModuleLimits) CheckShape(m *wasmfile.Module, code wasmfile.CodeShape, size int64) error {
	var bad []string
	check := func(what string, got, limit uint64) {
		if limit > 0 && got > limit {
			bad = append(bad, fmt.Sprintf("%s %d exceeds %d", what, got, limit))
		}
	}
	check("size in bytes", uint64(size), uint64(ml.MaxBytes))
	check("functions", uint64(m.FuncCount)+uint64(m.ImportCount(wasmfile.ExternFunc)), uint64(ml.MaxFunctions))
	check("imports", uint64(len(m.Imports)), uint64(ml.MaxImports))
	check("exports", uint64(len(m.Exports)), uint64(ml.MaxExports))
	check("globals", uint64(m.GlobalCount)+uint64(m.ImportCount(wasmfile.ExternGlobal)), uint64(ml.MaxGlobals))
	check("tables", uint64(len(m.Tables))+uint64(m.ImportCount(wasmfile.ExternTable)), uint64(ml.MaxTables))
	check("data segments", uint64(m.DataCount), uint64(ml.MaxDataSegments))
	check("block nesting", uint64(code.MaxNesting), uint64(ml.MaxNesting))
	check("locals of a function", code.MaxLocals, uint64(ml.MaxFunctionLocals))
	for i, t := range m.Tables {
		check(fmt.Sprintf("table %d minimum size", i), uint64(t.Min), uint64(ml.MaxTableElements))
	}
	for i, mem := range m.Memories {
		check(fmt.Sprintf("memory %d minimum pages", i), uint64(mem.Min), uint64(ml.MaxMemoryMinPages))
	}
	for _, im := range m.Imports {
		switch im.Kind {
		case wasmfile.ExternTable:
			check("imported table minimum size", uint64(im.Table.Min), uint64(ml.MaxTableElements))
		case wasmfile.ExternMemory:
			check("imported memory minimum pages", uint64(im.Memory.Min), uint64(ml.MaxMemoryMinPages))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("module shape exceeds the policy: %s", strings.Join(bad, "; "))
	}
	return nil
}
