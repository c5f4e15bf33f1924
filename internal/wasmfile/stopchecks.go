package wasmfile

import (
	"encoding/binary"
	"fmt"
)

// StopGlobalName is the export name AddStopChecks gives its global unless
// the module already exports something under it. The colon keeps it out of
// the way of names that toolchains generate.
const StopGlobalName = "xf:stop"

// preemptMask sets how often the slow path of a check runs: every 4096th
// loop iteration of a function invocation and every 4096th function entry
// of the instance.
const preemptMask = 4095

// slowPath is the rarely taken part of every check: `memory.grow 0`, which
// on wazero leaves compiled code for Go and so lets the Go scheduler stop
// the goroutine (a garbage collection waits for every goroutine, and Go
// cannot preempt compiled Wasm), then the stop flag test.
func slowPath(stop uint32) []byte {
	c := []byte{0x41, 0x00, 0x40, 0x00, 0x1a, 0x23} // i32.const 0; memory.grow 0; drop; global.get
	c = binary.AppendUvarint(c, uint64(stop))
	return append(c, 0x04, 0x40, 0x00, 0x0b) // if unreachable end
}

// entryCheck counts function entries in the global calls and takes the
// slow path every preemptMask+1 of them.
func entryCheck(calls, stop uint32) []byte {
	c := []byte{0x23}
	c = binary.AppendUvarint(c, uint64(calls))
	c = append(c, 0x41, 0x01, 0x6a, 0x24) // i32.const 1; i32.add; global.set
	c = binary.AppendUvarint(c, uint64(calls))
	c = append(c, 0x23)
	c = binary.AppendUvarint(c, uint64(calls))
	return maskTest(c, stop)
}

// loopCheck counts iterations in the local iters, a register in compiled
// code, so a tight loop pays an add, an and and a branch.
func loopCheck(iters, stop uint32) []byte {
	c := []byte{0x20}
	c = binary.AppendUvarint(c, uint64(iters))
	c = append(c, 0x41, 0x01, 0x6a, 0x22) // i32.const 1; i32.add; local.tee
	c = binary.AppendUvarint(c, uint64(iters))
	return maskTest(c, stop)
}

