package wasmfile

import (
	"encoding/binary"
	"fmt"
)

// emptyLoop is `loop end` with an empty block type.
var emptyLoop = []byte{0x03, 0x40, 0x0b}

// AddEntryChecks returns a copy of the module in which every function body
// starts with an empty loop. Engines that check for interruption only at
// loop headers (wazero's WithCloseOnContextDone) then also check on every
// function entry, so a guest made only of calls — a loop-free exponential
// call tree — can be stopped too. Nothing else changes: the loop has no
// effect, and function indices and other sections stay as they were.
func AddEntryChecks(b []byte) ([]byte, error) {
	m, err := Parse(b)
	if err != nil {
		return nil, err
	}
	var code *Section
	for i := range m.Sections {
		if m.Sections[i].ID == SectionCode {
			code = &m.Sections[i]
		}
	}
	if code == nil {
		return append([]byte(nil), b...), nil
	}
	r := newReader(b[code.Offset:code.Offset+code.Size], code.Offset, "code")
	n, err := r.count("function bodies")
	if err != nil {
		return nil, err
	}
	body := binary.AppendUvarint(nil, uint64(n))
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		fn, err := r.bytes(uint64(size))
		if err != nil {
			return nil, err
		}
		// The local declarations come first; the loop goes right after.
		fr := newReader(fn, 0, "code")
		groups, err := fr.count("local groups")
		if err != nil {
			return nil, fmt.Errorf("wasmfile: function body %d: %w", i, err)
		}
		for g := uint32(0); g < groups; g++ {
			if _, err := fr.u32(); err != nil {
				return nil, fmt.Errorf("wasmfile: function body %d: %w", i, err)
			}
			if _, err := fr.byte(); err != nil {
				return nil, fmt.Errorf("wasmfile: function body %d: %w", i, err)
			}
		}
		at := fr.pos
		body = binary.AppendUvarint(body, uint64(len(fn)+len(emptyLoop)))
		body = append(body, fn[:at]...)
		body = append(body, emptyLoop...)
		body = append(body, fn[at:]...)
	}
	// Rebuild the section with its new size (the id byte precedes the size).
	sizeStart := code.Offset - 1
	for sizeStart > 0 && b[sizeStart-1]&0x80 != 0 {
		sizeStart--
	}
	out := make([]byte, 0, len(b)+len(body)-code.Size+8)
	out = append(out, b[:sizeStart]...)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	out = append(out, b[code.Offset+code.Size:]...)
	if _, err := Parse(out); err != nil {
		return nil, fmt.Errorf("wasmfile: instrumented module does not parse: %w", err)
	}
	return out, nil
}
