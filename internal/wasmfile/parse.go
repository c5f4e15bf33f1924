// Package wasmfile reads and rewrites the structure of WebAssembly binary
// modules without executing them.
//
// It exists so that a host can inspect an untrusted module (its imports,
// exports, memories and custom sections) and embed metadata into it before
// handing it to a runtime. It decodes only the sections needed for that and
// skips function bodies, but checks everything it reads: malformed input of
// any kind produces a *ParseError naming the section and byte offset, never a
// panic or an allocation larger than the input.
package wasmfile

import (
	"bytes"
	"fmt"
)

var magic = []byte{0x00, 'a', 's', 'm'}

const headerSize = 8 // magic + version

// Parse decodes the module structure of the binary b. Custom section data
// in the result is copied, so b may be modified afterwards.
func Parse(b []byte) (*Module, error) {
	r := newReader(b, 0, "")
	if err := readHeader(r); err != nil {
		return nil, err
	}
	p := &parser{m: &Module{}}
	lastRank := 0
	var lastID SectionID
	for !r.done() {
		idOff := r.offset()
		s, body, err := nextSection(r)
		if err != nil {
			return nil, err
		}
		if s.ID != SectionCustom {
			rank, ok := sectionRank[s.ID]
			if !ok {
				return nil, &ParseError{Offset: idOff, Err: fmt.Errorf("unknown section id %d", s.ID)}
			}
			if rank <= lastRank {
				if s.ID == lastID {
					return nil, body.errorAt(idOff, "duplicate %s section", s.ID)
				}
				return nil, body.errorAt(idOff, "%s section must not follow the %s section", s.ID, lastID)
			}
			lastRank, lastID = rank, s.ID
		}
		if err := p.section(&s, body); err != nil {
			return nil, err
		}
		if !body.done() {
			return nil, body.errorf("%d unused bytes at end of section", body.remaining())
		}
		p.m.Sections = append(p.m.Sections, s)
	}
	if err := p.finish(r.offset()); err != nil {
		return nil, err
	}
	return p.m, nil
}

func readHeader(r *reader) error {
	if len(r.b) < len(magic) || !bytes.Equal(r.b[:len(magic)], magic) {
		return &ParseError{Offset: 0, Err: fmt.Errorf("%w: missing \\0asm magic number", ErrNotWasm)}
	}
	if len(r.b) < headerSize {
		return &ParseError{Offset: len(magic), Err: fmt.Errorf("truncated header: version missing")}
	}
	version := uint32(r.b[4]) | uint32(r.b[5])<<8 | uint32(r.b[6])<<16 | uint32(r.b[7])<<24
	if version != 1 {
		// Component-model binaries share the magic but use another version/layer.
		return &ParseError{Offset: len(magic), Err: fmt.Errorf("unsupported binary format version 0x%08x (only core module version 1 is supported)", version)}
	}
	r.pos = headerSize
	return nil
}

// nextSection reads a section header and returns a reader limited to the
// section contents. For custom sections it also reads the name.
func nextSection(r *reader) (Section, *reader, error) {
	idOff := r.offset()
	id, err := r.byte()
	if err != nil {
		return Section{}, nil, err
	}
	size, err := r.u32()
	if err != nil {
		return Section{}, nil, err
	}
	if int64(size) > int64(r.remaining()) {
		return Section{}, nil, &ParseError{Offset: idOff, Err: fmt.Errorf("%s section size %d exceeds the %d remaining bytes", SectionID(id), size, r.remaining())}
	}
	s := Section{ID: SectionID(id), Offset: r.offset(), Size: int(size)}
	contents, _ := r.bytes(uint64(size))
	body := newReader(contents, s.Offset, s.ID.String())
	if s.ID == SectionCustom {
		if s.Name, err = body.name(); err != nil {
			return Section{}, nil, err
		}
	}
	return s, body, nil
}

// parser accumulates the module while sections are decoded in order.
type parser struct {
	m             *Module
	haveCode      bool
	codeCount     uint32
	haveDataCount bool
	haveData      bool
	dataSegments  uint32
}

func (p *parser) section(s *Section, r *reader) error {
	switch s.ID {
	case SectionCustom:
		data := make([]byte, r.remaining())
		copy(data, r.b[r.pos:])
		r.pos = len(r.b)
		p.m.Customs = append(p.m.Customs, CustomSection{Name: s.Name, Data: data})
		return nil
	case SectionType:
		return p.types(r)
	case SectionImport:
		return p.imports(r)
	case SectionFunction:
		return p.functions(r)
	case SectionTable:
		return p.tables(r)
	case SectionMemory:
		return p.memories(r)
	case SectionGlobal:
		n, err := r.count("global")
		p.m.GlobalCount = n
		r.pos = len(r.b) // initializer expressions are not needed
		return err
	case SectionTag:
		n, err := r.count("tag")
		p.m.TagCount = n
		r.pos = len(r.b)
		return err
	case SectionExport:
		return p.exports(r)
	case SectionCode:
		n, err := r.count("function body")
		p.haveCode, p.codeCount = true, n
		r.pos = len(r.b)
		return err
	case SectionData:
		n, err := r.count("data segment")
		p.haveData, p.dataSegments = true, n
		r.pos = len(r.b)
		return err
	case SectionDataCount:
		n, err := r.u32()
		p.haveDataCount, p.m.DataCount = true, n
		return err
	default: // start, element: not reported
		r.pos = len(r.b)
		return nil
	}
}