// maskTest appends `i32.const preemptMask; i32.and; i32.eqz; if slowPath end`.
func maskTest(c []byte, stop uint32) []byte {
	c = append(c, 0x41)
	c = appendSLEB(c, preemptMask)
	c = append(c, 0x71, 0x45, 0x04, 0x40)
	c = append(c, slowPath(stop)...)
	return append(c, 0x0b)
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Stoppable is a module rewritten by AddStopChecks.
type Stoppable struct {
	Wasm []byte
	// StopGlobal is the export name of the stop flag, a mutable i32.
	StopGlobal string
	// Start, if not empty, is the export name of the module's start
	// function, whose start section was removed: the host calls it after
	// instantiation, once it holds the stop flag, so that a start function
	// that never returns can be stopped too.
	Start string
}

// AddStopChecks returns a copy of the module that a host can stop at any
// time, cheaply, without the engine's own interruption checks: a new
// exported mutable i32 global, the stop flag, is tested at every 4096th
// function entry and every 4096th iteration of each loop, and the guest
// traps with `unreachable` once it is non-zero. Every unbounded execution
// path passes loop headers or function entries, so a guest stops within
// microseconds of the host setting the flag. The same slow path is also a
// preemption point for the Go scheduler on wazero (see slowPath). The
// counting costs an add, an and and a predictable branch; wazero's own
// checks leave compiled code for Go at every loop header, which costs a
// compute-bound guest 13-17x.
//
// Two globals are added after the existing ones (the flag and the entry
// counter), a local is added to each function with loops, a memory of
// zero pages is added to a module without one (for memory.grow), the
// start section is replaced by an export (see Stoppable.Start), and
// function, table and data indices are untouched. Every instruction is
// decoded to find the loops; an unknown opcode is an error rather than a
// module that would run unprotected.
func AddStopChecks(b []byte) (*Stoppable, error) {
	m, err := Parse(b)
	if err != nil {
		return nil, err
	}
	stop := m.ImportCount(ExternGlobal) + m.GlobalCount
	calls := stop + 1
	exported := make(map[string]bool, len(m.Exports))
	for _, e := range m.Exports {
		exported[e.Name] = true
	}
	unique := func(name string) string {
		n := name
		for i := 1; exported[n]; i++ {
			n = fmt.Sprintf("%s.%d", name, i)
		}
		exported[n] = true
		return n
	}
	st := &Stoppable{StopGlobal: unique(StopGlobalName)}

	// Two mutable i32 globals initialised by `i32.const 0 end`.
	newGlobals := [][]byte{{byte(I32), 0x01, 0x41, 0x00, 0x0b}, {byte(I32), 0x01, 0x41, 0x00, 0x0b}}
	newExports := [][]byte{newExportEntry(st.StopGlobal, ExternGlobal, stop)}
	for _, s := range m.Sections {
		if s.ID != SectionStart {
			continue
		}
		r := newReader(b[s.Offset:s.Offset+s.Size], s.Offset, "start")
		fn, err := r.u32()
		if err != nil {
			return nil, err
		}
		st.Start = unique(StartExportName)
		newExports = append(newExports, newExportEntry(st.Start, ExternFunc, fn))
	}
	needMemory := m.MemoryCount == 0 && m.ImportCount(ExternMemory) == 0
	params := make([]uint32, len(m.FuncTypes))
	for i, ti := range m.FuncTypes {
		if int(ti) >= len(m.Types) {
			return nil, fmt.Errorf("wasmfile: function %d has type %d of %d", i, ti, len(m.Types))
		}
		params[i] = uint32(len(m.Types[ti].Params))
	}

	out := make([]byte, 0, len(b)+len(b)/4+64)
	out = append(out, b[:headerSize]...)
	wroteGlobal, wroteExport := false, false
	// emitMissing adds the memory, global and export sections, if the
	// module has none, before the first section that must follow them.
	emitMissing := func(rank int) {
		if needMemory && rank > sectionRank[SectionMemory] {
			out = appendSection(out, SectionMemory, []byte{1, 0x01, 0x00, 0x00}) // min 0, max 0
			needMemory = false
		}
		if !wroteGlobal && rank > sectionRank[SectionGlobal] {
			body := []byte{byte(len(newGlobals))}
			for _, g := range newGlobals {
				body = append(body, g...)
			}
			out = appendSection(out, SectionGlobal, body)
			wroteGlobal = true
		}
		if !wroteExport && rank > sectionRank[SectionExport] {
			body := binary.AppendUvarint(nil, uint64(len(newExports)))
			for _, e := range newExports {
				body = append(body, e...)
			}
			out = appendSection(out, SectionExport, body)
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
			emitMissing(sectionRank[s.ID])
			nb, err := appendVecEntries(body, s.Offset, "global", newGlobals...)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, s.ID, nb)
			wroteGlobal = true
		case SectionExport:
			emitMissing(sectionRank[s.ID])
			nb, err := appendVecEntries(body, s.Offset, "export", newExports...)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, s.ID, nb)
			wroteExport = true
		case SectionStart:
			emitMissing(sectionRank[s.ID]) // and drop the section itself
		case SectionCode:
			emitMissing(sectionRank[s.ID])
			nb, err := instrumentCode(body, s.Offset, params, stop, calls)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, s.ID, nb)
		default:
			emitMissing(sectionRank[s.ID])
			out = append(out, raw...)
		}
	}
	emitMissing(len(sectionRank) + 1)
	if _, err := Parse(out); err != nil {
		return nil, fmt.Errorf("wasmfile: module with stop checks does not parse: %w", err)
	}
	st.Wasm = out
	return st, nil
}

// StartExportName is the export name AddStopChecks gives a module's start
// function (made unique like StopGlobalName).
const StartExportName = "xf:start"

func newExportEntry(name string, kind ExternKind, idx uint32) []byte {
	e := binary.AppendUvarint(nil, uint64(len(name)))
	e = append(e, name...)
	e = append(e, byte(kind))
	return binary.AppendUvarint(e, uint64(idx))
}

