package bench

// A minimal WebAssembly assembler for benchmark guests whose every
// instruction matters: Go guests carry a runtime whose start-up would hide
// the costs measured here.

type funcImport struct{ module, name string }

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
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

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(body)))...), body...)
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

// loopModule returns a module whose _start calls the first import n times,
// then calls the import at index finish if finish >= 0. Imports all have
// type () -> i32. It exports memory and, if marker is set, that function.
func loopModule(imports []funcImport, n int32, finish int, marker string) []byte {
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	// Types: 0 = () -> i32, 1 = () -> ().
	m = append(m, section(1, vec([]byte{0x60, 0x00, 0x01, 0x7f}, []byte{0x60, 0x00, 0x00}))...)
	var ims [][]byte
	for _, im := range imports {
		e := append(name(im.module), name(im.name)...)
		ims = append(ims, append(e, 0x00, 0x00))
	}
	m = append(m, section(2, vec(ims...))...)
	nImports := len(imports)
	m = append(m, section(3, vec([]byte{0x01}, []byte{0x01}))...) // _start and the marker: () -> ()
	m = append(m, section(5, vec([]byte{0x00, 0x01}))...)         // memory, min 1 page
	exports := [][]byte{
		append(name("memory"), 0x02, 0x00),
		append(name("_start"), append([]byte{0x00}, uleb(uint64(nImports))...)...),
	}
	if marker != "" {
		exports = append(exports, append(name(marker), append([]byte{0x00}, uleb(uint64(nImports+1))...)...))
	}
	m = append(m, section(7, vec(exports...))...)
	code := []byte{0x01, 0x01, 0x7f} // one local i32
	code = append(code, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x41)
	code = append(code, sleb(int64(n))...)
	code = append(code, 0x4f, 0x0d, 0x01, 0x10, 0x00, 0x1a, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b)
	if finish >= 0 {
		code = append(code, 0x10)
		code = append(code, uleb(uint64(finish))...)
		code = append(code, 0x1a)
	}
	code = append(code, 0x0b)
	empty := []byte{0x00, 0x0b}
	m = append(m, section(10, vec(append(uleb(uint64(len(code))), code...), append(uleb(uint64(len(empty))), empty...)))...)
	return m
}
