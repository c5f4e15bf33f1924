package wasmfile

import (
	"encoding/binary"
	"fmt"
)

// StopGlobalName is the export name AddStopChecks gives its global unless
// the module already exports something under it. The colon keeps it out of
// the way of names that toolchains generate.
const StopGlobalName = "xf:stop"

// stopCheck returns `global.get idx; if (empty) unreachable end`.
func stopCheck(idx uint32) []byte {
	c := []byte{0x23}
	c = binary.AppendUvarint(c, uint64(idx))
	return append(c, 0x04, 0x40, 0x00, 0x0b)
}

// AddStopChecks returns a copy of the module with a new exported mutable
// i32 global (initially 0), and a check of that global at every function
// entry and every loop header that traps with `unreachable` once the
// global is non-zero. A host stops a running guest by setting the global:
// every unbounded execution path passes a loop header or a function entry,
// so the guest traps soon after. This is much cheaper than an engine's own
// interruption checks (a load and a predictable branch instead of a call
// into the runtime).
//
// The new global gets the highest global index and function, table and
// data indices are untouched, so only the global, export and code sections
// change. Every instruction is decoded to find the loops; an unknown
// opcode is an error rather than a module that would run unprotected.
// stopGlobal is the export name of the new global.
func AddStopChecks(b []byte) (out []byte, stopGlobal string, err error) {
	m, err := Parse(b)
	if err != nil {
		return nil, "", err
	}
	var importedGlobals uint32
	for _, imp := range m.Imports {
		if imp.Kind == ExternGlobal {
			importedGlobals++
		}
	}
	idx := importedGlobals + m.GlobalCount
	exported := make(map[string]bool, len(m.Exports))
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	stopGlobal = StopGlobalName
	for i := 1; exported[stopGlobal]; i++ {
		stopGlobal = fmt.Sprintf("%s.%d", StopGlobalName, i)
	}

	// The new global: i32, mutable, initialised by `i32.const 0 end`.
	newGlobal := []byte{byte(I32), 0x01, 0x41, 0x00, 0x0b}
	newExport := binary.AppendUvarint(nil, uint64(len(stopGlobal)))
	newExport = append(newExport, stopGlobal...)
	newExport = append(newExport, byte(ExternGlobal))
	newExport = binary.AppendUvarint(newExport, uint64(idx))
	check := stopCheck(idx)

	out = make([]byte, 0, len(b)+len(b)/8+64)
	out = append(out, b[:headerSize]...)
	wroteGlobal, wroteExport := false, false
	// emitMissing adds the global and export sections, if the module has
	// none, before the first section that must follow them.
	emitMissing := func(rank int) {
		if !wroteGlobal && rank > sectionRank[SectionGlobal] {
			out = appendSection(out, SectionGlobal, append([]byte{1}, newGlobal...))
			wroteGlobal = true
		}
		if !wroteExport && rank > sectionRank[SectionExport] {
			out = appendSection(out, SectionExport, append([]byte{1}, newExport...))
			wroteExport = true
		}
	}
	start := headerSize
	for _, s := range m.Sections {
		end := s.Offset + s.Size
		raw, body := b[start:end], b[s.Offset:end]
		start = end
		switch s.ID {
		case SectionCustom:
			out = append(out, raw...)
		case SectionGlobal:
			nb, err := appendVecEntry(body, s.Offset, "global", newGlobal)
			if err != nil {
				return nil, "", err
			}
			out = appendSection(out, s.ID, nb)
			wroteGlobal = true
		case SectionExport:
			emitMissing(sectionRank[s.ID])
			nb, err := appendVecEntry(body, s.Offset, "export", newExport)
			if err != nil {
				return nil, "", err
			}
			out = appendSection(out, s.ID, nb)
			wroteExport = true
		case SectionCode:
			emitMissing(sectionRank[s.ID])
			nb, err := instrumentCode(body, s.Offset, check)
			if err != nil {
				return nil, "", err
			}
			out = appendSection(out, s.ID, nb)
		default:
			emitMissing(sectionRank[s.ID])
			out = append(out, raw...)
		}
	}
	emitMissing(len(sectionRank) + 1)
	if _, err := Parse(out); err != nil {
		return nil, "", fmt.Errorf("wasmfile: module with stop checks does not parse: %w", err)
	}
	return out, stopGlobal, nil
}