// finish checks the cross-section invariants that can only be verified once
// every section has been seen.
func (p *parser) finish(end int) error {
	m := p.m
	if m.FuncCount != 0 && !p.haveCode {
		return &ParseError{Section: "code", Offset: end, Err: fmt.Errorf("function section declares %d functions but the code section is missing", m.FuncCount)}
	}
	if p.haveCode && p.codeCount != m.FuncCount {
		return &ParseError{Section: "code", Offset: p.sectionOffset(SectionCode), Err: fmt.Errorf("code section has %d function bodies but the function section declares %d", p.codeCount, m.FuncCount)}
	}
	if p.haveData {
		if p.haveDataCount && p.dataSegments != m.DataCount {
			return &ParseError{Section: "data", Offset: p.sectionOffset(SectionData), Err: fmt.Errorf("data section has %d segments but the data count section says %d", p.dataSegments, m.DataCount)}
		}
		m.DataCount = p.dataSegments
	} else if p.haveDataCount && m.DataCount != 0 {
		return &ParseError{Section: "datacount", Offset: p.sectionOffset(SectionDataCount), Err: fmt.Errorf("data count section says %d segments but the data section is missing", m.DataCount)}
	}
	return nil
}

func (p *parser) sectionOffset(id SectionID) int {
	for _, s := range p.m.Sections {
		if s.ID == id {
			return s.Offset
		}
	}
	return 0
}

func (p *parser) types(r *reader) error {
	n, err := r.count("type")
	if err != nil {
		return err
	}
	p.m.Types = make([]FuncType, 0, n)
	for i := uint32(0); i < n; i++ {
		off := r.offset()
		form, err := r.byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return r.errorAt(off, "type %d: expected function type (0x60), got 0x%02x (GC proposal types are not supported)", i, form)
		}
		params, err := valTypes(r)
		if err != nil {
			return err
		}
		results, err := valTypes(r)
		if err != nil {
			return err
		}
		p.m.Types = append(p.m.Types, FuncType{Params: params, Results: results})
	}
	return nil
}

