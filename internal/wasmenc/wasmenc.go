// Package wasmenc assembles small WebAssembly 1.0 modules from Go: types,
// function imports, one memory, functions written instruction by
// instruction, exports, active data segments and custom sections.
//
// It exists for the guests the repository generates instead of compiling
// (conformance test guests, benchmark and hostile guests), where every
// instruction is chosen on purpose and a toolchain would only be in the
// way. It is deliberately independent of internal/wasmfile, the parser, so
// that the two check each other in tests. The output is deterministic: the
// same calls give the same bytes.
package wasmenc

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ValType is a Wasm value type.
type ValType byte

// The value types of WebAssembly 1.0 numbers.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
	F32 ValType = 0x7d
	F64 ValType = 0x7c
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
	}
	return fmt.Sprintf("ValType(%#x)", byte(t))
}

// ParseValType parses "i32", "i64", "f32" or "f64".
func ParseValType(s string) (ValType, error) {
	for _, t := range []ValType{I32, I64, F32, F64} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("wasmenc: unknown value type %q", s)
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

func (f FuncType) equal(g FuncType) bool {
	return slices.Equal(f.Params, g.Params) && slices.Equal(f.Results, g.Results)
}

// Module is a module under construction. Imports must be added before any
// function is defined, because imported functions come first in the
// function index space; misuse is reported by Encode.
type Module struct {
	types   []FuncType
	imports []funcImport
	funcs   []*Func
	memory  *memory
	exports []export
	data    []dataSegment
	customs []custom
	err     error
}

type funcImport struct {
	module, name string
	typeIdx      uint32
}

type memory struct {
	min, max uint32
	hasMax   bool
}

type export struct {
	name string
	kind byte
	idx  uint32
}

type dataSegment struct {
	offset uint32
	bytes  []byte
}

type custom struct {
	name string
	data []byte
}

const (
	kindFunc   = 0x00
	kindMemory = 0x02
)

func (m *Module) fail(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf("wasmenc: "+format, args...)
	}
}

// Type returns the index of a function type, adding it if it is new.
func (m *Module) Type(ft FuncType) uint32 {
	for i, t := range m.types {
		if t.equal(ft) {
			return uint32(i)
		}
	}
	m.types = append(m.types, FuncType{Params: slices.Clone(ft.Params), Results: slices.Clone(ft.Results)})
	return uint32(len(m.types) - 1)
}

// ImportFunc imports a function and returns its function index. Importing
// the same module and name twice returns the first index if the types
// agree.
func (m *Module) ImportFunc(module, name string, ft FuncType) uint32 {
	t := m.Type(ft)
	for i, im := range m.imports {
		if im.module == module && im.name == name {
			if im.typeIdx != t {
				m.fail("import %s.%s added twice with different types", module, name)
			}
			return uint32(i)
		}
	}
	if len(m.funcs) > 0 {
		m.fail("import %s.%s added after a function was defined", module, name)
	}
	m.imports = append(m.imports, funcImport{module: module, name: name, typeIdx: t})
	return uint32(len(m.imports) - 1)
}

// NumImports is the number of imported functions so far.
func (m *Module) NumImports() int { return len(m.imports) }

// Func defines a function of type ft with extra locals (after the
// parameters) and returns it; its index is Func.Index and its body is
// written through Func.Code.
func (m *Module) Func(ft FuncType, locals ...ValType) *Func {
	f := &Func{Index: uint32(len(m.imports) + len(m.funcs)), typeIdx: m.Type(ft), locals: slices.Clone(locals)}
	m.funcs = append(m.funcs, f)
	return f
}

// Memory declares the module's memory with a minimum size in 64 KiB
// pages, exported under exportName unless it is empty.
func (m *Module) Memory(minPages uint32, exportName string) {
	m.setMemory(&memory{min: minPages}, exportName)
}

// MemoryMax is Memory with a maximum size.
func (m *Module) MemoryMax(minPages, maxPages uint32, exportName string) {
	m.setMemory(&memory{min: minPages, max: maxPages, hasMax: true}, exportName)
}

func (m *Module) setMemory(mem *memory, exportName string) {
	if m.memory != nil {
		m.fail("memory declared twice")
		return
	}
	m.memory = mem
	if exportName != "" {
		m.exports = append(m.exports, export{name: exportName, kind: kindMemory})
	}
}

// ExportFunc exports the function with index idx.
func (m *Module) ExportFunc(name string, idx uint32) {
	m.exports = append(m.exports, export{name: name, kind: kindFunc, idx: idx})
}

// Data places bytes at offset in memory when the module is instantiated.
func (m *Module) Data(offset uint32, b []byte) {
	m.data = append(m.data, dataSegment{offset: offset, bytes: slices.Clone(b)})
}

// Custom appends a custom section.
func (m *Module) Custom(name string, data []byte) {
	m.customs = append(m.customs, custom{name: name, data: slices.Clone(data)})
}