func appendSection(out []byte, id SectionID, body []byte) []byte {
	out = append(out, byte(id))
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

// appendVecEntry returns a vector section body with one more entry.
func appendVecEntry(body []byte, base int, section string, entry []byte) ([]byte, error) {
	r := newReader(body, base, section)
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == ^uint32(0) {
		return nil, r.errorAt(base, "too many entries to add one")
	}
	nb := binary.AppendUvarint(make([]byte, 0, len(body)+len(entry)+5), uint64(n)+1)
	nb = append(nb, body[r.pos:]...)
	return append(nb, entry...), nil
}

// instrumentCode returns the code section body with check inserted at the
// start of every function body and after every loop's block type.
func instrumentCode(body []byte, base int, check []byte) ([]byte, error) {
	r := newReader(body, base, "code")
	n, err := r.count("function bodies")
	if err != nil {
		return nil, err
	}
	nb := binary.AppendUvarint(make([]byte, 0, len(body)+len(body)/8+int(n)*len(check)), uint64(n))
	var fn []byte
	var at []int
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fnBase := r.offset()
		code, err := r.bytes(uint64(size))
		if err != nil {
			return nil, err
		}
		at, err = checkPoints(newReader(code, fnBase, "code"), at[:0])
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		fn = fn[:0]
		prev := 0
		for _, p := range at {
			fn = append(fn, code[prev:p]...)
			fn = append(fn, check...)
			prev = p
		}
		fn = append(fn, code[prev:]...)
		nb = binary.AppendUvarint(nb, uint64(len(fn)))
		nb = append(nb, fn...)
	}
	return nb, nil
}

// checkPoints decodes one function body and appends to at the offsets
// (relative to the body) where a check goes: after the local declarations
// and after each loop's block type.
func checkPoints(r *reader, at []int) ([]int, error) {
	groups, err := r.count("local groups")
	if err != nil {
		return nil, err
	}
	for g := uint32(0); g < groups; g++ {
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		if _, err := valType(r); err != nil {
			return nil, err
		}
	}
	at = append(at, r.pos)
	for !r.done() {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		if err := skipImmediates(r, op); err != nil {
			return nil, err
		}
		if op == 0x03 { // loop
			at = append(at, r.pos)
		}
	}
	if len(r.b) == 0 || r.b[len(r.b)-1] != 0x0b {
		return nil, r.errorf("function body does not end with end")
	}
	return at, nil
}

// skipImmediates reads the immediates of the instruction whose first
// opcode byte is op.
func skipImmediates(r *reader, op byte) error {
	switch {
	case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b,
		op >= 0x45 && op <= 0xc4, op == 0xd1:
		// unreachable, nop, else, end, return, drop, select, the numeric
		// instructions (including sign extension), ref.is_null
		return nil
	case op >= 0x02 && op <= 0x04: // block, loop, if
		return skipSLEB(r, 33)
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, // br, br_if, call, return_call
		op >= 0x20 && op <= 0x26, // local.*, global.*, table.get/set
		op == 0x3f, op == 0x40,   // memory.size/grow: memory index
		op == 0xd2: // ref.func
		_, err := r.u32()
		return err
	case op == 0x0e: // br_table
		n, err := r.count("br_table labels")
		if err != nil {
			return err
		}
		return skipU32s(r, int(n)+1)
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect: type, table
		return skipU32s(r, 2)
	case op == 0x1c: // select with types
		n, err := r.count("select types")
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			if _, err := valType(r); err != nil {
				return err
			}
		}
		return nil
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return skipMemarg(r)
	case op == 0x41:
		return skipSLEB(r, 32)
	case op == 0x42:
		return skipSLEB(r, 64)
	case op == 0x43:
		_, err := r.bytes(4)
		return err
	case op == 0x44:
		_, err := r.bytes(8)
		return err
	case op == 0xd0: // ref.null: heap type
		return skipSLEB(r, 33)
	case op == 0xfc:
		return skipMisc(r)
	case op == 0xfd:
		return skipSIMD(r)
	case op == 0xfe:
		return skipAtomic(r)
	}
	return r.errorAt(r.offset()-1, "unknown opcode 0x%02x", op)
}

