package wasmfile

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotWasm reports input that does not start with the WebAssembly magic
// number, i.e. is not a WebAssembly binary at all.
var ErrNotWasm = errors.New("not a WebAssembly module")

// ParseError describes malformed input. Offset is an absolute byte offset
// into the binary so the problem can be located with a hex dump or
// wasm-objdump.
type ParseError struct {
	Section string // section name such as "import" or "custom"; empty for the module header
	Offset  int
	Err     error
}

func (e *ParseError) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("wasmfile: offset 0x%x: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("wasmfile: %s section: offset 0x%x: %v", e.Section, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// reader decodes the primitive encodings of the binary format from one
// region of the module. Every read is bounds-checked, so malformed input
// yields a *ParseError instead of a panic.
type reader struct {
	b       []byte
	pos     int
	base    int    // absolute offset of b[0] in the module
	section string // for error messages
}

func newReader(b []byte, base int, section string) *reader {
	return &reader{b: b, base: base, section: section}
}

func (r *reader) offset() int    { return r.base + r.pos }
func (r *reader) remaining() int { return len(r.b) - r.pos }
func (r *reader) done() bool     { return r.pos >= len(r.b) }

func (r *reader) errorf(format string, args ...any) error {
	return r.errorAt(r.offset(), format, args...)
}

func (r *reader) errorAt(off int, format string, args ...any) error {
	return &ParseError{Section: r.section, Offset: off, Err: fmt.Errorf(format, args...)}
}

func (r *reader) eof() error {
	if r.section == "" {
		return r.errorf("unexpected end of module")
	}
	return r.errorf("unexpected end of section")
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.eof()
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// bytes returns the next n bytes without copying.
func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(r.remaining()) {
		return nil, r.eof()
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, nil
}

// uleb decodes an unsigned LEB128 integer of at most bits bits, rejecting
// over-long encodings and set bits beyond the width as the spec requires.
func (r *reader) uleb(bits uint) (uint64, error) {
	start := r.offset()
	maxBytes := int((bits + 6) / 7)
	var v uint64
	for i := 0; ; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		shift := uint(7 * i)
		if i == maxBytes-1 {
			// The final byte may only carry the bits that still fit.
			unused := (c & 0x7f) >> (bits - shift)
			if c&0x80 != 0 {
				return 0, r.errorAt(start, "integer representation too long")
			}
			if unused != 0 {
				return 0, r.errorAt(start, "integer too large for %d bits", bits)
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) u64() (uint64, error) { return r.uleb(64) }

// count reads a vector length. Every vector element occupies at least one
// byte, so a count larger than the remaining bytes is malformed; rejecting
// it here keeps callers from allocating huge slices for tiny inputs.
func (r *reader) count(what string) (uint32, error) {
	off := r.offset()
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if int64(n) > int64(r.remaining()) {
		return 0, r.errorAt(off, "%s count %d exceeds the %d remaining bytes", what, n, r.remaining())
	}
	return n, nil
}

// name reads a length-prefixed UTF-8 string.
func (r *reader) name() (string, error) {
	off := r.offset()
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(uint64(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.errorAt(off, "name is not valid UTF-8")
	}
	return string(b), nil
}