// Encode returns the module's binary encoding.
func (m *Module) Encode() ([]byte, error) {
	if m.err != nil {
		return nil, m.err
	}
	for _, d := range m.data {
		if m.memory == nil {
			return nil, errors.New("wasmenc: data segments need a memory")
		}
		if end := uint64(d.offset) + uint64(len(d.bytes)); end > uint64(m.memory.min)*65536 {
			return nil, fmt.Errorf("wasmenc: data segment at %d (%d bytes) ends beyond the memory's %d pages", d.offset, len(d.bytes), m.memory.min)
		}
	}
	for _, f := range m.funcs {
		if f.Code.depth != 0 {
			return nil, fmt.Errorf("wasmenc: function %d has %d unclosed blocks", f.Index, f.Code.depth)
		}
	}
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	if len(m.types) > 0 {
		var items [][]byte
		for _, t := range m.types {
			items = append(items, cat([]byte{0x60}, valTypes(t.Params), valTypes(t.Results)))
		}
		out = append(out, section(1, vec(items))...)
	}
	if len(m.imports) > 0 {
		var items [][]byte
		for _, im := range m.imports {
			items = append(items, cat(name(im.module), name(im.name), []byte{kindFunc}, uleb(uint64(im.typeIdx))))
		}
		out = append(out, section(2, vec(items))...)
	}
	if len(m.funcs) > 0 {
		var items [][]byte
		for _, f := range m.funcs {
			items = append(items, uleb(uint64(f.typeIdx)))
		}
		out = append(out, section(3, vec(items))...)
	}
	if m.memory != nil {
		lim := cat([]byte{0x00}, uleb(uint64(m.memory.min)))
		if m.memory.hasMax {
			lim = cat([]byte{0x01}, uleb(uint64(m.memory.min)), uleb(uint64(m.memory.max)))
		}
		out = append(out, section(5, vec([][]byte{lim}))...)
	}
	if len(m.exports) > 0 {
		var items [][]byte
		for _, e := range m.exports {
			items = append(items, cat(name(e.name), []byte{e.kind}, uleb(uint64(e.idx))))
		}
		out = append(out, section(7, vec(items))...)
	}
	if len(m.funcs) > 0 {
		var items [][]byte
		for _, f := range m.funcs {
			body := cat(f.encodeLocals(), f.Code.b, []byte{0x0b})
			items = append(items, cat(uleb(uint64(len(body))), body))
		}
		out = append(out, section(10, vec(items))...)
	}
	if len(m.data) > 0 {
		var items [][]byte
		for _, d := range m.data {
			// Memory 0, offset expression i32.const OFFSET end.
			items = append(items, cat([]byte{0x00, 0x41}, sleb(int64(int32(d.offset))), []byte{0x0b}, uleb(uint64(len(d.bytes))), d.bytes))
		}
		out = append(out, section(11, vec(items))...)
	}
	for _, c := range m.customs {
		out = append(out, section(0, cat(name(c.name), c.data))...)
	}
	return out, nil
}

// Func is a function being defined.
type Func struct {
	// Index is the function's index in the module's function space.
	Index   uint32
	typeIdx uint32
	locals  []ValType
	// Code is the body; Encode adds the final end.
	Code Code
}

// encodeLocals groups runs of equal local types as the format requires.
func (f *Func) encodeLocals() []byte {
	var groups [][]byte
	for i := 0; i < len(f.locals); {
		j := i
		for j < len(f.locals) && f.locals[j] == f.locals[i] {
			j++
		}
		groups = append(groups, cat(uleb(uint64(j-i)), []byte{byte(f.locals[i])}))
		i = j
	}
	return vec(groups)
}

// Code is a function body under construction. Methods append one
// instruction each and return the Code for chaining.
type Code struct {
	b     []byte
	depth int
}

// Op appends raw instruction bytes, for instructions without a method.
func (c *Code) Op(b ...byte) *Code { c.b = append(c.b, b...); return c }

// Unreachable traps.
func (c *Code) Unreachable() *Code { return c.Op(0x00) }

// Drop discards the top of the stack.
func (c *Code) Drop() *Code { return c.Op(0x1a) }

// Return returns from the function.
func (c *Code) Return() *Code { return c.Op(0x0f) }

// Block opens a block without results.
func (c *Code) Block() *Code { c.depth++; return c.Op(0x02, 0x40) }

// Loop opens a loop without results.
func (c *Code) Loop() *Code { c.depth++; return c.Op(0x03, 0x40) }

// If opens an if without results, taking an i32 condition.
func (c *Code) If() *Code { c.depth++; return c.Op(0x04, 0x40) }

// Else starts the else branch of the innermost if.
func (c *Code) Else() *Code { return c.Op(0x05) }

// End closes the innermost block, loop or if.
func (c *Code) End() *Code { c.depth--; return c.Op(0x0b) }

// Br branches to the label depth levels out.
func (c *Code) Br(depth uint32) *Code { return c.Op(append([]byte{0x0c}, uleb(uint64(depth))...)...) }

// BrIf branches if the i32 on the stack is non-zero.
func (c *Code) BrIf(depth uint32) *Code { return c.Op(append([]byte{0x0d}, uleb(uint64(depth))...)...) }

// Call calls function idx.
func (c *Code) Call(idx uint32) *Code { return c.Op(append([]byte{0x10}, uleb(uint64(idx))...)...) }