// skipMisc handles the 0xFC prefix: saturating truncations, bulk memory
// and table instructions.
func skipMisc(r *reader) error {
	off := r.offset()
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // trunc_sat
		return nil
	case sub == 8: // memory.init: data, memory
		return skipU32s(r, 2)
	case sub == 9: // data.drop
		return skipU32s(r, 1)
	case sub == 10: // memory.copy: memory, memory
		return skipU32s(r, 2)
	case sub == 11: // memory.fill
		return skipU32s(r, 1)
	case sub == 12: // table.init: elem, table
		return skipU32s(r, 2)
	case sub == 13: // elem.drop
		return skipU32s(r, 1)
	case sub == 14: // table.copy: table, table
		return skipU32s(r, 2)
	case sub >= 15 && sub <= 17: // table.grow, table.size, table.fill
		return skipU32s(r, 1)
	}
	return r.errorAt(off, "unknown opcode 0xfc %d", sub)
}

// simdUnassigned are the gaps in the 0xFD opcode space up to 0xFF.
var simdUnassigned = map[uint32]bool{
	0x9a: true, 0xa2: true, 0xa5: true, 0xa6: true, 0xaf: true, 0xb0: true,
	0xb2: true, 0xb3: true, 0xb4: true, 0xbb: true, 0xc2: true, 0xc5: true,
	0xc6: true, 0xcf: true, 0xd0: true, 0xd2: true, 0xd3: true, 0xd4: true,
	0xe2: true, 0xee: true,
}

// skipSIMD handles the 0xFD prefix (fixed-width SIMD).
func skipSIMD(r *reader) error {
	off := r.offset()
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // loads, v128.store, load_zero
		return skipMemarg(r)
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		_, err := r.bytes(16)
		return err
	case sub >= 0x15 && sub <= 0x22: // extract_lane, replace_lane
		_, err := r.byte()
		return err
	case sub >= 0x54 && sub <= 0x5b: // load_lane, store_lane
		if err := skipMemarg(r); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case sub <= 0xff && !simdUnassigned[sub]:
		return nil
	}
	return r.errorAt(off, "unknown opcode 0xfd %d", sub)
}

// skipAtomic handles the 0xFE prefix (threads proposal).
func skipAtomic(r *reader) error {
	off := r.offset()
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 0x02, sub >= 0x10 && sub <= 0x4e: // notify, wait, atomic accesses
		return skipMemarg(r)
	case sub == 0x03: // atomic.fence: a reserved zero byte
		_, err := r.byte()
		return err
	}
	return r.errorAt(off, "unknown opcode 0xfe %d", sub)
}

func skipU32s(r *reader, n int) error {
	for i := 0; i < n; i++ {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// skipMemarg reads alignment and offset; alignment bit 6 announces an
// explicit memory index (multi-memory).
func skipMemarg(r *reader) error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	_, err = r.u64()
	return err
}

// skipSLEB reads a signed LEB128 integer of at most bits bits. The value
// is not needed, only its length, but the length limit is enforced so that
// a malformed immediate cannot swallow the following instructions.
func skipSLEB(r *reader, bits uint) error {
	start := r.offset()
	maxBytes := int((bits + 6) / 7)
	for i := 0; i < maxBytes; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.errorAt(start, "integer representation too long")
}
