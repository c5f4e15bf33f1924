package wasmfile

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// SetCustomSection returns a copy of the module binary b in which every
// custom section called name is removed and a single new one carrying data
// is appended at the end. All other sections are copied byte for byte.
//
// Only the module header and the section framing of b are checked, not the
// section contents, so that modules using features Parse does not decode
// can still be annotated.
func SetCustomSection(b []byte, name string, data []byte) ([]byte, error) {
	if !utf8.ValidString(name) {
		return nil, fmt.Errorf("wasmfile: set custom section %q: name is not valid UTF-8", name)
	}
	payload := uint64(lebLen(uint64(len(name)))) + uint64(len(name)) + uint64(len(data))
	if payload > math.MaxUint32 {
		return nil, fmt.Errorf("wasmfile: set custom section %q: %d bytes exceed the 4 GiB section limit", name, payload)
	}
	r := newReader(b, 0, "")
	if err := readHeader(r); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+int(payload)+5+1)
	out = append(out, b[:headerSize]...)
	for !r.done() {
		start := r.pos
		s, _, err := nextSection(r)
		if err != nil {
			return nil, err
		}
		if s.ID == SectionCustom && s.Name == name {
			continue
		}
		out = append(out, b[start:r.pos]...)
	}
	out = append(out, byte(SectionCustom))
	out = appendLEB(out, payload)
	out = appendLEB(out, uint64(len(name)))
	out = append(out, name...)
	out = append(out, data...)
	return out, nil
}

func appendLEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func lebLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
