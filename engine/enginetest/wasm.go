package enginetest

import (
	"encoding/binary"
	"math"
)

// The guests of the suite are assembled by hand: a Go guest would bring a
// runtime whose start-up hides what each test is about, and wat2wasm is not
// a dependency of this repository.

// Value types and opcodes of the instructions the guests use.
const (
	i32 = 0x7f
	i64 = 0x7e
	f32 = 0x7d
	f64 = 0x7c

	opUnreachable = 0x00
	opLoop        = 0x03
	opEnd         = 0x0b
	opBr          = 0x0c
	opBrIf        = 0x0d
	opCall        = 0x10
	opDrop        = 0x1a
	opLocalGet    = 0x20
	opLocalSet    = 0x21
	opI32Load     = 0x28
	opI32Load8U   = 0x2d
	opI32Store    = 0x36
	opMemoryGrow  = 0x40
	opI32Const    = 0x41
	opI64Const    = 0x42
	opF32Const    = 0x43
	opF64Const    = 0x44
	opI32Eqz      = 0x45
	opI32Sub      = 0x6b
	opI32DivU     = 0x6e
	blockVoid     = 0x40
)

type funcType struct{ params, results []byte }

type funcImport struct {
	module, name string
	typ          uint32
}

// function is a defined function: its type, its locals (one value type
// each) and its code without the final end.
type function struct {
	typ    uint32
	locals []byte
	body   []byte
}

type dataSegment struct {
	offset int32
	data   []byte
}

// wasmModule describes a test guest. Its first defined function is
// exported as _start unless noStart is set; with no functions at all it
// gets an empty _start.
type wasmModule struct {
	types   []funcType // default: one, () -> ()
	imports []funcImport
	funcs   []function
	// memory is nil for no memory, else {min} or {min, max} in pages.
	memory  []uint32
	data    []dataSegment
	noStart bool
}

// guest is the common case: _start, of type 0, runs code.
func guest(types []funcType, imports []funcImport, code ...[]byte) wasmModule {
	return wasmModule{types: types, imports: imports, funcs: []function{{body: concat(code...)}}}
}

func (m wasmModule) encode() []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	types := m.types
	if len(types) == 0 {
		types = []funcType{{}}
	}
	funcs := m.funcs
	if len(funcs) == 0 && !m.noStart {
		funcs = []function{{}}
	}
	var ts [][]byte
	for _, t := range types {
		ts = append(ts, concat([]byte{0x60}, vec(split(t.params)...), vec(split(t.results)...)))
	}
	out = append(out, section(1, vec(ts...))...)
	if len(m.imports) > 0 {
		var ims [][]byte
		for _, im := range m.imports {
			ims = append(ims, concat(name(im.module), name(im.name), []byte{0x00}, uleb(uint64(im.typ))))
		}
		out = append(out, section(2, vec(ims...))...)
	}
	if len(funcs) > 0 {
		var fs [][]byte
		for _, f := range funcs {
			fs = append(fs, uleb(uint64(f.typ)))
		}
		out = append(out, section(3, vec(fs...))...)
	}
	if m.memory != nil {
		lim := append([]byte{0x00}, uleb(uint64(m.memory[0]))...)
		if len(m.memory) > 1 {
			lim = concat([]byte{0x01}, uleb(uint64(m.memory[0])), uleb(uint64(m.memory[1])))
		}
		out = append(out, section(5, vec(lim))...)
	}
	var exports [][]byte
	if len(funcs) > 0 && !m.noStart {
		exports = append(exports, concat(name("_start"), []byte{0x00}, uleb(uint64(len(m.imports)))))
	}
	if m.memory != nil {
		exports = append(exports, concat(name("memory"), []byte{0x02, 0x00}))
	}
	out = append(out, section(7, vec(exports...))...)
	if len(funcs) > 0 {
		var bodies [][]byte
		for _, f := range funcs {
			var locals [][]byte
			for _, l := range f.locals {
				locals = append(locals, []byte{0x01, l})
			}
			bodies = append(bodies, sized(concat(vec(locals...), f.body, []byte{opEnd})))
		}
		out = append(out, section(10, vec(bodies...))...)
	}
	if len(m.data) > 0 {
		var segs [][]byte
		for _, d := range m.data {
			segs = append(segs, concat([]byte{0x00}, i32Const(d.offset), []byte{opEnd}, sized(d.data)))
		}
		out = append(out, section(11, vec(segs...))...)
	}
	return out
}

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

func vec(items ...[]byte) []byte {
	out := uleb(uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// split makes each value type of ts a vec item.
func split(ts []byte) [][]byte {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		out[i] = []byte{t}
	}
	return out
}

func sized(b []byte) []byte { return append(uleb(uint64(len(b))), b...) }

func name(s string) []byte { return sized([]byte(s)) }

func section(id byte, body []byte) []byte { return append([]byte{id}, sized(body)...) }

// concat joins instruction fragments.
func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func i32Const(v int32) []byte { return append([]byte{opI32Const}, sleb(int64(v))...) }
func i64Const(v int64) []byte { return append([]byte{opI64Const}, sleb(v)...) }

func f32Const(v float32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{opF32Const}, math.Float32bits(v))
}

func f64Const(v float64) []byte {
	return binary.LittleEndian.AppendUint64([]byte{opF64Const}, math.Float64bits(v))
}

func call(fn uint32) []byte       { return append([]byte{opCall}, uleb(uint64(fn))...) }
func localGet(i uint32) []byte    { return append([]byte{opLocalGet}, uleb(uint64(i))...) }
func localSet(i uint32) []byte    { return append([]byte{opLocalSet}, uleb(uint64(i))...) }
func memArg(offset uint32) []byte { return concat([]byte{0x02}, uleb(uint64(offset))) } // align 4

// forever is a loop without calls that never ends.
func forever() []byte { return []byte{opLoop, blockVoid, opBr, 0x00, opEnd} }

// growMemory grows memory by pages and passes memory.grow's result to the
// function fn.
func growMemory(pages int32, fn uint32) []byte {
	return concat(i32Const(pages), []byte{opMemoryGrow, 0x00}, call(fn))
}