// LocalGet pushes local idx.
func (c *Code) LocalGet(idx uint32) *Code { return c.Op(append([]byte{0x20}, uleb(uint64(idx))...)...) }

// LocalSet pops into local idx.
func (c *Code) LocalSet(idx uint32) *Code { return c.Op(append([]byte{0x21}, uleb(uint64(idx))...)...) }

// LocalTee sets local idx and keeps the value.
func (c *Code) LocalTee(idx uint32) *Code { return c.Op(append([]byte{0x22}, uleb(uint64(idx))...)...) }

func (c *Code) memOp(op byte, align, offset uint32) *Code {
	return c.Op(cat([]byte{op}, uleb(uint64(align)), uleb(uint64(offset)))...)
}

// I32Load loads an i32 from address+offset (natural alignment hint 2).
func (c *Code) I32Load(offset uint32) *Code { return c.memOp(0x28, 2, offset) }

// I64Load loads an i64.
func (c *Code) I64Load(offset uint32) *Code { return c.memOp(0x29, 3, offset) }

// F64Load loads an f64.
func (c *Code) F64Load(offset uint32) *Code { return c.memOp(0x2b, 3, offset) }

// I32Load8U loads a byte, zero-extended.
func (c *Code) I32Load8U(offset uint32) *Code { return c.memOp(0x2d, 0, offset) }

// I32Store stores an i32 (address, value).
func (c *Code) I32Store(offset uint32) *Code { return c.memOp(0x36, 2, offset) }

// I64Store stores an i64.
func (c *Code) I64Store(offset uint32) *Code { return c.memOp(0x37, 3, offset) }

// I32Store8 stores the low byte of an i32.
func (c *Code) I32Store8(offset uint32) *Code { return c.memOp(0x3a, 0, offset) }

// I32Const pushes an i32.
func (c *Code) I32Const(v int32) *Code { return c.Op(append([]byte{0x41}, sleb(int64(v))...)...) }

// I64Const pushes an i64.
func (c *Code) I64Const(v int64) *Code { return c.Op(append([]byte{0x42}, sleb(v)...)...) }

// F32Const pushes an f32, bit for bit (NaN payloads included).
func (c *Code) F32Const(v float32) *Code {
	bits := math.Float32bits(v)
	b := []byte{0x43}
	for i := range 4 {
		b = append(b, byte(bits>>(8*i)))
	}
	return c.Op(b...)
}

// F64Const pushes an f64, bit for bit (NaN payloads included).
func (c *Code) F64Const(v float64) *Code {
	bits := math.Float64bits(v)
	b := []byte{0x44}
	for i := range 8 {
		b = append(b, byte(bits>>(8*i)))
	}
	return c.Op(b...)
}

// i32 comparisons and arithmetic.
func (c *Code) I32Eqz() *Code { return c.Op(0x45) }
func (c *Code) I32Eq() *Code  { return c.Op(0x46) }
func (c *Code) I32Ne() *Code  { return c.Op(0x47) }
func (c *Code) I32LtS() *Code { return c.Op(0x48) }
func (c *Code) I32LtU() *Code { return c.Op(0x49) }
func (c *Code) I32GeU() *Code { return c.Op(0x4f) }
func (c *Code) I32Add() *Code { return c.Op(0x6a) }
func (c *Code) I32Sub() *Code { return c.Op(0x6b) }
func (c *Code) I32Mul() *Code { return c.Op(0x6c) }

// I32Xor is the bitwise exclusive or.
func (c *Code) I32Xor() *Code { return c.Op(0x73) }

// I32Shl shifts left.
func (c *Code) I32Shl() *Code { return c.Op(0x74) }

// MemorySize pushes the size of memory 0 in pages.
func (c *Code) MemorySize() *Code { return c.Op(0x3f, 0x00) }

// MemoryGrow grows memory 0 by the i32 number of pages on the stack and
// pushes its old size in pages, or -1 if the growth was refused.
func (c *Code) MemoryGrow() *Code { return c.Op(0x40, 0x00) }

// I32DivU divides unsigned.
func (c *Code) I32DivU() *Code { return c.Op(0x6e) }

// I32RemU is the unsigned remainder.
func (c *Code) I32RemU() *Code { return c.Op(0x70) }

// I64Ne compares two i64 for inequality.
func (c *Code) I64Ne() *Code { return c.Op(0x52) }

// F64Eq and F64Ne compare two f64 (NaN is unequal to everything).
func (c *Code) F64Eq() *Code { return c.Op(0x61) }
func (c *Code) F64Ne() *Code { return c.Op(0x62) }

// Encoding helpers.

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func vec(items [][]byte) []byte { return cat(uleb(uint64(len(items))), cat(items...)) }

func name(s string) []byte { return cat(uleb(uint64(len(s))), []byte(s)) }

func valTypes(ts []ValType) []byte {
	items := make([][]byte, len(ts))
	for i, t := range ts {
		items[i] = []byte{byte(t)}
	}
	return vec(items)
}

func section(id byte, body []byte) []byte { return cat([]byte{id}, uleb(uint64(len(body))), body) }
