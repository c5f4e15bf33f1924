package wasmfile

import (
	"fmt"
	"strings"
)

// ValType is a value type as encoded in the binary format.
type ValType byte

// Value types. The constants are the binary encodings.
const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
)

func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("valtype(0x%02x)", byte(t))
}

func (t ValType) valid() bool {
	switch t {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

func (t ValType) isRef() bool { return t == FuncRef || t == ExternRef }

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// String formats the signature as "(i32, i32) -> (i32)".
func (f FuncType) String() string {
	return "(" + joinTypes(f.Params) + ") -> (" + joinTypes(f.Results) + ")"
}

// Equal reports whether f and g have the same parameters and results.
func (f FuncType) Equal(g FuncType) bool {
	return sameTypes(f.Params, g.Params) && sameTypes(f.Results, g.Results)
}

func sameTypes(a, b []ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinTypes(ts []ValType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// ExternKind is the kind of an imported or exported entity.
type ExternKind byte

// Extern kinds. The constants are the binary encodings.
const (
	ExternFunc   ExternKind = 0x00
	ExternTable  ExternKind = 0x01
	ExternMemory ExternKind = 0x02
	ExternGlobal ExternKind = 0x03
	ExternTag    ExternKind = 0x04 // exception-handling proposal
)

func (k ExternKind) String() string {
	switch k {
	case ExternFunc:
		return "func"
	case ExternTable:
		return "table"
	case ExternMemory:
		return "memory"
	case ExternGlobal:
		return "global"
	case ExternTag:
		return "tag"
	}
	return fmt.Sprintf("externkind(0x%02x)", byte(k))
}

// Limits bounds the size of a memory (in 64 KiB pages) or a table (in
// elements).
type Limits struct {
	Min    uint64
	Max    uint64 // meaningful only if HasMax
	HasMax bool
	Shared bool // threads proposal: shared memory
	Is64   bool // memory64 proposal: 64-bit index type
}

func (l Limits) String() string {
	s := fmt.Sprintf("min=%d", l.Min)
	if l.HasMax {
		s += fmt.Sprintf(" max=%d", l.Max)
	}
	if l.Shared {
		s += " shared"
	}
	if l.Is64 {
		s += " i64"
	}
	return s
}

// TableType describes a table. Limits is embedded so that tables read like
// memories (t.Min, t.Max).
type TableType struct {
	ElemType ValType // FuncRef or ExternRef
	Limits
}

// GlobalType describes a global variable.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// Import is one entry of the import section. Only the field matching Kind
// is set.
type Import struct {
	Module, Name string
	Kind         ExternKind
	TypeIndex    uint32     // ExternFunc and ExternTag: index into Module.Types
	Type         FuncType   // ExternFunc and ExternTag: the resolved signature
	Table        TableType  // ExternTable
	Memory       Limits     // ExternMemory
	Global       GlobalType // ExternGlobal
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32   // index in the kind's index space (imports come first)
	Type  FuncType // ExternFunc only: the signature of the exported function
}

// CustomSection is a custom section's name and payload.
type CustomSection struct {
	Name string
	Data []byte
}

// SectionID identifies a section kind.
type SectionID byte

// Section IDs as encoded in the binary format.
const (
	SectionCustom    SectionID = 0
	SectionType      SectionID = 1
	SectionImport    SectionID = 2
	SectionFunction  SectionID = 3
	SectionTable     SectionID = 4
	SectionMemory    SectionID = 5
	SectionGlobal    SectionID = 6
	SectionExport    SectionID = 7
	SectionStart     SectionID = 8
	SectionElement   SectionID = 9
	SectionCode      SectionID = 10
	SectionData      SectionID = 11
	SectionDataCount SectionID = 12
	SectionTag       SectionID = 13
)

var sectionNames = [...]string{
	SectionCustom:    "custom",
	SectionType:      "type",
	SectionImport:    "import",
	SectionFunction:  "function",
	SectionTable:     "table",
	SectionMemory:    "memory",
	SectionGlobal:    "global",
	SectionExport:    "export",
	SectionStart:     "start",
	SectionElement:   "element",
	SectionCode:      "code",
	SectionData:      "data",
	SectionDataCount: "datacount",
	SectionTag:       "tag",
}

func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return fmt.Sprintf("section(%d)", byte(id))
}

// sectionRank gives the position at which each non-custom section must
// appear. The data count and tag sections have IDs that do not follow their
// required order, hence the table.
var sectionRank = map[SectionID]int{
	SectionType:      1,
	SectionImport:    2,
	SectionFunction:  3,
	SectionTable:     4,
	SectionMemory:    5,
	SectionTag:       6,
	SectionGlobal:    7,
	SectionExport:    8,
	SectionStart:     9,
	SectionElement:   10,
	SectionDataCount: 11,
	SectionCode:      12,
	SectionData:      13,
}

// Section locates one section in the binary.
type Section struct {
	ID     SectionID
	Name   string // custom sections only
	Offset int    // absolute offset of the section contents (after the size)
	Size   int    // size of the contents in bytes
}

// Module is the decoded structure of a WebAssembly binary. Counts and
// slices for functions, tables, memories, globals and tags cover only the
// entities the module defines itself; imported ones are listed in Imports.
type Module struct {
	Types     []FuncType
	Imports   []Import
	FuncTypes []uint32 // type index of each defined function, from the function section
	Exports   []Export
	Customs   []CustomSection
	Tables    []TableType
	Memories  []Limits

	FuncCount   uint32 // defined functions
	TableCount  uint32 // defined tables
	MemoryCount uint32 // defined memories
	GlobalCount uint32 // defined globals
	TagCount    uint32 // defined tags
	DataCount   uint32 // data segments (from the data count or data section)

	Sections []Section // every section in binary order, including custom ones
}

// ImportCount returns how many entities of kind k the module imports.
func (m *Module) ImportCount(k ExternKind) uint32 {
	var n uint32
	for _, imp := range m.Imports {
		if imp.Kind == k {
			n++
		}
	}
	return n
}

// Export returns the export with the given name.
func (m *Module) Export(name string) (Export, bool) {
	for _, e := range m.Exports {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

// Import returns the import with the given module and name.
func (m *Module) Import(module, name string) (Import, bool) {
	for _, imp := range m.Imports {
		if imp.Module == module && imp.Name == name {
			return imp, true
		}
	}
	return Import{}, false
}

// CustomSections returns the custom sections called name, in binary order.
func (m *Module) CustomSections(name string) []CustomSection {
	var out []CustomSection
	for _, c := range m.Customs {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}
