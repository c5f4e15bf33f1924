//go:build !wasip1

package hostile

import (
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// generators assemble modules that are too big, or too regular, to commit.
var generators = map[string]func() ([]byte, error){
	"compile-bomb": compileBomb,
}

// compileBomb is a 60 KB task module whose only interesting function is
// 20,000 nested empty blocks. wazero's optimising compiler spends time
// quadratic in the nesting depth on it (its dominator and loop-nesting
// passes), about 2 s on two cores here and over a minute at 80,000 levels
// (240 KB). The policy's nesting limit refuses it (compile-bomb); with the
// limit raised it runs into compile_timeout (compile-timeout).
func compileBomb() ([]byte, error) {
	const depth = 20000
	var m wasmenc.Module
	m.Memory(1, "memory")
	start := m.Func(wasmenc.FuncType{})
	for range depth {
		start.Code.Block()
	}
	for range depth {
		start.Code.End()
	}
	marker := m.Func(wasmenc.FuncType{})
	m.ExportFunc("_start", start.Index)
	m.ExportFunc("xf_abi_version_1_0", marker.Index)
	return m.Encode()
}
