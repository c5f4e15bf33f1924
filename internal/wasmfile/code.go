package wasmfile

import "fmt"

// CodeShape summarises the function bodies of a module: the measures by
// which an optimising compiler's time grows faster than the module's size.
type CodeShape struct {
	// MaxNesting is the deepest nesting of block, loop and if
	// constructs in any function (the function body itself is level 0).
	MaxNesting uint32
	// MaxBrTableTargets is the largest br_table's number of targets.
	MaxBrTableTargets uint32
	// MaxLocals is the most locals any function declares.
	MaxLocals uint64
	// MaxBodyBytes is the largest function body.
	MaxBodyBytes uint32
}

// MeasureCode decodes every function body of the module b (parsed as m)
// and measures its shape.
func MeasureCode(m *Module, b []byte) (CodeShape, error) {
	var shape CodeShape
	for _, s := range m.Sections {
		if s.ID != SectionCode {
			continue
		}
		r := newReader(b[s.Offset:s.Offset+s.Size], s.Offset, "code")
		n, err := r.count("function bodies")
		if err != nil {
			return shape, err
		}
		for i := uint32(0); i < n; i++ {
			size, err := r.u32()
			if err != nil {
				return shape, err
			}
			base := r.offset()
			code, err := r.bytes(uint64(size))
			if err != nil {
				return shape, err
			}
			shape.MaxBodyBytes = max(shape.MaxBodyBytes, size)
			if err := measureBody(newReader(code, base, "code"), &shape); err != nil {
				return shape, fmt.Errorf("function body %d: %w", i, err)
			}
		}
	}
	return shape, nil
}

func measureBody(r *reader, shape *CodeShape) error {
	groups, err := r.count("local groups")
	if err != nil {
		return err
	}
	var locals uint64
	for g := uint32(0); g < groups; g++ {
		n, err := r.u32()
		if err != nil {
			return err
		}
		locals += uint64(n)
		if _, err := valType(r); err != nil {
			return err
		}
	}
	shape.MaxLocals = max(shape.MaxLocals, locals)
	var depth uint32
	for !r.done() {
		op, err := r.byte()
		if err != nil {
			return err
		}
		if op == 0x0e { // br_table: count the targets before skipping them
			save := r.pos
			n, err := r.u32()
			if err != nil {
				return err
			}
			shape.MaxBrTableTargets = max(shape.MaxBrTableTargets, n)
			r.pos = save
		}
		if err := skipImmediates(r, op); err != nil {
			return err
		}
		switch op {
		case 0x02, 0x03, 0x04: // block, loop, if
			depth++
			shape.MaxNesting = max(shape.MaxNesting, depth)
		case 0x0b: // end
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}