func appendSection(out []byte, id SectionID, body []byte) []byte {
	out = append(out, byte(id))
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

// appendVecEntries returns a vector section body with entries appended.
func appendVecEntries(body []byte, base int, section string, entries ...[]byte) ([]byte, error) {
	r := newReader(body, base, section)
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if uint64(n)+uint64(len(entries)) > uint64(^uint32(0)) {
		return nil, r.errorAt(base, "too many entries to add %d", len(entries))
	}
	nb := binary.AppendUvarint(make([]byte, 0, len(body)+16*len(entries)+5), uint64(n)+uint64(len(entries)))
	nb = append(nb, body[r.pos:]...)
	for _, e := range entries {
		nb = append(nb, e...)
	}
	return nb, nil
}

// instrumentCode returns the code section body with an entry check at
// the start of every function body and a loop check after every loop's
// block type; params holds each function's parameter count.
func instrumentCode(body []byte, base int, params []uint32, stop, calls uint32) ([]byte, error) {
	r := newReader(body, base, "code")
	n, err := r.count("function bodies")
	if err != nil {
		return nil, err
	}
	if int(n) != len(params) {
		return nil, r.errorAt(base, "%d function bodies for %d functions", n, len(params))
	}
	entry := entryCheck(calls, stop)
	nb := binary.AppendUvarint(make([]byte, 0, len(body)+len(body)/4+int(n)*len(entry)), uint64(n))
	var fn []byte
	var loops []int
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
		d, err := decodeBody(newReader(code, fnBase, "code"), loops[:0])
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		loops = d.loops
		fn = fn[:0]
		if len(loops) == 0 {
			fn = append(fn, code[:d.localsEnd]...)
		} else {
			// One more local group: the iteration counter, whose index
			// follows the parameters and the existing locals.
			locals := uint64(params[i]) + d.locals
			if locals >= 1<<32-1 {
				return nil, fmt.Errorf("function body %d: too many locals to add one", i)
			}
			fn = binary.AppendUvarint(fn, uint64(d.groups)+1)
			fn = append(fn, code[d.groupsStart:d.localsEnd]...)
			fn = append(fn, 1, byte(I32))
		}
		fn = append(fn, entry...)
		prev := d.localsEnd
		if len(loops) > 0 {
			check := loopCheck(params[i]+uint32(d.locals), stop)
			for _, p := range loops {
				fn = append(fn, code[prev:p]...)
				fn = append(fn, check...)
				prev = p
			}
		}
		fn = append(fn, code[prev:]...)
		nb = binary.AppendUvarint(nb, uint64(len(fn)))
		nb = append(nb, fn...)
	}
	return nb, nil
}

// decodedBody is what instrumentCode needs to know of a function body.
type decodedBody struct {
	groups      uint32 // local declaration groups
	groupsStart int    // offset of the first group, after the group count
	locals      uint64 // locals declared (not counting parameters)
	localsEnd   int    // offset of the first instruction
	loops       []int  // offsets just after each loop's block type
}

// decodeBody decodes one function body, appending its loop offsets to
// loops.
func decodeBody(r *reader, loops []int) (decodedBody, error) {
	var d decodedBody
	groups, err := r.count("local groups")
	if err != nil {
		return d, err
	}
	d.groups, d.groupsStart = groups, r.pos
	for g := uint32(0); g < groups; g++ {
		n, err := r.u32()
		if err != nil {
			return d, err
		}
		d.locals += uint64(n)
		if _, err := valType(r); err != nil {
			return d, err
		}
	}
	d.localsEnd = r.pos
	for !r.done() {
		op, err := r.byte()
		if err != nil {
			return d, err
		}
		if err := skipImmediates(r, op); err != nil {
			return d, err
		}
		if op == 0x03 { // loop
			loops = append(loops, r.pos)
		}
	}
	if len(r.b) == 0 || r.b[len(r.b)-1] != 0x0b {
		return d, r.errorf("function body does not end with end")
	}
	d.loops = loops
	return d, nil
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