func valTypes(r *reader) ([]ValType, error) {
	n, err := r.count("value type")
	if err != nil {
		return nil, err
	}
	ts := make([]ValType, n)
	for i := range ts {
		if ts[i], err = valType(r); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func valType(r *reader) (ValType, error) {
	off := r.offset()
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if t := ValType(c); t.valid() {
		return t, nil
	}
	return 0, r.errorAt(off, "invalid value type 0x%02x", c)
}

func (p *parser) funcType(r *reader, off int, idx uint32) (FuncType, error) {
	if int64(idx) >= int64(len(p.m.Types)) {
		return FuncType{}, r.errorAt(off, "type index %d out of range (module has %d types)", idx, len(p.m.Types))
	}
	return p.m.Types[idx], nil
}

func (p *parser) imports(r *reader) error {
	n, err := r.count("import")
	if err != nil {
		return err
	}
	p.m.Imports = make([]Import, 0, n)
	for i := uint32(0); i < n; i++ {
		var imp Import
		if imp.Module, err = r.name(); err != nil {
			return err
		}
		if imp.Name, err = r.name(); err != nil {
			return err
		}
		off := r.offset()
		kind, err := r.byte()
		if err != nil {
			return err
		}
		imp.Kind = ExternKind(kind)
		switch imp.Kind {
		case ExternFunc:
			err = p.typeUse(r, &imp)
		case ExternTable:
			imp.Table, err = tableType(r)
		case ExternMemory:
			imp.Memory, err = limits(r)
		case ExternGlobal:
			imp.Global, err = globalType(r)
		case ExternTag:
			err = p.tagType(r, &imp)
		default:
			return r.errorAt(off, "import %q.%q: invalid import kind 0x%02x", imp.Module, imp.Name, kind)
		}
		if err != nil {
			return err
		}
		p.m.Imports = append(p.m.Imports, imp)
	}
	return nil
}

func (p *parser) typeUse(r *reader, imp *Import) error {
	off := r.offset()
	idx, err := r.u32()
	if err != nil {
		return err
	}
	imp.TypeIndex = idx
	imp.Type, err = p.funcType(r, off, idx)
	return err
}

func (p *parser) tagType(r *reader, imp *Import) error {
	off := r.offset()
	attr, err := r.byte()
	if err != nil {
		return err
	}
	if attr != 0 {
		return r.errorAt(off, "invalid tag attribute 0x%02x", attr)
	}
	return p.typeUse(r, imp)
}

func tableType(r *reader) (TableType, error) {
	off := r.offset()
	t, err := valType(r)
	if err != nil {
		return TableType{}, err
	}
	if !t.isRef() {
		return TableType{}, r.errorAt(off, "table element type must be a reference type, got %s", t)
	}
	l, err := limits(r)
	return TableType{ElemType: t, Limits: l}, err
}

func globalType(r *reader) (GlobalType, error) {
	t, err := valType(r)
	if err != nil {
		return GlobalType{}, err
	}
	off := r.offset()
	mut, err := r.byte()
	if err != nil {
		return GlobalType{}, err
	}
	if mut > 1 {
		return GlobalType{}, r.errorAt(off, "invalid global mutability 0x%02x", mut)
	}
	return GlobalType{Type: t, Mutable: mut == 1}, nil
}

// Limits flag bits: bit 0 = has maximum, bit 1 = shared (threads),
// bit 2 = 64-bit index (memory64).
const (
	limitsHasMax = 1 << 0
	limitsShared = 1 << 1
	limitsIs64   = 1 << 2
)

func limits(r *reader) (Limits, error) {
	off := r.offset()
	flags, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	if flags&^(limitsHasMax|limitsShared|limitsIs64) != 0 {
		return Limits{}, r.errorAt(off, "invalid limits flags 0x%02x", flags)
	}
	l := Limits{HasMax: flags&limitsHasMax != 0, Shared: flags&limitsShared != 0, Is64: flags&limitsIs64 != 0}
	if l.Shared && !l.HasMax {
		return Limits{}, r.errorAt(off, "shared limits must have a maximum")
	}
	read := func() (uint64, error) {
		if l.Is64 {
			return r.u64()
		}
		v, err := r.u32()
		return uint64(v), err
	}
	if l.Min, err = read(); err != nil {
		return Limits{}, err
	}
	if l.HasMax {
		if l.Max, err = read(); err != nil {
			return Limits{}, err
		}
		if l.Max < l.Min {
			return Limits{}, r.errorAt(off, "limits maximum %d is below minimum %d", l.Max, l.Min)
		}
	}
	return l, nil
}

func (p *parser) functions(r *reader) error {
	n, err := r.count("function")
	if err != nil {
		return err
	}
	p.m.FuncCount = n
	p.m.FuncTypes = make([]uint32, n)
	for i := range p.m.FuncTypes {
		off := r.offset()
		idx, err := r.u32()
		if err != nil {
			return err
		}
		if _, err := p.funcType(r, off, idx); err != nil {
			return err
		}
		p.m.FuncTypes[i] = idx
	}
	return nil
}

func (p *parser) tables(r *reader) error {
	n, err := r.count("table")
	if err != nil {
		return err
	}
	p.m.TableCount = n
	p.m.Tables = make([]TableType, n)
	for i := range p.m.Tables {
		if p.m.Tables[i], err = tableType(r); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) memories(r *reader) error {
	n, err := r.count("memory")
	if err != nil {
		return err
	}
	p.m.MemoryCount = n
	p.m.Memories = make([]Limits, n)
	for i := range p.m.Memories {
		if p.m.Memories[i], err = limits(r); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) exports(r *reader) error {
	n, err := r.count("export")
	if err != nil {
		return err
	}
	p.m.Exports = make([]Export, 0, n)
	seen := make(map[string]bool, n)
	// Resolve index spaces once rather than per export: hostile modules may
	// carry many imports and exports.
	imported := make(map[ExternKind]uint32)
	var importedFuncs []FuncType
	for _, imp := range p.m.Imports {
		imported[imp.Kind]++
		if imp.Kind == ExternFunc {
			importedFuncs = append(importedFuncs, imp.Type)
		}
	}
	for i := uint32(0); i < n; i++ {
		off := r.offset()
		var e Export
		if e.Name, err = r.name(); err != nil {
			return err
		}
		if seen[e.Name] {
			return r.errorAt(off, "duplicate export name %q", e.Name)
		}
		seen[e.Name] = true
		kindOff := r.offset()
		kind, err := r.byte()
		if err != nil {
			return err
		}
		e.Kind = ExternKind(kind)
		idxOff := r.offset()
		if e.Index, err = r.u32(); err != nil {
			return err
		}
		var defined uint32
		switch e.Kind {
		case ExternFunc:
			defined = p.m.FuncCount
		case ExternTable:
			defined = p.m.TableCount
		case ExternMemory:
			defined = p.m.MemoryCount
		case ExternGlobal:
			defined = p.m.GlobalCount
		case ExternTag:
			defined = p.m.TagCount
		default:
			return r.errorAt(kindOff, "export %q: invalid export kind 0x%02x", e.Name, kind)
		}
		total := uint64(imported[e.Kind]) + uint64(defined)
		if uint64(e.Index) >= total {
			return r.errorAt(idxOff, "export %q: %s index %d out of range (module has %d)", e.Name, e.Kind, e.Index, total)
		}
		if e.Kind == ExternFunc {
			if int(e.Index) < len(importedFuncs) {
				e.Type = importedFuncs[e.Index]
			} else {
				e.Type = p.m.Types[p.m.FuncTypes[int(e.Index)-len(importedFuncs)]]
			}
		}
		p.m.Exports = append(p.m.Exports, e)
	}
	return nil
}
