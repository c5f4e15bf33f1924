package policy

import (
	"testing"

	"github.com/xfhost/xfhost/internal/wasmfile"
)

// FuzzCheckShape feeds arbitrary bytes through the module parser, the code
// measurement and the shape check that guard compilation: none may panic,
// and a module they accept must get a verdict.
func FuzzCheckShape(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x04\x07\x01\x70\x00\x80\x80\x80\x40")) // a 2^27 table
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\xff"))
	limits := Defaults().Default.Module
	tight := ModuleLimits{MaxBytes: 64, MaxFunctions: 1, MaxImports: 1, MaxExports: 1, MaxGlobals: 1,
		MaxTables: 1, MaxTableElements: 1, MaxDataSegments: 1, MaxMemoryMinPages: 1, MaxNesting: 1, MaxFunctionLocals: 1}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wasmfile.Parse(b)
		if err != nil {
			return
		}
		code, err := wasmfile.MeasureCode(m, b)
		if err != nil {
			return
		}
		_ = limits.CheckShape(m, code, int64(len(b)))
		_ = tight.CheckShape(m, code, int64(len(b)))
	})
}
